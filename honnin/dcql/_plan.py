"""DCQL queries compiled once for the verifier's check (OpenID4VP 1.0 §6.4, §7, §8.6).

A verifier checks every presentation of a procedure against the same few queries. A
``QueryPlan`` holds what the check needs of a query as plain tuples, sets and selector
functions, so checking a presentation costs dictionary look-ups, not walks over pydantic
models. Plans are cached by query object (bounded; the query is kept alive in the cache so
its identity cannot be reused by another object while the entry lives).

The selectors are exact specialisations of ``claim_values`` (§7.1.1, §7.2.1, §6.3
``values``) for the common pointer shapes; any other pointer uses ``claim_values`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._constants import CredentialFormat
from ._match import claim_values, trusted_aki
from ._models import ClaimsPath, ClaimsQuery, CredentialQuery, DcqlQuery, TrustedAuthoritiesQuery

#: (SD-JWT VC claims, mdoc namespaces) -> the selected values, or None when absent.
Selector = Callable[[Mapping[str, Any] | None, Mapping[str, Mapping[str, Any]] | None], Any]

_MAX_PLANS: Final = 256
_PLANS: dict[int, tuple[DcqlQuery, QueryPlan]] = {}


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """One Claims Query: its pointer and the function that selects its values."""

    claim: ClaimsQuery
    path: ClaimsPath
    select: Selector


@dataclass(frozen=True, slots=True)
class CredentialPlan:
    """One Credential Query, compiled.

    ``prefixes`` / ``requested_set`` decide "is this disclosed path inside the query" by
    set look-ups when every requested pointer is made of plain strings (``None`` otherwise:
    the general ``_covers`` walk applies). ``trusted_authorities`` is the query's Trusted
    Authorities Queries (§6.1.1), ``None`` when it has none; ``trusted_aki`` their raw
    ``aki`` KeyIdentifiers (the only type honnin supports; see ``trusted_aki``).
    """

    query: CredentialQuery
    id: str
    format: str
    multiple: bool
    holder_binding: bool
    type_values: frozenset[str]
    doctype: str | None
    claims: tuple[ClaimPlan, ...] | None
    claim_sets: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] | None
    requested: tuple[ClaimsPath, ...]
    prefixes: frozenset[ClaimsPath] | None
    requested_set: frozenset[ClaimsPath]
    trusted_authorities: tuple[TrustedAuthoritiesQuery, ...] | None = None
    trusted_aki: frozenset[bytes] | None = None


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A DCQL query compiled for ``check_presented``.

    ``required_sets`` holds, per required Credential Set Query (§6.2), its options as sets
    of Credential Query ids and its first option (named when none is answered); ``None``
    when the query has no ``credential_sets`` (then every Credential Query is required).
    """

    query: DcqlQuery
    credentials: Mapping[str, CredentialPlan]
    required_sets: tuple[tuple[tuple[frozenset[str], ...], tuple[str, ...]], ...] | None


def _plain_strings(path: ClaimsPath) -> bool:
    return all(type(c) is str for c in path)


def _same_json_value(a: object, b: object) -> bool:
    # §6.3: "the type and value of the claim both match exactly": True is not 1 here.
    return type(a) is type(b) and a == b


def _selector(fmt: str, claim: ClaimsQuery) -> Selector:
    path = claim.path
    if fmt == CredentialFormat.MSO_MDOC and len(path) == 2 and _plain_strings(path):
        namespace, element = str(path[0]), str(path[1])  # plain strings, checked above

        def select_mdoc(_: Any, namespaces: Mapping[str, Mapping[str, Any]] | None) -> Any:
            # §7.2.1 steps 2-3: the namespace, then the data element, must exist.
            if namespaces is None:
                return None
            elements = namespaces.get(namespace)
            if not isinstance(elements, Mapping) or element not in elements:
                return None
            return [elements[element]]

        base: Selector = select_mdoc
    elif fmt != CredentialFormat.MSO_MDOC and path and _plain_strings(path):

        def select_json(claims: Mapping[str, Any] | None, _: Any) -> Any:
            # §7.1.1 steps 1 and 2.1 with string components only: each selects one member
            # of an object; a non-object or a missing member ends in an empty selection.
            if claims is None:
                return None
            node: Any = claims
            for key in path:
                if not (type(node) is dict or isinstance(node, Mapping)) or key not in node:
                    return None
                node = node[key]
            return [node]

        base = select_json
    else:

        def select_any(
            claims: Mapping[str, Any] | None, namespaces: Mapping[str, Mapping[str, Any]] | None
        ) -> Any:
            return claim_values(fmt, claims, namespaces, claim)

        return select_any  # claim_values applies `values` itself
    values = claim.values
    if values is None:
        return base

    def select_values(
        claims: Mapping[str, Any] | None, namespaces: Mapping[str, Mapping[str, Any]] | None
    ) -> Any:
        # §6.4.1: a claim whose value matches none of `values` is treated as absent.
        found = base(claims, namespaces)
        if found is None:
            return None
        kept = [s for s in found if any(_same_json_value(s, v) for v in values)]
        return kept or None

    return select_values


def _compile_credential(query: CredentialQuery) -> CredentialPlan:
    claims = None
    claim_sets = None
    if query.claims is not None:
        claims = tuple(ClaimPlan(c, c.path, _selector(query.format, c)) for c in query.claims)
        if query.claim_sets is not None:
            index_of = {c.id: i for i, c in enumerate(query.claims)}
            claim_sets = tuple((tuple(s), tuple(index_of[i] for i in s)) for s in query.claim_sets)
    requested = tuple(c.path for c in query.claims or ())
    prefixes = None
    if all(_plain_strings(r) for r in requested):
        prefixes = frozenset(r[:k] for r in requested for k in range(len(r) + 1))
    return CredentialPlan(
        query=query,
        id=query.id,
        format=str(query.format),
        multiple=query.multiple,
        holder_binding=query.require_cryptographic_holder_binding,
        type_values=frozenset(query.meta.vct_values or ()),
        doctype=query.meta.doctype_value,
        claims=claims,
        claim_sets=claim_sets,
        requested=requested,
        prefixes=prefixes,
        requested_set=frozenset(requested),
        trusted_authorities=query.trusted_authorities,
        trusted_aki=trusted_aki(query.trusted_authorities),
    )


def plan_for(query: DcqlQuery) -> QueryPlan:
    """The compiled plan of ``query`` (cached by object identity, bounded)."""
    hit = _PLANS.get(id(query))
    if hit is not None and hit[0] is query:
        return hit[1]
    required_sets = None
    if query.credential_sets is not None:
        required_sets = tuple(
            (tuple(frozenset(option) for option in s.options), tuple(s.options[0]))
            for s in query.credential_sets
            if s.required
        )
    credentials = {q.id: _compile_credential(q) for q in query.credentials}
    plan = QueryPlan(query, credentials, required_sets)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(query)] = (query, plan)
    return plan
