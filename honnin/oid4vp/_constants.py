"""OpenID4VP 1.0 constants, each with its section."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

#: §5.6: the response type honnin implements.
VP_TOKEN: Final = "vp_token"  # noqa: S105 - a response type, not a secret
#: §5: Request Objects MUST carry this ``typ`` (RFC 9101 §10.8).
REQUEST_OBJECT_TYP: Final = "oauth-authz-req+jwt"
#: §5.10: the Accept / Content-Type of a Request URI response.
REQUEST_OBJECT_MEDIA_TYPE: Final = "application/oauth-authz-req+jwt"
#: §5.8: ``aud`` of a Request Object under static discovery.
SELF_ISSUED_AUDIENCE: Final = "https://self-issued.me/v2"
#: §13.1.2: the custom scheme bound to the static wallet configuration.
OPENID4VP_SCHEME: Final = "openid4vp"
#: §5.2: nonce and state hold ASCII URL-safe characters only.
URL_SAFE: Final = re.compile(r"[A-Za-z0-9._~-]+")
MAX_NONCE_LENGTH: Final = 512
#: §6.1: Credential Query ids, the keys of a VP Token (§8.1).
QUERY_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
#: WL-15: a request object is refused beyond this size, before any JSON work.
MAX_REQUEST_OBJECT_SIZE: Final = 512 * 1024
#: VS-04 / D10: ``wallet_metadata`` in a request_uri POST.
MAX_WALLET_METADATA: Final = 64 * 1024
#: VS-31: presentations per VP Token (and per Credential Query).
MAX_PRESENTATIONS: Final = 64


class ResponseMode(StrEnum):
    """Response modes (§8.2, §8.3.1; App. A for the DC API)."""

    DIRECT_POST = "direct_post"
    DIRECT_POST_JWT = "direct_post.jwt"
    FRAGMENT = "fragment"
    DC_API = "dc_api"
    DC_API_JWT = "dc_api.jwt"


class ClientIdPrefix(StrEnum):
    """Client Identifier Prefixes (§5.9.3)."""

    REDIRECT_URI = "redirect_uri"
    X509_SAN_DNS = "x509_san_dns"
    X509_HASH = "x509_hash"
    VERIFIER_ATTESTATION = "verifier_attestation"
    DECENTRALIZED_IDENTIFIER = "decentralized_identifier"
    OPENID_FEDERATION = "openid_federation"
    ORIGIN = "origin"


class RequestUriMethod(StrEnum):
    """§5.1 ``request_uri_method`` (case-sensitive)."""

    GET = "get"
    POST = "post"


class VpErrorCode(StrEnum):
    """Authorization error codes (§8.5, RFC 6749 §4.1.2.1)."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    ACCESS_DENIED = "access_denied"
    INVALID_SCOPE = "invalid_scope"
    VP_FORMATS_NOT_SUPPORTED = "vp_formats_not_supported"
    INVALID_REQUEST_URI_METHOD = "invalid_request_uri_method"
    INVALID_TRANSACTION_DATA = "invalid_transaction_data"
    WALLET_UNAVAILABLE = "wallet_unavailable"
