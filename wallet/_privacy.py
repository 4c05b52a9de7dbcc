"""The person's view and control of their data: the transparency log, the running-low signal,
withdrawing a standing relationship, and asking the issuer to revoke (DESIGN "Transparency",
"Controllability"; spec/PROFILE.md "Privacy").

``PrivacyControls`` is a part of ``Wallet``: the methods here read the wallet's vault,
holdings, pseudonyms and transport, and write every event to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from honnin.clock import Clock
from honnin.cose import certificates_of
from honnin.credential_types import Catalogue, ClaimPath
from honnin.dcql import DcqlQuery
from honnin.encoding import b64url_decode
from honnin.errors import HonninError, NotFound, WalletCorrupted
from honnin.mdoc import parse_issuer_signed
from honnin.revocation import build_revocation_request
from honnin.sdjwt import SdJwt
from honnin.trust import san_uris

from ._choices import RefusedClaim
from ._consent import Approval, ConsentRequest
from ._holdings import COPY_KIND, CopyPolicy, HeldCredential, Holdings
from ._pseudonyms import PSEUDONYM_ID, Pseudonyms
from ._request import ResolvedRequest
from ._selection import claim_path_of
from ._transparency import Event, TransparencyLog
from ._transport import Transport
from ._vault import Vault

__all__ = ["PrivacyControls", "Withdrawal"]

_MAX_ANSWER: Final = 64 * 1024
#: spec/PROFILE.md "Holder-initiated revocation": the endpoint below the issuer identifier.
REVOCATION_PATH: Final = "/revocation"


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing a relationship destroyed: the credentials whose verifier-bound copy
    (and key) is gone, and whether a pseudonym relationship was forgotten."""

    client_id: str
    credentials: tuple[str, ...]
    pseudonym_forgotten: bool


def _path(key: str) -> ClaimPath:
    return tuple(None if p == "*" else int(p) if p.isdigit() else p for p in key.split("."))


def _query_types(query: DcqlQuery | None, catalogue: Catalogue) -> dict[str, str]:
    out: dict[str, str] = {}
    for credential_query in query.credentials if query is not None else ():
        names = [*(credential_query.meta.vct_values or ()), credential_query.meta.doctype_value]
        found = next((t for t in map(catalogue.find, filter(None, names)) if t is not None), None)
        out[credential_query.id] = found.id if found is not None else next(filter(None, names), "")
    return out


def _party(resolved: ResolvedRequest) -> tuple[str, str]:
    """The verifier's client_id and its verified name (registrar, then certificate)."""
    verifier = resolved.verifier
    if verifier.registration is not None:
        return verifier.client_id, verifier.registration.name
    return verifier.client_id, verifier.certificate_name or verifier.name


