"""The ``jwt`` key proof (OpenID4VCI 1.0 App. F.1) and its verification (App. F.4).

Pure functions: the caller passes the time and, for the nonce, either the expected value or
checks the returned one against its own store (atomically, HOSTILE-CASES D1).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.encoding import json_loads
from honnin.errors import HonninError, InvalidNonce, InvalidProof
from honnin.jose import (
    DEFAULT_ALLOWED,
    PRIVATE_JWK_MEMBERS,
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    jwk_from_public_key,
    jwk_thumbprint,
    parse_jws,
    public_key_from_jwk,
    sign_jws,
    verify_jws,
)

from ._constants import PROOF_JWT_TYP, PROOF_MAX_AGE, PROOF_MAX_SKEW

#: RFC 7638 §3.2 required members per key type (the ones a public JWK needs).
_REQUIRED_MEMBERS = {"EC": ("kty", "crv", "x", "y"), "OKP": ("kty", "crv", "x")}


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A key proof whose signature, type, audience and time were verified.

    ``jwk`` is the public key the credential is to be bound to (required members only),
    ``thumbprint`` its RFC 7638 SHA-256 thumbprint (for spotting duplicate keys in a batch),
    ``nonce`` the proof's ``c_nonce`` (already compared when ``expected_nonce`` was given),
    ``certificate_chain`` the DER certificates when the key came from ``x5c`` (their trust
    is not evaluated here).
    """

    public_key: PublicKey
    jwk: dict[str, str]
    thumbprint: str
    algorithm: JwsAlgorithm
    issued_at: int
    nonce: str | None
    client_id: str | None
    certificate_chain: tuple[bytes, ...] = ()

    def __repr__(self) -> str:
        return f"VerifiedProof(thumbprint={self.thumbprint!r}, algorithm={self.algorithm.value})"


def build_proof_jwt(
    key: PrivateKey,
    *,
    audience: str,
    nonce: str | None,
    now: float,
    client_id: str | None = None,
    x5c: Sequence[bytes] | None = None,
) -> str:
    """A ``jwt`` key proof (App. F.1) signed with ``key``.

    The public key travels in the ``jwk`` header, or as ``x5c`` when DER certificates are
    given (the first must certify ``key``). ``iss`` is ``client_id``; leave it out for
    anonymous pre-authorized access (App. F.1).
    """
    header: dict[str, Any] = {"typ": PROOF_JWT_TYP}
    if x5c:
        header["x5c"] = [base64.b64encode(cert).decode("ascii") for cert in x5c]
    else:
        header["jwk"] = jwk_from_public_key(key)
    claims: dict[str, Any] = {"aud": audience, "iat": int(now)}
    if nonce is not None:
        claims["nonce"] = nonce
    if client_id is not None:
        claims["iss"] = client_id
    return sign_jws(claims, key, header=header)


def _reject(reason: str, message: str) -> InvalidProof:
    return InvalidProof(f"key proof rejected: {message}", reason=reason)


def _key_from_header(header: dict[str, Any]) -> tuple[PublicKey, tuple[bytes, ...]]:
    present = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(present) != 1:
        # App. F.1: exactly one of kid, jwk and x5c.
        raise _reject("key", f"needs exactly one of kid, jwk, x5c in the header, got {present}")
    if present == ["kid"]:
        raise _reject("key", "'kid' (DID) keys cannot be resolved; send 'jwk' or 'x5c'")
    if present == ["jwk"]:
        jwk = header["jwk"]
        if not isinstance(jwk, dict):
            raise _reject("key", "'jwk' is not a JSON object")
        if PRIVATE_JWK_MEMBERS & set(jwk):
            # App. F.4: the header parameter MUST NOT contain a private key.
            raise _reject("private_key", "the 'jwk' header carries private key material")
        try:
            return public_key_from_jwk(jwk), ()
        except HonninError as exc:
            raise _reject("key", f"unusable 'jwk': {exc.message}") from exc
    chain = header["x5c"]
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise _reject("key", "'x5c' must be a non-empty array of strings (RFC 7515 §4.1.6)")
    try:
        ders = tuple(base64.b64decode(c, validate=True) for c in chain)
        leaf = x509.load_der_x509_certificate(ders[0])
        public_key = leaf.public_key()
    except (binascii.Error, ValueError) as exc:
        raise _reject("key", "'x5c' does not hold DER certificates in base64") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise _reject("key", "the 'x5c' leaf key is neither EC nor Ed25519")
    return public_key, ders


