"""From an authenticated request to a ``ConsentRequest``: which held credentials can answer
the DCQL query (OpenID4VP 1.0 §6.4) under the wallet's release policy.

Only credentials with a copy left under the copy policy take part. Claims the trust
framework restricts (the My Number) are taken out before matching unless the verifier's
verified registration names them (spec/PROFILE.md §8; ARF RPRC_21); the request is compared
with the registration for over-asking. When the query is unanswerable only because of the
policy, the consent is still built, showing what is refused, and cannot be approved.
"""

from __future__ import annotations

from honnin.credential_types import Catalogue, ClaimPath
from honnin.dcql import DcqlQuery, match_query
from honnin.errors import NoMatchingCredential
from honnin.registration import RegistrationCheck, VerifiedRegistration, check_request

from ._consent import ConsentRequest
from ._holdings import CopyPolicy, Holdings
from ._pseudonyms import Pseudonyms, is_pseudonym_query
from ._request import ResolvedRequest
from ._selection import candidate_of
from ._trust import WalletTrust

__all__ = ["build_consent"]


def _unless_registered(
    restricted: frozenset[ClaimPath], registration: VerifiedRegistration | None, type_id: str
) -> frozenset[ClaimPath]:
    """A restricted claim is released to a verifier whose verified registration names the
    claim itself, not merely a parent of it (spec/PROFILE.md §8)."""
    if registration is None:
        return restricted
    named = registration.entitlements.get(type_id, frozenset())
    return frozenset(path for path in restricted if path not in named)


def _requested(
    query: DcqlQuery, catalogue: Catalogue
) -> dict[str, list[tuple[str | int | None, ...]]]:
    """The requested claim paths by catalogue type (for the registration check)."""
    requested: dict[str, list[tuple[str | int | None, ...]]] = {}
    for credential_query in query.credentials:
        names = [*(credential_query.meta.vct_values or ())]
        names.append(credential_query.meta.doctype_value or "")
        found = next((t for t in map(catalogue.find, names) if t is not None), None)
        if found is not None:
            paths = requested.setdefault(found.id, [])
            paths.extend(tuple(c.path) for c in credential_query.claims or ())
    return requested


def _check(
    resolved: ResolvedRequest, query: DcqlQuery, trust: WalletTrust, catalogue: Catalogue
) -> RegistrationCheck | None:
    registration = resolved.verifier.registration
    if registration is None:
        return None
    return check_request(
        registration,
        _requested(query, catalogue),
        trust.restricted_claims,
        purpose=resolved.purpose or None,
        catalogue=catalogue,
    )


def build_consent(
    resolved: ResolvedRequest,
    holdings: Holdings,
    trust: WalletTrust,
    catalogue: Catalogue,
    *,
    policy: CopyPolicy,
    wallet: str,
    pseudonyms: Pseudonyms | None = None,
) -> ConsentRequest:
    """The consent for ``resolved`` (see the module docstring). A query for the pseudonym
    type is answered by the wallet's pairwise pseudonym for this verifier (``pseudonyms``).

    Raises:
        NoMatchingCredential: nothing held answers every required part, whatever the
            policy (``missing`` names the Credential Queries).
    """
    query = resolved.request.dcql_query
    assert query is not None  # the resolver refuses scope requests
    wanted: set[str] = set()
    for credential_query in query.credentials:
        wanted.update(credential_query.meta.vct_values or ())
        if credential_query.meta.doctype_value:
            wanted.add(credential_query.meta.doctype_value)
    held = holdings.list(type_value=tuple(wanted)) if wanted else []
    tag = holdings.verifier_tag(resolved.verifier.client_id)
    copies = holdings.available([h.id for h in held], policy, tag)
    usable = [h for h in held if copies[h.id] > 0]
    if pseudonyms is not None and any(is_pseudonym_query(q) for q in query.credentials):
        own = pseudonyms.held(resolved.verifier.client_id)
        usable.append(own)
        copies[own.id] = 1
    types = {h.id: catalogue.find(h.credential_type) for h in usable}
    registration = resolved.verifier.registration
    restricted = {
        h.credential_type: _unless_registered(
            trust.restricted_claims(h.credential_type), registration, h.credential_type
        )
        for h in usable
    }
    # OpenID4VP 1.0 §6.1.1: the issuers' identifiers were kept at acceptance; a credential
    # stored before that gets them from a copy, only when the query asks for them.
    asked = any(q.trusted_authorities is not None for q in query.credentials)
    authorities = {h.id: holdings.authorities(h) for h in usable if asked and h.authorities is None}
    match = match_query(
        query,
        [
            candidate_of(h, types[h.id], restricted[h.credential_type], authorities.get(h.id))
            for h in usable
        ],
    )
    refused_blocks = False
    if not match.satisfiable:
        unrestricted = match_query(
            query, [candidate_of(h, types[h.id], (), authorities.get(h.id)) for h in usable]
        )
        if not unrestricted.satisfiable:
            raise NoMatchingCredential(
                "the wallet holds no credential that answers every required part of the request",
                missing=list(match.missing),
            )
        match, refused_blocks = unrestricted, True
    return ConsentRequest(
        resolved,
        match,
        {h.id: h for h in usable},
        copies,
        catalogue,
        restricted,
        wallet=wallet,
        refused_blocks=refused_blocks,
        check=_check(resolved, query, trust, catalogue),
    )
