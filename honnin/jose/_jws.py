"""JWS compact serialization (RFC 7515 §3.1, §5) with strict parsing and explicit alg policy.

Signing and verification call ``cryptography`` directly on pre-loaded key objects: the hot
path does no key parsing and no algorithm negotiation.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from honnin._slots import slot_setters
from honnin.encoding import (
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_from_b64url,
    json_loads,
)
from honnin.errors import InvalidSignature, MalformedJws, TooLarge, UnsupportedAlgorithm
from honnin.limits import MAX_JWS_HEADER, MAX_JWS_PAYLOAD

from ._algorithms import DEFAULT_ALLOWED, EC_PARAMS, JwsAlgorithm, algorithm_from_header
from ._keys import PrivateKey, PublicKey, algorithm_for_key, is_ec_private_key, is_ec_public_key

# One ECDSA parameter object per algorithm: building it costs ~10% of a P-256 verify.
_ECDSA = {alg: ec.ECDSA(params.hash()) for alg, params in EC_PARAMS.items()}
# What signing and verifying need per ECDSA algorithm, in one lookup: curve class, size of
# r and s, the ECDSA object.
_EC_BY_ALG = {alg: (params.curve, params.size, _ECDSA[alg]) for alg, params in EC_PARAMS.items()}

#: Header parameters this implementation understands when named in ``crit`` (RFC 7515 §4.1.11).
_UNDERSTOOD_CRIT: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UnverifiedJws:
    """A parsed, not yet verified JWS. Nothing in it may be trusted before ``verify_jws``."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def unverified_claims(self) -> dict[str, Any]:
        """The payload parsed as a JSON object (still unverified).

        Raises:
            MalformedJws: the payload is not a JSON object.
        """
        claims = json_loads(self.payload)
        if not isinstance(claims, dict):
            raise MalformedJws("JWS payload is not a JSON object")
        return claims


def sign_jws(
    payload: Mapping[str, Any] | bytes,
    key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    alg: JwsAlgorithm | None = None,
) -> str:
    """Sign ``payload`` (a claims mapping or raw bytes) as a compact JWS.

    The ``alg`` header is set from ``alg`` or from the key; other header members come from
    ``header``.
    """
    alg = alg or algorithm_for_key(key)
    if header:
        hdr = {"alg": alg.value, **header}
        hdr["alg"] = alg.value
        protected = _protected_header(json_dumps(hdr))
    else:
        protected = _protected_header(f'{{"alg":"{alg.value}"}}')
    raw = payload if isinstance(payload, bytes) else json_dumps(dict(payload)).encode()
    # Built as bytes end to end: the signing input is what gets signed and, with the
    # signature, the token.
    signing_input = protected + b"." + _b64url(raw)
    return (signing_input + b"." + _b64url(sign_bytes(signing_input, key, alg))).decode()


