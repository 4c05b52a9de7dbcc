"""DPoP proofs (RFC 9449): sender-constrained access tokens, both ways.

Pure functions: the caller passes the time, the request's method and URI and, at a server,
keeps its own record of the ``jti`` values it has accepted (§11.1) and of the nonces it
hands out (§8, §9).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from honnin.encoding import b64url_encode, json_loads
from honnin.errors import HonninError, InvalidDpopProof
from honnin.jose import (
    JwsAlgorithm,
    PrivateKey,
    jwk_from_public_key,
    parse_jws,
    public_jwk_key,
    sign_jws,
    verify_jws,
)

__all__ = [
    "DPOP_MAX_AGE",
    "DPOP_MAX_SKEW",
    "DPOP_TYP",
    "VerifiedDpopProof",
    "access_token_hash",
    "build_dpop_proof",
    "dpop_htu",
    "verify_dpop_proof",
]

#: RFC 9449 §4.2: the ``typ`` of a DPoP proof JWT.
DPOP_TYP: Final = "dpop+jwt"
#: RFC 9449 §11.1: a proof is accepted for a short window after its ``iat`` (and a server
#: remembers its ``jti`` for as long); a little future skew is allowed for clocks.
DPOP_MAX_AGE: Final = 120
DPOP_MAX_SKEW: Final = 30
_ES256: Final = frozenset({JwsAlgorithm.ES256})
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
#: A ``jti`` long enough to be unique (§4.2: "at least 96 bits"), short enough to bound.
_MAX_JTI: Final = 256


@dataclass(frozen=True, slots=True)
class VerifiedDpopProof:
    """A DPoP proof whose signature, type, method, URI, time and (when asked) access token
    hash and nonce were checked. ``jkt`` is the RFC 7638 SHA-256 thumbprint of its key: the
    value an access token is bound to (RFC 9449 §6.1 ``cnf.jkt``). ``jti`` is for the
    caller's replay record, kept until ``issued_at + DPOP_MAX_AGE``."""

    jkt: str
    jti: str
    issued_at: int
    nonce: str | None


def access_token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url SHA-256 of the access token's ASCII."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


@functools.lru_cache(maxsize=256)
def dpop_htu(url: str) -> str:
    """The ``htu`` of a request to ``url``: without query and fragment (RFC 9449 §4.2), with
    RFC 3986 §6.2.2 / §6.2.3 normalization (case of scheme and host, default port, empty
    path), so that both sides compare the same text.

    Raises:
        InvalidDpopProof: not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidDpopProof("htu is not a URL", reason="htu") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise InvalidDpopProof("htu is not an absolute http(s) URL", reason="htu")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets (RFC 3986 §3.2.2)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def build_dpop_proof(
    key: PrivateKey,
    *,
    htm: str,
    htu: str,
    now: float,
    nonce: str | None = None,
    access_token: str | None = None,
) -> str:
    """A DPoP proof (RFC 9449 §4.2) for one request: ``htm`` its method, ``htu`` its URL
    (query and fragment are dropped), a fresh ``jti``; ``ath`` when it carries
    ``access_token``, and the server's ``nonce`` when it gave one."""
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(18),  # 144 bits (§4.2: at least 96)
        "htm": htm,
        "htu": dpop_htu(htu),
        "iat": int(now),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"typ": DPOP_TYP, "jwk": jwk_from_public_key(key)}
    return sign_jws(claims, key, header=header)


def _reject(reason: str, message: str) -> InvalidDpopProof:
    return InvalidDpopProof(f"DPoP proof rejected: {message}", reason=reason)


def _same(value: object, expected: str) -> bool:
    return isinstance(value, str) and hmac.compare_digest(value.encode(), expected.encode())


