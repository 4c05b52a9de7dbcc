"""Wallet-side DCQL matching (OpenID4VP 1.0 §6.1, §6.3, §6.4).

Given a query and the credentials a wallet holds, work out which credentials can answer each
Credential Query, with which claims, and whether the query as a whole can be answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from honnin.encoding import b64url_decode
from honnin.errors import ClaimsPathError, MalformedBase64url, NoMatchingCredential

from ._constants import CredentialFormat, TrustedAuthorityType
from ._models import (
    ClaimsPath,
    ClaimsQuery,
    CredentialQuery,
    CredentialSetQuery,
    DcqlQuery,
    TrustedAuthoritiesQuery,
)
from ._paths import select_claims, select_mdoc_claim

_AKI: Final = TrustedAuthorityType.AKI.value


@dataclass(frozen=True, slots=True)
class CandidateCredential:
    """A credential the wallet holds, as DCQL matching sees it.

    Attributes:
        id: the wallet's handle for the credential (opaque to DCQL).
        format: a Credential Format Identifier (``dc+sd-jwt`` or ``mso_mdoc``).
        vct: the SD-JWT VC type; ``vct_extends`` the types it inherits from (resolved by
            the caller from type metadata; App. B.3.5 allows matching those).
        doctype: the mdoc docType.
        claims: SD-JWT VC: the full claim set the holder could disclose (every disclosure
            applied), as JSON.
        namespaces: mdoc: namespace → data element → value, converted to JSON
            (RFC 8949 §6.1, as §6.3 requires for value matching).
        authorities: trusted-authority type → identifiers the credential's issuer matches
            (§6.1.1 ``aki``: base64url KeyIdentifiers of the AuthorityKeyIdentifiers in its
            chain, ``honnin.trust.authority_key_identifiers``). Only ``aki`` is supported:
            a query of type ``etsi_tl`` or ``openid_federation`` matches no credential.
        holder_binding: the credential is bound to a holder key (``cnf`` / device key).
    """

    id: str
    format: str
    vct: str | None = None
    doctype: str | None = None
    claims: Mapping[str, Any] | None = None
    namespaces: Mapping[str, Mapping[str, Any]] | None = None
    vct_extends: tuple[str, ...] = ()
    authorities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    holder_binding: bool = True

    def __repr__(self) -> str:  # claim values stay out of logs
        return f"CandidateCredential(id={self.id!r}, format={self.format!r})"


@dataclass(frozen=True, slots=True)
class CandidateMatch:
    """A candidate that answers a Credential Query, and the claims it would disclose.

    ``claim_set`` is the chosen option of ``claim_sets`` (claim ids), or ``None`` when the
    query has none; ``claims`` are the Claims Queries to disclose (empty: only the
    mandatory parts, §6.4.1).
    """

    candidate: CandidateCredential
    claims: tuple[ClaimsQuery, ...]
    claim_set: tuple[str, ...] | None = None

    @property
    def paths(self) -> tuple[ClaimsPath, ...]:
        """The claims paths to disclose, each once (§6.1: duplicates are ignored)."""
        return tuple(dict.fromkeys(c.path for c in self.claims))


@dataclass(frozen=True, slots=True)
class CredentialQueryMatch:
    """The candidates that answer one Credential Query, in the wallet's order."""

    query: CredentialQuery
    candidates: tuple[CandidateMatch, ...]

    @property
    def satisfiable(self) -> bool:
        return bool(self.candidates)


@dataclass(frozen=True, slots=True)
class CredentialSetMatch:
    """How far one Credential Set Query (§6.2) can be answered."""

    index: int
    query: CredentialSetQuery
    satisfiable_options: tuple[tuple[str, ...], ...]

    @property
    def required(self) -> bool:
        return self.query.required

    @property
    def satisfiable(self) -> bool:
        return bool(self.satisfiable_options)


