"""The verifier's signing identity: key, certificate chain and Client Identifier.

OpenID4VP 1.0 §5.9.3: with ``x509_san_dns`` the client_id is ``x509_san_dns:<dNSName SAN of the
leaf>``; with ``x509_hash`` it is ``x509_hash:<base64url SHA-256 of the DER leaf>``. Either way
the request object is signed with the leaf's key and carries the chain in ``x5c`` (without the
trust anchor, HAIP §5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from honnin.clock import Clock, as_datetime
from honnin.encoding import b64url_encode, json_loads
from honnin.errors import MalformedInput, UnsupportedAlgorithm
from honnin.jose import private_key_from_jwk
from honnin.trust import certificates_to_x5c, load_certificates, make_test_pki, san_dns_names

__all__ = ["X509_HASH", "X509_SAN_DNS", "VerifierIdentity"]

X509_SAN_DNS: Final = "x509_san_dns"
X509_HASH: Final = "x509_hash"
_PREFIXES: Final = (X509_SAN_DNS, X509_HASH)


def _client_id(prefix: str, leaf: x509.Certificate, host: str | None) -> str:
    if prefix == X509_HASH:
        # §5.9.3: base64url of the SHA-256 hash of the DER-encoded leaf certificate.
        digest = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).digest()
        return f"{X509_HASH}:{b64url_encode(digest)}"
    if prefix != X509_SAN_DNS:
        raise ValueError(f"client_id prefix must be one of {_PREFIXES}, not {prefix!r}")
    names = san_dns_names(leaf)
    if not names:
        raise MalformedInput("the verifier certificate has no dNSName SAN for x509_san_dns")
    chosen = (host or names[0]).lower()
    if chosen not in names:
        raise MalformedInput(f"{chosen!r} is not a dNSName SAN of the verifier certificate")
    return f"{X509_SAN_DNS}:{chosen}"


@dataclass(frozen=True)
class VerifierIdentity:
    """A private key, its certificate chain (leaf first, anchor excluded) and client_id.

    ``anchor`` is the certificate wallets should trust for this verifier when known (the
    test PKI's access CA); ``None`` for a loaded identity whose anchor is managed elsewhere.
    """

    name: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...]
    client_id: str
    anchor: x509.Certificate | None = None
    x5c: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            self.private_key.curve, ec.SECP256R1
        ):
            # HAIP §4 / the honnin profile: request objects are signed with ES256.
            raise UnsupportedAlgorithm("the verifier key must be a P-256 (ES256) key")
        leaf_key = self.chain[0].public_key()
        if not isinstance(leaf_key, ec.EllipticCurvePublicKey) or (
            leaf_key.public_numbers() != self.private_key.public_key().public_numbers()
        ):
            raise MalformedInput("the verifier key does not match its certificate")
        object.__setattr__(self, "x5c", tuple(certificates_to_x5c(self.chain)))

    @property
    def prefix(self) -> str:
        """The Client Identifier Prefix (``x509_san_dns`` or ``x509_hash``)."""
        return self.client_id.split(":", 1)[0]

    @property
    def certificate(self) -> x509.Certificate:
        """The leaf certificate whose key signs request objects."""
        return self.chain[0]

    @classmethod
    def generate(
        cls, name: str, host: str, *, prefix: str = X509_SAN_DNS, clock: Clock
    ) -> VerifierIdentity:
        """A fresh key with a test-PKI access certificate carrying the dNSName ``host``."""
        pki = make_test_pki((), verifier_dns=host, verifier_name=name, now=as_datetime(clock))
        leaf = pki.verifier
        return cls(
            name=name,
            private_key=leaf.private_key,
            chain=leaf.chain,
            client_id=_client_id(prefix, leaf.certificate, host),
            anchor=pki.access_ca.certificate,
        )

    @classmethod
    def load(
        cls,
        name: str,
        key: ec.EllipticCurvePrivateKey | bytes | str | Path,
        chain: Sequence[x509.Certificate] | bytes | str | Path,
        *,
        prefix: str = X509_SAN_DNS,
        host: str | None = None,
        anchor: x509.Certificate | None = None,
    ) -> VerifierIdentity:
        """An identity from your own key (object, PEM, JWK JSON or a file path) and chain
        (certificates, a PEM bundle or a file path; leaf first).

        Raises:
            MalformedInput: unreadable key or chain, or a key that does not match the leaf.
            UnsupportedAlgorithm: not a P-256 key.
        """
        private_key = _load_key(key)
        certs = _load_chain(chain)
        return cls(name, private_key, certs, _client_id(prefix, certs[0], host), anchor)


def _read(source: bytes | str | Path) -> bytes:
    if isinstance(source, Path):
        return source.read_bytes()
    if isinstance(source, str) and "-----BEGIN" not in source and not source.startswith("{"):
        return Path(source).read_bytes()
    return source.encode() if isinstance(source, str) else source


def _load_key(key: ec.EllipticCurvePrivateKey | bytes | str | Path) -> ec.EllipticCurvePrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key
    raw = _read(key)
    if raw.lstrip().startswith(b"{"):
        loaded = private_key_from_jwk(json_loads(raw))
    else:
        try:
            loaded = serialization.load_pem_private_key(raw, password=None)  # type: ignore[assignment]
        except (ValueError, TypeError) as exc:
            raise MalformedInput(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise UnsupportedAlgorithm("the verifier key must be an EC P-256 key")
    return loaded


def _load_chain(
    chain: Sequence[x509.Certificate] | bytes | str | Path,
) -> tuple[x509.Certificate, ...]:
    if isinstance(chain, bytes | str | Path):
        certs = tuple(load_certificates(_read(chain)))
    else:
        certs = tuple(chain)
    if not certs:
        raise MalformedInput("the verifier certificate chain is empty")
    return certs
