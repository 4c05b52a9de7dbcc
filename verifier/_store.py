"""Where a verifier keeps its OpenID4VP transactions: the store Protocol and a memory store.

A transaction holds what the verifier must remember between the request and the response
(OpenID4VP 1.0 §8.2 implementation considerations): the ``state``, the ``nonce``, the signed
request object, the ephemeral response-encryption key and, once answered, the result.

"Answer once" is one atomic statement (``UPDATE ... WHERE status = 'pending'``), so two
responses racing for one transaction cannot both be accepted (HOSTILE-CASES VS-07, VS-08),
also across processes sharing the database file. The ephemeral private key is erased when
the transaction is answered: a response cannot be decrypted again afterwards.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from honnin.encoding import json_loads
from honnin.errors import Expired, ReplayDetected

__all__ = [
    "MemoryTransactionStore",
    "Transaction",
    "TransactionStatus",
    "TransactionStore",
]


class TransactionStatus(StrEnum):
    """Where a transaction stands."""

    #: Waiting for the wallet's response; the request object can be fetched.
    PENDING = "pending"
    #: A response arrived and verified: the result holds the verified claims.
    VERIFIED = "verified"
    #: A response arrived and was rejected, or the wallet answered with an error.
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One presentation request and, once answered, its outcome.

    ``id`` is the back office's handle (never shown to the wallet); ``request_id`` is the
    public part of ``request_uri``; ``state`` and ``nonce`` travel in the request object.
    ``encryption_jwk`` is the ephemeral private key for ``direct_post.jwt`` (kept out of
    ``repr``); it is ``None`` for unencrypted modes and after the transaction is answered.
    ``transaction_data`` are the request's ``transaction_data`` strings exactly as sent
    (OpenID4VP 1.0 §5.1), from which the response's hashes are recomputed (App. B.3.3).
    """

    id: str
    request_id: str
    state: str
    nonce: str
    client_id: str
    response_uri: str
    response_mode: str
    dcql_json: str
    purpose: str
    created_at: float
    expires_at: float
    request_object: str = field(repr=False)
    encryption_kid: str | None = None
    encryption_jwk: Mapping[str, Any] | None = field(default=None, repr=False)
    enc_values: tuple[str, ...] = ()
    redirect_uri: str | None = None
    request_uri_method: str | None = None
    status: TransactionStatus = TransactionStatus.PENDING
    result: Mapping[str, Any] | None = field(default=None, repr=False)
    response_code: str | None = field(default=None, repr=False)
    answered_at: float | None = None
    transaction_data: tuple[str, ...] = ()

    def is_expired(self, now: float) -> bool:
        """Whether the transaction can no longer be answered at ``now``."""
        return now >= self.expires_at

    def ensure_open(self, now: float) -> None:
        """Raise unless the transaction can still be answered at ``now``.

        Raises:
            ReplayDetected: answered already (a state / nonce is answered once).
            Expired: past ``expires_at``.
        """
        if self.status is not TransactionStatus.PENDING:
            raise ReplayDetected("this transaction was answered already", reason="answered")
        if self.is_expired(now):
            raise Expired("the transaction has expired", reason="transaction_expired")

    @property
    def dcql_query(self) -> dict[str, Any]:
        """The DCQL query of the request (parsed from ``dcql_json``)."""
        parsed: dict[str, Any] = json_loads(self.dcql_json)
        return parsed


