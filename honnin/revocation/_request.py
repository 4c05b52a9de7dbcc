"""The holder's revocation request (spec/PROFILE.md "Holder-initiated revocation").

A holder asks the issuer to revoke a credential by sending one of its copies and a proof of
possession of that copy's binding key (``cnf.jwk`` / mdoc ``deviceKey``)::

    POST {credential_issuer}/revocation    Content-Type: application/json
    {"credential": "<the copy in its OpenID4VCI wire form>", "proof": "<JWT>"}

The proof is a JWT, ``typ`` ``honnin-revocation+jwt``, signed by the copy's key, over
``aud`` (the Credential Issuer Identifier), ``iat``, ``nonce`` (a ``c_nonce`` from the
issuer's Nonce Endpoint, OpenID4VCI 1.0 §7, single use) and ``credential_hash`` (SHA-256 of
the copy string, base64url) so a proof cannot be moved to another credential. The issuer
checks its own signature on the copy, takes the key from it, verifies the proof, and
revokes the copy's whole batch (every copy of the credential).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.encoding import b64url_encode, json_dumps, json_loads
from honnin.errors import HonninError, InvalidProof, MalformedInput, TooLarge
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    algorithm_for_key,
    parse_jws,
    sign_bytes,
    verify_jws,
)
from honnin.limits import MAX_CREDENTIAL_BODY

__all__ = [
    "REVOCATION_REQUEST_TYP",
    "RevocationRequest",
    "RevocationSigner",
    "VerifiedRevocationProof",
    "build_revocation_request",
    "credential_hash",
    "parse_revocation_request",
    "verify_revocation_proof",
]

#: RFC 7515 §4.1.9: the explicit type of the proof.
REVOCATION_REQUEST_TYP: Final = "honnin-revocation+jwt"
#: A request carries one copy (≤ 512 KiB, D10) and a small JWT.
MAX_REQUEST: Final = MAX_CREDENTIAL_BODY + 16 * 1024
#: The proof's ``iat`` window, as for OpenID4VCI key proofs (HOSTILE-CASES D6).
MAX_AGE: Final = 300
MAX_SKEW: Final = 60


class RevocationSigner(Protocol):
    """A binding-key signer (the wallet's ``Signer``): raw JWS signatures."""

    @property
    def algorithm(self) -> JwsAlgorithm: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    """The body of a revocation request: a copy and the proof over it."""

    credential: str
    proof: str

    def to_json(self) -> dict[str, str]:
        """The JSON body."""
        return {"credential": self.credential, "proof": self.proof}

    def claimed_nonce(self) -> str:
        """The ``nonce`` the proof names, read before verification (to consume it once).

        Raises:
            InvalidProof: a malformed proof or no string nonce.
        """
        try:
            nonce = parse_jws(self.proof).unverified_claims().get("nonce")
        except HonninError as exc:
            raise InvalidProof(
                f"malformed revocation proof: {exc.message}", reason="malformed"
            ) from exc
        if not isinstance(nonce, str) or not nonce:
            raise InvalidProof("the revocation proof carries no nonce", reason="nonce")
        return nonce


@dataclass(frozen=True, slots=True)
class VerifiedRevocationProof:
    """A proof that verified under the copy's key for this issuer."""

    iat: int
    nonce: str
    algorithm: JwsAlgorithm


def credential_hash(credential: str) -> str:
    """``credential_hash``: SHA-256 of the copy string (ASCII), base64url."""
    return b64url_encode(hashlib.sha256(credential.encode("ascii")).digest())


def build_revocation_request(
    credential: str,
    signer: RevocationSigner | PrivateKey,
    *,
    aud: str,
    nonce: str,
    iat: int,
) -> RevocationRequest:
    """A revocation request for ``credential`` signed with the copy's binding key.

    Raises:
        ValueError: an empty credential, audience or nonce.
    """
    if not credential or not aud or not nonce:
        raise ValueError("a revocation request needs the credential, the issuer and a nonce")
    claims = {
        "aud": aud,
        "iat": int(iat),
        "nonce": nonce,
        "credential_hash": credential_hash(credential),
    }
    sign: Callable[[bytes], bytes]
    if isinstance(signer, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        key = signer
        algorithm = algorithm_for_key(key)

        def sign(data: bytes) -> bytes:
            return sign_bytes(data, key, algorithm)

    else:
        algorithm, sign = signer.algorithm, signer.sign
    header = {"alg": algorithm.value, "typ": REVOCATION_REQUEST_TYP}
    signing_input = (
        f"{b64url_encode(json_dumps(header).encode())}.{b64url_encode(json_dumps(claims).encode())}"
    )
    signature = b64url_encode(sign(signing_input.encode("ascii")))
    return RevocationRequest(credential, f"{signing_input}.{signature}")


def parse_revocation_request(body: bytes) -> RevocationRequest:
    """Parse a revocation request body strictly: a JSON object with exactly the string
    members ``credential`` and ``proof``.

    Raises:
        TooLarge: over 528 KiB. MalformedInput: anything else.
    """
    if len(body) > MAX_REQUEST:
        raise TooLarge(f"revocation request over {MAX_REQUEST} bytes", limit=MAX_REQUEST)
    document = json_loads(body)
    if (
        not isinstance(document, dict)
        or set(document) != {"credential", "proof"}
        or not all(isinstance(v, str) and v for v in document.values())
    ):
        raise MalformedInput(
            "a revocation request is {credential, proof}, both non-empty strings",
            field="body",
        )
    return RevocationRequest(document["credential"], document["proof"])


def verify_revocation_proof(
    request: RevocationRequest,
    holder_key: PublicKey,
    *,
    audience: str,
    now: float,
    allowed: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    max_age: int = MAX_AGE,
    max_skew: int = MAX_SKEW,
) -> VerifiedRevocationProof:
    """Verify the proof of possession of ``holder_key`` (the copy's binding key).

    Raises:
        InvalidProof: ``reason`` names the failed check: ``malformed``, ``typ``,
            ``signature`` (including an algorithm outside ``allowed``), ``aud``, ``iat``,
            ``nonce``, ``credential_hash``.
    """
    try:
        jws = parse_jws(request.proof)
        claims = jws.unverified_claims()
    except HonninError as exc:
        raise InvalidProof(
            f"malformed revocation proof: {exc.message}", reason="malformed"
        ) from exc
    if jws.header.get("typ") != REVOCATION_REQUEST_TYP:
        raise InvalidProof(f"the proof's typ must be {REVOCATION_REQUEST_TYP!r}", reason="typ")
    try:
        algorithm = verify_jws(jws, holder_key, allowed=allowed)
    except HonninError as exc:
        raise InvalidProof(
            f"the proof is not signed by the credential's key: {exc.message}", reason="signature"
        ) from exc
    aud = claims.get("aud")
    if not isinstance(aud, str) or not hmac.compare_digest(aud.encode(), audience.encode()):
        raise InvalidProof("the proof is for another issuer", reason="aud")
    iat = claims.get("iat")
    if type(iat) is not int or not now - max_age - max_skew <= iat <= now + max_skew:
        raise InvalidProof("the proof's iat is missing or outside the window", reason="iat")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidProof("the proof carries no nonce", reason="nonce")
    digest = claims.get("credential_hash")
    expected = credential_hash(request.credential)
    if not isinstance(digest, str) or not hmac.compare_digest(digest, expected):
        raise InvalidProof("the proof is for another credential", reason="credential_hash")
    return VerifiedRevocationProof(iat, nonce, algorithm)
