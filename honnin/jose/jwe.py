"""JWE for encrypted responses: OpenID4VP 1.0 ``direct_post.jwt`` (§8.3) over ``cryptography``.

The payload is an unsigned, encrypted JWT (§8.3): compact JWE (RFC 7516 §7.1), ``ECDH-ES``
direct key agreement (RFC 7518 §4.6) to the verifier's (ephemeral, HAIP) P-256 key (P-384
and P-521 too), ``A128GCM`` (the default) or ``A256GCM`` (RFC 7518 §5.3). That is all
OpenID4VP needs, so it is implemented here in a few lines over ``cryptography``'s ECDH,
``ConcatKDFHash`` and ``AESGCM``, not through a general JOSE library whose per-token set-up
cost more than the cryptography itself.

``apu`` / ``apv``: OpenID4VP 1.0 final sets no value for them (an earlier draft and
ISO/IEC 18013-7:2024 put the nonce and an mdoc-generated nonce there; 1.0 binds the
encryption key through the mdoc SessionTranscript's JWK thumbprint instead, App. B.2.6.1).
``encrypt_response`` therefore omits them unless the caller passes bytes for another profile;
``decrypt_response`` accepts them as sent: they are authenticated as part of the protected
header (AEAD additional data) and enter the key derivation (RFC 7518 §4.6.2), so a changed
value fails decryption.

Parsing is strict before any key agreement: five segments, strict base64url, a strict JSON
header within ``MAX_JWS_HEADER``, ``alg`` / ``enc`` from explicit allow-lists, no ``zip``,
no ``crit``, an empty encrypted key, a 96-bit IV and a 128-bit tag, and an ``epk`` that is a
public point on the recipient's curve (RFC 8725bis "Validate Cryptographic Inputs").
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from honnin.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from honnin.errors import DecryptionFailed, MalformedInput, TooLarge, UnsupportedAlgorithm
from honnin.limits import MAX_DIRECT_POST_BODY, MAX_JWS_HEADER

from ._keys import PRIVATE_JWK_MEMBERS, private_key_from_jwk

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

_ALGS: Final = {a.value: a for a in JweAlgorithm}
_ENCS: Final = {e.value: e for e in JweEncryption}
#: RFC 7518 §5.3: the CEK is the AES key, 128 or 256 bits.
_KEY_BYTES: Final = {JweEncryption.A128GCM: 16, JweEncryption.A256GCM: 32}
#: RFC 7518 §5.3: "Use of an IV of size 96 bits is REQUIRED"; the tag is 128 bits.
_IV_BYTES: Final = 12
_TAG_BYTES: Final = 16
#: JWK ``crv`` -> (curve, coordinate octets); RFC 7518 §6.2.1.2: x and y are full size.
_CURVES: Final[dict[str, tuple[ec.EllipticCurve, int]]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
_CRV_OF: Final = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_MAX_HEADER_SEGMENT: Final = (MAX_JWS_HEADER * 4 + 2) // 3
_ECDH: Final = ec.ECDH()


def _ec_point(jwk: Mapping[str, Any], crv: str, what: str) -> ec.EllipticCurvePublicKey:
    """The public point of an EC JWK on curve ``crv``: full-size coordinates, on the curve."""
    curve, size = _CURVES[crv]
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise MalformedInput(f"{what}: an EC JWK has 'x' and 'y' strings (RFC 7518 §6.2.1)")
    raw_x = b64url_decode(x, what=f"{what} x")
    raw_y = b64url_decode(y, what=f"{what} y")
    if len(raw_x) != size or len(raw_y) != size:
        raise MalformedInput(f"{what}: coordinates are not {size} octets (RFC 7518 §6.2.1.2)")
    try:
        # from_encoded_point checks that the point lies on the curve (SP 800-56A partial
        # public-key validation; P-256/384/521 have cofactor 1), which stops invalid-curve
        # attacks on the ECDH below.
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + raw_x + raw_y)
    except ValueError as exc:
        raise MalformedInput(f"{what}: the point is not on {crv}") from exc


def _recipient(jwk: Mapping[str, Any], alg: JweAlgorithm) -> tuple[ec.EllipticCurvePublicKey, str]:
    if not isinstance(jwk, Mapping):
        raise MalformedInput("the recipient key must be a JWK object")
    if PRIVATE_JWK_MEMBERS & set(jwk):
        raise MalformedInput("the recipient JWK carries private key material")
    crv = jwk.get("crv")
    if jwk.get("kty") != "EC" or not isinstance(crv, str) or crv not in _CURVES:
        raise UnsupportedAlgorithm("ECDH-ES needs an EC P-256/384/521 recipient key")
    if "alg" in jwk and jwk["alg"] != alg.value:
        # OpenID4VP §8.3: the JWE alg MUST equal the chosen JWK's alg.
        raise UnsupportedAlgorithm(f"the recipient JWK is for alg {jwk['alg']!r}, not {alg.value}")
    if jwk.get("use", "enc") != "enc":
        raise UnsupportedAlgorithm("the recipient JWK is not an encryption key ('use')")
    return _ec_point(jwk, crv, "recipient JWK"), crv


def _length_prefixed(data: bytes) -> bytes:
    # RFC 7518 §4.6.2: each OtherInfo field is a 32-bit big-endian length, then the octets.
    return len(data).to_bytes(4, "big") + data


def _content_key(shared: bytes, enc: JweEncryption, apu: bytes, apv: bytes) -> bytes:
    """The CEK of ECDH-ES direct key agreement: Concat KDF (RFC 7518 §4.6.2, NIST SP
    800-56A §5.8.1) with SHA-256 over Z and OtherInfo."""
    size = _KEY_BYTES[enc]
    other_info = (
        _length_prefixed(enc.value.encode("ascii"))  # AlgorithmID: "enc" in direct mode
        + _length_prefixed(apu)  # PartyUInfo
        + _length_prefixed(apv)  # PartyVInfo
        + (size * 8).to_bytes(4, "big")  # SuppPubInfo: keydatalen in bits
    )  # SuppPrivInfo is empty
    return ConcatKDFHash(hashes.SHA256(), size, other_info).derive(shared)


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
    ``apv`` are omitted unless given (see the module docstring). A fresh ephemeral key is
    made for every call (RFC 7518 §4.6.1 ``epk``).

    Raises:
        UnsupportedAlgorithm: ``alg``/``enc`` not implemented, or a JWK for another
            algorithm, curve or use.
        MalformedInput: the JWK is not a valid public EC key (or carries a private part).
    """
    algorithm = _ALGS.get(str(alg))
    encryption = _ENCS.get(str(enc))
    if algorithm is None or encryption is None:
        raise UnsupportedAlgorithm(f"JWE {alg!s}/{enc!s} is not supported", alg=str(alg))
    public_key, crv = _recipient(recipient_jwk, algorithm)
    curve, size = _CURVES[crv]
    ephemeral = ec.generate_private_key(curve)
    point = ephemeral.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    x, y = point[1 : 1 + size], point[1 + size :]
    epk = {"kty": "EC", "crv": crv, "x": b64url_encode(x), "y": b64url_encode(y)}
    header: dict[str, Any] = {"alg": algorithm.value, "enc": encryption.value}
    kid = kid if kid is not None else recipient_jwk.get("kid")
    if kid is not None:
        header["kid"] = kid
    header["epk"] = epk
    if apu is not None:
        header["apu"] = b64url_encode(apu)
    if apv is not None:
        header["apv"] = b64url_encode(apv)
    protected = b64url_encode(json_dumps(header).encode())
    cek = _content_key(ephemeral.exchange(_ECDH, public_key), encryption, apu or b"", apv or b"")
    iv = secrets.token_bytes(_IV_BYTES)
    # RFC 7516 §5.1 steps 14-15: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
    sealed = AESGCM(cek).encrypt(iv, json_dumps(dict(payload)).encode(), protected.encode())
    ciphertext, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    # RFC 7516 §7.1; the JWE Encrypted Key is empty for direct key agreement (RFC 7518 §4.6).
    return ".".join(
        (protected, "", b64url_encode(iv), b64url_encode(ciphertext), b64url_encode(tag))
    )


