"""A test PKI for demos and tests: a root, issuer (document signer) certificates, a verifier
(relying party) access certificate and a registrar key, all P-256 / ES256.

The shapes follow the profiles honnin validates: the root and the access CA are CAs with
keyCertSign (RFC 5280 §4.2.1.3, §4.2.1.9); issuer leaves carry a URI SAN equal to their
``iss`` and a DNS SAN equal to its host (SD-JWT VC §2.5 x5c); the verifier leaf carries the
dNSName used by OpenID4VP ``x509_san_dns`` (OpenID4VP 1.0 §5.9.3). Nothing here is meant for
production keys: private keys are written unencrypted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from honnin.clock import SystemClock, as_datetime
from honnin.encoding import json_dumps
from honnin.jose import jwk_from_private_key, jwk_from_public_key

from ._certificates import certificates_to_pem, certificates_to_x5c

__all__ = ["CertifiedKey", "TestPki", "make_certificate", "make_test_pki", "slug"]


@dataclass(frozen=True)
class CertifiedKey:
    """A private key with its certificate and the chain that goes with it.

    ``chain`` is leaf first and excludes the root (HAIP §6.1.1: the anchor is not sent).
    """

    name: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def x5c(self) -> list[str]:
        """The chain as a JOSE ``x5c`` array (RFC 7515 §4.1.6)."""
        return certificates_to_x5c(self.chain)

    def private_jwk(self) -> dict[str, str]:
        """The private key as a JWK (a secret: handle with care)."""
        return jwk_from_private_key(self.private_key)

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK."""
        return jwk_from_public_key(self.private_key)

    def private_key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (a secret: handle with care)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str, organization: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"))
    return x509.Name(attrs)


def make_certificate(
    common_name: str,
    *,
    issuer: CertifiedKey | None,
    not_before: datetime,
    not_after: datetime,
    ca: bool = False,
    path_length: int | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    organization: str | None = None,
    san_uris: Sequence[str] = (),
    san_dns: Sequence[str] = (),
    key_usage: str | None = None,
    extended_key_usage: Sequence[x509.ObjectIdentifier] = (),
) -> CertifiedKey:
    """Make a certificate (self-signed when ``issuer`` is None) with a fresh P-256 key.

    ``key_usage`` is ``"ca"`` (keyCertSign + cRLSign), ``"sign"`` (digitalSignature),
    ``"none"`` (no keyUsage extension) or None (``"ca"`` for a CA, ``"sign"`` otherwise).
    Tests use the knobs to build hostile chains.
    """
    private_key = key or ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    subject = _name(common_name, organization)
    signer_key = private_key if issuer is None else issuer.private_key
    issuer_name = subject if issuer is None else issuer.certificate.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        # RFC 5280 §4.1.2.2: positive, at most 20 octets; random so reissues never collide.
        .serial_number(secrets.randbits(159) | 1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False,
        )
    builder = builder.add_extension(
        x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
    )
    usage = key_usage or ("ca" if ca else "sign")
    if usage != "none":
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=usage == "sign",
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=usage == "ca",
                crl_sign=usage == "ca",
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in san_uris]
    names += [x509.DNSName(d) for d in san_dns]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if extended_key_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(extended_key_usage)), critical=False
        )
    certificate = builder.sign(signer_key, hashes.SHA256())
    chain: tuple[x509.Certificate, ...] = (certificate,)
    if issuer is not None:
        top = issuer.chain[-1]
        # The self-signed root is the anchor and stays out of the chain (HAIP §6.1.1).
        chain += issuer.chain[:-1] if top.issuer == top.subject else issuer.chain
    return CertifiedKey(common_name, private_key, certificate, chain)


