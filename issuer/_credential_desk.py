"""Credential endpoint (OpenID4VCI 1.0 §8), Deferred Credential endpoint (§9) and
Notification endpoint (§11).

Order of checks in a credential request, each failure answered before anything is signed
or stored: the access token; the body (size, JSON, ``batch_size`` on the raw array, IS-16);
the configuration (known, and the one the token was issued for); the ``c_nonce`` named by
the proofs, consumed atomically whether the request then succeeds or not (HOSTILE-CASES
D1); every proof (App. F.4: ``typ``, algorithm, key, signature, ``aud``, ``iat``, nonce);
distinct holder keys. Only then are status indices allocated and copies signed.
"""

from __future__ import annotations

import logging
from typing import Any

from honnin.clock import Clock
from honnin.credential_types import CredentialType
from honnin.credentials import CredentialFormat
from honnin.errors import (
    CredentialRequestDenied,
    HonninError,
    InvalidCredentialRequest,
    InvalidNonce,
    InvalidNotificationId,
    InvalidNotificationRequest,
    InvalidProof,
    InvalidRequest,
    InvalidTransactionId,
    UnknownCredentialConfiguration,
)
from honnin.jose import parse_jws
from honnin.oid4vci import (
    CredentialResponse,
    VerifiedProof,
    parse_credential_request,
    parse_deferred_credential_request,
    parse_notification_request,
    verify_proof_jwt,
)

from ._codes import new_secret, secret_hash
from ._grants import Grant, GrantDesk, Presented
from ._issuance_store import DeferredRecord, IssuanceStore, OfferRecord
from ._issuer import Issuer
from ._metadata import IssuerMetadata
from ._settings import IssuerSettings

__all__ = ["CredentialDesk", "Reply"]

log = logging.getLogger("issuer")

Reply = tuple[int, dict[str, Any] | None]


def _claimed_nonce(proofs: tuple[str, ...]) -> str:
    """The one ``c_nonce`` all proofs name, read before verification (to consume it)."""
    nonces: set[Any] = set()
    for proof in proofs:
        try:
            nonces.add(parse_jws(proof).unverified_claims().get("nonce"))
        except HonninError as exc:
            raise InvalidProof(f"key proof rejected: {exc.message}", reason="malformed") from exc
    if None in nonces or len(nonces) != 1 or not isinstance(next(iter(nonces)), str):
        # §8.3.1.2 invalid_proof (3): a proof without the c_nonce; one request, one c_nonce.
        raise InvalidProof("every proof must carry the same c_nonce", reason="nonce")
    nonce: str = next(iter(nonces))
    return nonce


