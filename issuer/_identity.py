"""Who the issuer is: its signing key, its certificate chain and the anchor verifiers trust.

``IssuerIdentity.generate`` makes a test PKI root and an issuer leaf whose URI SAN is the
issuer's ``iss`` (SD-JWT VC §3.5 x5c key resolution; ``honnin.trust.check_issuer_identifier``);
``IssuerIdentity.from_files`` / ``from_key`` take an organisation's own key and chain.
The chain in headers (``x5c`` / ``x5chain``) never includes the anchor (HAIP §6.1.1).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from honnin.clock import Clock
from honnin.errors import MalformedInput
from honnin.jose import PrivateKey, jwk_from_public_key, jwk_thumbprint, private_key_from_jwk
from honnin.trust import certificates_to_pem, certificates_to_x5c, load_certificates, san_uris
from honnin.trust import make_certificate as _make_certificate

__all__ = ["IssuerIdentity", "KeyInput", "load_private_key", "slug"]

KeyInput = PrivateKey | bytes | str | os.PathLike[str] | dict[str, Any]


def slug(name: str) -> str:
    """A lowercase ASCII host label for ``name`` (``issuer`` when nothing remains)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "issuer"


def load_private_key(key: KeyInput) -> PrivateKey:
    """A private key from a key object, PEM bytes, a PEM/JWK file path or a JWK dict.

    Raises:
        MalformedInput: not an EC (P-256/384/521) or Ed25519 private key.
        OSError: a path that cannot be read.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, dict):
        return private_key_from_jwk(key)
    raw = Path(key).read_bytes() if isinstance(key, str | os.PathLike) else key
    if raw.lstrip().startswith(b"{"):
        from honnin.encoding import json_loads

        return private_key_from_jwk(json_loads(raw))
    try:
        loaded = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(loaded, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise MalformedInput("the issuer key must be an EC or Ed25519 key")
    return loaded


def _load_chain(
    chain: Sequence[x509.Certificate] | bytes | str | os.PathLike[str],
) -> list[x509.Certificate]:
    if isinstance(chain, bytes):
        return load_certificates(chain)
    if isinstance(chain, str | os.PathLike):
        return load_certificates(Path(chain).read_bytes())
    return list(chain)


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


@dataclass(frozen=True)
class IssuerIdentity:
    """An issuer's key, its chain (leaf first, anchor excluded) and its trust anchor."""

    name: str
    iss: str
    key: PrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...]
    anchor: x509.Certificate

    def __post_init__(self) -> None:
        if not self.chain:
            raise ValueError("an issuer identity needs at least its own certificate")
        leaf_key = self.chain[0].public_key()
        if jwk_from_public_key(self.key) != jwk_from_public_key(leaf_key):  # type: ignore[arg-type]
            raise ValueError("the first certificate of the chain is not the issuer key's")

    @classmethod
    def generate(
        cls, name: str, iss: str, *, clock: Clock, leaf_days: int = 365, ca_days: int = 3650
    ) -> IssuerIdentity:
        """A fresh P-256 key, a self-signed root and an issuer leaf naming ``iss``.

        The leaf carries ``iss`` as URI SAN and its host as DNS SAN (SD-JWT VC §3.5).
        Validity starts at 00:00 UTC of the day an hour ago (absorbing clock skew).
        """
        # From 00:00 UTC of the day an hour ago: issued credentials carry day-rounded
        # times (RFC 9901 §10.1), and an mdoc's ``signed`` must not precede its signer's
        # notBefore (ISO/IEC 18013-5 §9.3.1).
        start = datetime.fromtimestamp(int(clock.now() - 3600) // 86_400 * 86_400, tz=UTC)
        root = _make_certificate(
            f"{name} root CA", issuer=None, ca=True, path_length=0,
            not_before=start, not_after=start + timedelta(days=ca_days), organization=name,
        )  # fmt: skip
        host = iss.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        leaf = _make_certificate(
            name, issuer=root, not_before=start, not_after=start + timedelta(days=leaf_days),
            organization=name, san_uris=[iss], san_dns=[host] if host else [],
        )  # fmt: skip
        return cls(name, iss, leaf.private_key, leaf.chain, root.certificate)

    @classmethod
    def from_key(
        cls,
        key: KeyInput,
        chain: Sequence[x509.Certificate] | bytes | str | os.PathLike[str],
        *,
        iss: str | None = None,
        name: str | None = None,
        anchor: x509.Certificate | bytes | str | os.PathLike[str] | None = None,
    ) -> IssuerIdentity:
        """An identity from an organisation's own key and chain (leaf first).

        ``iss`` defaults to the leaf's first URI SAN. The anchor is ``anchor`` when given,
        else the chain's last certificate (its self-signed root when the chain has one).

        Raises:
            MalformedInput: an unreadable key or chain, or no ``iss`` to be found.
        """
        private_key = load_private_key(key)
        certs = _load_chain(chain)
        if not certs:
            raise MalformedInput("the issuer chain is empty")
        if anchor is not None:
            root = anchor if isinstance(anchor, x509.Certificate) else _load_chain(anchor)[0]
        else:
            root = certs[-1]
        sent = tuple(c for c in certs if not _self_signed(c)) or (certs[0],)
        if iss is None:
            uris = san_uris(certs[0])
            if not uris:
                raise MalformedInput("the leaf certificate names no URI; pass iss explicitly")
            iss = uris[0]
        label = name or _common_name(certs[0]) or iss
        try:
            return cls(label, iss, private_key, sent, root)
        except ValueError as exc:
            raise MalformedInput(str(exc)) from exc

    def x5c(self) -> list[str]:
        """The chain as a JOSE ``x5c`` header (RFC 7515 §4.1.6)."""
        return certificates_to_x5c(self.chain)

    def x5chain(self) -> list[bytes]:
        """The chain as DER for a COSE ``x5chain`` header (RFC 9360 §2)."""
        return [c.public_bytes(Encoding.DER) for c in self.chain]

    def public_jwk(self) -> dict[str, Any]:
        """The public signing key as a JWK with ``kid`` (its RFC 7638 thumbprint)."""
        jwk: dict[str, Any] = dict(jwk_from_public_key(self.key))
        jwk["kid"] = jwk_thumbprint(jwk)
        return jwk

    def write(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``issuer.key.pem`` (mode 0600), ``issuer-chain.pem`` and ``anchor.pem``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        key_path = out / "issuer.key.pem"
        pem = self.key.private_bytes(
            Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        chain_path = out / "issuer-chain.pem"
        chain_path.write_text(certificates_to_pem(self.chain), encoding="ascii")
        anchor_path = out / "anchor.pem"
        anchor_path.write_text(certificates_to_pem([self.anchor]), encoding="ascii")
        return {"key": key_path, "chain": chain_path, "anchor": anchor_path}


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None