@runtime_checkable
class TransactionStore(Protocol):
    """Storage for transactions. Implementations must make ``complete`` atomic."""

    def add(self, transaction: Transaction) -> None:
        """Store a new pending transaction (ids, state, nonce and kid are unique)."""
        ...

    def get(self, transaction_id: str) -> Transaction | None:
        """The transaction with this back-office id, or ``None``."""
        ...

    def find(
        self, *, request_id: str | None = None, state: str | None = None, kid: str | None = None
    ) -> Transaction | None:
        """The transaction with this request id, ``state`` or encryption ``kid``."""
        ...

    def complete(
        self,
        transaction_id: str,
        *,
        status: TransactionStatus,
        result: Mapping[str, Any],
        response_code: str | None,
        at: float,
    ) -> bool:
        """Record the outcome if, and only if, the transaction is still pending and not
        expired at ``at``; erase its encryption key. Returns whether this call recorded it."""
        ...

    def redeem(self, transaction_id: str, response_code: str) -> bool:
        """Use up the same-device ``response_code`` (§13.3, HOSTILE-CASES VS-30): true only
        for the first call with the right code."""
        ...

    def purge(self, before: float) -> int:
        """Delete transactions that expired before ``before``; returns how many."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


class MemoryTransactionStore:
    """Transactions in a dictionary behind a lock: for a verifier used in one process.

    Nothing survives the process (like SQLite ``":memory:"``, at a fraction of the cost);
    the HTTP service uses ``SqliteTransactionStore``. Expired transactions are purged on
    ``add`` once the store holds more than ``max_transactions``. Completing a transaction
    records its outcome beside it; the answered view is built only when asked for.
    """

    def __init__(self, max_transactions: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Transaction] = {}
        self._answered: dict[str, tuple[TransactionStatus, Mapping[str, Any], str | None, float]]
        self._answered = {}
        self._index: dict[tuple[str, str], str] = {}
        self._max = max_transactions

    def add(self, transaction: Transaction) -> None:
        keys = [("request_id", transaction.request_id), ("state", transaction.state),
                ("nonce", transaction.nonce)]  # fmt: skip
        if transaction.encryption_kid is not None:
            keys.append(("kid", transaction.encryption_kid))
        with self._lock:
            if transaction.id in self._pending or any(k in self._index for k in keys):
                raise ValueError("a transaction with these identifiers exists already")
            if len(self._pending) >= self._max:
                self._purge(min(t.expires_at for t in self._pending.values()) + 1)
            self._pending[transaction.id] = transaction
            for key in keys:
                self._index[key] = transaction.id

    def get(self, transaction_id: str) -> Transaction | None:
        found = self._pending.get(transaction_id)
        outcome = self._answered.get(transaction_id)
        if found is None or outcome is None:
            return found
        status, result, code, at = outcome
        return replace(
            found, status=status, result=result, response_code=code, answered_at=at,
            encryption_jwk=None,
        )  # fmt: skip

    def find(
        self, *, request_id: str | None = None, state: str | None = None, kid: str | None = None
    ) -> Transaction | None:
        if (request_id is None) + (state is None) + (kid is None) != 2:
            raise TypeError("find() takes exactly one of request_id, state or kid")
        if state is not None:
            found = self._index.get(("state", state))
        elif kid is not None:
            found = self._index.get(("kid", kid))
        else:
            found = self._index.get(("request_id", request_id))  # type: ignore[arg-type]
        return None if found is None else self.get(found)

    def complete(
        self,
        transaction_id: str,
        *,
        status: TransactionStatus,
        result: Mapping[str, Any],
        response_code: str | None,
        at: float,
    ) -> bool:
        if status is TransactionStatus.PENDING:
            raise ValueError("a transaction is completed as VERIFIED or REJECTED")
        with self._lock:
            current = self._pending.get(transaction_id)
            if current is None or transaction_id in self._answered or current.is_expired(at):
                return False
            self._answered[transaction_id] = (status, result, response_code, at)
            if current.encryption_jwk is not None:
                # The ephemeral private key is not kept once the transaction is answered.
                self._pending[transaction_id] = replace(current, encryption_jwk=None)
            return True

    def redeem(self, transaction_id: str, response_code: str) -> bool:
        with self._lock:
            outcome = self._answered.get(transaction_id)
            if outcome is None or outcome[2] is None:
                return False
            if not hmac.compare_digest(outcome[2].encode(), response_code.encode()):
                return False
            self._answered[transaction_id] = (outcome[0], outcome[1], None, outcome[3])
            return True

    def purge(self, before: float) -> int:
        with self._lock:
            return self._purge(before)

    def _purge(self, before: float) -> int:
        gone = {t.id for t in self._pending.values() if t.expires_at < before}
        for tid in gone:
            del self._pending[tid]
            self._answered.pop(tid, None)
        if gone:
            self._index = {k: v for k, v in self._index.items() if v not in gone}
        return len(gone)

    def close(self) -> None:
        with self._lock:
            self._pending.clear()
            self._answered.clear()
            self._index.clear()

    def __repr__(self) -> str:
        return f"MemoryTransactionStore({len(self._pending)} transactions)"
