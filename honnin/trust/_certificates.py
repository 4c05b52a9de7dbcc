"""Loading X.509 certificates from PEM, DER and JOSE ``x5c`` (RFC 5280, RFC 7515 §4.1.6).

``cryptography`` parses certificates lazily: a broken extension only fails when it is first
read. ``_checked`` reads every part the trust code uses at load time, so malformed input ends
here as ``MalformedInput`` and never as a ``ValueError`` from deep inside a verification.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from honnin.errors import MalformedInput, TooLarge

__all__ = [
    "MAX_CERTIFICATE_SIZE",
    "MAX_CHAIN_CERTIFICATES",
    "certificate_from_der",
    "certificate_sha256",
    "certificates_from_der_list",
    "certificates_from_x5c",
    "certificates_to_pem",
    "certificates_to_x5c",
    "load_certificates",
    "san_dns_names",
    "san_uris",
]

#: One DER certificate; real IACA / DS / access certificates are 0.5-2 KiB.
MAX_CERTIFICATE_SIZE = 16 * 1024
#: Certificates in one chain (x5c, x5chain, a PEM bundle of a chain).
MAX_CHAIN_CERTIFICATES = 8
#: A PEM bundle (trust list anchors may hold more than one chain).
_MAX_PEM_BUNDLE = 1024 * 1024

# RFC 7515 §4.1.6: x5c members are base64 (RFC 4648 §4, *not* base64url) DER, padded.
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _checked(cert: x509.Certificate) -> x509.Certificate:
    """Touch every lazily parsed field the trust code reads, turning errors into ours."""
    try:
        _ = cert.subject, cert.issuer
        _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        _ = cert.extensions
        cert.public_key()
        _ = cert.signature_algorithm_oid
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"malformed certificate: {exc}") from exc
    except x509.UnsupportedGeneralNameType as exc:
        raise MalformedInput(f"certificate with an unsupported name type: {exc}") from exc
    return cert


@lru_cache(maxsize=512)
def certificate_from_der(der: bytes) -> x509.Certificate:
    """Parse one DER certificate (RFC 5280 §4.1); cached by its bytes.

    Raises:
        MalformedInput: not a well-formed certificate.
        TooLarge: more than ``MAX_CERTIFICATE_SIZE`` bytes.
    """
    if len(der) > MAX_CERTIFICATE_SIZE:
        raise TooLarge(
            f"certificate of {len(der)} bytes exceeds {MAX_CERTIFICATE_SIZE}",
            limit=MAX_CERTIFICATE_SIZE,
        )
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise MalformedInput(f"not a DER certificate: {exc}") from exc
    return _checked(cert)


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Certificates from a PEM bundle (one or more ``CERTIFICATE`` blocks) or one DER cert.

    The order of the input is kept (a chain stays leaf first).

    Raises:
        MalformedInput: no certificate, or a malformed one.
        TooLarge: the input or one certificate is too large.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    if len(raw) > _MAX_PEM_BUNDLE:
        raise TooLarge(f"certificate input of {len(raw)} bytes", limit=_MAX_PEM_BUNDLE)
    if b"-----BEGIN" not in raw:
        return [certificate_from_der(raw)]
    try:
        certs = x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise MalformedInput(f"no valid PEM certificate: {exc}") from exc
    out = []
    for cert in certs:
        der = cert.public_bytes(Encoding.DER)
        out.append(certificate_from_der(der))
    return out


def certificates_from_der_list(ders: Sequence[bytes]) -> list[x509.Certificate]:
    """A chain from DER byte strings (e.g. a COSE ``x5chain``, RFC 9360 §2).

    Raises:
        MalformedInput: empty, or a member that is not a DER certificate.
        TooLarge: more than ``MAX_CHAIN_CERTIFICATES`` members.
    """
    if not ders:
        raise MalformedInput("empty certificate chain")
    if len(ders) > MAX_CHAIN_CERTIFICATES:
        raise TooLarge(
            f"chain of {len(ders)} certificates exceeds {MAX_CHAIN_CERTIFICATES}",
            limit=MAX_CHAIN_CERTIFICATES,
        )
    out = []
    for der in ders:
        if not isinstance(der, bytes):
            raise MalformedInput("a chain member is not a byte string")
        out.append(certificate_from_der(der))
    return out


@lru_cache(maxsize=256)
def _x5c_cached(x5c: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    ders = []
    for index, member in enumerate(x5c):
        if len(member) > MAX_CERTIFICATE_SIZE * 2 or _BASE64.fullmatch(member) is None:
            raise MalformedInput(
                f"x5c[{index}] is not padded base64 (RFC 7515 §4.1.6)", index=index
            )
        try:
            ders.append(binascii.a2b_base64(member, strict_mode=True))
        except binascii.Error as exc:  # pragma: no cover - the regex admits only valid base64
            raise MalformedInput(f"x5c[{index}]: {exc}", index=index) from exc
    return tuple(certificates_from_der_list(ders))


def certificates_from_x5c(x5c: object) -> list[x509.Certificate]:
    """The certificates of a JOSE ``x5c`` header (RFC 7515 §4.1.6), leaf first; cached.

    Raises:
        MalformedInput: not a non-empty array of base64 DER certificates.
        TooLarge: too many or too large certificates.
    """
    if not isinstance(x5c, list) or not all(isinstance(m, str) for m in x5c):
        raise MalformedInput("x5c is not an array of strings (RFC 7515 §4.1.6)")
    return list(_x5c_cached(tuple(x5c)))


def certificates_to_x5c(certs: Iterable[x509.Certificate]) -> list[str]:
    """The ``x5c`` array for ``certs`` (base64 DER, RFC 7515 §4.1.6)."""
    return [
        binascii.b2a_base64(c.public_bytes(Encoding.DER), newline=False).decode("ascii")
        for c in certs
    ]


def certificates_to_pem(certs: Iterable[x509.Certificate]) -> str:
    """A PEM bundle of ``certs`` in order."""
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)


def certificate_sha256(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of the DER certificate, lowercase hex (no colons)."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def san_uris(cert: x509.Certificate) -> list[str]:
    """The uniformResourceIdentifier subject alternative names (RFC 5280 §4.2.1.6)."""
    san = _san(cert)
    return [] if san is None else list(san.get_values_for_type(x509.UniformResourceIdentifier))


def san_dns_names(cert: x509.Certificate) -> list[str]:
    """The dNSName subject alternative names, lowercased (RFC 5280 §4.2.1.6)."""
    san = _san(cert)
    return [] if san is None else [n.lower() for n in san.get_values_for_type(x509.DNSName)]


def url_host(url: str) -> str | None:
    """The lowercased host of an https URL, or ``None``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None
    return parts.hostname.lower()
