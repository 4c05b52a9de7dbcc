"""The OpenID4VCI 1.0 wallet client: pre-authorized code flow with batch issuance.

Offer (§4.1, by value or by reference) → Credential Issuer Metadata (§12.2, the identifier
must match exactly; signed metadata, §12.2.3, asked for when the wallet has a trust
configuration) → issuer trust pre-check from the signed metadata's chain, or else from JWT VC
Issuer Metadata, *before* the Transaction Code is asked for (§13.6.2; HOSTILE-CASES WL-16) →
Token Request with the pre-authorized code and tx_code (§6.1), with a DPoP proof when the
server takes ES256 ones (RFC 9449 §5: the token is then bound to a key made for this issuance
and every later request carries a proof from it) → ``c_nonce`` (§7) → N binding
keys drafted in the vault (in memory) and N ``jwt`` proofs signed through its ``Signer``
(App. F.1) → Credential Request (§8.2) → each copy verified (issuer trust, the
configuration's type, bound to one of the keys just proven; at most one copy per proof,
SECURITY-CHECKLIST C14) and stored with its key in one transaction; keys no stored copy is
bound to are forgotten → Notification (§11), sent once the copies are stored and not waited
for: ``Receipt.notified`` waits for its answer when asked. A deferred answer (§9) is polled
at the issuer's ``interval``. Requests whose answers do not depend on each other go out
together (``OfferClient.receive``): three round trips fewer on a slow network.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from cryptography import x509

from honnin.credential_types import Catalogue
from honnin.encoding import b64url_encode, json_dumps
from honnin.errors import (
    FetchError,
    HonninError,
    InvalidNonce,
    InvalidRequest,
    IssuancePending,
    MalformedInput,
    UnknownCredentialConfiguration,
    UnknownCredentialType,
    UnsupportedCredentialFormat,
    UnsupportedGrantType,
)
from honnin.http import error_from_oauth_response
from honnin.jose import JwsAlgorithm, UnverifiedJws, verify_jws
from honnin.limits import MAX_CREDENTIAL_BODY, MAX_TOKEN_BODY
from honnin.oauth import (
    ATTEST_JWT_CLIENT_AUTH,
    AuthorizationServerMetadata,
    ClientAttestation,
    parse_form,
    parse_message,
    well_known_url,
)
from honnin.oid4vci import (
    AUTHORIZATION_CODE_GRANT,
    OPENID_CREDENTIAL,
    PRE_AUTHORIZED_CODE_GRANT,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    CredentialOffer,
    NotificationEvent,
    TxCode,
    authorization_server_metadata_url,
    credential_issuer_metadata_url,
    parse_credential_issuer_metadata,
    parse_credential_offer,
    parse_credential_offer_uri,
    parse_credential_response,
    parse_token_response,
    parse_unverified_signed_metadata,
)
from honnin.trust import VerifiedChain, certificates_from_x5c, check_issuer_identifier

from ._dpop import DpopKey
from ._holdings import HeldCredential
from ._signer import Signer
from ._signing import build_proof
from ._transport import Transport
from ._trust import WalletTrust

__all__ = ["Authorization", "OfferClient", "Receipt", "TxCodeSource"]

#: Where a copy count is not given and the issuer has no batch issuance: one copy.
_METADATA_LIMIT: Final = 1024 * 1024
#: §12.2.2: signed metadata preferred, JSON accepted.
_SIGNED_OR_JSON: Final = "application/jwt, application/json;q=0.9"
_ES256: Final = frozenset({JwsAlgorithm.ES256})
_RESPONSE_LIMIT: Final = 16 * MAX_CREDENTIAL_BODY
_FORMATS: Final = ("dc+sd-jwt", "mso_mdoc")
#: RFC 6750 §4 and RFC 9449 §5 token types, lower-case.
_BEARER_TOKEN: Final = "bearer"  # noqa: S105 - a token type name, not a secret
_DPOP_TOKEN: Final = "dpop"  # noqa: S105 - a token type name, not a secret

#: A Transaction Code, or a callback that asks the person for it (shown the offer's hints).
TxCodeSource = str | Callable[[TxCode], str] | None


@dataclass(frozen=True)
class Receipt:
    """What ``Wallet.receive`` stored: one credential per offered configuration, and which
    notifications the issuer acknowledged (§11)."""

    credentials: tuple[HeldCredential, ...]
    credential_issuer: str
    issuer_name: str | None
    #: The access token was DPoP-bound (RFC 9449): useless to anyone without the
    #: issuance's own key, which the wallet made for it and never stored.
    sender_constrained: bool = False
    #: Each stored credential's id with its notification, still on its way or answered.
    _notifications: tuple[tuple[str, Future[bool]], ...] = field(
        default=(), repr=False, compare=False
    )

    @property
    def notified(self) -> tuple[str, ...]:
        """The ids of the credentials whose ``credential_accepted`` notification the issuer
        acknowledged (§11). ``receive`` returns once the copies are stored; the notification
        goes out meanwhile, and this waits for its answer (at most the fetcher's timeout)."""
        return tuple(credential_id for credential_id, sent in self._notifications if sent.result())


#: An offer ready for its grant: the offer, the issuer metadata, the offered configurations
#: and the authorization server's metadata on its way (with the host it was asked from).
_Prepared = tuple[
    CredentialOffer,
    CredentialIssuerMetadata,
    list[tuple[str, CredentialConfiguration]],
    tuple[str, Future[AuthorizationServerMetadata]],
]


@dataclass(frozen=True)
class Authorization:
    """An authorization code flow in progress (OpenID4VCI 1.0 §3.4, §5): open ``url`` in
    the person's browser; the issuer sends it back to ``redirect_uri`` with a code, and
    ``Wallet.finish_authorization(authorization, that_url)`` gets the credentials.

    Holds the PKCE verifier and the ``state`` of this one request: keep it in memory only,
    for the few minutes the person needs.
    """

    url: str
    redirect_uri: str
    credential_issuer: str
    _prepared: _Prepared = field(repr=False, compare=False)
    _server: AuthorizationServerMetadata = field(repr=False, compare=False)
    _client_id: str = field(repr=False)
    _state: str = field(repr=False)
    _verifier: str = field(repr=False)
    _dpop: DpopKey | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Session:
    offer: CredentialOffer
    metadata: CredentialIssuerMetadata
    access_token: str = field(repr=False)
    #: The key the access token is bound to (RFC 9449), or None for a bearer token.
    dpop: DpopKey | None = None


#: Verifies and stores copies bound to the given keys; returns the credential and the keys used.
StoreCopies = Callable[
    [Sequence[str], frozenset[str], CredentialConfiguration],
    tuple[HeldCredential, frozenset[str]],
]


class OfferClient:
    """Runs one wallet's OpenID4VCI exchanges (see the module docstring)."""

    def __init__(
        self,
        transport: Transport,
        trust: WalletTrust,
        catalogue: Catalogue,
        *,
        now: Callable[[], float],
        sleep: Callable[[float], None],
        new_keys: Callable[[int], list[Signer]],
        destroy_key: Callable[[str], None],
        store: StoreCopies,
        client_attestation: ClientAttestation | None = None,
    ) -> None:
        self._http = transport
        self._trust = trust
        self._catalogue = catalogue
        self._now = now
        self._sleep = sleep
        self._new_keys = new_keys
        self._destroy_key = destroy_key
        self._store = store
        self._attestation = client_attestation

    # -- the offer ---------------------------------------------------------------------------

    def resolve_offer(self, offer: Any) -> CredentialOffer:
        """The Credential Offer behind a scanned string, deep link or https URL (§4.1).

        Raises:
            InvalidRequest: not an offer (or a non-https reference); FetchError.
        """
        text = getattr(offer, "uri", offer)
        if not isinstance(text, str):
            raise TypeError("receive() takes an offer link (str) or an object with .uri")
        text = text.strip()
        if text.startswith("{"):
            return parse_credential_offer(text)
        if "credential_offer" not in text and text.startswith(("https://", "http://")):
            link_uri: str | None = text  # the offer document's own URL
        else:
            link = parse_credential_offer_uri(
                text, allow_loopback_http=self._http.allow_loopback_http
            )
            if link.offer is not None:
                return link.offer
            link_uri = link.offer_uri
        assert link_uri is not None
        document = self._http.get_json(link_uri, what="credential_offer_uri", max_bytes=65536)
        return parse_credential_offer(document)

    def _metadata(
        self, offer: CredentialOffer
    ) -> tuple[CredentialIssuerMetadata, UnverifiedJws | None]:
        """The issuer metadata, and the signed metadata's JWS when the issuer sent that
        (§12.2.3; not yet verified: ``_pre_check_trust`` does it before anything is used)."""
        issuer = self._http.check(offer.credential_issuer, "credential_issuer")
        url = credential_issuer_metadata_url(issuer)
        if not self._trust.configured:
            raw = self._http.get_json(url, what="issuer metadata", max_bytes=_METADATA_LIMIT)
            # §12.2.4: the identifier in the metadata must be the one it was fetched for.
            return parse_credential_issuer_metadata(raw, credential_issuer=issuer), None
        # §12.2.2: Accept says the wallet takes signed metadata; it can check the signer
        # against its trust configuration (§12.2.3: it MUST establish trust in the signer).
        answer = self._http.get_document(
            url, accept=_SIGNED_OR_JSON, what="issuer metadata", max_bytes=_METADATA_LIMIT
        )
        if answer.content_type != "application/jwt":
            raw = self._http.json(answer, _METADATA_LIMIT)
            return parse_credential_issuer_metadata(raw, credential_issuer=issuer), None
        try:
            token = answer.body.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedInput("signed metadata is not a compact JWS") from exc
        # Checks typ, sub (the identifier fetched for), iat and the metadata itself.
        jws, metadata = parse_unverified_signed_metadata(token, credential_issuer=issuer)
        return metadata, jws

    def _configurations(
        self, offer: CredentialOffer, metadata: CredentialIssuerMetadata
    ) -> list[tuple[str, CredentialConfiguration]]:
        out = []
        for config_id in offer.credential_configuration_ids:
            config = metadata.configuration(config_id)
            if config is None:
                raise UnknownCredentialConfiguration(
                    "the offer names a configuration the issuer metadata does not have",
                    credential_configuration_id=config_id,
                )
            if config.format not in _FORMATS:
                raise UnsupportedCredentialFormat(
                    f"format {config.format!r} is not supported by this wallet",
                    format=config.format,
                )
            type_value = config.vct or config.doctype or ""
            if self._catalogue.find(type_value) is None:
                raise UnknownCredentialType(
                    f"{type_value!r} is not in the credential type catalogue",
                    credential_type=type_value,
                )
            out.append((config_id, config))
        return out

    def _issuer_keys(self, issuer: str) -> Any:
        """JWT VC Issuer Metadata (SD-JWT VC §4), or ``None`` when the issuer has none."""
        try:
            return self._http.get_json(
                well_known_url(issuer, "jwt-vc-issuer"), what="jwt-vc-issuer", max_bytes=65536
            )
        except FetchError:
            return None

    def _pre_check_trust(
        self,
        metadata: CredentialIssuerMetadata,
        configs: Sequence[CredentialConfiguration],
        signed: UnverifiedJws | None,
        key_document: Any,
    ) -> None:
        """WL-16: an issuer the trust configuration rejects is refused before the person is
        asked for a Transaction Code. The issuer's chain comes from its signed metadata
        (§12.2.3), whose signature is then verified with the chain's leaf; without signed
        metadata, from JWT VC Issuer Metadata (SD-JWT VC §4, ``key_document``) with
        its ``x5c``; without either, the copies themselves decide."""
        if not self._trust.configured:
            return
        if signed is not None:
            chain = self._trusted(
                certificates_from_x5c(signed.header.get("x5c")), metadata, configs
            )
            # J3: a signature, never a MAC or none (OpenID4VCI §12.2.3).
            verify_jws(signed, chain.public_key, allowed=_ES256)  # type: ignore[arg-type]
            return
        jwks = key_document.get("jwks") if isinstance(key_document, dict) else None
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        chains = [k.get("x5c") for k in keys or () if isinstance(k, dict) and k.get("x5c")]
        if chains:
            self._trusted(certificates_from_x5c(chains[0]), metadata, configs)

    def _trusted(
        self,
        chain: Sequence[x509.Certificate],
        metadata: CredentialIssuerMetadata,
        configs: Sequence[CredentialConfiguration],
    ) -> VerifiedChain:
        """The validated ``chain``, entitled to every configuration's type and naming the
        metadata's issuer (SD-JWT VC §3.5 identifier rules)."""
        at = datetime.fromtimestamp(self._now(), tz=UTC)
        verified = None
        for config in configs:
            type_value = config.vct or config.doctype or ""
            found = self._catalogue.find(type_value)
            names = [found.id, type_value] if found is not None else [type_value]
            decision = self._trust.issuer(chain, names, at=at)
            check_issuer_identifier(decision.chain, metadata.credential_issuer)
            verified = decision.chain
        if verified is None:
            raise InvalidRequest("the offer names no credential configuration")
        return verified

    def _authorization_server_metadata(self, server: str) -> AuthorizationServerMetadata:
        raw = self._http.get_json(
            authorization_server_metadata_url(server),
            what="authorization server metadata",
            max_bytes=_METADATA_LIMIT,
        )
        metadata = parse_message(AuthorizationServerMetadata, raw)
        if metadata.issuer != server:
            # RFC 8414 §3.3: metadata for another issuer than the one asked MUST NOT be used.
            raise InvalidRequest(
                "the authorization server metadata names another issuer (RFC 8414 §3.3)"
            )
        return metadata

    def _server(
        self,
        named: str | None,
        metadata: CredentialIssuerMetadata,
        fetched: tuple[str, Future[AuthorizationServerMetadata]],
    ) -> AuthorizationServerMetadata:
        """The authorization server of an offer's grant (``named`` by it, else the issuer
        metadata's first, else the issuer itself; §4.1.1, §12.2.4)."""
        if named is not None and named not in (metadata.authorization_servers or ()):
            # §4.1.1: the offer's authorization_server MUST be one of the metadata's
            # authorization_servers; otherwise an offer could send the code anywhere.
            raise InvalidRequest(
                "the offer names an authorization server the issuer metadata does not list (§4.1.1)"
            )
        server = named or (metadata.authorization_servers or (None,))[0]
        server = server or metadata.credential_issuer
        guessed, ahead = fetched
        return ahead.result() if server == guessed else self._authorization_server_metadata(server)

    def _token(
        self,
        offer: CredentialOffer,
        metadata: CredentialIssuerMetadata,
        tx: TxCodeSource,
        fetched: tuple[str, Future[AuthorizationServerMetadata]],
    ) -> tuple[str, DpopKey | None]:
        grant = offer.pre_authorized_code
        if grant is None:
            raise UnsupportedGrantType(
                "the offer has an authorization_code grant: use Wallet.authorize (§3.4)",
                grant_type="authorization_code",
            )
        authorization_server = self._server(grant.authorization_server, metadata, fetched)
        form = {"grant_type": PRE_AUTHORIZED_CODE_GRANT}
        form["pre-authorized_code"] = grant.pre_authorized_code
        if grant.tx_code is not None:
            # §4.1.1: tx_code present (even empty) means the code must be sent; ask for it
            # only now, after the issuer was checked (§13.6.2).
            code = tx(grant.tx_code) if callable(tx) else tx
            if not isinstance(code, str) or not code:
                raise InvalidRequest("the offer needs a transaction code (tx_code)")
            form["tx_code"] = code
        return self._exchange(authorization_server, form)

    def _client_auth(
        self, authorization_server: AuthorizationServerMetadata
    ) -> Callable[[], dict[str, str]] | None:
        """The wallet attestation's headers for each request to ``authorization_server``
        (a fresh PoP every time), when it takes ``attest_jwt_client_auth``."""
        attestation = self._attestation
        methods = authorization_server.token_endpoint_auth_methods_supported or ()
        if attestation is None or ATTEST_JWT_CLIENT_AUTH not in methods:
            return None
        audience = str(authorization_server.issuer)
        return lambda: attestation.headers(audience, self._now())

    def _dpop_key(self, authorization_server: AuthorizationServerMetadata) -> DpopKey | None:
        # RFC 9449 §5: a server that takes DPoP proofs gets one, and binds the token to a
        # key made for this issuance only.
        algorithms = authorization_server.dpop_signing_alg_values_supported or ()
        return DpopKey(self._now) if "ES256" in algorithms else None

    def _exchange(
        self,
        authorization_server: AuthorizationServerMetadata,
        form: dict[str, str],
        dpop: DpopKey | None = None,
    ) -> tuple[str, DpopKey | None]:
        """A token request (§6.1); the access token and the DPoP key it is bound to (``dpop``
        when the code is already bound to one, else a new key when the server takes DPoP)."""
        if authorization_server.token_endpoint is None:
            raise InvalidRequest("the authorization server has no token endpoint")
        dpop = dpop or self._dpop_key(authorization_server)
        client_auth = self._client_auth(authorization_server)
        if client_auth is not None and self._attestation is not None:
            form.setdefault("client_id", self._attestation.client_id)
        answer = self._http.post_form(
            str(authorization_server.token_endpoint), form, what="token endpoint",
            max_bytes=MAX_TOKEN_BODY, dpop=dpop, client_auth=client_auth,
        )  # fmt: skip
        response = parse_token_response(answer.body)
        kind = response.token_type.lower()  # RFC 6749 §5.1: case-insensitive
        if kind == _DPOP_TOKEN and dpop is not None:
            return response.access_token, dpop
        if kind == _BEARER_TOKEN:
            # RFC 9449 §5: a server may still answer a bearer token; it is sent as one.
            return response.access_token, None
        raise InvalidRequest(
            f"the token endpoint answered a token_type this wallet cannot use: {kind!r}"
        )

    # -- credentials -------------------------------------------------------------------------

    def _nonce(self, metadata: CredentialIssuerMetadata) -> str | None:
        if metadata.nonce_endpoint is None:
            return None
        answer = self._http.post_form(
            str(metadata.nonce_endpoint), {}, what="nonce endpoint", max_bytes=MAX_TOKEN_BODY
        )
        value = answer.json(max_size=MAX_TOKEN_BODY)
        nonce = value.get("c_nonce") if isinstance(value, dict) else None
        if not isinstance(nonce, str) or not nonce:
            raise InvalidRequest("the nonce endpoint answered no c_nonce (§7.2)")
        return nonce

    def _request(
        self,
        session: _Session,
        config_id: str,
        signers: Sequence[Signer],
        nonce_ahead: Future[str | None] | None,
    ) -> tuple[int, Any]:
        metadata = session.metadata
        for attempt in (1, 2):
            if attempt == 1 and nonce_ahead is not None:
                nonce = nonce_ahead.result()
            else:
                nonce = self._nonce(metadata)
            proofs = [
                build_proof(s, audience=metadata.credential_issuer, nonce=nonce, now=self._now())
                for s in signers
            ]
            body = {"credential_configuration_id": config_id, "proofs": {"jwt": proofs}}
            try:
                return self._http.post_json(
                    str(metadata.credential_endpoint), body, what="credential endpoint",
                    max_bytes=_RESPONSE_LIMIT, token=session.access_token, dpop=session.dpop,
                )  # fmt: skip
            except InvalidNonce:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _deferred(
        self, session: _Session, transaction_id: str, interval: float, timeout: float
    ) -> Any:
        endpoint = session.metadata.deferred_credential_endpoint
        if endpoint is None:
            raise InvalidRequest("a deferred answer from an issuer without a deferred endpoint")
        waited = 0.0
        while True:
            if waited + interval > timeout:
                raise IssuancePending(
                    "the issuer has not issued the credential yet; try again later",
                    interval=interval,
                )
            self._sleep(interval)  # §9.2: wait at least `interval` seconds between requests
            waited += interval
            _, answer = self._http.post_json(
                str(endpoint), {"transaction_id": transaction_id}, what="deferred endpoint",
                max_bytes=_RESPONSE_LIMIT, token=session.access_token, dpop=session.dpop,
            )  # fmt: skip
            response = parse_credential_response(answer)
            if not response.deferred:
                return answer
            interval = float(response.interval or interval)

    def _notify(
        self, session: _Session, notification_id: str | None, event: NotificationEvent
    ) -> bool:
        endpoint = session.metadata.notification_endpoint
        if endpoint is None or notification_id is None:
            return False
        body = {"notification_id": notification_id, "event": event.value}
        try:
            self._http.post_json(
                str(endpoint), body, what="notification endpoint", max_bytes=MAX_TOKEN_BODY,
                token=session.access_token, dpop=session.dpop,
            )  # fmt: skip
        except HonninError:
            # §11: notifications inform the issuer; the wallet's outcome stands either way.
            return False
        return True

    def _notify_behind(self, session: _Session, notification_id: str | None) -> Future[bool]:
        if session.metadata.notification_endpoint is None or notification_id is None:
            done: Future[bool] = Future()
            done.set_result(False)
            return done
        return self._http.behind(
            self._notify, session, notification_id, NotificationEvent.CREDENTIAL_ACCEPTED
        )

    def _issue_one(
        self,
        session: _Session,
        config_id: str,
        config: CredentialConfiguration,
        copies: int | None,
        deferred_timeout: float,
        nonce_ahead: Future[str | None] | None = None,
    ) -> tuple[HeldCredential, Future[bool]]:
        batch = session.metadata.batch_credential_issuance
        count = copies or (batch.batch_size if batch is not None else 1)
        if batch is not None:
            count = min(count, batch.batch_size)
        signers = self._new_keys(count)
        keys = frozenset(s.key_id for s in signers)
        used: frozenset[str] = frozenset()
        try:
            _, answer = self._request(session, config_id, signers, nonce_ahead)
            response = parse_credential_response(answer)
            if response.deferred:
                assert response.transaction_id is not None
                answer = self._deferred(
                    session, response.transaction_id, float(response.interval or 5),
                    deferred_timeout,
                )  # fmt: skip
                response = parse_credential_response(answer)
            credentials = [c.credential for c in response.credentials or ()]
            try:
                if not all(isinstance(c, str) for c in credentials):
                    raise InvalidRequest("a credential in the response is not a string (App. A)")
                stored, used = self._store(credentials, keys, config)  # type: ignore[arg-type]
            except HonninError:
                self._notify(
                    session, response.notification_id, NotificationEvent.CREDENTIAL_FAILURE
                )
                raise
            # The copies are stored: the person has the credential whatever the issuer
            # answers (§11 notifications inform the issuer), so nothing waits for it here.
            notified = self._notify_behind(session, response.notification_id)
            return stored, notified
        finally:
            # Keys no stored copy is bound to are never used again (ARF WIAM_21).
            for key_id in keys - used:
                self._destroy_key(key_id)

    def receive(
        self,
        offer: Any,
        *,
        tx_code: TxCodeSource,
        copies: int | None,
        deferred_timeout: float,
    ) -> Receipt:
        """Run the whole exchange for every configuration of ``offer``.

        Requests that do not depend on each other's answers go out together, from a small
        thread pool: the authorization server's metadata with the issuer metadata (both
        depend only on the offer), the first ``c_nonce`` with the token request (§7: the
        nonce endpoint needs no token). The issuer's key document is asked for only when
        its metadata came unsigned, once that is known. The order of the
        checks is unchanged: nothing is sent with the Transaction Code before the trust
        pre-check, and every answer is checked before it is used.
        """
        prepared = self._prepare(self.resolve_offer(offer))
        document, metadata, configs, fetched = prepared
        nonce: Future[str | None] | None = self._http.ahead(self._nonce, metadata)
        token, dpop = self._token(document, metadata, tx_code, fetched)
        return self._issue_all(
            _Session(document, metadata, token, dpop), configs, copies, deferred_timeout, nonce
        )

    def authorize(self, offer: Any, *, redirect_uri: str, client_id: str | None) -> Authorization:
        """Start the authorization code flow of an offer with an ``authorization_code``
        grant (§3.4): the trust pre-check as for ``receive``, then a pushed authorization
        request (RFC 9126) with the offer's ``issuer_state``, a PKCE S256 challenge
        (RFC 7636) and a fresh ``state``; the returned ``url`` is for the person's browser.

        Raises:
            UnsupportedGrantType: the offer has no authorization code grant.
            InvalidRequest: an authorization server without a pushed request endpoint, an
                authorization endpoint, or PKCE S256; the errors of ``receive``'s checks.
        """
        document = self.resolve_offer(offer)
        grant = document.grants.authorization_code if document.grants else None
        if grant is None or grant.issuer_state is None:
            raise UnsupportedGrantType(
                "the offer has no authorization_code grant with an issuer_state",
                grant_type="authorization_code",
            )
        prepared = self._prepare(document)
        _, metadata, configs, fetched = prepared
        server = self._server(grant.authorization_server, metadata, fetched)
        par = server.pushed_authorization_request_endpoint
        if par is None or server.authorization_endpoint is None:
            raise InvalidRequest(
                "the authorization server has no pushed authorization request endpoint "
                "(RFC 9126) or no authorization endpoint"
            )
        if "S256" not in (server.code_challenge_methods_supported or ()):
            raise InvalidRequest("the authorization server does not support PKCE S256")
        if client_id is None:
            # The attestation names the client (its sub); a client without one is public.
            client_id = self._attestation.client_id if self._attestation else "honnin-wallet"
        verifier = secrets.token_urlsafe(48)  # RFC 7636 §4.1: 64 characters
        state = secrets.token_urlsafe(24)
        details = [
            {"type": OPENID_CREDENTIAL, "credential_configuration_id": config_id}
            for config_id, _ in configs
        ]
        form = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
            "state": state,
            "issuer_state": grant.issuer_state,
            "authorization_details": json_dumps(details),
        }
        # RFC 9449 §10.1: a DPoP proof with the pushed request binds the code to the key the
        # token will be bound to; a stolen code is useless without it.
        dpop = self._dpop_key(server)
        answer = self._http.post_form(
            str(par), form, what="pushed authorization request endpoint",
            max_bytes=MAX_TOKEN_BODY, dpop=dpop, client_auth=self._client_auth(server),
        )  # fmt: skip
        pushed = self._http.json(answer, MAX_TOKEN_BODY)
        request_uri = pushed.get("request_uri") if isinstance(pushed, dict) else None
        if not isinstance(request_uri, str) or not request_uri:
            raise InvalidRequest("the pushed request was answered without a request_uri")
        query = urlencode({"client_id": client_id, "request_uri": request_uri})
        endpoint = self._http.check(str(server.authorization_endpoint), "authorization endpoint")
        separator = "&" if urlsplit(endpoint).query else "?"
        return Authorization(
            endpoint + separator + query, redirect_uri, metadata.credential_issuer,
            prepared, server, client_id, state, verifier, dpop,
        )  # fmt: skip

    def finish(
        self,
        authorization: Authorization,
        redirect: str,
        *,
        copies: int | None,
        deferred_timeout: float,
    ) -> Receipt:
        """Complete an authorization code flow from the URL the person's browser was sent
        back to: checks it (RFC 9207 ``iss``, ``state``), redeems the code with the PKCE
        verifier, then receives the credentials as ``receive`` does.

        Raises:
            AccessDenied: the person (or the issuer) declined.
            InvalidRequest: the URL is not the redirect URI's, or its ``state`` or ``iss``
                is not this request's (a mix-up or a forged redirect), or it has no code.
            InvalidGrant and the errors of ``receive``.
        """
        params = _redirect_params(authorization.redirect_uri, redirect)
        server = authorization._server
        iss = params.get("iss")
        if iss is None and server.authorization_response_iss_parameter_supported:
            raise InvalidRequest("the authorization response has no iss (RFC 9207 §2.4)")
        if iss is not None and iss != server.issuer:
            # RFC 9207 §2.4: the response of another authorization server (mix-up).
            raise InvalidRequest("the authorization response is from another issuer (iss)")
        if not hmac.compare_digest(params.get("state", ""), authorization._state):
            raise InvalidRequest("the authorization response's state is not this request's")
        error = params.get("error")
        if error is not None:
            raise error_from_oauth_response(400, {"error": error, **(
                {"error_description": params["error_description"]}
                if "error_description" in params else {}
            )})  # fmt: skip
        code = params.get("code")
        if not code:
            raise InvalidRequest("the authorization response has no code")
        form = {
            "grant_type": AUTHORIZATION_CODE_GRANT,
            "code": code,
            "redirect_uri": authorization.redirect_uri,
            "code_verifier": authorization._verifier,
            "client_id": authorization._client_id,
        }
        document, metadata, configs, _ = authorization._prepared
        nonce: Future[str | None] | None = self._http.ahead(self._nonce, metadata)
        token, dpop = self._exchange(server, form, authorization._dpop)
        return self._issue_all(
            _Session(document, metadata, token, dpop), configs, copies, deferred_timeout, nonce
        )

    def _prepare(self, document: CredentialOffer) -> _Prepared:
        """The issuer metadata, the offered configurations and the trust pre-check of an
        offer; its authorization server's metadata on its way."""
        issuer = self._http.check(document.credential_issuer, "credential_issuer")
        # Usually the issuer is its own authorization server (§12.2.4): its metadata is asked
        # ahead. Another server, named by the offer or the metadata, is asked by _server,
        # after the trust pre-check: no third host hears from the wallet for an untrusted offer.
        server = self._http.ahead(self._authorization_server_metadata, issuer)
        metadata, signed = self._metadata(document)
        configs = self._configurations(document, metadata)
        keys = None
        if self._trust.configured and signed is None:
            # No signed metadata: the issuer's chain comes from its key document.
            keys = self._issuer_keys(issuer)
        self._pre_check_trust(metadata, [c for _, c in configs], signed, keys)
        return document, metadata, configs, (issuer, server)

    def _issue_all(
        self,
        session: _Session,
        configs: Sequence[tuple[str, CredentialConfiguration]],
        copies: int | None,
        deferred_timeout: float,
        nonce: Future[str | None] | None,
    ) -> Receipt:
        metadata = session.metadata
        held: list[HeldCredential] = []
        notifications: list[tuple[str, Future[bool]]] = []
        for config_id, config in configs:
            credential, notified = self._issue_one(
                session, config_id, config, copies, deferred_timeout, nonce
            )
            nonce = None  # a c_nonce is used once: the next configuration asks again
            held.append(credential)
            notifications.append((credential.id, notified))
        names = [d.name for d in metadata.display or () if d.name]
        return Receipt(
            tuple(held),
            metadata.credential_issuer,
            names[0] if names else None,
            session.dpop is not None,
            tuple(notifications),
        )


def _s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def _redirect_params(expected: str, redirect: str) -> dict[str, str]:
    """The query of an authorization response at ``expected`` (RFC 6749 §4.1.2), each
    parameter once.

    Raises:
        InvalidRequest: another scheme, host, port or path than the redirect URI, or a
            repeated parameter.
    """
    want, got = urlsplit(expected), urlsplit(redirect)
    if (want.scheme.lower(), want.netloc.lower(), want.path) != (
        got.scheme.lower(),
        got.netloc.lower(),
        got.path,
    ):
        raise InvalidRequest("the authorization response is not at this request's redirect_uri")
    return parse_form(got.query, max_size=16 * 1024)