@dataclass(frozen=True, slots=True)
class DcqlMatch:
    """The outcome of matching a DCQL query against a wallet (OpenID4VP 1.0 §6.4).

    ``satisfiable`` is false when a required part cannot be answered; the wallet then MUST
    NOT return any credential (§6.4.2). ``missing`` names the Credential Query ids that
    block it.
    """

    query: DcqlQuery
    credentials: Mapping[str, CredentialQueryMatch]
    credential_sets: tuple[CredentialSetMatch, ...]
    satisfiable: bool
    missing: tuple[str, ...]

    def selection(self) -> dict[str, CandidateMatch]:
        """The default answer: the first satisfiable option of every set and each query's
        first candidate (the verifier's preference order, §6.4.1/§6.4.2).

        Raises:
            NoMatchingCredential: the query cannot be satisfied (``missing`` lists why).
        """
        if not self.satisfiable:
            raise NoMatchingCredential(
                "the wallet cannot answer every required part of the query",
                missing=list(self.missing),
            )
        if self.query.credential_sets is None:
            ids: list[str] = [q.id for q in self.query.credentials]
        else:
            ids = []
            for credential_set in self.credential_sets:
                if credential_set.satisfiable_options:
                    ids.extend(credential_set.satisfiable_options[0])
        return {i: self.credentials[i].candidates[0] for i in dict.fromkeys(ids)}


def _same_json_value(a: object, b: object) -> bool:
    # §6.3: "the type and value of the claim both match exactly": True is not 1 here.
    return type(a) is type(b) and a == b


def _meta_matches(query: CredentialQuery, candidate: CandidateCredential) -> bool:
    if query.format == CredentialFormat.SD_JWT_VC:
        wanted = set(query.meta.vct_values or ())
        # App. B.3.5: the wallet MAY return credentials that inherit from a listed type.
        return candidate.vct in wanted or any(t in wanted for t in candidate.vct_extends)
    if query.format == CredentialFormat.MSO_MDOC:
        return candidate.doctype == query.meta.doctype_value
    return False


@lru_cache(maxsize=4096)
def _raw(value: str) -> bytes | None:
    # Cached: a wallet compares the same few identifiers for each of many credentials.
    try:
        return b64url_decode(value, what="aki")
    except MalformedBase64url:
        return None


def trusted_aki(trusted: Sequence[TrustedAuthoritiesQuery] | None) -> frozenset[bytes] | None:
    """The raw KeyIdentifiers of the ``aki`` Trusted Authorities Queries in ``trusted``
    (OpenID4VP 1.0 §6.1.1), or ``None`` when the Credential Query has none.

    Only type ``aki`` is supported: ``etsi_tl`` and ``openid_federation`` (and unknown types)
    contribute nothing, so a query naming only those matches no credential; honnin resolves
    neither trust lists nor federations.
    """
    if trusted is None:
        return None
    wanted = (_raw(v) for a in trusted if a.type == _AKI for v in a.values)
    return frozenset(raw for raw in wanted if raw is not None)


def authorities_match(wanted: frozenset[bytes], authorities: Mapping[str, frozenset[str]]) -> bool:
    """Whether a credential whose issuer has ``authorities`` (type → identifiers) has one of
    the ``wanted`` raw KeyIdentifiers (``trusted_aki``). §6.1.1: the raw bytes must match,
    not the base64url text."""
    return not wanted.isdisjoint(map(_raw, authorities.get(_AKI, ())))


def claim_values(
    fmt: str,
    claims: Mapping[str, Any] | None,
    namespaces: Mapping[str, Mapping[str, Any]] | None,
    claim: ClaimsQuery,
) -> list[Any] | None:
    """The values a Claims Query selects in a credential, or ``None`` if it is not there.

    With ``values`` set, only matching elements count (§6.4.1: a mismatching claim is
    treated as if it did not exist).
    """
    try:
        if fmt == CredentialFormat.MSO_MDOC:
            if namespaces is None:
                return None
            selected = [select_mdoc_claim(namespaces, claim.path)]
        else:
            if claims is None:
                return None
            selected = select_claims(claims, claim.path)
    except ClaimsPathError:
        return None
    if claim.values is not None:
        selected = [s for s in selected if any(_same_json_value(s, v) for v in claim.values)]
        if not selected:
            return None
    return selected


