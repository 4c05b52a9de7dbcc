"""Status List Aggregation (draft-ietf-oauth-status-list-20 §9): the list of an issuer's
Status List URIs, so that a relying party can fetch every list ahead of the Referenced
Tokens that name them (offline checks, and no fetch that tells the provider which list a
presented credential is on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from honnin.encoding import json_loads
from honnin.errors import MalformedInput, TooLarge

__all__ = [
    "MAX_AGGREGATED_LISTS",
    "build_status_list_aggregation",
    "parse_status_list_aggregation",
]

#: Lists one aggregation may name here: an issuer with 2^20 entries per list needs one
#: list per million credentials, so a thousand is generous, and bounds what a relying
#: party is made to fetch.
MAX_AGGREGATED_LISTS: Final = 1000
#: An aggregation of that many URIs stays well inside this (about 100 bytes each).
MAX_AGGREGATION_BYTES: Final = 256 * 1024
_MAX_URI: Final = 2048


def build_status_list_aggregation(uris: Iterable[str]) -> dict[str, Any]:
    """The JSON Status List Aggregation (§9.3): ``{"status_lists": [uri, ...]}``."""
    return {"status_lists": list(dict.fromkeys(uris))}


def parse_status_list_aggregation(
    document: bytes | str | Mapping[str, Any], *, max_lists: int = MAX_AGGREGATED_LISTS
) -> tuple[str, ...]:
    """The Status List URIs of a JSON Status List Aggregation (§9.3), in its order, each
    once.

    Raises:
        MalformedInput: not a JSON object, ``status_lists`` missing or not an array of
            absolute http(s) URIs (each at most 2048 characters).
        TooLarge: more than ``max_lists`` URIs, or a body over 256 KiB.
    """
    if isinstance(document, bytes | str):
        data: Any = json_loads(document, max_size=MAX_AGGREGATION_BYTES)
    else:
        data = document
    if not isinstance(data, Mapping):
        raise MalformedInput("a Status List Aggregation is a JSON object (§9.3)")
    lists = data.get("status_lists")
    if not isinstance(lists, list):
        # §9.3: status_lists is REQUIRED, a JSON array of strings.
        raise MalformedInput("the Status List Aggregation has no 'status_lists' array (§9.3)")
    if len(lists) > max_lists:
        raise TooLarge(
            f"the Status List Aggregation names {len(lists)} lists, more than {max_lists}",
            limit=max_lists,
        )
    for uri in lists:
        if not isinstance(uri, str) or not 0 < len(uri) <= _MAX_URI or not _is_http_uri(uri):
            raise MalformedInput(
                "'status_lists' holds something other than an absolute http(s) URI (§9.3)"
            )
    return tuple(dict.fromkeys(lists))


def _is_http_uri(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and not parts.fragment
