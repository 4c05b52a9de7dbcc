"""Issuer and verifier trust: X.509 path validation, the trust list, and a test PKI.

* ``validate_chain`` validates a certificate chain (``x5c`` / ``x5chain``) to trust anchors
  at a given instant and returns a ``VerifiedChain`` (RFC 5280 §6, profiled for ISO/IEC
  18013-5 IACA / document signer chains and SD-JWT VC ``x5c``).
* ``TrustList`` says which anchors are trusted and which issuer may issue which credential
  type (spec/PROFILE.md "Trust model"; spec/trust-list.schema.json).
* ``authority_key_identifiers`` gives the DCQL ``aki`` identifiers of a chain
  (OpenID4VP 1.0 §6.1.1).
* ``make_test_pki`` creates a root, issuer, verifier and registrar certificates for tests and
  demos.
"""

from ._authorities import authority_key_identifier, authority_key_identifiers
from ._certificates import (
    MAX_CERTIFICATE_SIZE,
    MAX_CHAIN_CERTIFICATES,
    certificate_from_der,
    certificate_sha256,
    certificates_from_der_list,
    certificates_from_x5c,
    certificates_to_pem,
    certificates_to_x5c,
    load_certificates,
    san_dns_names,
    san_uris,
)
from ._chain import (
    DEFAULT_MAX_PATH_LENGTH,
    VerifiedChain,
    check_dns_identifier,
    check_issuer_identifier,
    validate_chain,
)
from ._pki import CertifiedKey, TestPki, make_certificate, make_test_pki, slug
from ._trust_list import (
    DEFAULT_RESTRICTED_CLAIMS,
    ClaimPath,
    IssuerEntry,
    RestrictedClaim,
    TrustedParty,
    TrustList,
)

__all__ = [
    "DEFAULT_MAX_PATH_LENGTH",
    "DEFAULT_RESTRICTED_CLAIMS",
    "MAX_CERTIFICATE_SIZE",
    "MAX_CHAIN_CERTIFICATES",
    "CertifiedKey",
    "ClaimPath",
    "IssuerEntry",
    "RestrictedClaim",
    "TestPki",
    "TrustList",
    "TrustedParty",
    "VerifiedChain",
    "authority_key_identifier",
    "authority_key_identifiers",
    "certificate_from_der",
    "certificate_sha256",
    "certificates_from_der_list",
    "certificates_from_x5c",
    "certificates_to_pem",
    "certificates_to_x5c",
    "check_dns_identifier",
    "check_issuer_identifier",
    "load_certificates",
    "make_certificate",
    "make_test_pki",
    "san_dns_names",
    "san_uris",
    "slug",
    "validate_chain",
]
