"""Pairwise pseudonyms: one key, and one pseudonym, per verifier (spec/PROFILE.md "Pairwise
pseudonyms"; DESIGN "Pseudonyms").

* ``derive_pairwise_key`` — the wallet derives a P-256 key for one verifier from a 256-bit
  wallet secret and the verifier's ``client_id`` (HKDF-SHA256, FIPS 186-5 A.2.1 reduction).
* ``build_pseudonym_proof`` — a self-issued SD-JWT VC of type ``pseudonym`` with a KB-JWT
  over the verifier's nonce and audience.
* ``verify_pseudonym_proof`` — the verifier's strict check, returning the stable pseudonym
  (the key's RFC 7638 thumbprint) in a ``VerifiedPseudonym``.
* ``pseudonym_credential_query`` / ``is_pseudonym_query`` — the DCQL request.
* ``pseudonym_type`` — the type definition (``spec/self-issued/pseudonym``, catalogue format,
  outside the issuable catalogue).

Pure format code: no I/O, no clock.

Example::

    key = derive_pairwise_key(wallet_secret, client_id)
    proof = build_pseudonym_proof(key, aud=client_id, nonce=nonce, iat=now)
    verify_pseudonym_proof(proof, aud=client_id, nonce=nonce, now=now).pseudonym
"""

from ._constants import PSEUDONYM_TYPE, PSEUDONYM_VCT, THUMBPRINT_URI_PREFIX
from ._derive import PairwiseKey, derive_pairwise_key, pseudonym_of
from ._proof import (
    VerifiedPseudonym,
    build_pseudonym_proof,
    is_pseudonym_query,
    pseudonym_credential_query,
    verify_pseudonym_proof,
)
from ._type import pseudonym_type, self_issued_catalogue

__all__ = [
    "PSEUDONYM_TYPE",
    "PSEUDONYM_VCT",
    "THUMBPRINT_URI_PREFIX",
    "PairwiseKey",
    "VerifiedPseudonym",
    "build_pseudonym_proof",
    "derive_pairwise_key",
    "is_pseudonym_query",
    "pseudonym_credential_query",
    "pseudonym_of",
    "pseudonym_type",
    "self_issued_catalogue",
    "verify_pseudonym_proof",
]
