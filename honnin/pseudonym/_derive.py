"""Deriving the pairwise key of one verifier from the wallet secret.

The key is a deterministic function of (wallet secret, verifier ``client_id``, optional
relationship salt): the same wallet always gets the same key for the same verifier, and
without the secret nothing links the keys of two verifiers (HKDF is a PRF, RFC 5869 §3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin.jose import jwk_from_public_key, jwk_thumbprint

from ._constants import (
    DERIVATION_LABEL,
    DERIVED_BYTES,
    MAX_CLIENT_ID,
    P256_ORDER,
    SECRET_SIZE,
    THUMBPRINT_URI_PREFIX,
)

__all__ = ["PairwiseKey", "derive_pairwise_key", "pseudonym_of"]


@dataclass(frozen=True)
class PairwiseKey:
    """The P-256 key a wallet uses with one verifier alone, and the pseudonym it yields.

    ``pseudonym`` is the RFC 7638 SHA-256 thumbprint of ``public_jwk`` (base64url);
    ``issuer`` its RFC 9278 JWK Thumbprint URI. The private key stays out of ``repr``.
    """

    client_id: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_jwk: dict[str, Any]
    pseudonym: str

    @property
    def issuer(self) -> str:
        """The ``iss`` of this key's self-issued proofs (RFC 9278 §3)."""
        return THUMBPRINT_URI_PREFIX + self.pseudonym


def pseudonym_of(public_jwk: dict[str, Any]) -> str:
    """The pseudonym of a public key: its RFC 7638 SHA-256 JWK thumbprint (base64url)."""
    return jwk_thumbprint(public_jwk)


def _lp(data: bytes) -> bytes:
    # Length-prefixed, so (client_id, relationship) pairs can never collide by concatenation.
    return struct.pack(">I", len(data)) + data


def derive_pairwise_key(secret: bytes, client_id: str, *, relationship: bytes = b"") -> PairwiseKey:
    """Derive the pairwise P-256 key of ``client_id`` from the 256-bit wallet ``secret``.

    HKDF-SHA256 (RFC 5869) with the wallet secret as input keying material and ``info`` =
    version label || len||client_id || len||relationship gives 384 bits; they become the
    private scalar d = (c mod (n − 1)) + 1 as in FIPS 186-5 Appendix A.2.1 ("extra random
    bits"), so d is uniform in [1, n − 1] up to a bias below 2^-128. ``relationship`` is an
    optional per-relationship salt the wallet keeps until the person withdraws the
    relationship; forgetting it makes the old key impossible to derive again.

    Example::

        key = derive_pairwise_key(vault.secret("pseudonym"), "x509_san_dns:agency.example")
        key.pseudonym   # stable for this wallet and this verifier

    Raises:
        ValueError: a secret that is not 32 bytes, or an empty or overlong client_id.
    """
    if not isinstance(secret, bytes) or len(secret) != SECRET_SIZE:
        raise ValueError(f"the wallet secret is {SECRET_SIZE} bytes")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID:
        raise ValueError(f"a client_id is 1..{MAX_CLIENT_ID} characters")
    info = DERIVATION_LABEL + _lp(client_id.encode("utf-8")) + _lp(bytes(relationship))
    okm = HKDF(algorithm=hashes.SHA256(), length=DERIVED_BYTES, salt=None, info=info).derive(secret)
    scalar = int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1
    private_key = ec.derive_private_key(scalar, ec.SECP256R1())
    jwk = jwk_from_public_key(private_key)
    return PairwiseKey(client_id, private_key, jwk, pseudonym_of(jwk))