class CredentialDesk:
    """The credential-issuing half of the issuer service."""

    def __init__(
        self,
        issuer: Issuer,
        settings: IssuerSettings,
        metadata: IssuerMetadata,
        grants: GrantDesk,
        clock: Clock,
    ) -> None:
        self._issuer = issuer
        self._store: IssuanceStore = issuer.store
        self._settings = settings
        self._metadata = metadata
        self._grants = grants
        self._clock = clock
        self._deferred_types = frozenset(settings.deferred_types)

    def _configuration(
        self, grant: Grant, config_id: str
    ) -> tuple[CredentialType, CredentialFormat]:
        found = self._metadata.configurations.get(config_id)
        if found is None:
            raise UnknownCredentialConfiguration(
                "unknown credential_configuration_id", credential_configuration_id=config_id
            )
        if config_id != grant.offer.configuration_id:
            # The token authorizes the offered configuration only (IS-19).
            raise CredentialRequestDenied(
                "the access token was not issued for this credential configuration",
                credential_configuration_id=config_id,
            )
        return found

    def _verify_proofs(self, proofs: tuple[str, ...]) -> list[VerifiedProof]:
        nonce = _claimed_nonce(proofs)
        now = self._clock.now()
        if not self._store.consume_nonce(nonce, now):
            raise InvalidNonce("c_nonce unknown, used or expired; get a fresh one", reason="nonce")
        verified = [
            verify_proof_jwt(
                proof,
                audience=self._issuer.iss,
                now=now,
                expected_nonce=nonce,
                max_age=self._settings.proof_max_age,
                max_skew=self._settings.clock_skew,
            )
            for proof in proofs
        ]
        if len({proof.thumbprint for proof in verified}) != len(verified):
            # One key per copy, or the copies would be linkable (IS-17).
            raise InvalidProof("two proofs for the same key", reason="duplicate_key")
        return verified

    def _issued(self, offer: OfferRecord, config_id: str, jwks: list[dict[str, Any]]) -> Reply:
        credential_type, fmt = self._metadata.configurations[config_id]
        if not offer.claims:
            raise CredentialRequestDenied("the offer's claims are no longer held", reason="purged")
        batch, record = self._issuer.issue_batch(
            credential_type, offer.claims, fmt, jwks, offer_id=offer.offer_id, notification=True
        )
        log.info("issued %d x %s for offer %s", len(batch), config_id, offer.offer_id)
        # §8.3: one object per copy in ``credentials``, and the notification_id (§11.1).
        # Written directly: the values are our own, checked where they were made.
        return 200, {
            "credentials": [{"credential": credential} for credential in batch.credentials],
            "notification_id": record.notification_id,
        }

    def credential(self, presented: Presented, body: bytes) -> Reply:
        """Handle a Credential Request (§8.2) and answer 200 (§8.3) or 202 (deferred).

        Raises:
            InvalidToken, InvalidCredentialRequest, UnknownCredentialConfiguration,
            CredentialRequestDenied, InvalidNonce, InvalidProof, TooLarge, StoreUnavailable.
        """
        grant = self._grants.authorize(presented)
        request = parse_credential_request(body, max_proofs=self._settings.batch_size)
        if request.credential_configuration_id is None:
            # No credential_identifiers are handed out in the token response (§6.2).
            raise InvalidCredentialRequest(
                "use credential_configuration_id; no credential identifiers were issued"
            )
        if request.credential_response_encryption is not None:
            raise InvalidCredentialRequest(
                "credential response encryption is not offered (see the issuer metadata)"
            )
        config_id = request.credential_configuration_id
        credential_type, _ = self._configuration(grant, config_id)
        if request.proofs is None or request.proofs.jwt is None:
            # §8.2: proofs REQUIRED when proof_types_supported is present; only jwt is.
            raise InvalidProof("a 'jwt' key proof is required", reason="missing")
        verified = self._verify_proofs(request.proofs.jwt)
        jwks = [dict(proof.jwk) for proof in verified]
        if grant.offer.deferred or credential_type.id in self._deferred_types:
            return self._defer(grant.offer, config_id, jwks)
        return self._issued(grant.offer, config_id, jwks)

    def _defer(self, offer: OfferRecord, config_id: str, jwks: list[dict[str, Any]]) -> Reply:
        transaction_id = new_secret()
        now = self._clock.now()
        self._store.add_deferred(
            DeferredRecord(
                transaction_hash=secret_hash(transaction_id),
                offer_id=offer.offer_id,
                configuration_id=config_id,
                holder_jwks=tuple(jwks),
                created_at=now,
                expires_at=now + self._settings.deferred_lifetime,
            )
        )
        log.info("deferred %s for offer %s", config_id, offer.offer_id)
        body = CredentialResponse(
            transaction_id=transaction_id, interval=self._settings.deferred_interval
        )
        return 202, body.to_json()

    def deferred(self, presented: Presented, body: bytes) -> Reply:
        """Handle a Deferred Credential Request (§9.1): 200 with the credentials once
        approved (and then never again), 202 with the same ``transaction_id`` before.

        Raises:
            InvalidToken, InvalidCredentialRequest, InvalidTransactionId.
        """
        grant = self._grants.authorize(presented, allow_expired=True)
        request = parse_deferred_credential_request(body)
        if request.credential_response_encryption is not None:
            raise InvalidCredentialRequest("credential response encryption is not offered")
        transaction_hash = secret_hash(request.transaction_id)
        record = self._store.deferred(transaction_hash)
        now = self._clock.now()
        if record is None or record.offer_id != grant.offer.offer_id or record.expires_at <= now:
            raise InvalidTransactionId("unknown, delivered or expired transaction_id")
        if not record.approved:
            response = CredentialResponse(
                transaction_id=request.transaction_id, interval=self._settings.deferred_interval
            )
            return 202, response.to_json()
        taken = self._store.deliver_deferred(transaction_hash, now)
        if taken is None:
            # §9.3: the transaction_id is invalidated once the credential was delivered.
            raise InvalidTransactionId("the transaction was already delivered")
        return self._issued(
            grant.offer, taken.configuration_id, [dict(j) for j in taken.holder_jwks]
        )

    def notification(self, presented: Presented, body: bytes) -> Reply:
        """Record a Notification Request (§11.1); 204 on success.

        Raises:
            InvalidToken, InvalidNotificationRequest, InvalidNotificationId.
        """
        grant = self._grants.authorize(presented, allow_expired=True)
        try:
            request = parse_notification_request(body)
        except InvalidRequest as exc:
            raise InvalidNotificationRequest(exc.message) from exc
        recorded = self._store.record_notification(
            request.notification_id,
            request.event.value,
            request.event_description,
            self._clock.now(),
            offer_id=grant.offer.offer_id,
        )
        if not recorded:
            raise InvalidNotificationId("unknown notification_id")
        log.info("notification %s for offer %s", request.event.value, grant.offer.offer_id)
        return 204, None
