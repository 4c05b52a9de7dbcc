"""The ``Verifier`` role: ask for credentials (OpenID4VP 1.0 requests) and verify answers.

The happy path (DESIGN.md)::

    agency = Verifier.create("Hello Work", trust=[employer.certificate])
    request = agency.request(Query.of("withholding-slip", "payment_amount", "withholding_tax"),
                             purpose="unemployment benefit application")
    result = agency.verify(wallet.present(wallet.consider(request).approve()))
    result["payment_amount"]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from honnin.clock import Clock, SystemClock
from honnin.credential_types import Catalogue
from honnin.dcql import dcql_query_json
from honnin.errors import NotFound
from honnin.http import HttpxFetcher
from honnin.identifiers import new_identifier
from honnin.jose import parse_jws
from honnin.oid4vp import TransactionData
from honnin.ports import Fetcher
from honnin.status import StatusChecker
from honnin.trust import TrustList, san_dns_names

from ._catalogue import claim_label, default_catalogue
from ._identity import X509_SAN_DNS, VerifierIdentity
from ._presentations import PresentationVerifier
from ._query import Query
from ._receive import Outcome, ResponseProcessor
from ._registrations import Registrations
from ._request import (
    DIRECT_POST,
    DIRECT_POST_JWT,
    PresentationRequest,
    new_encryption_key,
    random_token,
    request_claims,
    sign_request,
)
from ._result import RecordedResult, VerificationResult
from ._status import status_checker_for
from ._store import MemoryTransactionStore, Transaction, TransactionStore
from ._transaction_data import encode_for_request
from ._trust import IssuerTrust

__all__ = ["Verifier"]

DEFAULT_HOST: Final = "verifier.honnin.example"
#: How long a request can be fetched and answered by default (seconds).
DEFAULT_LIFETIME: Final = 300


class Verifier:
    """A verifier (relying party): its signing identity, whom it trusts, its transactions.

    Build with ``Verifier.create`` (a generated key and test-PKI certificate) or
    ``Verifier.load`` (your own key and chain). Thread-safe; share one per process.
    ``close()`` (or ``with``) releases its transaction store and the HTTP client it made
    for status lists; a ``fetcher`` or ``status_checker`` you pass stays yours to close.
    """

    def __init__(
        self,
        identity: VerifierIdentity,
        trust: TrustList | Iterable[x509.Certificate],
        *,
        store: TransactionStore | None = None,
        clock: Clock | None = None,
        status_checker: StatusChecker | None = None,
        fetcher: Fetcher | None = None,
        base_url: str | None = None,
        transaction_lifetime: int = DEFAULT_LIFETIME,
        catalogue: Catalogue | None = None,
        registrations: Iterable[str] = (),
    ) -> None:
        self.identity = identity
        self.clock: Clock = clock or SystemClock()
        self.trust = IssuerTrust(trust)
        self.catalogue = catalogue or default_catalogue()
        self.store: TransactionStore = store or MemoryTransactionStore()
        self.base_url = (base_url or f"https://{_host_of(identity)}").rstrip("/")
        self.transaction_lifetime = transaction_lifetime
        #: Registrations signed by a registrar, one per purpose (spec/PROFILE.md): each
        #: request carries the one for its purpose and never asks beyond it (VS-37).
        self.registrations = Registrations(
            registrations,
            client_id=identity.client_id,
            now=self.clock.now(),
            catalogue=self.catalogue,
            restricted=trust.restricted_claims if isinstance(trust, TrustList) else None,
        )
        #: The status-list HTTP client made here (closed by ``close``), if any.
        self._own_fetcher: HttpxFetcher | None = None
        checker = status_checker
        if checker is None:
            if fetcher is None:
                fetcher = self._own_fetcher = HttpxFetcher()
            checker = status_checker_for(self.trust, fetcher, self.clock)
        #: True when the status checker is the one made here, which stops rather than
        #: fetch in ``_status.no_status_fetch`` (the service then verifies on its loop).
        self.verifies_on_loop = status_checker is None
        self._presentations = PresentationVerifier(self.trust, self.catalogue, checker)
        self._processor = ResponseProcessor(
            self.store, self._presentations, self.clock, self.catalogue, self._label
        )

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        name: str,
        *,
        trust: TrustList | Iterable[x509.Certificate],
        client_id_host: str = DEFAULT_HOST,
        client_id_prefix: str = X509_SAN_DNS,
        **options: Any,
    ) -> Verifier:
        """A verifier with a fresh P-256 key and a test-PKI access certificate whose dNSName
        SAN is ``client_id_host`` (client_id ``x509_san_dns:<host>``, or ``x509_hash:...``).

        ``trust`` is a ``TrustList`` (entitlements apply) or bare certificates (each an anchor
        entitled to every credential type, a convenience for development). ``options``:
        ``store``, ``clock``, ``status_checker``, ``fetcher``, ``base_url``,
        ``transaction_lifetime``, ``catalogue``, ``registrations`` (registration JWTs a
        registrar signed for this client_id, one per purpose; spec/PROFILE.md).

        >>> agency = Verifier.create("Hello Work", trust=[employer.certificate])
        """
        clock = options.get("clock") or SystemClock()
        identity = VerifierIdentity.generate(
            name, client_id_host, prefix=client_id_prefix, clock=clock
        )
        return cls(identity, trust, **{**options, "clock": clock})

    @classmethod
    def load(
        cls,
        name: str,
        *,
        key: ec.EllipticCurvePrivateKey | bytes | str | Path,
        chain: Iterable[x509.Certificate] | bytes | str | Path,
        trust: TrustList | Iterable[x509.Certificate],
        client_id_prefix: str = X509_SAN_DNS,
        client_id_host: str | None = None,
        **options: Any,
    ) -> Verifier:
        """A verifier with your own P-256 key and certificate chain (leaf first, no anchor).

        Raises:
            MalformedInput / UnsupportedAlgorithm: unusable key or chain.
        """
        chain_arg = chain if isinstance(chain, bytes | str | Path) else tuple(chain)
        identity = VerifierIdentity.load(
            name, key, chain_arg, prefix=client_id_prefix, host=client_id_host
        )
        return cls(identity, trust, **options)

    # -- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The verifier's display name (``client_metadata.client_name``)."""
        return self.identity.name

    def close(self) -> None:
        """Close the transaction store and the status-list HTTP client made for this verifier.

        Idempotent. A ``fetcher`` or ``status_checker`` given to the constructor is not
        closed: its owner closes it.
        """
        self.store.close()
        own, self._own_fetcher = self._own_fetcher, None
        if own is not None:
            own.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def client_id(self) -> str:
        """The full Client Identifier, prefix included (OpenID4VP 1.0 §5.9)."""
        return self.identity.client_id

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate wallets should trust for this verifier: the test PKI's access CA
        for ``create``, else the leaf."""
        return self.identity.anchor or self.identity.certificate

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        query: Query,
        *,
        purpose: str,
        response_mode: str = DIRECT_POST_JWT,
        response_uri: str | None = None,
        request_uri_base: str | None = None,
        request_uri_method: str | None = None,
        redirect_uri: str | None = None,
        lifetime: int | None = None,
        transaction_data: Sequence[TransactionData | Mapping[str, Any]] | None = None,
    ) -> PresentationRequest:
        """Create a transaction and its signed request object (OpenID4VP 1.0 §5).

        ``request_uri_base`` makes the request available by reference at
        ``<base>/<request id>`` (the HTTP service passes it); ``redirect_uri`` asks for the
        same-device redirect with a fresh ``response_code`` (§8.2, §13.3).

        With ``registrations``, the registration for ``purpose`` is sent in
        ``verifier_info`` (spec/PROFILE.md "Verifier registrations").

        ``transaction_data`` (OpenID4VP 1.0 §5.1, §8.4): items the person authorizes with a
        holder-bound SD-JWT VC; the response verifies only when the KB-JWT of the credential
        each names carries their hashes (App. B.3.3).

        Raises:
            InvalidDcqlQuery: the query does not make a valid DCQL query.
            InvalidRequest: a transaction data item is malformed, names an id not in the
                query or a query that is not a holder-bound dc+sd-jwt one
                (``error`` ``invalid_transaction_data``).
            PolicyViolation: this verifier holds registrations but none for ``purpose``, or
                the query asks beyond it (HOSTILE-CASES VS-37: refused before any wallet
                sees it).
        """
        if response_mode not in (DIRECT_POST, DIRECT_POST_JWT):
            raise ValueError(f"response_mode must be {DIRECT_POST!r} or {DIRECT_POST_JWT!r}")
        if not purpose or not purpose.strip():
            raise ValueError("a purpose is required: the wallet shows it to the person")
        dcql = query.to_dcql(purpose=purpose)
        encoded = () if transaction_data is None else encode_for_request(transaction_data, dcql)
        now = self.clock.now()
        registration = self.registrations.for_request(dcql, purpose, now)
        expires_at = now + (lifetime or self.transaction_lifetime)
        private_jwk, public_jwk = (
            new_encryption_key() if response_mode == DIRECT_POST_JWT else (None, None)
        )
        nonce, state = random_token(), random_token()
        target = response_uri or f"{self.base_url}/response"
        claims = request_claims(
            self.identity,
            dcql_query=dcql,
            purpose=purpose,
            nonce=nonce,
            state=state,
            response_mode=response_mode,
            response_uri=target,
            encryption_jwk=public_jwk,
            iat=math.floor(now),
            exp=math.floor(expires_at),
            registration=registration,
            transaction_data=encoded,
        )
        request_object = sign_request(self.identity, claims)
        transaction = Transaction(
            id=new_identifier(32),
            request_id=random_token(24),
            state=state,
            nonce=nonce,
            client_id=self.client_id,
            response_uri=target,
            response_mode=response_mode,
            dcql_json=dcql_query_json(dcql),
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
            request_object=request_object,
            encryption_kid=None if public_jwk is None else public_jwk["kid"],
            encryption_jwk=private_jwk,
            enc_values=() if public_jwk is None else tuple(claims["client_metadata"][
                "encrypted_response_enc_values_supported"]),
            redirect_uri=redirect_uri,
            request_uri_method=request_uri_method,
            transaction_data=encoded,
        )  # fmt: skip
        self.store.add(transaction)
        request_uri = None
        if request_uri_base is not None:
            request_uri = f"{request_uri_base.rstrip('/')}/{transaction.request_id}"
        return PresentationRequest(
            transaction_id=transaction.id,
            request_object=request_object,
            client_id=self.client_id,
            state=state,
            nonce=nonce,
            response_mode=response_mode,
            response_uri=target,
            expires_at=expires_at,
            dcql_query=dcql,
            purpose=purpose,
            request_uri=request_uri,
            request_uri_method=request_uri_method,
            transaction_data=encoded,
        )

    def request_object(self, request_id: str, *, wallet_nonce: str | None = None) -> str:
        """The signed request object for ``request_uri`` ``request_id``, served again until
        the transaction is answered or expires (HOSTILE-CASES D2). With ``wallet_nonce``
        (``request_uri_method=post``, §5.10) it is re-signed with that value included.

        Raises:
            NotFound: unknown, answered or expired (the same answer for each, VS-02).
        """
        transaction = self.store.find(request_id=request_id)
        now = self.clock.now()
        if transaction is None or transaction.status != "pending" or transaction.is_expired(now):
            raise NotFound("no such request", request_id="<hidden>")
        if wallet_nonce is None:
            return transaction.request_object
        claims = parse_jws(transaction.request_object).unverified_claims()
        claims["wallet_nonce"] = wallet_nonce
        return sign_request(self.identity, claims)

    # -- responses ---------------------------------------------------------------------------

    def verify(self, response: Any) -> VerificationResult:
        """Verify a wallet's authorization response (OpenID4VP 1.0 §8.6).

        ``response`` is an ``AuthorizationResponse``-like object (``vp_token``, ``state``,
        or the ``direct_post.jwt`` ``response``) or the posted form as a mapping.

        Returns a result; ``verified`` is false when a presentation failed or the query is
        not satisfied, with per-credential ``errors`` (nothing of it is passed on).

        Raises:
            NotFound: no transaction for the ``state`` / encryption key.
            ReplayDetected: the transaction was answered already.
            Expired: the transaction expired.
            DecryptionFailed / UnsupportedAlgorithm: a ``direct_post.jwt`` that does not
                decrypt with the transaction's key under the advertised algorithms.
            InvalidRequest: a response that breaks §8 (plain response when encryption was
                asked for, state of another transaction, malformed vp_token).
        """
        return self.receive(response).result

    def receive(self, response: Any) -> Outcome:
        """``verify``, also returning the transaction and the same-device redirect."""
        return self._processor.process(response)

    def result(self, transaction_id: str) -> VerificationResult | None:
        """The stored result of ``transaction_id``; ``None`` while it is pending.

        Raises:
            NotFound: no such transaction.
        """
        transaction = self.store.get(transaction_id)
        if transaction is None:
            raise NotFound("no such transaction")
        return self.result_of(transaction)

    def result_of(self, transaction: Transaction) -> VerificationResult | None:
        """The result stored in ``transaction`` (read from ``store``); ``None`` while it is
        pending."""
        if transaction.result is None:
            return None
        if isinstance(transaction.result, RecordedResult):
            return transaction.result.result
        return VerificationResult.from_json(transaction.result, labels=self._label)

    def _label(self, type_id: str, key: str, language: str) -> str | None:
        return claim_label(self.catalogue, type_id, key, language)

    def __repr__(self) -> str:
        return f"Verifier(name={self.name!r}, client_id={self.client_id!r})"


def _host_of(identity: VerifierIdentity) -> str:
    if identity.prefix == X509_SAN_DNS:
        return identity.client_id.split(":", 1)[1]
    names = san_dns_names(identity.certificate)
    return names[0] if names else DEFAULT_HOST
