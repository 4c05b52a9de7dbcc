"""Verifier-side DCQL check of a VP Token (OpenID4VP 1.0 §6.4, §8.1, §8.6).

Runs after each presentation was verified cryptographically; it answers "does what was
presented satisfy the query?", keeps only the requested claim values, and flags claims
disclosed beyond the query so that they are never passed on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from honnin._slots import slot_setters

from ._constants import ALWAYS_VISIBLE_SD_JWT_VC_CLAIMS, CredentialFormat
from ._match import authorities_match
from ._models import ClaimsPath, ClaimsQuery, DcqlQuery
from ._plan import CredentialPlan, QueryPlan, plan_for

# Plain strings: comparing with a StrEnum member costs an enum attribute look-up each time.
_SD_JWT_VC: Final = CredentialFormat.SD_JWT_VC.value
_MSO_MDOC: Final = CredentialFormat.MSO_MDOC.value


@dataclass(frozen=True, slots=True)
class PresentedCredential:
    """A verified presentation, as the DCQL check sees it.

    Attributes:
        format: the Credential Format Identifier of the presentation.
        vct / vct_extends / doctype: the credential's type (see ``CandidateCredential``).
        claims: SD-JWT VC: the processed payload (disclosed plus always-visible claims).
        namespaces: mdoc: the disclosed data elements, namespace → element → JSON value.
        disclosed: SD-JWT VC: the paths of the selectively disclosed claims, from the SD-JWT
            verifier. When ``None``, every top-level claim except the always-visible
            registered ones counts as disclosed. mdoc: derived from ``namespaces``.
        holder_binding: a holder-binding proof (KB-JWT / DeviceAuth) was verified.
        authorities: trusted-authority type → identifiers of the issuer, from the verified
            chain (same shape as ``CandidateCredential.authorities``; §6.1.1 ``aki`` only).
    """

    format: str
    vct: str | None = None
    doctype: str | None = None
    claims: Mapping[str, Any] | None = None
    namespaces: Mapping[str, Mapping[str, Any]] | None = None
    disclosed: tuple[ClaimsPath, ...] | None = None
    holder_binding: bool = False
    vct_extends: tuple[str, ...] = ()
    authorities: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __init__(
        self,
        format: str,
        vct: str | None = None,
        doctype: str | None = None,
        claims: Mapping[str, Any] | None = None,
        namespaces: Mapping[str, Mapping[str, Any]] | None = None,
        disclosed: tuple[ClaimsPath, ...] | None = None,
        holder_binding: bool = False,
        vct_extends: tuple[str, ...] = (),
        authorities: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        set_format, set_vct, set_doctype, set_claims, set_namespaces, set_disclosed, \
            set_binding, set_extends, set_authorities = _PRESENTED  # fmt: skip
        set_format(self, format)
        set_vct(self, vct)
        set_doctype(self, doctype)
        set_claims(self, claims)
        set_namespaces(self, namespaces)
        set_disclosed(self, disclosed)
        set_binding(self, holder_binding)
        set_extends(self, vct_extends)
        set_authorities(self, _NO_AUTHORITIES if authorities is None else authorities)

    def __repr__(self) -> str:  # claim values stay out of logs
        return f"PresentedCredential(format={self.format!r})"


_PRESENTED: Final = slot_setters(
    PresentedCredential, "format", "vct", "doctype", "claims", "namespaces", "disclosed",
    "holder_binding", "vct_extends", "authorities",
)  # fmt: skip
_NO_AUTHORITIES: Final[Mapping[str, frozenset[str]]] = {}


class DcqlProblem(StrEnum):
    """Why a VP Token entry or presentation does not satisfy the query."""

    UNKNOWN_QUERY_ID = "unknown_query_id"  # §8.1: keys are Credential Query ids
    EMPTY_ENTRY = "empty_entry"  # §8.1: an array of one or more presentations
    TOO_MANY_PRESENTATIONS = "too_many_presentations"  # §8.1: one unless `multiple`
    FORMAT_MISMATCH = "format_mismatch"
    TYPE_MISMATCH = "type_mismatch"  # vct / doctype not as in `meta`
    HOLDER_BINDING_MISSING = "holder_binding_missing"  # §8.6 step 2.3
    CLAIMS_MISSING = "claims_missing"  # §6.4.1: requested claims absent or values differ
    REQUIRED_CREDENTIAL_MISSING = "required_credential_missing"  # §6.4.2
    #: §6.1.1: the issuer matches none of the query's trusted_authorities (honnin supports
    #: type ``aki`` only; ``etsi_tl`` / ``openid_federation`` never match).
    UNTRUSTED_AUTHORITY = "untrusted_authority"


@dataclass(frozen=True, slots=True)
class DcqlFinding:
    """One problem found by ``check_presented``; ``index`` is the presentation's position
    in its VP Token entry, ``None`` for problems of the whole entry or token."""

    query_id: str
    problem: DcqlProblem
    detail: str
    index: int | None = None


@dataclass(frozen=True, slots=True)
class AcceptedPresentation:
    """A presentation that satisfies its Credential Query.

    ``values`` maps each requested claims path to the selected values, and holds nothing
    else: claims outside the query never reach the caller.
    """

    query_id: str
    index: int
    claim_set: tuple[str, ...] | None
    values: Mapping[ClaimsPath, tuple[Any, ...]]

    def __init__(
        self,
        query_id: str,
        index: int,
        claim_set: tuple[str, ...] | None,
        values: Mapping[ClaimsPath, tuple[Any, ...]],
    ) -> None:
        set_query_id, set_index, set_claim_set, set_values = _ACCEPTED
        set_query_id(self, query_id)
        set_index(self, index)
        set_claim_set(self, claim_set)
        set_values(self, values)

    def __repr__(self) -> str:
        return f"AcceptedPresentation(query_id={self.query_id!r}, index={self.index})"


_ACCEPTED: Final = slot_setters(AcceptedPresentation, "query_id", "index", "claim_set", "values")


@dataclass(frozen=True, slots=True)
class PresentationCheck:
    """The result of ``check_presented``.

    ``satisfied`` is true only when the VP Token is well formed and the accepted
    presentations answer every required part of the query (§6.4.2, §8.6 step 3).
    ``extra_claims`` lists, per query id, disclosed claims the query did not ask for.
    """

    satisfied: bool
    accepted: Mapping[str, tuple[AcceptedPresentation, ...]]
    findings: tuple[DcqlFinding, ...]
    extra_claims: Mapping[str, tuple[ClaimsPath, ...]] = field(default_factory=dict)

    def __init__(
        self,
        satisfied: bool,
        accepted: Mapping[str, tuple[AcceptedPresentation, ...]],
        findings: tuple[DcqlFinding, ...],
        extra_claims: Mapping[str, tuple[ClaimsPath, ...]] | None = None,
    ) -> None:
        set_satisfied, set_accepted, set_findings, set_extra = _CHECK
        set_satisfied(self, satisfied)
        set_accepted(self, accepted)
        set_findings(self, findings)
        set_extra(self, {} if extra_claims is None else extra_claims)


_CHECK: Final = slot_setters(PresentationCheck, "satisfied", "accepted", "findings", "extra_claims")


def _covers(requested: ClaimsPath, disclosed: ClaimsPath) -> bool:
    # A disclosed path is in the query when a requested path selects it or something
    # beneath it (its ancestors must be disclosed to reach a nested claim).
    for want, have in zip(requested, disclosed, strict=False):
        if want is None:
            if not isinstance(have, int) or isinstance(have, bool):
                return False
        elif type(want) is not type(have) or want != have:
            return False
    return True


def _disclosed_paths(p: PresentedCredential) -> tuple[ClaimsPath, ...]:
    if p.format == _MSO_MDOC:
        return tuple(
            (ns, element) for ns, elements in (p.namespaces or {}).items() for element in elements
        )
    if p.disclosed is not None:
        return p.disclosed
    return tuple((k,) for k in (p.claims or {}) if k not in ALWAYS_VISIBLE_SD_JWT_VC_CLAIMS)


def _outside(plan: CredentialPlan, path: ClaimsPath) -> bool:
    """Whether a disclosed ``path`` is outside every requested pointer (not ``_covers``)."""
    prefixes = plan.prefixes
    if prefixes is not None:
        plain = True
        for component in path:
            if type(component) is not str:
                plain = False
                break
        if plain:
            # Plain strings on both sides: tuple equality is exactly _covers' type-strict
            # comparison, so "requested selects it or something beneath it" is look-ups:
            # the path prefixes a requested pointer, or a requested pointer prefixes it.
            if path in prefixes:
                return False
            requested = plan.requested_set
            return not any(path[:k] in requested for k in range(len(path)))
    return not any(_covers(r, path) for r in plan.requested)


def _type_ok(plan: CredentialPlan, p: PresentedCredential) -> bool:
    fmt = plan.format
    if fmt == _SD_JWT_VC:
        wanted = plan.type_values
        return p.vct in wanted or any(t in wanted for t in p.vct_extends)
    if fmt == _MSO_MDOC:
        return p.doctype == plan.doctype
    return False


def _claims_for(
    plan: CredentialPlan, p: PresentedCredential
) -> tuple[tuple[str, ...] | None, dict[ClaimsPath, tuple[Any, ...]] | None, list[ClaimsQuery]]:
    """(chosen claim set, values by path) or (None, None, claims that were missing)."""
    claims = plan.claims
    if claims is None:
        return None, {}, []
    if plan.claim_sets is None:
        # §6.4.1: without claim_sets every listed claim is requested.
        chosen: dict[ClaimsPath, tuple[Any, ...]] = {}
        missing: list[ClaimsQuery] = []
        for claim in claims:
            got = claim.select(p.claims, p.namespaces)
            if got is None:
                missing.append(claim.claim)
            else:
                chosen[claim.path] = tuple(got)
        if missing:
            return None, None, missing
        return None, chosen, []
    found: dict[int, list[Any] | None] = {}

    def values(i: int) -> list[Any] | None:
        if i not in found:
            found[i] = claims[i].select(p.claims, p.namespaces)
        return found[i]

    first_missing: list[ClaimsQuery] = []
    for claim_set, indices in plan.claim_sets:
        # The wallet may pick any option it can satisfy (§6.4.1: order is a preference).
        missing = [claims[i].claim for i in indices if values(i) is None]
        if not missing:
            return claim_set, {claims[i].path: tuple(values(i) or ()) for i in indices}, []
        first_missing = first_missing or missing
    return None, None, first_missing


def _check_one(
    plan: CredentialPlan, index: int, p: PresentedCredential, findings: list[DcqlFinding]
) -> AcceptedPresentation | None:
    if p.format != plan.format:
        problem, detail = DcqlProblem.FORMAT_MISMATCH, f"expected format {plan.format!r}"
    elif not _type_ok(plan, p):
        problem = DcqlProblem.TYPE_MISMATCH
        detail = "the credential type is not one the query allows"
    elif plan.trusted_aki is not None and not authorities_match(plan.trusted_aki, p.authorities):
        # §6.1.1: the credential must be issued under one of the trusted authorities.
        problem = DcqlProblem.UNTRUSTED_AUTHORITY
        detail = "the issuer matches none of the query's trusted_authorities"
    elif plan.holder_binding and not p.holder_binding:
        problem, detail = DcqlProblem.HOLDER_BINDING_MISSING, "the query requires holder binding"
    else:
        claim_set, values, missing = _claims_for(plan, p)
        if values is not None:
            return AcceptedPresentation(plan.id, index, claim_set, values)
        paths = ", ".join(str(list(c.path)) for c in missing)
        problem = DcqlProblem.CLAIMS_MISSING
        detail = f"requested claims absent or not matching: {paths}"
    findings.append(DcqlFinding(plan.id, problem, detail, index))
    return None


def check_presented(
    query: DcqlQuery, presented: Mapping[str, Sequence[PresentedCredential]]
) -> PresentationCheck:
    """Check verified presentations, keyed by Credential Query id, against the query.

    Follows OpenID4VP 1.0 §8.6: a presentation failing its query's constraints is discarded
    (recorded in ``findings``); a malformed VP Token entry makes the token fail; then the
    remaining presentations must answer every required Credential Query or Credential Set
    (§6.4.2). ``values`` matching is applied as stated in §6.3, though §6.4.1 warns that a
    verifier must not rely on it for security. A query's ``trusted_authorities`` (§6.1.1)
    are checked against ``PresentedCredential.authorities``: only type ``aki`` can match
    (``etsi_tl`` / ``openid_federation`` are not supported and never do); a presentation
    matching none is discarded with ``UNTRUSTED_AUTHORITY``.

    The query is compiled once per query object and cached, so checking many responses to
    the same query reuses its plan.
    """
    findings: list[DcqlFinding] = []
    accepted: dict[str, tuple[AcceptedPresentation, ...]] = {}
    extra: dict[str, tuple[ClaimsPath, ...]] = {}
    token_ok = True
    compiled = plan_for(query)
    plans = compiled.credentials
    for query_id, presentations in presented.items():
        plan = plans.get(query_id)
        if plan is None:
            findings.append(DcqlFinding(query_id, DcqlProblem.UNKNOWN_QUERY_ID, "not in the query"))
            token_ok = False
            continue
        if not presentations:
            findings.append(DcqlFinding(query_id, DcqlProblem.EMPTY_ENTRY, "no presentation"))
            token_ok = False
            continue
        if len(presentations) > 1 and not plan.multiple:
            detail = f"{len(presentations)} presentations but 'multiple' is false"
            findings.append(DcqlFinding(query_id, DcqlProblem.TOO_MANY_PRESENTATIONS, detail))
            token_ok = False
            continue
        outside: dict[ClaimsPath, None] = {}
        ok: list[AcceptedPresentation] = []
        prefixes = plan.prefixes
        for index, presentation in enumerate(presentations):
            result = _check_one(plan, index, presentation, findings)
            if result is not None:
                ok.append(result)
            for path in _disclosed_paths(presentation):
                if (
                    prefixes is not None
                    and len(path) == 1
                    and type(path[0]) is str
                    and path in prefixes
                ):
                    continue  # a requested top-level claim: the common case, one look-up
                if _outside(plan, path):
                    outside[path] = None
        if ok:
            accepted[query_id] = tuple(ok)
        if outside:
            extra[query_id] = tuple(outside)
    satisfied = token_ok and _sets_satisfied(compiled, set(accepted), findings)
    return PresentationCheck(satisfied, accepted, tuple(findings), extra)


def _sets_satisfied(plan: QueryPlan, answered: set[str], findings: list[DcqlFinding]) -> bool:
    if plan.required_sets is None:
        # §6.4.2: without credential_sets every Credential Query is required.
        missing = [i for i in plan.credentials if i not in answered]
    else:
        missing = []
        for options, first in plan.required_sets:
            # §6.4.2: a required Credential Set is satisfied by any one of its options.
            for option in options:
                if option <= answered:
                    break
            else:
                missing.extend(i for i in first if i not in answered and i not in missing)
    for query_id in missing:
        findings.append(
            DcqlFinding(query_id, DcqlProblem.REQUIRED_CREDENTIAL_MISSING, "required, not answered")
        )
    return not missing
