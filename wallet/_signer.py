"""Holder binding keys behind a ``Signer`` interface (ARF WIAM_20; HAIP §4: ES256).

A binding key is made inside the vault, stored only encrypted, and never handed out: the
caller gets a ``Signer``. An HSM, a secure element or a platform keystore can implement the
same Protocol, so the presentation code (KB-JWT, mdoc DeviceAuth) does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec

from honnin.errors import WalletCorrupted
from honnin.jose import JwsAlgorithm, jwk_from_public_key, jwk_thumbprint, sign_bytes

__all__ = ["BINDING_KEY_KIND", "Signer", "VaultSigner", "key_from_scalar", "scalar_of"]

#: The reserved record kind for binding keys; the generic record API refuses ``honnin.*``.
BINDING_KEY_KIND: Final = "honnin.binding_key"
_P256_SIZE: Final = 32


@runtime_checkable
class Signer(Protocol):
    """Signs with a key the caller never sees (RFC 7518 §3.4 raw R||S for ECDSA).

    ``sign`` returns exactly what ``honnin.jose.sign_bytes`` returns for the same key, so a
    KB-JWT (RFC 9901 §4.3) or a COSE_Sign1 (RFC 9052 §4.4) can be built over any signer.
    """

    @property
    def algorithm(self) -> JwsAlgorithm:
        """The JWS algorithm of the key (ES256 for the vault's P-256 keys)."""
        ...

    @property
    def key_id(self) -> str:
        """A stable id: the RFC 7638 JWK thumbprint of the public key."""
        ...

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517), e.g. for ``cnf.jwk``."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature over ``data``."""
        ...


class VaultSigner:
    """A ``Signer`` over a binding key held by an open ``Vault``.

    It holds no key itself: each ``sign`` asks the vault, so a destroyed key or a closed
    vault stops signing at once.
    """

    __slots__ = ("_key_id", "_lookup", "_public_jwk")

    def __init__(
        self,
        key_id: str,
        public_jwk: dict[str, str],
        lookup: Callable[[str], ec.EllipticCurvePrivateKey],
    ) -> None:
        self._key_id = key_id
        self._public_jwk = public_jwk
        self._lookup = lookup

    @property
    def algorithm(self) -> JwsAlgorithm:
        return JwsAlgorithm.ES256

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_jwk(self) -> dict[str, str]:
        return dict(self._public_jwk)

    def sign(self, data: bytes) -> bytes:
        """ES256 over ``data``: raw R||S, 64 bytes (RFC 7518 §3.4).

        Raises:
            NotFound: the key was destroyed.
            ValueError: the vault is closed.
        """
        return sign_bytes(data, self._lookup(self._key_id), JwsAlgorithm.ES256)

    def __repr__(self) -> str:
        return f"VaultSigner(key_id={self._key_id!r}, algorithm='ES256')"


def new_p256_key() -> tuple[str, dict[str, str], ec.EllipticCurvePrivateKey]:
    """A fresh P-256 key with its public JWK and thumbprint id."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwk_from_public_key(key)
    return jwk_thumbprint(jwk), jwk, key


def scalar_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The private scalar as 32 big-endian bytes (only ever passed to the record cipher)."""
    return key.private_numbers().private_value.to_bytes(_P256_SIZE, "big")


def key_from_scalar(raw: object, key_id: str) -> ec.EllipticCurvePrivateKey:
    """Rebuild a P-256 key from its stored scalar, checking it against its id.

    Raises:
        WalletCorrupted: the stored key is malformed or does not match ``key_id``.
    """
    label = f"{BINDING_KEY_KIND}/{key_id}"
    if not isinstance(raw, bytes) or len(raw) != _P256_SIZE:
        raise WalletCorrupted(f"binding key {key_id} is malformed", record=label)
    try:
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as exc:
        raise WalletCorrupted(f"binding key {key_id} is malformed", record=label) from exc
    if jwk_thumbprint(jwk_from_public_key(key)) != key_id:
        raise WalletCorrupted(f"binding key {key_id} does not match its id", record=label)
    return key