def verify_proof_jwt(
    token: str,
    *,
    audience: str,
    now: float,
    nonce_required: bool = True,
    expected_nonce: str | None = None,
    allowed_algs: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    max_age: int = PROOF_MAX_AGE,
    max_skew: int = PROOF_MAX_SKEW,
) -> VerifiedProof:
    """Verify a ``jwt`` key proof as OpenID4VCI 1.0 App. F.4 requires.

    ``nonce_required`` is true when the issuer has a Nonce Endpoint (App. F.1).
    ``iat`` must lie in [now − max_age − max_skew, now + max_skew].

    Raises:
        InvalidProof: malformed JWT, wrong ``typ``, an algorithm outside ``allowed_algs``
            (``none`` and MACs included), not exactly one of ``kid``/``jwk``/``x5c``, a
            private key in the header, a bad signature, ``aud`` not the issuer, missing or
            non-integer ``iat`` outside the window, or a missing ``nonce`` (§8.3.1.2 case 3).
            ``reason`` names the failed check.
        InvalidNonce: ``expected_nonce`` given and the proof's nonce differs (§8.3.1.2).
    """
    try:
        jws = parse_jws(token)
        claims = json_loads(jws.payload)
    except HonninError as exc:
        raise _reject("malformed", exc.message) from exc
    header = jws.header
    if header.get("typ") != PROOF_JWT_TYP:
        # App. F.1 / F.4: explicitly typed, exactly this value.
        raise _reject("typ", f"typ must be {PROOF_JWT_TYP!r}")
    if not isinstance(claims, dict):
        raise _reject("malformed", "the payload is not a JSON object")
    public_key, chain = _key_from_header(header)
    try:
        algorithm = verify_jws(jws, public_key, allowed=allowed_algs)
    except HonninError as exc:
        raise _reject("signature", exc.message) from exc
    aud = claims.get("aud")
    if not isinstance(aud, str) or not hmac.compare_digest(aud.encode(), audience.encode()):
        # App. F.1: aud (a string) MUST be the Credential Issuer Identifier.
        raise _reject("aud", "aud is not this credential issuer")
    issued_at = _issued_at(claims.get("iat"), now, max_age, max_skew)
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise _reject("nonce", "nonce is not a string")
    if nonce is None and (nonce_required or expected_nonce is not None):
        # §8.3.1.2 invalid_proof case (3): a key proof without a c_nonce.
        raise _reject("nonce", "the proof carries no nonce")
    if expected_nonce is not None and not hmac.compare_digest(
        str(nonce).encode(), expected_nonce.encode()
    ):
        raise InvalidNonce("the proof's nonce is not the issued c_nonce", reason="nonce")
    client_id = claims.get("iss")
    if client_id is not None and not isinstance(client_id, str):
        raise _reject("iss", "iss is not a string")
    if chain:
        jwk = jwk_from_public_key(public_key)
    else:
        # The header key loaded strictly (lengths, curve point), so its required members
        # are already the canonical public JWK; no need to re-encode the key.
        header_jwk = header["jwk"]
        jwk = {m: header_jwk[m] for m in _REQUIRED_MEMBERS[header_jwk["kty"]]}
    return VerifiedProof(
        public_key=public_key,
        jwk=jwk,
        thumbprint=jwk_thumbprint(jwk),
        algorithm=algorithm,
        issued_at=issued_at,
        nonce=nonce,
        client_id=client_id,
        certificate_chain=chain,
    )


def _issued_at(iat: object, now: float, max_age: int, max_skew: int) -> int:
    # HOSTILE-CASES IS-14 / D6: a finite integer, never a bool, string or float.
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise _reject("iat", "iat must be an integer NumericDate")
    if not math.isfinite(now):
        raise ValueError("now must be finite")
    if iat > now + max_skew:
        raise _reject("iat", "iat is in the future")
    if iat < now - max_age - max_skew:
        raise _reject("iat", "the proof is too old")
    return iat