def slug(name: str, fallback: str = "issuer") -> str:
    """A lowercase ASCII file and host label for ``name`` (``fallback`` if none remains)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or fallback


@dataclass(frozen=True)
class TestPki:
    """A root CA with issuer leaves, a verifier access CA and leaf, and a registrar.

    Built by ``make_test_pki``; ``write`` stores it as PEM / JWK files and a trust list.
    """

    __test__ = False  # a library class, not a pytest test class

    root: CertifiedKey
    issuers: Mapping[str, CertifiedKey]
    issuer_urls: Mapping[str, str]
    access_ca: CertifiedKey
    verifier: CertifiedKey
    registrar: CertifiedKey

    def issuer(self, name: str) -> CertifiedKey:
        """The issuer leaf named ``name``.

        Raises:
            KeyError: no such issuer in this PKI (a programmer mistake).
        """
        return self.issuers[name]

    def trust_list_document(self, entitlements: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """A trust list (spec/trust-list.schema.json) trusting this PKI: ``root`` as the
        issuer anchor, ``access_ca`` for verifiers, ``registrar`` for registrations, and each
        issuer entitled to the credential types ``entitlements[name]``."""
        from ._trust_list import document_for_pki

        return document_for_pki(self, entitlements)

    def write(
        self, directory: str | os.PathLike[str], entitlements: Mapping[str, Sequence[str]]
    ) -> dict[str, Path]:
        """Write certificates (``*.pem``), private keys (``*.key.pem``, ``*.jwk.json``, mode
        0600) and ``trust-list.json`` into ``directory``; returns the paths by role."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}

        def save(label: str, key: CertifiedKey) -> None:
            cert_path = out / f"{label}.pem"
            cert_path.write_text(certificates_to_pem(key.chain), encoding="ascii")
            written[label] = cert_path
            for suffix, content in (
                (".key.pem", key.private_key_pem()),
                (".jwk.json", json_dumps(key.private_jwk()).encode()),
            ):
                path = out / f"{label}{suffix}"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                written[label + suffix] = path

        save("root", self.root)
        save("access-ca", self.access_ca)
        save("verifier", self.verifier)
        save("registrar", self.registrar)
        for number, (name, key) in enumerate(self.issuers.items(), start=1):
            save(f"issuer-{slug(name, str(number))}", key)
        trust_path = out / "trust-list.json"
        document = self.trust_list_document(entitlements)
        trust_path.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        written["trust-list"] = trust_path
        return written


def make_test_pki(
    issuers: Sequence[str] = ("honnin test issuer",),
    *,
    issuer_urls: Mapping[str, str] | None = None,
    verifier_dns: str = "verifier.honnin.example",
    verifier_name: str = "honnin test verifier",
    now: datetime | None = None,
    leaf_days: int = 365,
    ca_days: int = 3650,
) -> TestPki:
    """Create a test PKI: root CA -> one leaf per issuer; access CA -> verifier leaf; a
    self-signed registrar certificate. All keys P-256 (ES256).

    Each issuer's ``iss`` URL defaults to ``https://<slug>.issuer.honnin.example``; the leaf
    carries it as URI SAN and its host as DNS SAN. Validity starts an hour before ``now``
    (the system time when omitted) to absorb clock skew.

    Example::

        pki = make_test_pki(["Example Corp"])
        employer = pki.issuer("Example Corp")   # .private_key, .certificate, .x5c()
    """
    start = (now or as_datetime(SystemClock())) - timedelta(hours=1)
    ca_end = start + timedelta(days=ca_days)
    leaf_end = start + timedelta(days=leaf_days)
    root = make_certificate(
        "honnin test root CA",
        issuer=None,
        ca=True,
        path_length=1,
        not_before=start,
        not_after=ca_end,
        organization="honnin test trust framework",
    )
    urls = dict(issuer_urls or {})
    leaves: dict[str, CertifiedKey] = {}
    for number, name in enumerate(issuers, start=1):
        url = urls.setdefault(
            name, f"https://{slug(name, f'issuer-{number}')}.issuer.honnin.example"
        )
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        leaves[name] = make_certificate(
            name,
            issuer=root,
            not_before=start,
            not_after=leaf_end,
            organization=name,
            san_uris=[url],
            san_dns=[host],
        )
    access_ca = make_certificate(
        "honnin test access CA",
        issuer=None,
        ca=True,
        path_length=0,
        not_before=start,
        not_after=ca_end,
        organization="honnin test trust framework",
    )
    verifier = make_certificate(
        verifier_name,
        issuer=access_ca,
        not_before=start,
        not_after=leaf_end,
        organization=verifier_name,
        san_dns=[verifier_dns],
    )
    registrar = make_certificate(
        "honnin test registrar",
        issuer=None,
        not_before=start,
        not_after=ca_end,
        organization="honnin test trust framework",
    )
    return TestPki(root, leaves, urls, access_ca, verifier, registrar)
