"""What the person sees before anything is shared, and what they decide (DESIGN "Consent and
choice"; ARF RPA_05..07, RPA_10a; HOSTILE-CASES D8).

``ConsentRequest`` names the verifier as authenticated (client_id, certificate, trust),
the purpose, every credential and claim that would be sent with its ja/en label and whether
the verifier requires it, and what the wallet refuses and why. ``approve()`` turns it into
an ``Approval`` for ``Wallet.present``; ``refuse()`` into a ``Refusal``. An untrusted
verifier is shown, and approving it needs ``allow_untrusted_verifier=True``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from honnin.credential_types import Catalogue, ClaimPath, CredentialType
from honnin.dcql import CredentialQuery, DcqlMatch, claim_values
from honnin.errors import PolicyViolation, UntrustedVerifier
from honnin.oid4vp import TransactionData
from honnin.registration import RegistrationCheck

from ._choices import CredentialChoice, Refusal, RefusedClaim, RequestedClaim
from ._holdings import HeldCredential
from ._request import RequestingVerifier, ResolvedRequest
from ._selection import Plan, Planned, claim_key, claim_path_of, plan, under
from ._trust import TrustState

__all__ = ["Approval", "ConsentRequest"]

BLOCKED_UNTRUSTED = "untrusted_verifier"
BLOCKED_REFUSED = "refused_claims"
BLOCKED_REGISTRATION = "registration_invalid"
BLOCKED_OVER_ASKING = "over_asking"


@dataclass(frozen=True)
class Approval:
    """What the person approved: per Credential Query the held credential and the claims.

    Present it once with ``Wallet.present``; ``withheld`` are claim paths never disclosed
    whatever a requested path encloses.
    """

    request: ResolvedRequest = field(repr=False)
    plan: Mapping[str, Planned] = field(repr=False)
    withheld: Mapping[str, tuple[ClaimPath, ...]] = field(repr=False)
    wallet: str = field(repr=False)
    _used: list[bool] = field(default_factory=lambda: [False], repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def query_ids(self) -> tuple[str, ...]:
        """The Credential Queries the response answers."""
        return tuple(self.plan)

    def claim(self) -> None:
        """Mark the approval used (an approval presents once).

        Raises:
            PolicyViolation: it was presented already.
        """
        with self._lock:
            if self._used[0]:
                raise PolicyViolation("this approval was presented already", reason="used")
            self._used[0] = True


class ConsentRequest:
    """Who asks, for what, why, and what is refused (see the module docstring)."""

    def __init__(
        self,
        resolved: ResolvedRequest,
        match: DcqlMatch,
        held: Mapping[str, HeldCredential],
        copies: Mapping[str, int],
        catalogue: Catalogue,
        restricted: Mapping[str, frozenset[ClaimPath]],
        *,
        wallet: str,
        refused_blocks: bool,
        check: RegistrationCheck | None = None,
    ) -> None:
        self._resolved = resolved
        self._match = match
        self._held = held
        self._copies = copies
        self._catalogue = catalogue
        self._restricted = restricted
        self._wallet = wallet
        self.verifier: RequestingVerifier = resolved.verifier
        self.purpose: str = resolved.purpose
        #: What the person authorizes by presenting (OpenID4VP 1.0 §5.1, §8.4): each item's
        #: ``type``, ``credential_ids`` and type-specific ``details``, in request order.
        self.transaction_data: tuple[TransactionData, ...] = resolved.transaction_data
        #: How the request compares with the verifier's registration (None without one).
        self.registration_check = check
        self.refused: tuple[RefusedClaim, ...] = self._refusals() + self._unregistered()
        chosen = plan(match, catalogue)
        self.credentials: tuple[CredentialChoice, ...] = tuple(
            self._choice(query_id, planned) for query_id, planned in chosen.items()
        )
        self.blocked: str | None = None
        if refused_blocks:
            self.blocked = BLOCKED_REFUSED
        elif resolved.verifier.trust is TrustState.UNTRUSTED:
            self.blocked = BLOCKED_UNTRUSTED
        elif resolved.verifier.registration_status == "invalid":
            self.blocked = BLOCKED_REGISTRATION
        elif self._over_asking():
            self.blocked = BLOCKED_OVER_ASKING

    def __repr__(self) -> str:
        return (
            f"ConsentRequest(verifier={self.verifier.client_id!r}, trust="
            f"{self.verifier.trust.value!r}, credentials={[c.query_id for c in self.credentials]},"
            f" refused={[r.key for r in self.refused]}, blocked={self.blocked!r})"
        )

    @property
    def client_id(self) -> str:
        """The verifier's authenticated Client Identifier."""
        return self.verifier.client_id

    # -- building -----------------------------------------------------------------------------

    def _type(self, query: CredentialQuery) -> CredentialType | None:
        names = [*(query.meta.vct_values or ()), query.meta.doctype_value or ""]
        return next((t for t in map(self._catalogue.find, names) if t is not None), None)

    def _labels(self, credential_type: CredentialType | None, path: ClaimPath) -> dict[str, str]:
        entry = credential_type.claim(path) if credential_type is not None else None
        return dict(entry.labels) if entry is not None else {}

    def _refusals(self) -> tuple[RefusedClaim, ...]:
        out: list[RefusedClaim] = []
        for query in self._match.query.credentials:
            credential_type = self._type(query)
            if credential_type is None:
                continue
            restricted = self._restricted.get(credential_type.id, frozenset())
            for claim in query.claims or ():
                path = claim_path_of(credential_type, query.format, claim.path)
                key = claim_key(credential_type, query.format, claim.path)
                hit = next((r for r in restricted if under(r, path) or under(path, r)), None)
                if hit is not None:
                    out.append(RefusedClaim(
                        query.id, ".".join(str(p) for p in hit),
                        self._labels(credential_type, hit), "restricted",
                        "released only to verifiers registered for it (My Number Act §19);"
                        " this verifier has no such registration",
                    ))  # fmt: skip
                    continue
                for explicit in credential_type.explicit_request_only:
                    if under(path, explicit) and len(path) < len(explicit):
                        out.append(RefusedClaim(
                            query.id, ".".join(str(p) for p in explicit),
                            self._labels(credential_type, explicit), "explicit_request_only",
                            f"withheld from {key}: released only when a request names it",
                        ))  # fmt: skip
        return tuple(out)

    def _over_asking(self) -> bool:
        check = self.registration_check
        return check is not None and bool(
            check.excess or check.unregistered_types or check.purpose_registered is False
        )

    def _unregistered(self) -> tuple[RefusedClaim, ...]:
        """Claims outside the verifier's registration (ARF RPRC_21; HOSTILE-CASES WL-09)."""
        check = self.registration_check
        if check is None:
            return ()
        out: list[RefusedClaim] = []
        for query in self._match.query.credentials:
            credential_type = self._type(query)
            if credential_type is None:
                continue
            excess = set(check.excess.get(credential_type.id, ()))
            whole = credential_type.id in check.unregistered_types
            for claim in query.claims or ():
                if whole or tuple(claim.path) in excess:
                    path = claim_path_of(credential_type, query.format, claim.path)
                    out.append(RefusedClaim(
                        query.id, claim_key(credential_type, query.format, claim.path),
                        self._labels(credential_type, path), "not_registered",
                        "not in what the verifier is registered to ask for",
                    ))  # fmt: skip
        return tuple(out)

    def _required_query(self, query_id: str) -> bool:
        sets = self._match.query.credential_sets
        if sets is None:
            return True
        return any(s.required and all(query_id in o for o in s.options) for s in sets)

    def _choice(self, query_id: str, planned: Planned) -> CredentialChoice:
        held = self._held[planned.candidate.id]
        credential_type = self._catalogue.find(held.credential_type)
        in_every = set.intersection(*(set(map(id, o)) for o in planned.options))
        claims = []
        for claim in planned.claims:
            found = claim_values(held.format, held.claims, _namespaces(held), claim)
            value = found[0] if found is not None and len(found) == 1 else found
            path = claim_path_of(credential_type, held.format, claim.path)
            claims.append(
                RequestedClaim(
                    key=claim_key(credential_type, held.format, claim.path),
                    path=tuple(claim.path),
                    labels=self._labels(credential_type, path),
                    required=id(claim) in in_every,
                    value=value,
                )
            )
        others = self._match.credentials[query_id].candidates
        return CredentialChoice(
            query_id=query_id,
            credential_id=held.id,
            credential_type=held.credential_type,
            names=dict(held.names),
            format=held.format,
            issuer_name=held.issuer_name,
            issuer_trust=held.trust,
            copies_left=self._copies.get(held.id, 0),
            required=self._required_query(query_id),
            claims=tuple(claims),
            always_disclosed=_plaintext(held, credential_type),
            alternatives=tuple(c.candidate.id for c in others if c.candidate.id != held.id),
        )

    # -- deciding -----------------------------------------------------------------------------

    def approve(
        self,
        *,
        drop: Collection[str | Sequence[str | int | None]] = (),
        use: Mapping[str, str] | None = None,
        allow_untrusted_verifier: bool = False,
        allow_unregistered: bool = False,
    ) -> Approval:
        """Approve sending the claims shown, without those in ``drop``.

        ``drop`` holds optional claim keys (``"withholding_tax"``, ``"payer.name"``) or
        paths, and Credential Query ids of optional credentials. ``use`` picks a held
        credential (by id) for a query. ``allow_untrusted_verifier`` is the explicit
        per-request override for a verifier the wallet does not trust (ARF RPA_07b);
        ``allow_unregistered`` the one for a request beyond the verifier's registration or
        with an invalid registration (RPRC_21, HOSTILE-CASES D8).

        Raises:
            PolicyViolation: a required claim or credential is dropped; a requested claim is
                refused by the wallet's policy and nothing else answers the query; over-asking
                or an invalid registration without ``allow_unregistered``.
            UntrustedVerifier: the verifier is not trusted and no override was given.
            ValueError: ``drop`` names something the request does not ask for.
        """
        if self.blocked == BLOCKED_REFUSED:
            names = ", ".join(sorted({r.key for r in self.refused})) or "a required claim"
            raise PolicyViolation(
                f"the verifier requires {names}, which this wallet does not release to it",
                reason="refused_claims",
            )
        if self.verifier.trust is TrustState.UNTRUSTED and not allow_untrusted_verifier:
            raise UntrustedVerifier(
                f"{self.verifier.client_id} is not trusted: {self.verifier.trust_reason}",
                client_id=self.verifier.client_id,
                reason=self.verifier.trust_code or "untrusted",
            )
        if self.verifier.registration_status == "invalid" and not allow_unregistered:
            raise PolicyViolation(
                f"the verifier's registration is not valid: {self.verifier.registration_error}",
                reason="registration",
            )
        if self._over_asking() and not allow_unregistered:
            raise PolicyViolation(
                "the request goes beyond what the verifier is registered for",
                reason="over_asking",
            )
        drop_keys = {
            d if isinstance(d, str) else ".".join("*" if p is None else str(p) for p in d)
            for d in drop
        }
        query_ids = {q.id for q in self._match.query.credentials}
        known = query_ids | {
            claim_key(self._type(q), q.format, c.path)
            for q in self._match.query.credentials
            for c in q.claims or ()
        }
        if drop_keys - known:
            # A mistyped name must never let a claim through that the person meant to keep.
            raise ValueError(f"not requested, cannot be dropped: {sorted(drop_keys - known)}")
        chosen: Plan = plan(
            self._match,
            self._catalogue,
            drop_claims=drop_keys - query_ids,
            drop_queries=drop_keys & query_ids,
            use=use,
        )
        withheld = {query_id: self._withheld(planned) for query_id, planned in chosen.items()}
        return Approval(self._resolved, chosen, withheld, self._wallet)

    def _withheld(self, planned: Planned) -> tuple[ClaimPath, ...]:
        held = self._held[planned.candidate.id]
        credential_type = self._catalogue.find(held.credential_type)
        if credential_type is None:
            return ()
        asked = {claim_path_of(credential_type, held.format, c.path) for c in planned.claims}
        out = set(self._restricted.get(credential_type.id, frozenset()))
        out.update(p for p in credential_type.explicit_request_only if p not in asked)
        return tuple(out)

    def refuse(self, description: str | None = None) -> Refusal:
        """Say no: an ``access_denied`` response for ``Wallet.submit`` (or the verifier)."""
        state = self._resolved.request.state
        return Refusal(self._resolved, state, error_description=description)


def _namespaces(held: HeldCredential) -> Mapping[str, Mapping[str, Any]] | None:
    return held.claims if held.format == "mso_mdoc" else None


def _plaintext(held: HeldCredential, credential_type: CredentialType | None) -> tuple[str, ...]:
    if held.format != "dc+sd-jwt" or credential_type is None:
        return ()
    return tuple(
        claim.path[0]  # type: ignore[misc]
        for claim in credential_type.claims
        if len(claim.path) == 1 and claim.sd == "never" and claim.path[0] in held.claims
    )
