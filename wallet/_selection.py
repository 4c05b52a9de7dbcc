"""Choosing what answers a DCQL query (OpenID4VP 1.0 §6.4) under the wallet's policy.

The wallet's claims go into matching *after* its release policy (spec/PROFILE.md §8): claims
restricted by the trust framework are taken out, so no query can be answered with them. A
requested path that would carry an "explicit request only" claim (the My Number) inside a
larger object releases the object without it. ``plan`` then picks, in the verifier's order
of preference (§6.4.1, §6.4.2), a credential and a claim set for every Credential Query to
answer, avoiding what the person chose to leave out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from honnin.credential_types import Catalogue, ClaimPath, CredentialType
from honnin.dcql import (
    CandidateCredential,
    ClaimsQuery,
    CredentialQuery,
    DcqlMatch,
    claim_values,
)
from honnin.errors import PolicyViolation

from ._holdings import HeldCredential

__all__ = [
    "Plan",
    "Planned",
    "candidate_of",
    "claim_key",
    "claim_path_of",
    "plan",
    "satisfiable_sets",
    "under",
]

SD_JWT_VC = "dc+sd-jwt"
MSO_MDOC = "mso_mdoc"


def _step(want: Any, got: Any) -> bool:
    if want is None or got is None:
        other = got if want is None else want
        return other is None or (isinstance(other, int) and not isinstance(other, bool))
    return bool(want == got and type(want) is type(got))


def under(prefix: Sequence[Any], path: Sequence[Any]) -> bool:
    """``path`` is ``prefix`` or lies inside it (``None`` matches any array index)."""
    return len(path) >= len(prefix) and all(
        _step(want, got) for want, got in zip(prefix, path, strict=False)
    )


def claim_path_of(
    credential_type: CredentialType | None, fmt: str, path: Sequence[Any]
) -> ClaimPath:
    """The catalogue claim path a requested claims path stands for (mdoc ``[namespace,
    element]`` mapped through the type's mdoc table, §7.2)."""
    if fmt == MSO_MDOC and credential_type is not None and len(path) == 2:
        found = credential_type.mdoc.path_for(str(path[0]), str(path[1]))
        if found is not None:
            return found
    return tuple(path)


def claim_key(credential_type: CredentialType | None, fmt: str, path: Sequence[Any]) -> str:
    """A readable name of a requested claim: ``payment_amount``, ``payer.name``,
    ``dependents.*.name`` (the same for both formats when the catalogue knows the claim)."""
    return ".".join("*" if p is None else str(p) for p in claim_path_of(credential_type, fmt, path))


def _without(claims: Any, path: Sequence[Any]) -> Any:
    """``claims`` without the claim at ``path``; only the containers on the way are copied
    (a path that is not there leaves ``claims`` itself)."""
    if not path:
        return claims
    head, rest = path[0], path[1:]
    if isinstance(claims, dict) and isinstance(head, str) and head in claims:
        out = dict(claims)
        if rest:
            out[head] = _without(claims[head], rest)
        else:
            del out[head]
        return out
    if isinstance(claims, list) and (head is None or isinstance(head, int)):
        indices = set(range(len(claims)) if head is None else [head])
        if not rest:
            return [v for i, v in enumerate(claims) if i not in indices]
        return [_without(v, rest) if i in indices else v for i, v in enumerate(claims)]
    return claims


def candidate_of(
    held: HeldCredential,
    credential_type: CredentialType | None,
    restricted: Collection[ClaimPath],
    authorities: Mapping[str, frozenset[str]] | None = None,
) -> CandidateCredential:
    """The DCQL view of a held credential, with ``restricted`` claims taken out.

    ``authorities`` are the issuer's trusted-authority identifiers (OpenID4VP 1.0 §6.1.1,
    ``aki`` only); ``held.authorities`` when not given (none when it has none stored).
    """
    if authorities is None:
        authorities = held.authorities or {}
    claims: Any = held.claims
    if held.format == MSO_MDOC:
        if credential_type is not None and restricted:
            kept = {}
            for namespace, elements in claims.items():
                kept[namespace] = {
                    element: value
                    for element, value in elements.items()
                    if not any(
                        under(r, credential_type.mdoc.path_for(namespace, element) or ())
                        for r in restricted
                    )
                }
            claims = kept
        return CandidateCredential(
            held.id, MSO_MDOC, doctype=held.type_value, namespaces=claims, authorities=authorities
        )
    for path in restricted:
        claims = _without(claims, path)
    return CandidateCredential(
        held.id, SD_JWT_VC, vct=held.type_value, claims=claims, authorities=authorities
    )


def satisfiable_sets(
    query: CredentialQuery, candidate: CandidateCredential
) -> list[tuple[ClaimsQuery, ...]]:
    """Every claim set of ``query`` that ``candidate`` can answer, in the verifier's order
    (§6.4.1: no ``claims`` asks for the mandatory parts only; ``claims`` without
    ``claim_sets`` asks for all of them)."""
    if query.claims is None:
        return [()]

    def has(claim: ClaimsQuery) -> bool:
        return (
            claim_values(candidate.format, candidate.claims, candidate.namespaces, claim)
            is not None
        )

    if query.claim_sets is None:
        return [query.claims] if all(has(c) for c in query.claims) else []
    by_id = {c.id: c for c in query.claims}
    out = []
    for claim_set in query.claim_sets:
        chosen = tuple(by_id[i] for i in dict.fromkeys(claim_set))
        if all(has(c) for c in chosen):
            out.append(chosen)
    return out


@dataclass(frozen=True, slots=True)
class Planned:
    """The answer to one Credential Query: a held credential and the claims to disclose."""

    query: CredentialQuery
    candidate: CandidateCredential
    claims: tuple[ClaimsQuery, ...]
    options: tuple[tuple[ClaimsQuery, ...], ...]


Plan = dict[str, Planned]


def plan(
    match: DcqlMatch,
    catalogue: Catalogue,
    *,
    drop_claims: Collection[str] = (),
    drop_queries: Collection[str] = (),
    use: Mapping[str, str] | None = None,
) -> Plan:
    """Pick the answer to every Credential Query the response will carry.

    ``drop_claims`` are claim keys (``claim_key``) the person leaves out, ``drop_queries``
    Credential Query ids, ``use`` a held credential per query id.

    Raises:
        PolicyViolation: what was dropped is required (no remaining option answers it).
    """
    use = dict(use or {})

    def pick(query_id: str) -> Planned | None:
        found = match.credentials[query_id]
        for candidate_match in found.candidates:
            candidate = candidate_match.candidate
            if query_id in use and candidate.id != use[query_id]:
                continue
            found_type = catalogue.find(candidate.vct or candidate.doctype or "")
            options = satisfiable_sets(found.query, candidate)
            for claims in options:
                keys = {claim_key(found_type, candidate.format, c.path) for c in claims}
                if keys.isdisjoint(drop_claims):
                    return Planned(found.query, candidate, claims, tuple(options))
        return None

    def answer(option: Iterable[str]) -> Plan | None:
        picked: Plan = {}
        for query_id in option:
            if query_id in drop_queries:
                return None
            planned = pick(query_id)
            if planned is None:
                return None
            picked[query_id] = planned
        return picked

    query = match.query
    result: Plan = {}
    sets = (
        [((tuple(q.id for q in query.credentials),), True)]
        if query.credential_sets is None
        else [(s.options, s.required) for s in query.credential_sets]
    )
    for options, required in sets:
        chosen = next((a for a in map(answer, options) if a is not None), None)
        if chosen is None and required:
            raise PolicyViolation(
                "the verifier requires what was left out; nothing would be sent",
                reason="required",
            )
        result.update(chosen or {})
    return result