def _protected_header(segment: str) -> dict[str, Any]:
    if len(segment) > _MAX_HEADER_SEGMENT:
        raise TooLarge(f"JWE header over {MAX_JWS_HEADER} bytes", limit=MAX_JWS_HEADER)
    header = json_loads(b64url_decode(segment, what="JWE header"))
    if not isinstance(header, dict):
        raise MalformedInput("the JWE protected header is not a JSON object")
    return header


def _ephemeral_key(header: Mapping[str, Any], crv: str) -> ec.EllipticCurvePublicKey:
    epk = header.get("epk")
    if not isinstance(epk, dict) or PRIVATE_JWK_MEMBERS & set(epk):
        raise MalformedInput("ECDH-ES needs a public 'epk' JWK in the header (RFC 7518 §4.6.1)")
    if epk.get("kty") != "EC" or epk.get("crv") != crv:
        raise MalformedInput("the 'epk' is not an EC key on the recipient's curve")
    return _ec_point(epk, crv, "JWE epk")


def _party_info(header: Mapping[str, Any], name: str) -> bytes:
    value = header.get(name)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise MalformedInput(f"JWE '{name}' must be a base64url string (RFC 7518 §4.6.1)")
    return b64url_decode(value, what=f"JWE {name}")


def _decryption_key(private_key: object) -> tuple[ec.EllipticCurvePrivateKey, str]:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        key: object = private_key
    elif isinstance(private_key, Mapping):
        key = private_key_from_jwk(dict(private_key))
    else:
        raise TypeError("private_key must be an EC private key or a private JWK")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UnsupportedAlgorithm("ECDH-ES needs an EC private key")
    crv = _CRV_OF.get(key.curve.name)
    if crv is None:
        raise UnsupportedAlgorithm(f"ECDH-ES on {key.curve.name} is not supported")
    return key, crv


