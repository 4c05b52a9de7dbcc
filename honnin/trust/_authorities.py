"""Trusted-authority identifiers of a certificate chain (OpenID4VP 1.0 §6.1.1, type ``aki``).

A DCQL Trusted Authorities Query of type ``aki`` names issuers by the KeyIdentifier of an
AuthorityKeyIdentifier extension (RFC 5280 §4.2.1.1), base64url-encoded; a credential
matches when a certificate of the X.509 chain it carries (SD-JWT VC ``x5c``, mdoc
``x5chain``) has that KeyIdentifier. honnin supports only ``aki``: ``etsi_tl`` and
``openid_federation`` never match (spec/PROFILE.md, OpenID4VP section).

Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from cryptography import x509

from honnin.encoding import b64url_encode

__all__ = ["authority_key_identifier", "authority_key_identifiers"]

_CACHE_SIZE: Final = 1024


@lru_cache(maxsize=_CACHE_SIZE)
def _key_identifier(certificate: x509.Certificate) -> str | None:
    # Cached by certificate (equality and hash are over the DER): a verifier sees the same
    # issuer chains again and again, and reading an extension parses them all.
    try:
        extension = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        # cryptography raises ValueError for a malformed or duplicated extension: such a
        # certificate names no authority (it was parsed, not validated, by the caller).
        return None
    key_identifier = extension.value.key_identifier
    if not key_identifier:
        # RFC 5280 §4.2.1.1: keyIdentifier is optional (issuer + serial may stand alone).
        return None
    return b64url_encode(key_identifier)


def authority_key_identifier(certificate: x509.Certificate) -> str | None:
    """The base64url KeyIdentifier of ``certificate``'s AuthorityKeyIdentifier extension
    (RFC 5280 §4.2.1.1), or ``None`` without the extension or without a keyIdentifier."""
    return _key_identifier(certificate)


def authority_key_identifiers(chain: Iterable[x509.Certificate]) -> frozenset[str]:
    """The ``aki`` identifiers a credential carrying ``chain`` matches (OpenID4VP 1.0
    §6.1.1): the base64url AuthorityKeyIdentifier KeyIdentifiers of its certificates.

    The chain may be a single certificate; certificates without the extension or without a
    keyIdentifier contribute nothing.
    """
    found = (_key_identifier(certificate) for certificate in chain)
    return frozenset(value for value in found if value is not None)
