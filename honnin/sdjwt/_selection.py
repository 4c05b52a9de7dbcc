"""Which disclosures a holder must release to present claims by path (RFC 9901 §4.2.6, §7.2).

A path releases the claim at that path with everything under it (OpenID4VP 1.0 §7.3:
"the claim address with its sub-claims") and the disclosures of its enclosing claims, so
that every released disclosure connects to the issuer-signed JWT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from honnin.errors import NoMatchingCredential
from honnin.limits import MAX_JSON_DEPTH

from ._paths import ClaimPath, PathSegment, as_claim_path, format_claim_path


class _Node:
    __slots__ = ("children", "index")

    def __init__(self) -> None:
        self.index = -1
        self.children: dict[PathSegment, _Node] = {}

    def collect(self, into: set[int]) -> None:
        stack = [self]
        while stack:
            node = stack.pop()
            if node.index >= 0:
                into.add(node.index)
            stack.extend(node.children.values())


def _missing(path: ClaimPath) -> NoMatchingCredential:
    pointer = format_claim_path(path)
    return NoMatchingCredential(f"no claim at {pointer} in this credential", path=pointer)


class DisclosureSelector:
    """Maps claim paths of a fully processed credential to the disclosures they release."""

    __slots__ = ("_claims", "_index", "_root")

    def __init__(self, claims: dict[str, Any], disclosure_paths: Sequence[ClaimPath]) -> None:
        self._claims = claims
        root = _Node()
        for index, path in enumerate(disclosure_paths):
            node = root
            for segment in path:
                node = node.children.setdefault(segment, _Node())
            node.index = index
        self._root = root
        # Every path that leads to a disclosure, with what it releases: one dict lookup per
        # requested claim when presenting (the index is built once per parsed credential).
        self._index: dict[ClaimPath, frozenset[int]] = {}
        self._fill(root, (), frozenset())

    def _fill(self, node: _Node, path: ClaimPath, enclosing: frozenset[int]) -> None:
        if path:
            released: set[int] = set(enclosing)
            node.collect(released)
            self._index[path] = frozenset(released)
        if node.index >= 0:
            enclosing = enclosing | {node.index}
        for segment, child in node.children.items():
            self._fill(child, (*path, segment), enclosing)

    def select(self, paths: Iterable[ClaimPath | str]) -> set[int]:
        """Indices of the disclosures that presenting ``paths`` releases.

        Raises:
            NoMatchingCredential: a path names a claim the credential does not have.
        """
        chosen: set[int] = set()
        index = self._index
        for raw in paths:
            path = as_claim_path(raw)
            if len(path) > MAX_JSON_DEPTH:
                # No claim nests deeper than the JSON limit; a request path (e.g. from a
                # verifier's DCQL query) longer than that names nothing.
                raise _missing(path[:MAX_JSON_DEPTH])
            found = index.get(path)
            if found is None:
                self._walk(self._claims, self._root, path, 0, chosen)
            else:
                chosen |= found
        return chosen

    def _walk(
        self, value: Any, node: _Node | None, path: ClaimPath, at: int, out: set[int]
    ) -> None:
        if at == len(path):
            if node is not None:
                node.collect(out)
            return
        segment = path[at]
        if isinstance(value, list) and (segment is None or type(segment) is int):
            for position in range(len(value)) if segment is None else (segment,):
                if not 0 <= position < len(value):
                    raise _missing(path)
                self._step(value[position], node, position, path, at, out)
            return
        if isinstance(value, dict) and segment is not None:
            key = str(segment)  # a JSON pointer's "18" names the member "18" of an object
            if key in value:
                self._step(value[key], node, key, path, at, out)
                return
        raise _missing(path)

    def _step(
        self,
        value: Any,
        node: _Node | None,
        key: PathSegment,
        path: ClaimPath,
        at: int,
        out: set[int],
    ) -> None:
        child = None if node is None else node.children.get(key)
        if child is not None and child.index >= 0:
            out.add(child.index)  # an enclosing disclosure must be released too (§4.2.6)
        self._walk(value, child, path, at + 1, out)