def verify_dpop_proof(
    proof: str,
    *,
    htm: str,
    htu: str,
    now: float,
    access_token: str | None = None,
    jkt: str | None = None,
    allowed: frozenset[JwsAlgorithm] = _ES256,
    max_age: int = DPOP_MAX_AGE,
    max_skew: int = DPOP_MAX_SKEW,
) -> VerifiedDpopProof:
    """Check a DPoP proof as RFC 9449 §4.3 lists, for a request of method ``htm`` to ``htu``.

    ``access_token`` (at a protected resource, §7.1): the proof must carry its ``ath``;
    ``jkt``: the thumbprint the token is bound to, which the proof's key must have. The
    caller checks that exactly one ``DPoP`` header came (§4.3 step 1), records ``jti``
    (§11.1) and, when it hands out nonces (§8, §9), checks the returned ``nonce``.

    Raises:
        InvalidDpopProof: not one well-formed JWT; a ``typ`` other than ``dpop+jwt``; an
            algorithm outside ``allowed`` (``none`` and MACs included); no public ``jwk``
            header or a private key in it; a bad signature; ``jti``, ``htm``, ``htu`` or
            ``iat`` missing or not matching; ``iat`` outside [now − max_age − max_skew,
            now + max_skew]; a missing or wrong ``ath``; another key than ``jkt``.
            ``reason`` names the failed check.
    """
    if not isinstance(proof, str) or not proof.isascii() or len(proof) > 8192:
        raise _reject("malformed", "not a compact JWT of at most 8 kB")
    try:
        jws = parse_jws(proof)
        claims = json_loads(jws.payload)
    except HonninError as exc:
        raise _reject("malformed", exc.message) from exc
    header = jws.header
    if header.get("typ") != DPOP_TYP:
        raise _reject("typ", f"typ must be {DPOP_TYP!r} (§4.2)")
    try:
        # §4.2: the public key in 'jwk'; §4.3 step 7: never a private key.
        public_key, thumbprint = public_jwk_key(header.get("jwk"))
    except HonninError as exc:
        raise _reject("jwk", f"the 'jwk' header: {exc.message}") from exc
    try:
        # §4.3 steps 5-6: an asymmetric algorithm this server supports, then the signature.
        verify_jws(jws, public_key, allowed=allowed)
    except HonninError as exc:
        raise _reject("signature", exc.message) from exc
    if not isinstance(claims, dict):
        raise _reject("malformed", "the payload is not a JSON object")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
        raise _reject("jti", "jti is missing or not a string of at most 256 characters")
    if not _same(claims.get("htm"), htm):
        raise _reject("htm", f"htm is not this request's method {htm}")  # §4.3 step 8
    claimed_htu = claims.get("htu")
    if not isinstance(claimed_htu, str) or not _same(_normal(claimed_htu), dpop_htu(htu)):
        raise _reject("htu", "htu is not this request's URI")  # §4.3 step 9
    issued_at = claims.get("iat")
    if (
        not isinstance(issued_at, int | float)
        or isinstance(issued_at, bool)
        or not math.isfinite(issued_at)
    ):
        raise _reject("iat", "iat is missing or not a number")
    if not now - max_age - max_skew <= issued_at <= now + max_skew:
        raise _reject("iat", "iat is outside the accepted window")  # §4.3 step 11
    # §4.3 step 12 / §7.1: the proof is for this access token, from its bound key.
    if access_token is not None and not _same(claims.get("ath"), access_token_hash(access_token)):
        raise _reject("ath", "ath is missing or not this access token's hash")
    if jkt is not None and not hmac.compare_digest(thumbprint, jkt):
        raise _reject("key", "the proof's key is not the one the access token is bound to")
    proof_nonce = claims.get("nonce")
    if proof_nonce is not None and (not isinstance(proof_nonce, str) or not proof_nonce):
        raise _reject("nonce", "nonce is not a non-empty string")
    return VerifiedDpopProof(thumbprint, jti, int(issued_at), proof_nonce)


def _normal(htu: str) -> str:
    try:
        return dpop_htu(htu)
    except InvalidDpopProof:
        return ""
