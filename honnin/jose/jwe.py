"""JWE for encrypted responses: OpenID4VP 1.0 ``direct_post.jwt`` (§8.3) over ``jwcrypto``.

The payload is an unsigned, encrypted JWT (§8.3): compact JWE, ``ECDH-ES`` key agreement to
the verifier's (ephemeral, HAIP) P-256 key, ``A128GCM`` (the default) or ``A256GCM``.

``apu`` / ``apv``: OpenID4VP 1.0 final sets no value for them (an earlier draft and
ISO/IEC 18013-7:2024 put the nonce and an mdoc-generated nonce there; 1.0 binds the
encryption key through the mdoc SessionTranscript's JWK thumbprint instead, App. B.2.6.1).
``encrypt_response`` therefore omits them unless the caller passes bytes for another profile;
``decrypt_response`` accepts them as sent: they are authenticated as part of the protected
header (AEAD additional data) and enter the key derivation (RFC 7518 §4.6.2), so a changed
value fails decryption.

Before ``jwcrypto`` sees a token, the protected header is parsed strictly and the algorithm,
encryption, compression and ephemeral key are checked against explicit allow-lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe as _jwe
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

from honnin.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from honnin.errors import DecryptionFailed, MalformedInput, TooLarge, UnsupportedAlgorithm
from honnin.limits import MAX_DIRECT_POST_BODY, MAX_JWS_HEADER

from ._keys import private_key_from_jwk, public_key_from_jwk

__all__ = [
    "DEFAULT_ALGS",
    "DEFAULT_ENCS",
    "JweAlgorithm",
    "JweEncryption",
    "decrypt_response",
    "encrypt_response",
]


class JweAlgorithm(StrEnum):
    """JWE key management algorithms honnin implements (RFC 7518 §4.6)."""

    ECDH_ES = "ECDH-ES"


class JweEncryption(StrEnum):
    """JWE content encryption algorithms honnin implements (RFC 7518 §5.3; HAIP)."""

    A128GCM = "A128GCM"
    A256GCM = "A256GCM"


DEFAULT_ALGS: Final[frozenset[JweAlgorithm]] = frozenset({JweAlgorithm.ECDH_ES})
DEFAULT_ENCS: Final[frozenset[JweEncryption]] = frozenset(JweEncryption)

_ALGS = {a.value: a for a in JweAlgorithm}
_ENCS = {e.value: e for e in JweEncryption}
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def _recipient(jwk: Mapping[str, Any], alg: JweAlgorithm) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, Mapping):
        raise MalformedInput("the recipient key must be a JWK object")
    if _PRIVATE_MEMBERS & set(jwk):
        raise MalformedInput("the recipient JWK carries private key material")
    if jwk.get("kty") != "EC" or jwk.get("crv") not in _CURVES:
        raise UnsupportedAlgorithm("ECDH-ES needs an EC P-256/384/521 recipient key")
    if "alg" in jwk and jwk["alg"] != alg.value:
        # OpenID4VP §8.3: the JWE alg MUST equal the chosen JWK's alg.
        raise UnsupportedAlgorithm(f"the recipient JWK is for alg {jwk['alg']!r}, not {alg.value}")
    if jwk.get("use", "enc") != "enc":
        raise UnsupportedAlgorithm("the recipient JWK is not an encryption key ('use')")
    key = public_key_from_jwk(dict(jwk))
    assert isinstance(key, ec.EllipticCurvePublicKey)  # kty EC checked above
    return key


def encrypt_response(
    payload: Mapping[str, Any],
    recipient_jwk: Mapping[str, Any],
    *,
    enc: JweEncryption | str = JweEncryption.A128GCM,
    alg: JweAlgorithm | str = JweAlgorithm.ECDH_ES,
    kid: str | None = None,
    apu: bytes | None = None,
    apv: bytes | None = None,
) -> str:
    """Encrypt ``payload`` (the response parameters) to ``recipient_jwk`` as a compact JWE.

    ``kid`` defaults to the JWK's ``kid``, echoed as OpenID4VP §8.3 requires. ``apu`` and
    ``apv`` are omitted unless given (see the module docstring).

    Raises:
        UnsupportedAlgorithm: ``alg``/``enc`` not implemented, or a JWK for another
            algorithm, curve or use.
        MalformedInput: the JWK is not a valid public EC key (or carries a private part).
    """
    algorithm = _ALGS.get(str(alg))
    encryption = _ENCS.get(str(enc))
    if algorithm is None or encryption is None:
        raise UnsupportedAlgorithm(f"JWE {alg!s}/{enc!s} is not supported", alg=str(alg))
    public_key = _recipient(recipient_jwk, algorithm)
    header: dict[str, Any] = {"alg": algorithm.value, "enc": encryption.value}
    kid = kid if kid is not None else recipient_jwk.get("kid")
    if kid is not None:
        header["kid"] = kid
    if apu is not None:
        header["apu"] = b64url_encode(apu)
    if apv is not None:
        header["apv"] = b64url_encode(apv)
    token = _jwe.JWE(
        json_dumps(dict(payload)).encode(),
        protected=json_dumps(header),
        recipient=_jwk.JWK.from_pyca(public_key),
    )
    compact: str = token.serialize(compact=True)
    return compact


def _protected_header(segment: str) -> dict[str, Any]:
    if len(segment) > (MAX_JWS_HEADER * 4 + 2) // 3:
        raise TooLarge(f"JWE header over {MAX_JWS_HEADER} bytes", limit=MAX_JWS_HEADER)
    header = json_loads(b64url_decode(segment, what="JWE header"))
    if not isinstance(header, dict):
        raise MalformedInput("the JWE protected header is not a JSON object")
    return header


def _check_epk(header: Mapping[str, Any], curve: str) -> None:
    epk = header.get("epk")
    if not isinstance(epk, dict) or _PRIVATE_MEMBERS & set(epk):
        raise MalformedInput("ECDH-ES needs a public 'epk' JWK in the header (RFC 7518 §4.6.1)")
    if epk.get("kty") != "EC" or epk.get("crv") != curve:
        raise MalformedInput("the 'epk' is not an EC key on the recipient's curve")
    public_key_from_jwk(epk)  # rejects points off the curve before any ECDH


def decrypt_response(
    jwe: str,
    private_key: ec.EllipticCurvePrivateKey | Mapping[str, Any],
    *,
    allowed_algs: frozenset[JweAlgorithm] = DEFAULT_ALGS,
    allowed_encs: frozenset[JweEncryption] = DEFAULT_ENCS,
    max_size: int = MAX_DIRECT_POST_BODY,
    expected_kid: str | None = None,
) -> dict[str, Any]:
    """Decrypt a compact JWE response and return its JSON object payload.

    ``private_key`` is the verifier's key (a ``cryptography`` EC key or a private JWK).

    Raises:
        TooLarge: over ``max_size`` characters.
        MalformedInput: not five segments, bad base64url/JSON, an encrypted key (not used
            by ECDH-ES direct agreement), a bad ``epk``, ``crit``, or a payload that is not a
            JSON object.
        UnsupportedAlgorithm: ``alg`` / ``enc`` outside the allow-lists (``RSA-OAEP``,
            ``dir``, ``A128KW``, ``ECDH-ES+A128KW``, ...), or compression (``zip``).
        DecryptionFailed: wrong key, another ``kid`` than ``expected_kid``, or a tampered
            header, ciphertext or tag.
    """
    if not isinstance(jwe, str):
        raise MalformedInput("a compact JWE is a string")
    if len(jwe) > max_size:
        raise TooLarge(f"JWE of {len(jwe)} characters exceeds {max_size}", limit=max_size)
    parts = jwe.split(".")
    if len(parts) != 5:
        raise MalformedInput(f"compact JWE has {len(parts)} segments, expected 5 (RFC 7516 §7.1)")
    header = _protected_header(parts[0])
    alg = _ALGS.get(str(header.get("alg")))
    enc = _ENCS.get(str(header.get("enc")))
    if alg is None or alg not in allowed_algs:
        raise UnsupportedAlgorithm(
            f"JWE alg {header.get('alg')!r} is not allowed", alg=str(header.get("alg"))
        )
    if enc is None or enc not in allowed_encs:
        raise UnsupportedAlgorithm(
            f"JWE enc {header.get('enc')!r} is not allowed", enc=str(header.get("enc"))
        )
    if "zip" in header:
        # No compression: OpenID4VP defines none, and inflating is a bomb (VS-10).
        raise UnsupportedAlgorithm("compressed (zip) JWE payloads are not accepted")
    if "crit" in header:
        raise MalformedInput("no critical JWE header parameters are understood")
    if parts[1]:
        raise MalformedInput("ECDH-ES direct key agreement has an empty encrypted key")
    for segment, name in zip(parts[2:], ("iv", "ciphertext", "tag"), strict=True):
        b64url_decode(segment, what=f"JWE {name}")
    if expected_kid is not None and header.get("kid") != expected_kid:
        raise DecryptionFailed("the JWE is for another key (kid)", reason="kid")
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        key: object = private_key
    else:
        key = private_key_from_jwk(dict(private_key))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UnsupportedAlgorithm("ECDH-ES needs an EC private key")
    curve = next(name for name, cls in _CURVES.items() if isinstance(key.curve, cls))
    _check_epk(header, curve)
    token = _jwe.JWE(algs=[alg.value, enc.value])
    try:
        token.deserialize(jwe, key=_jwk.JWK.from_pyca(key))
    except (JWException, ValueError) as exc:
        raise DecryptionFailed("the JWE does not decrypt with this key (RFC 7516 §5.2)") from exc
    payload = json_loads(token.payload, max_size=max_size)
    if not isinstance(payload, dict):
        raise MalformedInput("the decrypted payload is not a JSON object")
    return payload
