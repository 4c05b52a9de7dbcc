"""The mdoc mapping of a credential type (ISO/IEC 18013-5 §8.3.2.1.2.2 / 23220-2 data model;
spec/PROFILE.md "mdoc mapping").

Each mapping entry puts the JSON claim at ``path`` into one data element
``(namespace, identifier)``. Top-level claims map to elements of the same name; members of
"flattened" objects map to ``<object>_<member>``; arrays and other objects map whole, as CBOR
arrays and maps. Values keep their JSON type, except strings whose schema ``format`` is
``date``, which become CBOR full-date (tag 1004, RFC 8943; ISO/IEC 18013-5 §7.2.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from honnin.errors import MalformedInput, SchemaViolation

from ._paths import ClaimPath, pattern_of, render

__all__ = ["MdocElement", "MdocMapping"]

MdocElement = tuple[str, str]  # (namespace, element identifier)


def _date_patterns(schema: Mapping[str, Any]) -> frozenset[ClaimPath]:
    out: set[ClaimPath] = set()
    stack: list[tuple[ClaimPath, Mapping[str, Any]]] = [((), schema)]
    while stack:
        prefix, node = stack.pop()
        if node.get("format") == "date":
            out.add(prefix)
        for name, sub in node.get("properties", {}).items():
            stack.append(((*prefix, name), sub))
        if isinstance(node.get("items"), Mapping):
            stack.append(((*prefix, None), node["items"]))
    return frozenset(out)


class MdocMapping:
    """docType, namespaces and the claim path <-> data element table of one type."""

    __slots__ = (
        "_by_element",
        "_by_path",
        "_dates",
        "_flattened",
        "_with_dates",
        "doctype",
        "namespaces",
    )

    def __init__(self, document: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> None:
        doctype, namespaces, elements = (
            document.get("docType"),
            document.get("namespaces"),
            document.get("elements"),
        )
        if not isinstance(doctype, str) or not isinstance(namespaces, list) or not namespaces:
            raise MalformedInput(f"{where}: docType and namespaces are required")
        if not isinstance(elements, list) or not elements:
            raise MalformedInput(f"{where}: elements must be a non-empty array")
        self.doctype: str = doctype
        self.namespaces: tuple[str, ...] = tuple(str(n) for n in namespaces)
        self._by_path: dict[ClaimPath, MdocElement] = {}
        self._by_element: dict[MdocElement, ClaimPath] = {}
        for item in elements:
            if not isinstance(item, Mapping):
                raise MalformedInput(f"{where}: an element entry is not an object")
            ns, ident, path = item.get("namespace"), item.get("identifier"), item.get("path")
            if ns not in self.namespaces or not isinstance(ident, str):
                raise MalformedInput(f"{where}: element {ident!r} has an unknown namespace")
            if not isinstance(path, list) or not 1 <= len(path) <= 2:
                raise MalformedInput(f"{where}: element {ident!r} needs a path of 1 or 2 names")
            if not all(isinstance(p, str) for p in path):
                raise MalformedInput(f"{where}: element {ident!r} path must be member names")
            key = tuple(path)
            if key in self._by_path or (ns, ident) in self._by_element:
                raise MalformedInput(f"{where}: element {ident!r} mapped twice")
            self._by_path[key] = (ns, ident)
            self._by_element[(ns, ident)] = key
        # Objects whose members are separate elements.
        self._flattened = frozenset(p[0] for p in self._by_path if len(p) == 2)
        if any((name,) in self._by_path for name in self._flattened):
            raise MalformedInput(f"{where}: an object is mapped both whole and by member")
        self._dates = _date_patterns(schema)
        # Elements holding a date somewhere: only these need a converting walk.
        self._with_dates = frozenset(
            p for p in self._by_path if any(d[: len(p)] == p for d in self._dates)
        )

    # -- lookups ----------------------------------------------------------------------------

    def element_for(self, path: Sequence[str | int | None]) -> MdocElement | None:
        """The data element that holds the claim at ``path`` (the element itself, or the
        whole-object / array element that contains it); None when the path is not mapped."""
        for length in (1, 2):
            element = self._by_path.get(tuple(path[:length]))
            if element is not None:
                return element
        return None

    def elements_for(self, path: Sequence[str | int | None]) -> list[MdocElement]:
        """Every element needed to answer a request for ``path``: one element, or all member
        elements of a flattened object."""
        element = self.element_for(path)
        if element is not None:
            return [element]
        if len(path) == 1 and path[0] in self._flattened:
            return [e for p, e in self._by_path.items() if p[0] == path[0]]
        return []

    def path_for(self, namespace: str, identifier: str) -> ClaimPath | None:
        """The claim path of a data element, or None."""
        return self._by_element.get((namespace, identifier))

    @property
    def elements(self) -> tuple[tuple[MdocElement, ClaimPath], ...]:
        """Every ``((namespace, identifier), path)`` in mapping order."""
        return tuple((e, p) for p, e in self._by_path.items())

    # -- conversion -------------------------------------------------------------------------

    def _to_cbor(self, value: Any, path: ClaimPath, type_id: str) -> Any:
        if isinstance(value, dict):
            return {k: self._to_cbor(v, (*path, k), type_id) for k, v in value.items()}
        if isinstance(value, list):
            return [self._to_cbor(v, (*path, i), type_id) for i, v in enumerate(value)]
        if isinstance(value, str) and pattern_of(path) in self._dates:
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise SchemaViolation(
                    f"{type_id}: {render(path)} is not a full-date",
                    credential_type=type_id,
                    path=list(path),
                    rule="format",
                ) from exc
        return value

    def to_mdoc(self, claims: Mapping[str, Any], type_id: str) -> dict[str, dict[str, Any]]:
        """Claims -> ``{namespace: {identifier: value}}``; every claim must be mapped.

        Values without dates are shared with ``claims``, not copied."""
        out: dict[str, dict[str, Any]] = {}
        for name, value in claims.items():
            items: list[tuple[ClaimPath, Any]]
            if name in self._flattened and isinstance(value, dict):
                items = [((name, member), v) for member, v in value.items()]
            else:
                items = [((name,), value)]
            for path, item in items:
                element = self._by_path.get(path)
                if element is None:
                    raise SchemaViolation(
                        f"{type_id}: claim {render(path)} has no mdoc data element",
                        credential_type=type_id,
                        path=list(path),
                        rule="mdoc_mapping",
                    )
                if path in self._with_dates:
                    item = self._to_cbor(item, path, type_id)
                out.setdefault(element[0], {})[element[1]] = item
        return out

    def from_mdoc(
        self, namespaces: Mapping[str, Mapping[str, Any]], type_id: str
    ) -> dict[str, Any]:
        """``{namespace: {identifier: value}}`` -> claims (full-dates back to ISO strings)."""
        claims: dict[str, Any] = {}
        for ns, elements in namespaces.items():
            if not isinstance(elements, Mapping):
                raise SchemaViolation(
                    f"{type_id}: namespace {ns!r} is not a map of elements",
                    credential_type=type_id,
                    path=[str(ns)],
                    rule="mdoc_mapping",
                )
            for ident, value in elements.items():
                path = self._by_element.get((ns, ident)) if isinstance(ident, str) else None
                if path is None:
                    raise SchemaViolation(
                        f"{type_id}: unknown data element {ident!r} in namespace {ns!r}",
                        credential_type=type_id,
                        path=[str(ns), str(ident)],
                        rule="mdoc_mapping",
                    )
                json_value = _to_json(value, path, type_id)
                top = str(path[0])
                if len(path) == 1:
                    claims[top] = json_value
                else:
                    claims.setdefault(top, {})[str(path[1])] = json_value
        return claims


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _to_json(value: Any, path: ClaimPath, type_id: str) -> Any:
    if type(value) in _JSON_SCALARS:
        return value
    if type(value) is dt.date:  # full-date; a datetime (tdate) is not one
        return value.isoformat()
    if isinstance(value, list):
        return [_to_json(v, (*path, i), type_id) for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, (*path, k), type_id) for k, v in value.items()}
    raise SchemaViolation(
        f"{type_id}: {render(path)} holds a CBOR value with no JSON form ({type(value).__name__})",
        credential_type=type_id,
        path=list(path),
        rule="type",
    )