def _match_candidate(
    query: CredentialQuery, c: CandidateCredential, wanted: frozenset[bytes] | None
) -> CandidateMatch | None:
    if c.format != query.format or not _meta_matches(query, c):
        return None
    if wanted is not None and not authorities_match(wanted, c.authorities):
        return None  # §6.1.1: issued under none of the trusted authorities
    if query.require_cryptographic_holder_binding and not c.holder_binding:
        # App. B.3: credentials without holder binding cannot answer such a query.
        return None
    if query.claims is None:
        return CandidateMatch(c, ())  # §6.4.1: only the mandatory parts
    cache: dict[int, bool] = {}

    def available(index: int, claim: ClaimsQuery) -> bool:
        if index not in cache:
            cache[index] = claim_values(c.format, c.claims, c.namespaces, claim) is not None
        return cache[index]

    if query.claim_sets is None:
        # §6.4.1: claims without claim_sets: every listed claim is requested.
        if all(available(i, claim) for i, claim in enumerate(query.claims)):
            return CandidateMatch(c, query.claims)
        return None
    index_of = {claim.id: i for i, claim in enumerate(query.claims)}
    for claim_set in query.claim_sets:
        # §6.4.1: the first option the wallet can satisfy, in the verifier's order.
        if all(available(index_of[i], query.claims[index_of[i]]) for i in claim_set):
            chosen = tuple(query.claims[index_of[i]] for i in dict.fromkeys(claim_set))
            return CandidateMatch(c, chosen, tuple(claim_set))
    return None


def match_query(query: DcqlQuery, candidates: Sequence[CandidateCredential]) -> DcqlMatch:
    """Match a DCQL query against the wallet's credentials (OpenID4VP 1.0 §6.4).

    Credentials that fail a Credential Query's constraints are treated as absent (§6.4.2).

    >>> from honnin.dcql import parse_dcql_query
    >>> q = parse_dcql_query({"credentials": [{"id": "a", "format": "mso_mdoc",
    ...     "meta": {"doctype_value": "d"}, "claims": [{"path": ["ns", "x"]}]}]})
    >>> c = CandidateCredential("c1", "mso_mdoc", doctype="d", namespaces={"ns": {"x": 1}})
    >>> match_query(q, [c]).selection()["a"].paths
    (('ns', 'x'),)
    """
    per_query: dict[str, CredentialQueryMatch] = {}
    for credential_query in query.credentials:
        wanted = trusted_aki(credential_query.trusted_authorities)
        found = (_match_candidate(credential_query, c, wanted) for c in candidates)
        per_query[credential_query.id] = CredentialQueryMatch(
            credential_query, tuple(m for m in found if m is not None)
        )
    answerable = {i for i, m in per_query.items() if m.satisfiable}
    if query.credential_sets is None:
        # §6.4.2: without credential_sets every Credential Query is required.
        missing = tuple(q.id for q in query.credentials if q.id not in answerable)
        return DcqlMatch(query, per_query, (), not missing, missing)
    sets: list[CredentialSetMatch] = []
    missing_ids: dict[str, None] = {}
    for index, credential_set in enumerate(query.credential_sets):
        options = tuple(o for o in credential_set.options if all(i in answerable for i in o))
        sets.append(CredentialSetMatch(index, credential_set, options))
        if credential_set.required and not options:
            for option in credential_set.options:
                missing_ids.update((i, None) for i in option if i not in answerable)
    missing = tuple(missing_ids)
    satisfiable = all(s.satisfiable for s in sets if s.required)
    return DcqlMatch(query, per_query, tuple(sets), satisfiable, missing)