# base64url of protected headers by their JSON text: an issuer signs with a few headers.
_protected_headers: dict[str, bytes] = {}
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64url(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def _protected_header(text: str) -> bytes:
    encoded = _protected_headers.get(text)
    if encoded is None:
        encoded = b64url_encode(text.encode()).encode("ascii")
        if len(_protected_headers) >= 256:
            _protected_headers.clear()
        _protected_headers[text] = encoded
    return encoded


def _on_curve(
    key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, curve: type[ec.EllipticCurve]
) -> bool:
    # The curve classes are ABCs: isinstance() on them runs ABCMeta.__instancecheck__ in
    # Python. cryptography hands out instances of the curve classes themselves, so the
    # exact type answers first; isinstance() remains for anything else.
    found = type(key.curve)
    return found is curve or issubclass(found, curve)


def sign_bytes(data: bytes, key: PrivateKey, alg: JwsAlgorithm) -> bytes:
    """The raw JWS signature of ``data`` (R||S for ECDSA, RFC 7518 §3.4)."""
    if alg is JwsAlgorithm.EDDSA:
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise UnsupportedAlgorithm("EdDSA needs an Ed25519 key")
        return key.sign(data)
    curve, size, ecdsa = _EC_BY_ALG[alg]
    if not is_ec_private_key(key) or not _on_curve(key, curve):
        raise UnsupportedAlgorithm(f"{alg.value} needs a {curve.name} key")
    return raw_ecdsa_signature(key.sign(data, ecdsa), size)


def raw_ecdsa_signature(der: bytes, size: int) -> bytes:
    """R||S (RFC 7518 §3.4) of a DER ECDSA-Sig-Value made by OpenSSL (RFC 3279 §2.2.3)."""
    # SEQUENCE { INTEGER r, INTEGER s } with short-form lengths (P-256, P-384) is sliced
    # directly: a fifth of the cost of decoding it into two ints and encoding them again.
    if der[0] == 0x30 and der[1] < 0x80 and der[2] == 0x02:
        r_len = der[3]
        s_at = 4 + r_len
        if der[s_at] == 0x02 and s_at + 2 + der[s_at + 1] == len(der):
            r = der[4:s_at].lstrip(b"\0")
            s = der[s_at + 2 :].lstrip(b"\0")
            if len(r) <= size and len(s) <= size:
                return r.rjust(size, b"\0") + s.rjust(size, b"\0")
    r_int, s_int = decode_dss_signature(der)
    return r_int.to_bytes(size, "big") + s_int.to_bytes(size, "big")


def der_ecdsa_signature(signature: bytes, size: int) -> bytes:
    """The DER ECDSA-Sig-Value of an R||S signature of ``2 * size`` bytes (RFC 7518 §3.4).

    Raises:
        InvalidSignature: r or s is zero.
    """
    r = signature[:size].lstrip(b"\0")
    s = signature[size:].lstrip(b"\0")
    if not r or not s:
        raise InvalidSignature("ECDSA signature with r or s equal to zero")
    # DER INTEGERs are minimal and positive: a leading 0x00 only before a high bit.
    if r[0] & 0x80:
        r = b"\0" + r
    if s[0] & 0x80:
        s = b"\0" + s
    body = len(r) + len(s) + 4
    if body < 0x80:  # short-form length: P-256 and P-384 always, P-521 never
        return bytes((0x30, body, 0x02, len(r))) + r + bytes((0x02, len(s))) + s
    return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))


def verify_bytes(data: bytes, signature: bytes, key: PublicKey, alg: JwsAlgorithm) -> None:
    """Verify a raw JWS signature; the key must match ``alg`` (no alg/key confusion).

    Raises:
        UnsupportedAlgorithm: the key does not belong to ``alg``.
        InvalidSignature: the signature does not verify.
    """
    try:
        if alg is JwsAlgorithm.EDDSA:
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise UnsupportedAlgorithm("EdDSA needs an Ed25519 key")
            key.verify(signature, data)
            return
        curve, size, ecdsa = _EC_BY_ALG[alg]
        if not is_ec_public_key(key) or not _on_curve(key, curve):
            raise UnsupportedAlgorithm(f"{alg.value} needs a {curve.name} key")
        if len(signature) != 2 * size:
            # RFC 7518 §3.4: exactly R||S; DER and short forms are rejected.
            raise InvalidSignature(f"{alg.value} signature must be {2 * size} bytes")
        key.verify(der_ecdsa_signature(signature, size), data, ecdsa)
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("signature does not verify") from exc