class PrivacyControls:
    """Log, withdrawal, revocation requests and the running-low signal (part of ``Wallet``)."""

    vault: Vault
    clock: Clock
    catalogue: Catalogue
    copy_policy: CopyPolicy
    _holdings: Holdings
    _transport: Transport
    _journal: TransparencyLog
    _pseudonyms: Pseudonyms
    _on_running_low: Callable[[HeldCredential], None] | None

    # -- reading -----------------------------------------------------------------------------

    def log(self) -> TransparencyLog:
        """The transparency log: ``entries()``, ``verify()``, ``export_json()``,
        ``recipients_of(claim)`` ("who has received which of my claims")."""
        return self._journal

    def running_low(self, credential_id: str) -> bool:
        """Whether the credential has fewer fresh copies than the low-water mark (top it up
        with ``receive``: the issuer re-issues a batch over OpenID4VCI)."""
        return self._holdings.running_low(credential_id, self.copy_policy)

    def pseudonym(self, client_id: str) -> str:
        """The pseudonym this wallet shows ``client_id`` (stable until withdrawn)."""
        return self._pseudonyms.key_for(client_id).pseudonym

    # -- logging (called by Wallet) -----------------------------------------------------------

    def _log_issuance(self, held: HeldCredential) -> None:
        self._journal.append(
            Event.ISSUANCE,
            party_id=held.issuer,
            party_name=held.issuer_name,
            disclosed=[(held.credential_type, [])],
            outcome="accepted",
            detail=f"{held.copies} copies",
        )

    def _log_deletion(self, held: HeldCredential) -> None:
        self._journal.append(
            Event.DELETION,
            party_id=held.issuer,
            party_name=held.issuer_name,
            disclosed=[(held.credential_type, [])],
            outcome="deleted",
        )

    def _log_presentation(self, approval: Approval) -> None:
        disclosed: list[tuple[str, list[ClaimPath]]] = []
        for planned in approval.plan.values():
            candidate = planned.candidate
            if candidate.id == PSEUDONYM_ID:
                disclosed.append(("pseudonym", [("sub",)]))
                continue
            ctype = self.catalogue.find(candidate.vct or candidate.doctype or "")
            paths = [claim_path_of(ctype, candidate.format, c.path) for c in planned.claims]
            disclosed.append((ctype.id if ctype is not None else candidate.vct or "", paths))
        party_id, name = _party(approval.request)
        self._journal.append(
            Event.PRESENTATION,
            party_id=party_id,
            party_name=name,
            purpose=approval.request.purpose or None,
            disclosed=disclosed,
            outcome="presented",
        )

    def _log_refusal(
        self,
        resolved: ResolvedRequest,
        refused: Iterable[RefusedClaim],
        *,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        types = _query_types(resolved.request.dcql_query, self.catalogue)
        by_type: dict[str, list[ClaimPath]] = {}
        reasons: list[str] = []
        for claim in refused:
            by_type.setdefault(types.get(claim.query_id, claim.query_id), []).append(
                _path(claim.key)
            )
            reasons.append(claim.reason)
        party_id, name = _party(resolved)
        self._journal.append(
            Event.REFUSAL,
            party_id=party_id,
            party_name=name,
            purpose=resolved.purpose or None,
            refused=list(by_type.items()),
            outcome=outcome,
            detail=detail or ",".join(dict.fromkeys(reasons)) or None,
        )

    def _log_consent(self, consent: ConsentRequest, resolved: ResolvedRequest) -> None:
        """A consent with claims the wallet refuses, or one it blocks, is a refusal by the
        wallet (HOSTILE-CASES D8: always log the event)."""
        if consent.refused or consent.blocked:
            outcome = f"blocked:{consent.blocked}" if consent.blocked else "withheld"
            self._log_refusal(resolved, consent.refused, outcome=outcome)

    def _after_presentation(self, approval: Approval) -> None:
        if self._on_running_low is None:
            return
        for planned in approval.plan.values():
            held = self._holdings.get(planned.candidate.id)
            if held is not None and self.running_low(held.id):
                self._on_running_low(held)

    # -- controlling -------------------------------------------------------------------------

    def withdraw(self, client_id: str) -> Withdrawal:
        """End the standing relationship with the verifier ``client_id``: its
        ``per_verifier`` copies are destroyed with their keys and its pseudonym
        relationship is forgotten (a new pseudonym next time). Logged."""
        tag = self._holdings.verifier_tag(client_id)
        with self.vault.transaction():
            touched = self._holdings.withdraw(tag)
            forgotten = self._pseudonyms.forget(client_id)
            self._journal.append(
                Event.WITHDRAWAL,
                party_id=client_id,
                outcome="withdrawn",
                detail=f"{len(touched)} copies destroyed; pseudonym forgotten: {forgotten}",
            )
        return Withdrawal(client_id, tuple(touched), forgotten)

    def _revocation_copy(self, credential_id: str) -> tuple[str, str]:
        entries = self.vault.find(COPY_KIND, credential=credential_id)
        if not entries:
            raise NotFound(
                "no copy of this credential is left to prove possession with",
                credential_id=credential_id,
            )
        record = self.vault.get(COPY_KIND, entries[0].id)
        value: Mapping[str, Any] = record.value if record is not None else {}
        wire, key = value.get("credential"), value.get("key")
        if not isinstance(wire, str) or not isinstance(key, str):
            raise WalletCorrupted(
                "a credential copy is malformed", record=f"{COPY_KIND}/{entries[0].id}"
            )
        return wire, key

    @staticmethod
    def _issuer_url(held: HeldCredential, copy: str) -> str:
        if held.format == "dc+sd-jwt":
            iss = SdJwt.parse(copy).claims.get("iss")
            if isinstance(iss, str):
                return iss
        else:
            # An mdoc names no iss: the issuer leaf's URI SAN is its identifier (the test PKI
            # and spec/PROFILE.md §6.2 bind them).
            issuer_signed = parse_issuer_signed(b64url_decode(copy, what="mdoc credential"))
            uris = san_uris(certificates_of(issuer_signed.issuer_auth)[0])
            if uris:
                return uris[0]
        raise NotFound("the credential names no issuer URL to ask", credential_id=held.id)

    def request_revocation(self, credential_id: str) -> None:
        """Ask the issuer to revoke the credential (every copy of its batch): POST
        ``{issuer}/revocation`` with one copy and a proof of possession of its key over a
        fresh ``c_nonce`` (spec/PROFILE.md "Holder-initiated revocation"). Logged, failures
        included. The copies stay in the wallet (delete them with ``delete``).

        Raises:
            NotFound: no such credential, or no copy left to prove possession with.
            InvalidProof / InvalidNonce / InvalidRequest / FetchError: the issuer refused
                or could not be reached.
        """
        held = self._holdings.get(credential_id)
        if held is None:
            raise NotFound("no such credential in this wallet", credential_id=credential_id)
        copy, key_id = self._revocation_copy(credential_id)
        issuer = self._issuer_url(held, copy).rstrip("/")
        outcome, detail = "failed", None
        try:
            metadata = self._transport.get_json(
                f"{issuer}/.well-known/openid-credential-issuer",
                what="issuer metadata",
                max_bytes=_MAX_ANSWER,
            )
            nonce_url = metadata.get("nonce_endpoint") if isinstance(metadata, dict) else None
            _, answer = self._transport.post_json(
                nonce_url if isinstance(nonce_url, str) else f"{issuer}/nonce",
                {},
                what="nonce endpoint",
                max_bytes=_MAX_ANSWER,
            )
            nonce = answer.get("c_nonce") if isinstance(answer, dict) else None
            if not isinstance(nonce, str):
                raise NotFound("the issuer gave no c_nonce", reason="nonce")
            request = build_revocation_request(
                copy, self.vault.signer(key_id), aud=issuer, nonce=nonce, iat=int(self.clock.now())
            )
            self._transport.post_json(
                issuer + REVOCATION_PATH, request.to_json(), what="revocation endpoint",
                max_bytes=_MAX_ANSWER,
            )  # fmt: skip
            outcome = "revoked"
        except HonninError as exc:
            detail = exc.code
            raise
        finally:
            self._journal.append(
                Event.REVOCATION_REQUEST,
                party_id=issuer,
                party_name=held.issuer_name,
                disclosed=[(held.credential_type, [])],
                outcome=outcome,
                detail=detail,
            )