def decrypt_response(
    jwe: str,
    private_key: ec.EllipticCurvePrivateKey | Mapping[str, Any],
    *,
    allowed_algs: frozenset[JweAlgorithm] = DEFAULT_ALGS,
    allowed_encs: frozenset[JweEncryption] = DEFAULT_ENCS,
    max_size: int = MAX_DIRECT_POST_BODY,
    expected_kid: str | None = None,
) -> dict[str, Any]:
    """Decrypt a compact JWE response and return its JSON object payload (RFC 7516 §5.2).

    ``private_key`` is the verifier's key (a ``cryptography`` EC key or a private JWK).

    Raises:
        TooLarge: over ``max_size`` characters.
        MalformedInput: not five segments, bad base64url/JSON, an encrypted key (not used
            by ECDH-ES direct agreement), an IV other than 96 bits or a tag other than 128
            bits, a bad ``epk``, ``apu`` or ``apv``, ``crit``, or a payload that is not a
            JSON object.
        UnsupportedAlgorithm: ``alg`` / ``enc`` outside the allow-lists (``RSA-OAEP``,
            ``dir``, ``A128KW``, ``ECDH-ES+A128KW``, ...), compression (``zip``), or a
            private key that is not on P-256/384/521.
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
    segment, encrypted_key, iv_text, ciphertext_text, tag_text = parts
    header = _protected_header(segment)
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
        # No compression: OpenID4VP defines none, and inflating is a bomb (VS-10, J13).
        raise UnsupportedAlgorithm("compressed (zip) JWE payloads are not accepted")
    if "crit" in header:
        # RFC 7516 §4.1.13: a recipient that does not understand an extension must reject.
        raise MalformedInput("no critical JWE header parameters are understood")
    if encrypted_key:
        # RFC 7518 §4.6: with direct key agreement the JWE Encrypted Key is the empty octets.
        raise MalformedInput("ECDH-ES direct key agreement has an empty encrypted key")
    iv = b64url_decode(iv_text, what="JWE iv")
    ciphertext = b64url_decode(ciphertext_text, what="JWE ciphertext")
    tag = b64url_decode(tag_text, what="JWE tag")
    if len(iv) != _IV_BYTES or len(tag) != _TAG_BYTES:
        raise MalformedInput("AES-GCM needs a 96-bit IV and a 128-bit tag (RFC 7518 §5.3)")
    if expected_kid is not None and header.get("kid") != expected_kid:
        raise DecryptionFailed("the JWE is for another key (kid)", reason="kid")
    key, crv = _decryption_key(private_key)
    # RFC 7518 §4.6.1: epk on the recipient's curve, validated before the key agreement.
    epk = _ephemeral_key(header, crv)
    apu, apv = _party_info(header, "apu"), _party_info(header, "apv")
    cek = _content_key(key.exchange(_ECDH, epk), enc, apu, apv)
    try:
        # RFC 7516 §5.2 steps 14-16: AAD is the encoded protected header as sent.
        plaintext = AESGCM(cek).decrypt(iv, ciphertext + tag, segment.encode("ascii"))
    except InvalidTag as exc:
        raise DecryptionFailed("the JWE does not decrypt with this key (RFC 7516 §5.2)") from exc
    payload = json_loads(plaintext, max_size=max_size)
    if not isinstance(payload, dict):
        raise MalformedInput("the decrypted payload is not a JSON object")
    return payload
