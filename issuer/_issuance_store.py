"""The issuance state behind one small interface: offers, codes, tokens, nonces, issuances.

The OpenID4VCI service and the back office speak only to ``IssuanceStore``; SQLite
(``SqliteIssuanceStore``) is the default, and a PostgreSQL store can implement the same
Protocol without touching the service. Every single-use secret is consumed by one
conditional update whose row count says whether this caller won (OpenID4VCI 1.0 §13.6.3
single-use codes; HOSTILE-CASES D1 single-use ``c_nonce``), so two concurrent requests can
never both succeed. (Status list indices live in the status store, ``issuer._store``.)

Secrets never reach the store in clear: codes, tokens and transaction ids are stored as
hashes (``issuer._codes``); the claims of an offer are kept until its access tokens expire
and then purged (OpenID4VCI 1.0 §15: issuers SHOULD NOT keep personal data longer than
needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from honnin.credentials import CredentialFormat

__all__ = [
    "AccessTokenRecord",
    "CodeState",
    "DeferredRecord",
    "IssuanceRecord",
    "IssuanceStore",
    "NotificationRecord",
    "OfferRecord",
    "StatusPlace",
]


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """A credential offer made by the back office for one person.

    ``code_hash`` is the hash of the pre-authorized code; ``tx_code_hash`` the HMAC of the
    transaction code under that code (``None`` when no ``tx_code`` was asked for).
    """

    offer_id: str
    credential_type: str
    configuration_id: str
    format: CredentialFormat
    claims: Mapping[str, Any] = field(repr=False)
    code_hash: str = field(repr=False)
    tx_code_hash: str | None = field(repr=False)
    created_at: float
    code_expires_at: float
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class CodeState:
    """A pre-authorized code and its counters, as the token endpoint sees it."""

    offer: OfferRecord
    attempts: int
    used: bool
    void: bool


@dataclass(frozen=True, slots=True)
class AccessTokenRecord:
    """An access token bound to one offer (RFC 6749 §1.4), stored by hash; ``dpop_jkt`` is
    the thumbprint of the key a DPoP-bound token is bound to (RFC 9449 §6), else None."""

    offer_id: str
    expires_at: float
    dpop_jkt: str | None = None


@dataclass(frozen=True, slots=True)
class StatusPlace:
    """Where one copy's status lives: the status list id and the index in it."""

    list_id: str
    index: int


@dataclass(frozen=True, slots=True)
class IssuanceRecord:
    """What the issuer remembers of a batch: never the credentials, only where each copy's
    status lives (draft-ietf-oauth-status-list §13.2) and how to reach the batch again."""

    batch_id: str
    credential_type: str
    format: CredentialFormat
    status: tuple[StatusPlace, ...]
    issued_at: float
    offer_id: str | None = None
    notification_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeferredRecord:
    """A credential request accepted for later issuance (OpenID4VCI 1.0 §9)."""

    transaction_hash: str = field(repr=False)
    offer_id: str
    configuration_id: str
    holder_jwks: tuple[Mapping[str, Any], ...]
    created_at: float
    expires_at: float
    approved: bool = False


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A wallet's notification about a batch (OpenID4VCI 1.0 §11)."""

    notification_id: str
    batch_id: str
    event: str
    description: str | None
    received_at: float


@runtime_checkable
class IssuanceStore(Protocol):
    """Persistence for the OpenID4VCI issuer service; every method is atomic on its own.

    Implementations raise ``honnin.errors.StoreUnavailable`` when they cannot read or write.
    """

    # -- offers and pre-authorized codes -------------------------------------------------
    def add_offer(self, offer: OfferRecord, *, ref_hash: str | None, sealed: bytes | None) -> None:
        """Store an offer; ``sealed`` is the encrypted by-reference offer document."""
        ...

    def offer(self, offer_id: str) -> OfferRecord | None:
        """The offer with this id, or ``None``."""
        ...

    def sealed_offer(self, ref_hash: str) -> tuple[bytes, float] | None:
        """The sealed offer document for a by-reference id, and its code's expiry."""
        ...

    def code_state(self, code_hash: str) -> CodeState | None:
        """The offer and counters behind a pre-authorized code hash, or ``None``."""
        ...

    def fail_tx_code(self, code_hash: str, max_attempts: int) -> int:
        """Count a wrong ``tx_code``; void the code at ``max_attempts``; the new count."""
        ...

    def redeem_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used iff it is unused, not void and not expired (one winner)."""
        ...

    # -- access tokens and nonces --------------------------------------------------------
    def add_access_token(self, token_hash: str, record: AccessTokenRecord) -> None:
        """Store an access token hash."""
        ...

    def access_token(self, token_hash: str) -> AccessTokenRecord | None:
        """The access token record for this hash, or ``None``."""
        ...

    def add_nonce(self, nonce: str, expires_at: float) -> None:
        """Store a fresh ``c_nonce``."""
        ...

    def consume_nonce(self, nonce: str, now: float) -> bool:
        """Use up ``nonce`` iff it is known, unused and unexpired (one winner)."""
        ...

    # -- issuances, deferred transactions, notifications ---------------------------------
    def record_issuance(self, record: IssuanceRecord) -> None:
        """Remember a batch (status places, notification id)."""
        ...

    def issuance(self, batch_id: str) -> IssuanceRecord | None:
        """The batch with this id, or ``None``."""
        ...

    def issuances(self, offer_id: str | None = None) -> list[IssuanceRecord]:
        """Every batch, or those issued for ``offer_id``."""
        ...

    def batch_of(self, list_id: str, index: int) -> str | None:
        """The batch whose copy holds status ``index`` in ``list_id``, or ``None``."""
        ...

    def add_deferred(self, record: DeferredRecord) -> None:
        """Store a deferred transaction."""
        ...

    def deferred(self, transaction_hash: str) -> DeferredRecord | None:
        """The undelivered deferred transaction for this hash, or ``None``."""
        ...

    def pending_deferred(self) -> list[DeferredRecord]:
        """Deferred transactions not yet approved."""
        ...

    def approve_deferred(self, offer_id: str) -> int:
        """Approve the pending transactions of an offer; how many were approved."""
        ...

    def deliver_deferred(self, transaction_hash: str, now: float) -> DeferredRecord | None:
        """Take an approved, unexpired transaction for delivery (one winner), or ``None``."""
        ...

    def record_notification(
        self,
        notification_id: str,
        event: str,
        description: str | None,
        now: float,
        *,
        offer_id: str | None = None,
    ) -> bool:
        """Record an event for a notification id (of ``offer_id``'s batches when given);
        ``False`` when there is no such batch."""
        ...

    def notifications(self, batch_id: str | None = None) -> list[NotificationRecord]:
        """Recorded notifications, optionally for one batch."""
        ...

    # -- housekeeping --------------------------------------------------------------------
    def purge(self, now: float, *, claims_grace: float) -> int:
        """Drop expired nonces, tokens and transactions; forget the claims of offers whose
        code expired more than ``claims_grace`` seconds ago and that wait for no deferred
        delivery. Returns the number of rows changed."""
        ...

    def sync(self) -> None:
        """Make every change committed so far durable (a power cut keeps it); a no-op for
        a store whose every commit is durable already."""
        ...

    def close(self) -> None:
        """Release the underlying resources."""
        ...
