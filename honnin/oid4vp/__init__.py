"""OpenID for Verifiable Presentations 1.0: messages and pure steps (no I/O).

- ``AuthorizationRequest`` (§5) with ``ClientMetadata`` and ``VerifierInfo``; the DCQL query
  is a ``honnin.dcql.DcqlQuery``.
- Client Identifier Prefixes (§5.9): ``parse_client_id``, ``x509_hash`` and the
  certificate binding of ``x509_san_dns`` / ``x509_hash``.
- Request Objects (§5, RFC 9101): ``build_request_object``,
  ``parse_unverified_request_object``, ``verify_request_object_signature``.
- The ``openid4vp://`` invocation link codec (§5.7, §13.1.2).
- ``AuthorizationResponse`` / ``VpErrorResponse`` (§8.1, §8.5) with their ``direct_post``
  forms, ``select_response_encryption`` for ``direct_post.jwt`` (§8.3), and the
  ``request_uri`` POST form (§5.10).
- Transaction data (§5.1, §8.4, App. B.3.3): ``TransactionData``,
  ``encode_transaction_data``, ``parse_transaction_data``, ``transaction_data_hash``.

Encryption itself lives in ``honnin.jose.jwe``.
"""

from ._client_id import (
    ClientId,
    check_client_id_certificate,
    check_uri_host,
    parse_client_id,
    x509_hash,
    x509_hash_client_id,
    x509_san_dns_client_id,
)
from ._constants import (
    OPENID4VP_SCHEME,
    REQUEST_OBJECT_MEDIA_TYPE,
    REQUEST_OBJECT_TYP,
    SELF_ISSUED_AUDIENCE,
    VP_TOKEN,
    ClientIdPrefix,
    RequestUriMethod,
    ResponseMode,
    VpErrorCode,
)
from ._request import (
    AuthorizationRequest,
    ClientMetadata,
    VerifierInfo,
    parse_authorization_request,
)
from ._request_object import (
    SignedRequestObject,
    UnverifiedRequestObject,
    build_request_object,
    parse_unverified_request_object,
    verify_request_object_signature,
)
from ._response import (
    AuthorizationResponse,
    DirectPostResult,
    RequestUriPost,
    VpErrorResponse,
    parse_authorization_response,
    parse_request_uri_post,
    select_response_encryption,
)
from ._transaction_data import (
    DEFAULT_TRANSACTION_DATA_HASH,
    TRANSACTION_DATA_HASH_ALGORITHMS,
    TransactionData,
    check_transaction_data_targets,
    common_hash_algorithm,
    encode_transaction_data,
    invalid_transaction_data,
    parse_transaction_data,
    transaction_data_hash,
)
from ._uri import (
    AuthorizationRequestLink,
    build_authorization_request_uri,
    parse_authorization_request_uri,
)

__all__ = [
    "DEFAULT_TRANSACTION_DATA_HASH",
    "OPENID4VP_SCHEME",
    "REQUEST_OBJECT_MEDIA_TYPE",
    "REQUEST_OBJECT_TYP",
    "SELF_ISSUED_AUDIENCE",
    "TRANSACTION_DATA_HASH_ALGORITHMS",
    "VP_TOKEN",
    "AuthorizationRequest",
    "AuthorizationRequestLink",
    "AuthorizationResponse",
    "ClientId",
    "ClientIdPrefix",
    "ClientMetadata",
    "DirectPostResult",
    "RequestUriMethod",
    "RequestUriPost",
    "ResponseMode",
    "SignedRequestObject",
    "TransactionData",
    "UnverifiedRequestObject",
    "VerifierInfo",
    "VpErrorCode",
    "VpErrorResponse",
    "build_authorization_request_uri",
    "build_request_object",
    "check_client_id_certificate",
    "check_transaction_data_targets",
    "check_uri_host",
    "common_hash_algorithm",
    "encode_transaction_data",
    "invalid_transaction_data",
    "parse_authorization_request",
    "parse_authorization_request_uri",
    "parse_authorization_response",
    "parse_client_id",
    "parse_request_uri_post",
    "parse_transaction_data",
    "parse_unverified_request_object",
    "select_response_encryption",
    "transaction_data_hash",
    "verify_request_object_signature",
    "x509_hash",
    "x509_hash_client_id",
    "x509_san_dns_client_id",
]
