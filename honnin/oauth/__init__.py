"""OAuth 2.0 building blocks shared by OpenID4VCI and OpenID4VP (messages only, no I/O).

- ``WireMessage``: the base of every honnin protocol message. Parsing (``parse_message``)
  ignores unknown members, as the specs require of receivers; building in code forbids
  them (``TypeError``), so a typo never reaches the wire.
- ``OAuthErrorResponse``, ``AuthorizationServerMetadata`` (RFC 6749 §5.2, RFC 8414 §2).
- ``build_dpop_proof``, ``verify_dpop_proof``: DPoP proofs (RFC 9449 §4), both ways.
- ``ClientAttestation``, ``verify_client_attestation``: attestation-based client
  authentication (the wallet attestation of OpenID4VCI App. E), both ways.
- ``require_https``, ``well_known_url``, ``is_loopback_host``: URL rules (RFC 8414 §3.1);
  ``parse_form``: strict form bodies (RFC 6749 §3.1, no repeated parameters).
"""

from ._client_attestation import (
    ATTEST_JWT_CLIENT_AUTH,
    CLIENT_ATTESTATION_HEADER,
    CLIENT_ATTESTATION_POP_HEADER,
    CLIENT_ATTESTATION_POP_TYP,
    CLIENT_ATTESTATION_TYP,
    ClientAttestation,
    VerifiedClientAttestation,
    build_client_attestation,
    build_client_attestation_pop,
    verify_client_attestation,
)
from ._dpop import (
    DPOP_MAX_AGE,
    DPOP_MAX_SKEW,
    DPOP_TYP,
    VerifiedDpopProof,
    access_token_hash,
    build_dpop_proof,
    dpop_htu,
    verify_dpop_proof,
)
from ._messages import AuthorizationServerMetadata, JsonWebKeySet, OAuthErrorResponse
from ._model import (
    HttpUrl,
    IssuerIdentifier,
    WireMessage,
    describe,
    is_parsing,
    parse_message,
    problem,
    too_large,
)
from ._urls import (
    is_loopback_host,
    parse_form,
    require_https,
    split_link,
    split_url,
    well_known_url,
)

__all__ = [
    "ATTEST_JWT_CLIENT_AUTH",
    "CLIENT_ATTESTATION_HEADER",
    "CLIENT_ATTESTATION_POP_HEADER",
    "CLIENT_ATTESTATION_POP_TYP",
    "CLIENT_ATTESTATION_TYP",
    "DPOP_MAX_AGE",
    "DPOP_MAX_SKEW",
    "DPOP_TYP",
    "AuthorizationServerMetadata",
    "ClientAttestation",
    "HttpUrl",
    "IssuerIdentifier",
    "JsonWebKeySet",
    "OAuthErrorResponse",
    "VerifiedClientAttestation",
    "VerifiedDpopProof",
    "WireMessage",
    "access_token_hash",
    "build_client_attestation",
    "build_client_attestation_pop",
    "build_dpop_proof",
    "describe",
    "dpop_htu",
    "is_loopback_host",
    "is_parsing",
    "parse_form",
    "parse_message",
    "problem",
    "require_https",
    "split_link",
    "split_url",
    "too_large",
    "verify_client_attestation",
    "verify_dpop_proof",
    "well_known_url",
]