def parse_jws(
    token: str, *, max_header: int = MAX_JWS_HEADER, max_payload: int = MAX_JWS_PAYLOAD
) -> UnverifiedJws:
    """Parse a compact JWS strictly (three non-empty-header segments, strict base64url).

    Raises:
        MalformedJws: wrong segment count, bad header JSON, unknown ``crit``.
        MalformedBase64url / MalformedJson: bad encodings.
        TooLarge: header or payload over the limits.
    """
    if not isinstance(token, str):
        raise MalformedJws("a compact JWS is a string")
    # The segments are found with find/rfind and one membership test (memchr): split()
    # and count() step through a long payload one character at a time.
    first, last = token.find("."), token.rfind(".")
    p64 = token[first + 1 : last]
    if first == last or "." in p64:
        raise MalformedJws(f"compact JWS has {token.count('.') + 1} segments, expected 3")
    h64, s64 = token[:first], token[last + 1 :]
    if not h64 or not s64:
        raise MalformedJws("compact JWS with an empty header or signature segment")
    if len(h64) > (max_header * 4 + 2) // 3:
        raise TooLarge(f"JWS header over {max_header} bytes", limit=max_header)
    if len(p64) > (max_payload * 4 + 2) // 3:
        raise TooLarge(f"JWS payload over {max_payload} bytes", limit=max_payload)
    cached = _parsed_headers.get(h64)
    header = _parse_header(h64) if cached is None else cached.copy()
    # The signing input is the token up to its last dot.
    return _unverified_jws(
        header,
        b64url_decode(p64, what="JWS payload"),
        token[: len(token) - len(s64) - 1].encode("ascii"),
        b64url_decode(s64, what="JWS signature"),
    )


def _new_unverified_jws() -> Callable[[dict[str, Any], bytes, bytes, bytes], UnverifiedJws]:
    # Two JWS per presentation: stored through the slot descriptors (see slot_setters).
    new = object.__new__
    set_header, set_payload, set_input, set_signature = slot_setters(
        UnverifiedJws, "header", "payload", "signing_input", "signature"
    )

    def make(
        header: dict[str, Any], payload: bytes, signing_input: bytes, signature: bytes
    ) -> UnverifiedJws:
        jws: UnverifiedJws = new(UnverifiedJws)
        set_header(jws, header)
        set_payload(jws, payload)
        set_input(jws, signing_input)
        set_signature(jws, signature)
        return jws

    return make


_unverified_jws = _new_unverified_jws()

# Protected headers by their exact base64url text. A header is a pure function of that
# text, and an issuer (or a wallet's KB-JWT) uses a handful of them: a token whose header
# text was seen before skips its base64url and JSON decoding and the 'crit' check. Only
# small headers with scalar members are kept, and each caller gets its own copy.
_parsed_headers: dict[str, dict[str, Any]] = {}
_SCALARS = frozenset({str, int, bool})
_CACHED_HEADER_CHARS = 512


def _parse_header(h64: str) -> dict[str, Any]:
    header = json_from_b64url(h64, what="JWS header")
    if type(header) is not dict:
        raise MalformedJws("JWS protected header is not a JSON object")
    _check_crit(header)
    if len(h64) <= _CACHED_HEADER_CHARS and all(type(v) in _SCALARS for v in header.values()):
        if len(_parsed_headers) >= 256:
            _parsed_headers.clear()
        _parsed_headers[h64] = header.copy()
    return header


def _check_crit(header: Mapping[str, Any]) -> None:
    crit = header.get("crit")
    if crit is None:
        return
    if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
        raise MalformedJws("'crit' must be a non-empty array of strings (RFC 7515 §4.1.11)")
    unknown = [c for c in crit if c not in _UNDERSTOOD_CRIT]
    if unknown:
        raise MalformedJws(f"critical header parameters not understood: {unknown}")


def verify_jws(
    jws: UnverifiedJws,
    key: PublicKey,
    *,
    allowed: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
) -> JwsAlgorithm:
    """Verify ``jws`` with ``key``; the header's ``alg`` must be in ``allowed``.

    Returns the algorithm used. Raises:
        UnsupportedAlgorithm: ``none``, an alg outside ``allowed`` or not matching the key.
        InvalidSignature: the signature does not verify.
    """
    alg = algorithm_from_header(jws.header.get("alg"), allowed)
    verify_bytes(jws.signing_input, jws.signature, key, alg)
    return alg
