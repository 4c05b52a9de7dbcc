"""``Query``: ask for a credential type and claims, get a DCQL query (OpenID4VP 1.0 §6).

``Query.of("withholding-slip", "payment_amount", "withholding_tax")`` names a catalogue type
and its claims; the DCQL is produced in the type's preferred format (or ``format=``), with
``vct_values`` / ``doctype_value`` and claims paths from the catalogue (mdoc claims become
``[namespace, element]``, App. B.2). Queries combine: ``a & b`` asks for both credentials,
``a | b`` for either (a ``credential_sets`` option list, §6.2), ``q.optional()`` for a set the
wallet may leave out. ``Query.dcql({...})`` takes raw DCQL as is.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from honnin.credential_types import Catalogue, CredentialType
from honnin.dcql import ClaimsPath, ClaimValue, DcqlQuery, check_claims_path, parse_dcql_query
from honnin.errors import InvalidDcqlQuery
from honnin.pseudonym import pseudonym_type

from ._catalogue import FORMATS, MSO_MDOC, default_catalogue, meta, wire_paths

__all__ = ["ClaimSpec", "Query", "parse_claim_name"]

ClaimName: TypeAlias = str | tuple[str | int | None, ...]


def parse_claim_name(name: ClaimName) -> ClaimsPath:
    """A claim name as a claims path: ``"recipient.name"`` → ``("recipient", "name")``,
    digits become array indices and ``*`` selects every element (a null component, §7)."""
    if isinstance(name, tuple):
        return check_claims_path(name)
    if not isinstance(name, str) or not name:
        raise InvalidDcqlQuery(f"a claim name must be a non-empty string, got {name!r}")
    parts: list[str | int | None] = []
    for part in name.split("."):
        if part == "*":
            parts.append(None)
        elif part.isdigit() and part.isascii():
            parts.append(int(part))
        elif part:
            parts.append(part)
        else:
            raise InvalidDcqlQuery(f"claim name {name!r} has an empty component")
    return check_claims_path(tuple(parts))


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """One requested claim: its catalogue path and the values it must have, if any (§6.3)."""

    path: ClaimsPath
    values: tuple[ClaimValue, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Credential:
    info: CredentialType
    format: str
    claims: tuple[ClaimSpec, ...]
    claim_sets: tuple[tuple[int, ...], ...] | None
    query_id: str | None
    multiple: bool
    holder_binding: bool
    intent_to_retain: bool | None


@dataclass(frozen=True, slots=True)
class _Set:
    options: tuple[tuple[int, ...], ...]
    required: bool


class Query:
    """What a verifier asks for. Build with ``Query.of`` or ``Query.dcql``; combine with
    ``&`` (both), ``|`` (either) and ``.optional()``. Immutable.

    >>> q = Query.of("withholding-slip", "payment_amount", "withholding_tax")
    >>> both = Query.of("withholding-slip", "payment_amount") & Query.of("resident-record", "name")
    >>> either = Query.of("withholding-slip", "payment_amount") | Query.of(
    ...     "withholding-slip", "payment_amount", format="mso_mdoc")
    """

    __slots__ = ("_credentials", "_raw", "_sets")

    def __init__(
        self,
        credentials: tuple[_Credential, ...],
        sets: tuple[_Set, ...],
        raw: DcqlQuery | None = None,
    ) -> None:
        self._credentials = credentials
        self._sets = sets
        self._raw = raw

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        type_id: str,
        *claims: ClaimName,
        format: str | None = None,
        id: str | None = None,
        values: Mapping[ClaimName, Sequence[ClaimValue]] | None = None,
        claim_sets: Sequence[Sequence[ClaimName]] | None = None,
        multiple: bool = False,
        holder_binding: bool = True,
        intent_to_retain: bool | None = None,
        catalogue: Catalogue | None = None,
    ) -> Query:
        """A query for one credential of catalogue type ``type_id`` with ``claims``.

        ``values`` restricts claims to the listed values (§6.3); ``claim_sets`` lists
        alternative combinations of the claims (§6.4.1, first is preferred). Without claims
        only the credential's mandatory parts are asked for (§6.4.1).

        Raises:
            UnknownCredentialType: ``type_id`` is not in the catalogue.
            InvalidDcqlQuery: a claim the type does not define, a format it is not issued
                in, or ``values`` / ``claim_sets`` naming claims not asked for.
        """
        info = (catalogue or default_catalogue()).get(type_id)
        chosen = format or FORMATS[0]
        if chosen not in FORMATS:
            raise InvalidDcqlQuery(
                f"credential type {type_id!r} is not issued as {chosen!r}", format=chosen
            )
        paths = [parse_claim_name(c) for c in claims]
        for set_names in claim_sets or ():
            for name in set_names:
                path = parse_claim_name(name)
                if path not in paths:
                    paths.append(path)
        expanded = {path: wire_paths(info, path, chosen) for path in paths}
        wanted = {parse_claim_name(k): tuple(v) for k, v in (values or {}).items()}
        for path in wanted:
            if path not in paths:
                raise InvalidDcqlQuery(f"'values' given for {list(path)}, which is not requested")
            if len(expanded[path]) != 1:
                raise InvalidDcqlQuery(f"'values' cannot apply to {list(path)}: several elements")
        specs = tuple(ClaimSpec(p, wanted.get(p)) for p in dict.fromkeys(paths))
        index = {spec.path: i for i, spec in enumerate(specs)}
        sets = None
        if claim_sets is not None:
            sets = tuple(tuple(index[parse_claim_name(n)] for n in s) for s in claim_sets)
        credential = _Credential(
            info, chosen, specs, sets, id, multiple, holder_binding, intent_to_retain
        )
        return cls((credential,), (_Set(((0,),), True),))

    @classmethod
    def dcql(cls, query: Mapping[str, Any] | str | bytes | DcqlQuery) -> Query:
        """A query from raw DCQL, used as given (after validation, §6).

        Raises:
            InvalidDcqlQuery / TooLarge / MalformedJson: the DCQL is not valid.
        """
        parsed = query if isinstance(query, DcqlQuery) else parse_dcql_query(query)
        return cls((), (), parsed)

    @classmethod
    def pseudonym(cls, *, id: str | None = None) -> Query:
        """A query for the wallet's pairwise pseudonym for this verifier (spec/PROFILE.md
        "Pairwise pseudonyms"): the self-issued pseudonym type, ``dc+sd-jwt``, no claims.
        The result carries it as ``result.pseudonym``. Combine it with ``&``.

        >>> query = Query.of("withholding-slip", "payment_amount") & Query.pseudonym()
        """
        credential = _Credential(pseudonym_type(), FORMATS[0], (), None, id, False, True, None)
        return cls((credential,), (_Set(((0,),), True),))

    @classmethod
    def all(cls, *queries: Query) -> Query:
        """Every one of ``queries`` is required."""
        if not queries:
            raise ValueError("Query.all needs at least one query")
        combined = queries[0]
        for q in queries[1:]:
            combined = combined & q
        return combined

    @classmethod
    def any(cls, *queries: Query) -> Query:
        """Any one of ``queries`` answers (a credential set with one option each, §6.2)."""
        if not queries:
            raise ValueError("Query.any needs at least one query")
        combined = queries[0]
        for q in queries[1:]:
            combined = combined | q
        return combined

    def __and__(self, other: Query) -> Query:
        self._composable(other)
        shift = len(self._credentials)
        moved = tuple(
            _Set(tuple(tuple(i + shift for i in o) for o in s.options), s.required)
            for s in other._sets
        )
        return Query(self._credentials + other._credentials, self._sets + moved)

    def __or__(self, other: Query) -> Query:
        self._composable(other)
        shift = len(self._credentials)
        options = self._options() + tuple(tuple(i + shift for i in o) for o in other._options())
        return Query(self._credentials + other._credentials, (_Set(options, True),))

    def optional(self) -> Query:
        """This query as a credential set the wallet may leave out (§6.2 ``required``)."""
        self._composable(self)
        return Query(self._credentials, (_Set(self._options(), False),))

    def _composable(self, other: Query) -> None:
        if self._raw is not None or other._raw is not None:
            raise TypeError("raw DCQL queries (Query.dcql) cannot be combined")

    def _options(self) -> tuple[tuple[int, ...], ...]:
        # A conjunction of required sets as one list of alternatives (the cartesian product).
        if any(not s.required for s in self._sets):
            raise TypeError("a query with optional parts cannot become an alternative")
        product = itertools.product(*(s.options for s in self._sets))
        return tuple(
            tuple(dict.fromkeys(i for option in combo for i in option)) for combo in product
        )

    # -- output ------------------------------------------------------------------------------

    @property
    def credential_types(self) -> tuple[str, ...]:
        """The catalogue type ids asked for (empty for raw DCQL)."""
        return tuple(dict.fromkeys(c.info.id for c in self._credentials))

    def to_dcql(self, *, purpose: str | None = None) -> DcqlQuery:
        """The DCQL query. ``purpose`` is attached to every credential set as ``purpose``
        (kept by DCQL parsers as information; the honnin profile's place for it).

        Raises:
            InvalidDcqlQuery: the resulting query breaks OpenID4VP §6 (e.g. duplicate ids).
        """
        if self._raw is not None:
            return self._raw if purpose is None else _with_purpose(self._raw, purpose)
        ids = self._ids()
        credentials = [_credential_json(c, ids[i]) for i, c in enumerate(self._credentials)]
        document: dict[str, Any] = {"credentials": credentials}
        plain = all(s.required and len(s.options) == 1 for s in self._sets)
        if not plain or purpose is not None:
            sets = []
            for s in self._sets:
                entry: dict[str, Any] = {
                    "options": [[ids[i] for i in o] for o in s.options],
                    "required": s.required,
                }
                if purpose is not None:
                    entry["purpose"] = purpose
                sets.append(entry)
            document["credential_sets"] = sets
        return parse_dcql_query(document)

    def _ids(self) -> list[str]:
        taken = {c.query_id for c in self._credentials if c.query_id is not None}
        if len(taken) != sum(1 for c in self._credentials if c.query_id is not None):
            raise InvalidDcqlQuery("two credential queries were given the same id")
        ids: list[str] = []
        for c in self._credentials:
            if c.query_id is not None:
                ids.append(c.query_id)
                continue
            base = c.info.id if c.format == FORMATS[0] else f"{c.info.id}-mdoc"
            base = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in base)
            candidate, n = base, 2
            while candidate in taken:
                candidate, n = f"{base}-{n}", n + 1
            taken.add(candidate)
            ids.append(candidate)
        return ids

    def with_id(self, query_id: str) -> Query:
        """This single-credential query with the Credential Query id ``query_id``."""
        if self._raw is not None or len(self._credentials) != 1:
            raise TypeError("with_id applies to a single Query.of(...)")
        return Query((replace(self._credentials[0], query_id=query_id),), self._sets)

    def __repr__(self) -> str:
        if self._raw is not None:
            return f"Query.dcql({len(self._raw.credentials)} credential queries)"
        return f"Query({', '.join(c.info.id for c in self._credentials)})"


def _credential_json(c: _Credential, query_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": query_id, "format": c.format, "meta": meta(c.info, c.format)}
    if c.multiple:
        out["multiple"] = True
    if not c.holder_binding:
        out["require_cryptographic_holder_binding"] = False
    ids: list[list[str]] = []
    if c.claims:
        claims = []
        for n, spec in enumerate(c.claims):
            paths = wire_paths(c.info, spec.path, c.format)
            ids.append([f"c{n}" if len(paths) == 1 else f"c{n}_{k}" for k in range(len(paths))])
            for claim_id, path in zip(ids[-1], paths, strict=True):
                item: dict[str, Any] = {"path": list(path)}
                if c.claim_sets is not None:
                    item["id"] = claim_id
                if spec.values is not None:
                    item["values"] = list(spec.values)
                if c.intent_to_retain is not None and c.format == MSO_MDOC:
                    item["intent_to_retain"] = c.intent_to_retain
                claims.append(item)
        out["claims"] = claims
    if c.claim_sets is not None:
        out["claim_sets"] = [[i for n in s for i in ids[n]] for s in c.claim_sets]
    return out


def _with_purpose(query: DcqlQuery, purpose: str) -> DcqlQuery:
    document = query.to_json()
    for entry in document.get("credential_sets", ()):
        entry.setdefault("purpose", purpose)
    return parse_dcql_query(document)
