"""IETF Token Status List (draft-ietf-oauth-status-list-20): lists, tokens, references, checks.

Format code (``StatusList``, the JWT and CWT Status List Tokens, ``StatusReference``) is pure;
``StatusChecker`` reaches the network only through the ``honnin.ports.Fetcher`` it is given.
"""

from ._aggregation import (
    MAX_AGGREGATED_LISTS,
    build_status_list_aggregation,
    parse_status_list_aggregation,
)
from ._checker import StatusChecker, StatusResult, UnknownStatus
from ._constants import (
    CWT_STATUS,
    CWT_TYP,
    JWT_TYP,
    MEDIA_TYPE_CWT,
    MEDIA_TYPE_JWT,
    StatusValue,
    TokenForm,
)
from ._cwt import build_status_list_cwt, verify_status_list_cwt
from ._jwt import build_status_list_jwt, verify_status_list_jwt
from ._list import StatusList, ZlibStrategy
from ._reference import StatusReference, parse_status_reference
from ._token import KeyResolver, ListTokenHeader, VerifiedStatusList
from ._verify import verify_status_list_token

__all__ = [
    "CWT_STATUS",
    "CWT_TYP",
    "JWT_TYP",
    "MAX_AGGREGATED_LISTS",
    "MEDIA_TYPE_CWT",
    "MEDIA_TYPE_JWT",
    "KeyResolver",
    "ListTokenHeader",
    "StatusChecker",
    "StatusList",
    "StatusReference",
    "StatusResult",
    "StatusValue",
    "TokenForm",
    "UnknownStatus",
    "VerifiedStatusList",
    "ZlibStrategy",
    "build_status_list_aggregation",
    "build_status_list_cwt",
    "build_status_list_jwt",
    "parse_status_list_aggregation",
    "parse_status_reference",
    "verify_status_list_cwt",
    "verify_status_list_jwt",
    "verify_status_list_token",
]
