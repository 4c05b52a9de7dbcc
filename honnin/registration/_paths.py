"""Claim paths in registrations: parsing, coverage and type names.

A registration entitles claims by claims path (OpenID4VP 1.0 §7: member names, indices and
``null`` for every array element). Types are compared through the catalogue, so a
registration written with a ``vct`` also covers a request naming the catalogue id or the
mdoc docType of the same type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from honnin.credential_types import Catalogue, ClaimPath, CredentialType
from honnin.errors import InvalidClaim

from ._constants import MAX_PATH_LENGTH

__all__ = [
    "covers",
    "json_paths",
    "mdoc_elements",
    "overlaps",
    "parse_path",
    "same_claim",
    "type_key",
]


def parse_path(value: Any, where: str) -> ClaimPath:
    """A claims path from JSON: a non-empty array of strings, non-negative integers and null.

    Raises:
        InvalidClaim: anything else (``claim`` names where it was found).
    """
    if (
        not isinstance(value, list | tuple)
        or not 0 < len(value) <= MAX_PATH_LENGTH
        or not all(
            p is None or (isinstance(p, str) and p) or (type(p) is int and p >= 0) for p in value
        )
    ):
        raise InvalidClaim(
            f"{where}: a claims path is 1..{MAX_PATH_LENGTH} names, indices or null"
            " (OpenID4VP 1.0 §7)",
            claim=where,
        )
    return tuple(value)


def _step_covers(want: str | int | None, got: str | int | None) -> bool:
    # OpenID4VP 1.0 §7.1: null selects every element of an array, so it covers any index
    # and itself; an index covers only that index.
    if want is None:
        return got is None or type(got) is int
    return type(want) is type(got) and want == got


def covers(registered: ClaimPath, requested: ClaimPath) -> bool:
    """Whether an entitlement to ``registered`` includes a request for ``requested``: the
    registered path is a prefix of the requested one (an object includes its members)."""
    if len(registered) > len(requested):
        return False
    return all(_step_covers(w, g) for w, g in zip(registered, requested, strict=False))


def overlaps(requested: ClaimPath, restricted: ClaimPath) -> bool:
    """Whether answering ``requested`` would release ``restricted``: one contains the other
    (a request for a parent object releases its members)."""
    shorter, longer = (
        (requested, restricted) if len(requested) <= len(restricted) else (restricted, requested)
    )
    return all(
        _step_covers(a, b) or _step_covers(b, a) for a, b in zip(shorter, longer, strict=False)
    )


def same_claim(registered: ClaimPath, restricted: ClaimPath) -> bool:
    """Whether a registration names ``restricted`` itself (not merely a parent of it): the
    My Number rule needs an explicit registration for the claim (spec/PROFILE.md §8)."""
    return len(registered) == len(restricted) and all(
        _step_covers(a, b) or _step_covers(b, a)
        for a, b in zip(registered, restricted, strict=True)
    )


def type_key(name: str, catalogue: Catalogue) -> str:
    """The catalogue id of a type named by id, ``vct`` or docType; other names unchanged."""
    found = catalogue.find(name)
    return found.id if found is not None else name


def mdoc_elements(ctype: CredentialType, path: ClaimPath) -> list[tuple[str, str]]:
    """The mdoc data elements that express exactly ``path`` or its members. A path below an
    element (a member of an array element) has no exact mdoc form and gives nothing, so an
    mdoc entitlement is never broader than the JSON one it came from."""
    out = []
    for namespace, identifier in ctype.mdoc_elements_for(path):
        element_path = ctype.mdoc.path_for(namespace, identifier)
        if element_path is not None and covers(path, element_path):
            out.append((namespace, identifier))
    return out


def json_paths(
    ctype: CredentialType | None, mdoc_paths: Iterable[Sequence[Any]], where: str
) -> list[ClaimPath]:
    """mdoc claims paths ``[namespace, element]`` (OpenID4VP 1.0 §7.2) as JSON claim paths
    of the catalogue type; for a type outside the catalogue they are kept as they are."""
    out = []
    for index, raw in enumerate(mdoc_paths):
        path = parse_path(raw, f"{where}[{index}].path")
        if ctype is None:
            out.append(path)
            continue
        if len(path) != 2 or not isinstance(path[0], str) or not isinstance(path[1], str):
            raise InvalidClaim(
                f"{where}[{index}].path: an mdoc claims path is [namespace, element]"
                " (OpenID4VP 1.0 §7.2)",
                claim=f"{where}[{index}].path",
            )
        mapped = ctype.mdoc.path_for(path[0], path[1])
        # An element the catalogue does not map entitles nothing a wallet could release.
        if mapped is not None:
            out.append(mapped)
    return out
