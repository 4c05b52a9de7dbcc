"""``Wallet``: the holder role over an encrypted ``Vault`` (DESIGN "The happy path").

::

    wallet = Wallet.open("alice.wallet", pin="123456")
    wallet.accept(employer.issue("withholding-slip", claims, holder=wallet.binding_keys(8)))
    consent = wallet.consider(request)          # who asks, what, why, what is refused
    response = wallet.present(consent.approve())

Over HTTP: ``wallet.receive(offer_uri, tx_code=ask)`` (OpenID4VCI) and
``wallet.present(wallet.consider(request_uri).approve(), post=True)`` (OpenID4VP).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from cryptography import x509

from honnin.clock import Clock, SystemClock
from honnin.credential_types import Catalogue, load_catalogue
from honnin.credentials import CredentialBatch
from honnin.errors import (
    Expired,
    InvalidKeyBinding,
    MalformedCredential,
    NotFound,
)
from honnin.http import HttpResponse, HttpxFetcher
from honnin.oauth import ClientAttestation
from honnin.oid4vci import CredentialConfiguration
from honnin.trust import TrustList

from ._acceptance import check_copy
from ._choices import Refusal
from ._consent import Approval, ConsentRequest
from ._holdings import CopyPolicy, HeldCredential, Holdings
from ._issuance import Authorization, OfferClient, Receipt, TxCodeSource
from ._keywrap import KdfParams, KeyWrapper
from ._matching import build_consent
from ._presenting import PresentationResponse, build_response
from ._privacy import PrivacyControls
from ._pseudonyms import Pseudonyms
from ._request import CLOCK_SKEW, RequestResolver
from ._signer import Signer
from ._transparency import TransparencyLog
from ._transport import Transport
from ._trust import WalletTrust
from ._usage_policy import DEFAULT_LOW_WATER
from ._vault import Vault

__all__ = ["Submission", "Wallet"]

_MAX_RESPONSE_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Submission:
    """What the verifier's response_uri answered (OpenID4VP 1.0 §8.2): the HTTP status, the
    ``redirect_uri`` to continue with in same-device flows, and the status of following it."""

    status: int
    redirect_uri: str | None = None
    followed_status: int | None = None


class Wallet(PrivacyControls):
    """A person's wallet: credentials, binding keys and consent, in one encrypted file.

    Open with ``Wallet.open``; one thread at a time; close it (or use ``with``). Every
    issuance, presentation, refusal, deletion, revocation request and withdrawal is written
    to the transparency log (``log()``) in the same vault transaction as the change itself.
    """

    def __init__(
        self,
        vault: Vault,
        *,
        trust: TrustList | Iterable[x509.Certificate] | None = None,
        clock: Clock | None = None,
        catalogue: Catalogue | None = None,
        copy_policy: CopyPolicy | str = CopyPolicy.ONCE,
        allow_unsigned_requests: bool = False,
        allow_loopback_http: bool = False,
        fetcher: HttpxFetcher | None = None,
        sleep: Callable[[float], None] = time.sleep,
        low_water: int = DEFAULT_LOW_WATER,
        on_running_low: Callable[[HeldCredential], None] | None = None,
        transaction_data_types: Iterable[str] = (),
        client_attestation: ClientAttestation | None = None,
    ) -> None:
        self.vault = vault
        self.clock: Clock = clock or SystemClock()
        self.catalogue = catalogue or load_catalogue()
        self.copy_policy = CopyPolicy(copy_policy)
        self._trust = WalletTrust(trust)
        self._holdings = Holdings(vault, low_water=low_water)
        self._journal = TransparencyLog(vault, self.clock)
        self._pseudonyms = Pseudonyms(vault, self._holdings.verifier_tag)
        self._on_running_low = on_running_low
        self._transport = Transport(fetcher, allow_loopback_http=allow_loopback_http)
        self._resolver = RequestResolver(
            self._trust,
            now=self.clock.now,
            fetcher=lambda: self._transport.fetcher,
            allow_unsigned=allow_unsigned_requests,
            allow_loopback_http=allow_loopback_http,
            transaction_data_types=frozenset(transaction_data_types),
        )
        self._offers = OfferClient(
            self._transport,
            self._trust,
            self.catalogue,
            now=self.clock.now,
            sleep=sleep,
            new_keys=vault.draft_binding_keys,
            destroy_key=vault.discard_binding_key,
            store=self._store_issued,
            client_attestation=client_attestation,
        )
        # Approvals are bound to the wallet that made them.
        self._token = secrets.token_urlsafe(16)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        pin: str,
        *,
        create: bool = True,
        trust: TrustList | Iterable[x509.Certificate] | None = None,
        clock: Clock | None = None,
        kdf: KdfParams = KdfParams.STRONG,
        key_wrapper: KeyWrapper | None = None,
        **options: Any,
    ) -> Wallet:
        """Open the wallet at ``path`` with ``pin`` (created when missing and ``create``).

        ``trust``: a ``TrustList`` or certificates that anchor issuers *and* verifiers;
        without it every signature is still checked but trust shows as ``not_configured``.
        ``options``: ``copy_policy`` (``once`` / ``per_verifier`` / ``rotate``),
        ``low_water`` and ``on_running_low`` (called with the credential when fewer fresh
        copies are left), ``catalogue``, ``allow_unsigned_requests`` and
        ``allow_loopback_http`` (development only), ``fetcher``, ``sleep``,
        ``transaction_data_types`` (the OpenID4VP 1.0 §5.1 transaction data types this wallet
        lets the person authorize; empty by default: requests with transaction data are
        refused with ``invalid_transaction_data``), ``client_attestation`` (the wallet
        attestation its provider issued to this instance, with the instance key: sent to
        authorization servers that take ``attest_jwt_client_auth``). A new wallet's
        recovery code is in ``wallet.vault.recovery_code``: show it to the person once.

        Raises:
            WrongPin / WalletLocked / NotAWallet / WalletCorrupted / WalletInUse /
            UnsupportedWalletVersion: see ``Vault.open``.
            FileNotFoundError: no wallet at ``path`` and ``create`` is false.
        """
        file = Path(path)
        if file.exists():
            vault = Vault.open(file, pin, clock=clock, key_wrapper=key_wrapper)
        elif create:
            vault = Vault.create(file, pin, kdf=kdf, clock=clock, key_wrapper=key_wrapper)
        else:
            raise FileNotFoundError(f"no wallet at {file}")
        try:
            return cls(vault, trust=trust, clock=clock, **options)
        except BaseException:
            vault.close()
            raise

    # -- life cycle --------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The wallet file."""
        return self.vault.path

    def close(self) -> None:
        """Close the vault (keys forgotten) and the HTTP client."""
        self._transport.close()
        self.vault.close()

    def __enter__(self) -> Wallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.vault.closed else "open"
        return f"Wallet(path={str(self.path)!r}, {state})"

    # -- credentials -------------------------------------------------------------------------

    def binding_keys(self, count: int) -> list[Signer]:
        """``count`` fresh P-256 binding keys made inside the vault, one per copy to be
        issued (their ``public_jwk`` goes to the issuer; the private keys never leave)."""
        return self.vault.new_binding_keys(count)

    def accept(self, credentials: CredentialBatch | str | Sequence[str]) -> HeldCredential:
        """Verify every copy of one credential and store them with their keys.

        Each copy is checked as in ``_acceptance`` (issuer signature and trust, type,
        schema, binding key one of this wallet's, not yet used); copies must agree in type,
        issuer, claims and validity. Nothing is stored unless every copy passes.

        Raises:
            InvalidSignature, UntrustedIssuer, IssuerNotEntitled, Expired, NotYetValid,
            UnknownCredentialType, SchemaViolation, InvalidKeyBinding, MalformedCredential,
            MalformedInput, TooLarge.
        """
        if isinstance(credentials, CredentialBatch):
            items = list(credentials.credentials)
        elif isinstance(credentials, str):
            items = [credentials]
        else:
            items = list(credentials)
        if not items:
            raise MalformedCredential("no credential to accept")
        now = self.clock.now()
        checked = [check_copy(c, self._trust, self.catalogue, now=now) for c in items]
        with self.vault.transaction():
            held = self._holdings.add(checked, now=now)
            self._log_issuance(held)
        return held

    def _store_issued(
        self, credentials: Sequence[str], keys: frozenset[str], config: CredentialConfiguration
    ) -> tuple[HeldCredential, frozenset[str]]:
        if not credentials:
            raise MalformedCredential("the issuer answered no credential (§8.3)")
        if len(credentials) > len(keys):
            # SECURITY-CHECKLIST C14: never more credentials than proofs.
            raise MalformedCredential("more credentials than key proofs", reason="count")
        now = self.clock.now()
        checked = [check_copy(c, self._trust, self.catalogue, now=now) for c in credentials]
        expected = config.vct or config.doctype
        for copy in checked:
            if copy.format.value != config.format or copy.type_value != expected:
                raise MalformedCredential(
                    "the issued credential is not of the offered configuration's type",
                    reason="type",
                )
            if copy.key_id not in keys:
                raise InvalidKeyBinding(
                    "an issued copy is not bound to a key proven in this request", reason="cnf"
                )
        # The proofs' keys are stored with the copies bound to them: one commit (one fsync)
        # makes the credential durable before receive() returns.
        with self.vault.transaction():
            self.vault.keep_binding_keys(dict.fromkeys(c.key_id for c in checked))
            held = self._holdings.add(checked, now=now)
            self._log_issuance(held)
        return held, frozenset(c.key_id for c in checked)

    def credentials(self, **filters: object) -> list[HeldCredential]:
        """The credentials held, oldest first; ``filters`` on ``type`` (catalogue id),
        ``format`` or ``type_value`` (vct / docType)."""
        return self._holdings.list(**filters)

    def credential(self, credential_id: str) -> HeldCredential:
        """One credential.

        Raises:
            NotFound: no such credential.
        """
        held = self._holdings.get(credential_id)
        if held is None:
            raise NotFound("no such credential in this wallet", credential_id=credential_id)
        return held

    def delete(self, credential_id: str) -> None:
        """Delete a credential with all its copies and binding keys.

        Raises:
            NotFound: no such credential.
        """
        held = self.credential(credential_id)
        with self.vault.transaction(wipes=True):
            self._holdings.delete(credential_id)
            self._log_deletion(held)

    def receive(
        self,
        offer: Any,
        *,
        tx_code: TxCodeSource = None,
        copies: int | None = None,
        deferred_timeout: float = 300.0,
    ) -> Receipt:
        """Receive the credentials of an OpenID4VCI offer (scanned string, deep link, https
        URL or an object with ``.uri``). ``tx_code`` is the Transaction Code, or a callback
        asked only once the issuer passed the trust pre-check. ``copies`` defaults to the
        issuer's batch size. A deferred issuance is polled for up to ``deferred_timeout``.
        Returns once the copies are stored; the ``credential_accepted`` notification (§11)
        is still on its way then (``Receipt.notified`` waits for its answer, ``close``
        lets it finish).

        Raises:
            InvalidGrant (wrong tx_code), InvalidToken, InvalidProof, InvalidNonce,
            UnknownCredentialConfiguration, UnsupportedGrantType, IssuancePending (deferred,
            not ready in time), FetchError, and every error of ``accept``.
        """
        return self._offers.receive(
            offer, tx_code=tx_code, copies=copies, deferred_timeout=deferred_timeout
        )

    def authorize(
        self, offer: Any, *, redirect_uri: str, client_id: str | None = None
    ) -> Authorization:
        """Start receiving an offer made for the authorization code flow (OpenID4VCI 1.0
        §3.4): the issuer is checked as for ``receive``, then an authorization request is
        pushed (RFC 9126, PKCE S256). Open the returned ``Authorization.url`` in the person's
        browser; when the issuer sends it to ``redirect_uri``, pass that URL to
        ``finish_authorization``. ``redirect_uri`` is the app's: https, http on loopback, or
        a reverse-domain private-use scheme (RFC 8252). ``client_id`` defaults to the wallet
        attestation's ``sub``, or ``honnin-wallet`` without one.

        Raises:
            UnsupportedGrantType (no authorization code grant in the offer), InvalidRequest,
            InvalidGrant (an unknown or used offer), FetchError, and the trust errors of
            ``receive``.
        """
        return self._offers.authorize(offer, redirect_uri=redirect_uri, client_id=client_id)

    def finish_authorization(
        self,
        authorization: Authorization,
        redirect: str,
        *,
        copies: int | None = None,
        deferred_timeout: float = 300.0,
    ) -> Receipt:
        """Receive the credentials once the person's browser came back to the redirect URI
        (``redirect`` is that full URL): its ``state`` and ``iss`` are checked (RFC 9207),
        the code is exchanged with the PKCE verifier, then as ``receive``.

        Raises:
            AccessDenied (the person declined), InvalidRequest (a redirect that is not this
            request's), InvalidGrant (a used or expired code), and the errors of ``receive``.
        """
        return self._offers.finish(
            authorization, redirect, copies=copies, deferred_timeout=deferred_timeout
        )

    # -- presentation ------------------------------------------------------------------------

    def consider(self, request: Any) -> ConsentRequest:
        """Resolve and authenticate a presentation request and match it against the
        wallet: who asks, for what, why, and what is refused.

        ``request`` is an object with ``request_object`` (``verifier.PresentationRequest``),
        a signed request object (JAR) or an ``openid4vp://`` / https link (its
        ``request_uri`` is fetched).

        Raises:
            the errors of request resolution (``UntrustedVerifier`` for an unsigned request,
            ``InvalidRequest``, ``InvalidSignature``, ``Expired``, ``FetchError``, ...);
            NoMatchingCredential: nothing held answers every required part (``missing``
                names the Credential Queries).
        """
        resolved = self._resolver.resolve(request)
        consent = build_consent(
            resolved,
            self._holdings,
            self._trust,
            self.catalogue,
            policy=self.copy_policy,
            wallet=self._token,
            pseudonyms=self._pseudonyms,
        )
        self._log_consent(consent, resolved)
        return consent

    @overload
    def present(
        self, approval: Approval, *, post: Literal[False] = ...
    ) -> PresentationResponse: ...

    @overload
    def present(self, approval: Approval, *, post: Literal[True]) -> Submission: ...

    def present(
        self, approval: Approval, *, post: bool = False
    ) -> PresentationResponse | Submission:
        """Build the response to an approved request: a fresh copy per credential (used
        once by default), SD-JWT VC + KB-JWT or mdoc DeviceResponse, encrypted for
        ``direct_post.jwt``. With ``post``, send it to the response_uri (``submit``) once
        the spent copies are committed; ``on_running_low`` is called after the answer.

        Raises:
            PolicyViolation: the approval was presented already.
            Expired: the request expired meanwhile (no copy is used).
            NotFound: a credential has no copy left.
            ValueError: an approval made by another wallet.
        """
        if approval.wallet != self._token:
            raise ValueError("this approval was made by another wallet")
        exp = approval.request.request.exp
        if exp is not None and self.clock.now() > exp + CLOCK_SKEW:
            # No copy is spent on an answer the verifier must refuse (§5: exp of the JAR).
            raise Expired("the request expired before it was answered", exp=exp)
        # The copies are used and the presentation logged in one transaction (WL-30, WL-35);
        # once-only copies are deleted with their keys, so the WAL is truncated after it.
        # With ``post`` the response leaves once that commit is on disk (a crash cannot give
        # back a copy a verifier has seen) and travels while the WAL is truncated.
        response: PresentationResponse | None = None
        posting: Future[HttpResponse] | None = None

        def send() -> None:
            nonlocal posting
            assert response is not None
            posting = self._transport.ahead(self._post_response, response)

        with self.vault.transaction(
            wipes=self.copy_policy is CopyPolicy.ONCE, after_commit=send if post else None
        ):
            response = build_response(
                approval,
                self._holdings,
                self.vault.signer,
                policy=self.copy_policy,
                now=self.clock.now(),
                pseudonyms=self._pseudonyms,
            )
            self._log_presentation(approval)
        if posting is None:
            self._after_presentation(approval)
            return response
        try:
            answer = posting.result()
        finally:
            # The copy is spent whether or not the verifier got it; the caller's callback
            # runs once the request is over, so nothing is left running if it raises.
            self._after_presentation(approval)
        return self._answered(answer, follow_redirect=True)

    def decline(self, request: Any, *, description: str | None = None) -> Submission:
        """Answer a request with ``access_denied`` without a consent: when nothing matches
        (HOSTILE-CASES WL-10: the verifier cannot tell that from a refusal, ARF RPA_11) or
        the person leaves. The request is authenticated first; a forged one gets no answer.

        Raises:
            the errors of ``consider``'s request resolution, and those of ``submit``.
        """
        resolved = self._resolver.resolve(request)
        refusal = Refusal(resolved, resolved.request.state, error_description=description)
        return self.submit(refusal, follow_redirect=False)

    def submit(
        self, response: PresentationResponse | Refusal, *, follow_redirect: bool = True
    ) -> Submission:
        """POST a response (or a refusal) form-encoded to the request's response_uri
        (OpenID4VP 1.0 §8.2) and follow the ``redirect_uri`` it answers, if any.

        Raises:
            FetchError: the verifier is unreachable or redirects (never followed, WL-13).
            InvalidRequest (and other OAuth errors): the verifier refused the response.
        """
        if isinstance(response, Refusal):
            self._log_refusal(response.request, (), outcome="declined")
        return self._answered(self._post_response(response), follow_redirect=follow_redirect)

    def _post_response(self, response: PresentationResponse | Refusal) -> HttpResponse:
        # Runs on a request thread for present(post=True): HTTP only, never the vault.
        if isinstance(response, Refusal):
            url = response.request.response_uri
        else:
            url = response.response_uri
        return self._transport.post_form(
            url, response.to_form(), what="response_uri", max_bytes=_MAX_RESPONSE_ANSWER
        )

    def _answered(self, answer: HttpResponse, *, follow_redirect: bool) -> Submission:
        body = answer.json(max_size=_MAX_RESPONSE_ANSWER) if answer.body else {}
        redirect = body.get("redirect_uri") if isinstance(body, dict) else None
        if not isinstance(redirect, str):
            return Submission(answer.status)
        followed = None
        if follow_redirect:
            followed = self._transport.get(
                redirect, what="redirect_uri", max_bytes=_MAX_RESPONSE_ANSWER
            ).status
        return Submission(answer.status, redirect, followed)
