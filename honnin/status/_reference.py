"""The Referenced Token side (draft-ietf-oauth-status-list-20 §6): the ``status`` claim.

The same structure appears as JSON in an SD-JWT VC (§6.2), as CBOR under claim 65535 in a
CWT (§6.3) and in the mdoc MSO ``status`` (ISO/IEC 18013-5 ed. 2; HAIP §5.3.1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from honnin.errors import InvalidClaim

from ._constants import MAX_INDEX, STATUS_LIST_MEMBER

__all__ = ["StatusReference", "parse_status_reference"]

#: A status list URI longer than this is not a URI a Status Provider would publish.
_MAX_URI = 2048

#: What str.isspace() calls whitespace (the same set), found in C rather than a loop.
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class StatusReference:
    """``status.status_list``: the list's ``uri`` and this token's ``idx`` in it (§6.1)."""

    uri: str
    idx: int

    def __post_init__(self) -> None:
        _check_idx(self.idx)
        _check_uri(self.uri)

    def to_claim(self) -> dict[str, Any]:
        """The ``status`` claim value that references this entry (§6.1, JSON and CBOR alike)."""
        return {STATUS_LIST_MEMBER: {"idx": self.idx, "uri": self.uri}}

    @classmethod
    def parse(cls, status: object) -> StatusReference:
        """Same as ``parse_status_reference``."""
        return parse_status_reference(status)


def parse_status_reference(status: object) -> StatusReference:
    """Read the ``status`` claim of a Referenced Token (§6.1): ``{"status_list": {idx, uri}}``.

    Works on decoded JSON (SD-JWT VC ``status``) and decoded CBOR (CWT claim 65535, mdoc MSO
    ``status``) alike. Other status mechanisms in the same claim are ignored (§6.1 allows
    several); this one must be present.

    Raises:
        InvalidClaim: no ``status_list``, or an ``idx`` that is not a non-negative integer
            within the largest list honnin reads (negative, float, bool, huge), or a ``uri``
            that is not an absolute URI.

    >>> parse_status_reference({"status_list": {"idx": 7, "uri": "https://x.example/1"}}).idx
    7
    """
    if not isinstance(status, Mapping):
        raise InvalidClaim("'status' must be an object/map (draft §6.1)", claim="status")
    ref = status.get(STATUS_LIST_MEMBER)
    if ref is None:
        raise InvalidClaim("'status' has no 'status_list' member (draft §6.1)", claim="status")
    if not isinstance(ref, Mapping):
        raise InvalidClaim(
            "'status.status_list' must be an object/map (draft §6.2)", claim="status.status_list"
        )
    if "idx" not in ref or "uri" not in ref:
        raise InvalidClaim(
            "'status.status_list' needs 'idx' and 'uri' (draft §6.2)", claim="status.status_list"
        )
    return StatusReference(uri=ref["uri"], idx=ref["idx"])


def _check_idx(idx: object) -> None:
    # §6.2: idx is a non-negative integer. bool is an int subclass in Python: refuse it.
    if type(idx) is not int or idx < 0:
        raise InvalidClaim(
            f"'status_list.idx' must be a non-negative integer, not {idx!r} (draft §6.2)",
            claim="status.status_list.idx",
        )
    if idx > MAX_INDEX:
        raise InvalidClaim(
            f"'status_list.idx' {idx} is beyond any list honnin reads (max {MAX_INDEX})",
            claim="status.status_list.idx",
        )


def _check_uri(uri: object) -> None:
    # §6.2: uri identifies the Status List Token; it is later compared with its `sub`.
    if not isinstance(uri, str) or not uri or len(uri) > _MAX_URI:
        raise InvalidClaim(
            "'status_list.uri' must be a non-empty string (draft §6.2)",
            claim="status.status_list.uri",
        )
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise InvalidClaim(
            "'status_list.uri' is not a URI", claim="status.status_list.uri"
        ) from exc
    if not parts.scheme or not parts.netloc or _WHITESPACE.search(uri) is not None:
        raise InvalidClaim(
            "'status_list.uri' must be an absolute URI with a host (draft §6.2)",
            claim="status.status_list.uri",
        )
