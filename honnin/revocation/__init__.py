"""Holder-initiated revocation: the request a wallet sends its issuer to revoke a credential,
authenticated by proof of possession of a copy's binding key (spec/PROFILE.md
"Holder-initiated revocation"; DESIGN "Controllability").

* ``build_revocation_request`` — the wallet: a copy plus a ``honnin-revocation+jwt`` proof
  over the issuer, a ``c_nonce`` and the copy's hash, signed with the copy's key.
* ``parse_revocation_request`` / ``verify_revocation_proof`` — the issuer's strict checks.

Protocol messages only: no I/O (the issuer service and the wallet carry them over HTTP).
"""

from ._request import (
    REVOCATION_REQUEST_TYP,
    RevocationRequest,
    RevocationSigner,
    VerifiedRevocationProof,
    build_revocation_request,
    credential_hash,
    parse_revocation_request,
    verify_revocation_proof,
)

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
