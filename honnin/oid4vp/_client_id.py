"""Client Identifier Prefixes (OpenID4VP 1.0 §5.9) and their binding to certificates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from honnin.encoding import b64url_encode
from honnin.errors import InvalidRequest

from ._constants import ClientIdPrefix

_KNOWN = {p.value: p for p in ClientIdPrefix}


@dataclass(frozen=True, slots=True)
class ClientId:
    """A parsed ``client_id``: ``prefix`` (``None`` for a pre-registered client, §5.9.2)
    and the original identifier. ``raw`` is the full value, the audience of every
    presentation (§14.10)."""

    raw: str
    prefix: ClientIdPrefix | None
    identifier: str


def parse_client_id(client_id: str) -> ClientId:
    """Split ``client_id`` at its first ``:`` (§5.9.1).

    A value without ``:``, or with an unknown prefix, is a pre-registered client (§5.9.2).

    Raises:
        InvalidRequest: empty, or the ``origin:`` prefix, which wallets MUST NOT accept in
            requests (§5.9.3).
    """
    if not client_id:
        raise InvalidRequest("client_id is empty")
    head, sep, tail = client_id.partition(":")
    prefix = _KNOWN.get(head) if sep else None
    if prefix is ClientIdPrefix.ORIGIN:
        raise InvalidRequest("the 'origin:' client_id prefix is not accepted in requests (§5.9.3)")
    if prefix is not None and not tail:
        raise InvalidRequest(f"client_id has the prefix '{head}:' but no identifier")
    return ClientId(client_id, prefix, tail if prefix is not None else client_id)


def x509_hash(certificate: x509.Certificate | bytes) -> str:
    """base64url(SHA-256(DER of the certificate)), the ``x509_hash`` identifier (§5.9.3)."""
    der = (
        certificate
        if isinstance(certificate, bytes)
        else certificate.public_bytes(serialization.Encoding.DER)
    )
    return b64url_encode(hashlib.sha256(der).digest())


def x509_hash_client_id(certificate: x509.Certificate | bytes) -> str:
    """``x509_hash:<hash>`` for a leaf certificate (§5.9.3; HAIP mandates this prefix)."""
    return f"{ClientIdPrefix.X509_HASH.value}:{x509_hash(certificate)}"


def x509_san_dns_client_id(dns_name: str) -> str:
    """``x509_san_dns:<dns name>`` (§5.9.3)."""
    return f"{ClientIdPrefix.X509_SAN_DNS.value}:{dns_name}"


def _dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in san.value.get_values_for_type(x509.DNSName)]


def check_client_id_certificate(client_id: str, leaf: x509.Certificate) -> ClientId:
    """Check that an ``x509_san_dns`` / ``x509_hash`` client_id names ``leaf`` (§5.9.3).

    Raises:
        InvalidRequest: another prefix, a DNS name not among the leaf's dNSName SANs, or a
            hash that is not the leaf's (§8.5: the client_id does not belong to its prefix).
    """
    parsed = parse_client_id(client_id)
    if parsed.prefix is ClientIdPrefix.X509_SAN_DNS:
        if parsed.identifier.lower() not in _dns_names(leaf):
            raise InvalidRequest(
                "client_id DNS name is not a dNSName SAN of the signing certificate (§5.9.3)",
                reason="client_id_binding",
            )
    elif parsed.prefix is ClientIdPrefix.X509_HASH:
        if parsed.identifier != x509_hash(leaf):
            raise InvalidRequest(
                "client_id hash is not the SHA-256 of the signing certificate (§5.9.3)",
                reason="client_id_binding",
            )
    else:
        raise InvalidRequest(
            "only x509_san_dns and x509_hash client_ids are bound to certificates",
            reason="client_id_prefix",
        )
    return parsed


def check_uri_host(client_id: ClientId, uri: str | None) -> None:
    """§5.9.3 ``x509_san_dns``: unless the client_id is trusted, the FQDN of the
    ``redirect_uri`` / ``response_uri`` MUST be the client_id's DNS name.

    Raises:
        InvalidRequest: the host differs (or is missing).
    """
    try:
        host = urlsplit(uri or "").hostname
    except ValueError:
        host = None
    if host is None or host.lower() != client_id.identifier.lower():
        raise InvalidRequest(
            "response_uri / redirect_uri host is not the client_id DNS name (§5.9.3)",
            reason="response_uri_host",
        )
