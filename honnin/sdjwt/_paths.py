"""Claim paths: where a claim sits in a JSON claims set.

A path is a tuple of object member names (``str``) and array indices (``int``); ``None``
stands for every element of an array, as in OpenID4VP 1.0 §7 claims path pointers. Users
write paths as JSON pointers (RFC 6901), e.g. ``/address/locality`` or ``/nationalities/0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

#: One step of a claim path: a member name, an array index, or ``None`` for all elements.
PathSegment: TypeAlias = str | int | None
#: A claim path, e.g. ``("address", "locality")`` or ``("nationalities", 0)``.
ClaimPath: TypeAlias = tuple[PathSegment, ...]


def parse_claim_path(pointer: str) -> ClaimPath:
    """Parse a JSON pointer (RFC 6901) into a claim path.

    Segments made only of ASCII digits (without a leading zero) become array indices;
    ``~1`` and ``~0`` unescape to ``/`` and ``~`` (RFC 6901 §4).

    >>> parse_claim_path("/address/locality")
    ('address', 'locality')
    >>> parse_claim_path("/nationalities/0")
    ('nationalities', 0)

    Raises:
        ValueError: not a JSON pointer to a claim (empty, no leading ``/``, bad escape).
    """
    if not pointer.startswith("/"):
        raise ValueError(f"a claim path is a JSON pointer starting with '/': {pointer!r}")
    out: list[PathSegment] = []
    for raw in pointer[1:].split("/"):
        if "~" in raw and any(
            raw[i + 1 : i + 2] not in ("0", "1") for i, c in enumerate(raw) if c == "~"
        ):
            raise ValueError(f"bad '~' escape in JSON pointer {pointer!r} (RFC 6901 §3)")
        segment = raw.replace("~1", "/").replace("~0", "~")
        if segment.isascii() and segment.isdigit() and (segment == "0" or segment[0] != "0"):
            out.append(int(segment))
        else:
            out.append(segment)
    return tuple(out)


def format_claim_path(path: Iterable[PathSegment]) -> str:
    """The JSON pointer of ``path`` (``None`` is written as ``*``, for display only)."""
    parts = []
    for segment in path:
        if segment is None:
            parts.append("*")
        elif isinstance(segment, int):
            parts.append(str(segment))
        else:
            parts.append(segment.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def as_claim_path(path: ClaimPath | str) -> ClaimPath:
    """``path`` itself, or the claim path of a JSON pointer string."""
    if isinstance(path, str):
        return parse_claim_path(path)
    if type(path) is not tuple:
        raise TypeError(f"a claim path is a tuple or a JSON pointer string: {path!r}")
    for segment in path:
        if segment is not None and type(segment) is not str and type(segment) is not int:
            raise TypeError(
                f"a claim path holds str, int or None, not {type(segment).__name__}: {path!r}"
            )
    return path
