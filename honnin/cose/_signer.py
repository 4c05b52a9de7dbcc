"""Who signs: a ``Signer`` is anything that makes a raw COSE signature with a named algorithm.

A wallet whose device keys live in a secure store implements ``Signer``; ``KeySigner`` wraps
an in-memory ``cryptography`` private key.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.jose import PrivateKey, PublicKey, algorithm_for_key, is_ec_private_key

from ._algorithms import CoseAlgorithm, cose_algorithm_for, sign_raw

_BY_CURVE = {
    "secp256r1": CoseAlgorithm.ES256,
    "secp384r1": CoseAlgorithm.ES384,
    "secp521r1": CoseAlgorithm.ES512,
}


@runtime_checkable
class Signer(Protocol):
    """Signs ``data`` with ``algorithm`` and returns the raw COSE signature (RFC 9053 §2.1:
    ``r || s`` for ECDSA, each padded to the curve size; RFC 8032 bytes for EdDSA)."""

    @property
    def algorithm(self) -> CoseAlgorithm:
        """The COSE algorithm the signatures use (goes into the protected header)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature over ``data``."""
        ...


class KeySigner:
    """A ``Signer`` over an in-memory private key; the algorithm follows the key's curve.

    >>> from honnin.jose import generate_key
    >>> KeySigner(generate_key()).algorithm
    <CoseAlgorithm.ES256: -7>
    """

    __slots__ = ("_alg", "_key")

    def __init__(self, key: PrivateKey, alg: CoseAlgorithm | None = None) -> None:
        if not (is_ec_private_key(key) or isinstance(key, ed25519.Ed25519PrivateKey)):
            raise TypeError("KeySigner needs an EC or Ed25519 private key")
        self._key = key
        if alg is None:
            curve = getattr(key, "curve", None)
            alg = _BY_CURVE.get(curve.name) if curve is not None else None
            if alg is None:
                alg = cose_algorithm_for(algorithm_for_key(key))
        self._alg = alg

    @property
    def algorithm(self) -> CoseAlgorithm:
        return self._alg

    @property
    def public_key(self) -> PublicKey:
        """The public half of the key."""
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return sign_raw(data, self._key, self._alg)

    def __repr__(self) -> str:
        return f"KeySigner(algorithm={self._alg.name})"


_PRIVATE_KEY_TYPES = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def as_signer(signer: Signer | PrivateKey) -> Signer:
    """``signer`` itself, or a ``KeySigner`` around a private key."""
    if is_ec_private_key(signer) or isinstance(signer, _PRIVATE_KEY_TYPES):
        return KeySigner(signer)
    if not isinstance(signer, Signer):
        raise TypeError("expected a Signer or an EC / Ed25519 private key")
    return signer
