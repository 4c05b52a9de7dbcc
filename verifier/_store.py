"""Where a verifier keeps its OpenID4VP transactions: a small store Protocol and SQLite.

A transaction holds what the verifier must remember between the request and the response
(OpenID4VP 1.0 §8.2 implementation considerations): the ``state``, the ``nonce``, the signed
request object, the ephemeral response-encryption key and, once answered, the result.

"Answer once" is one atomic statement (``UPDATE ... WHERE status = 'pending'``), so two
responses racing for one transaction cannot both be accepted (HOSTILE-CASES VS-07, VS-08),
also across processes sharing the database file. The ephemeral private key is erased when
the transaction is answered: a response cannot be decrypted again afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from honnin.encoding import json_dumps, json_loads
from honnin.errors import Expired, ReplayDetected, StoreUnavailable

__all__ = [
    "SqliteTransactionStore",
    "Transaction",
    "TransactionStatus",
    "TransactionStore",
]

_SCHEMA_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL UNIQUE,
    nonce TEXT NOT NULL UNIQUE,
    kid TEXT UNIQUE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    encryption_key TEXT,
    result TEXT,
    response_code TEXT,
    answered_at REAL
);
CREATE INDEX IF NOT EXISTS transactions_expiry ON transactions (expires_at);
"""


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
    """

    id: str
    request_id: str
    state: str
    nonce: str
    client_id: str
    response_uri: str
    response_mode: str
    dcql_query: Mapping[str, Any]
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

    def _body(self) -> str:
        return json_dumps(
            {
                "client_id": self.client_id,
                "response_uri": self.response_uri,
                "response_mode": self.response_mode,
                "dcql_query": dict(self.dcql_query),
                "purpose": self.purpose,
                "request_object": self.request_object,
                "enc_values": list(self.enc_values),
                "redirect_uri": self.redirect_uri,
                "request_uri_method": self.request_uri_method,
            }
        )


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

    def purge(self, before: float) -> int:
        """Delete transactions that expired before ``before``; returns how many."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


@contextmanager
def _guarded(lock: threading.Lock, operation: str) -> Iterator[None]:
    with lock:
        try:
            yield
        except sqlite3.Error as exc:
            # A locked, full or broken database: nothing was recorded; the caller may retry.
            raise StoreUnavailable(
                f"transaction store: {operation} failed", operation=operation
            ) from exc


_SELECT: Final = (
    "SELECT id, request_id, state, nonce, kid, created_at, expires_at, status, body,"
    " encryption_key, result, response_code, answered_at FROM transactions WHERE "
)
_INSERT: Final = (
    "INSERT INTO transactions (id, request_id, state, nonce, kid, created_at, expires_at,"
    " status, body, encryption_key, result, response_code, answered_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
# One fixed statement per lookup column: no SQL is ever built from input.
_LOOKUPS: Final = {
    column: _SELECT + column + " = ?" for column in ("id", "request_id", "state", "kid")
}


class SqliteTransactionStore:
    """The default ``TransactionStore``: one SQLite database (a file, or ``":memory:"``).

    A file database uses WAL journaling with ``synchronous=NORMAL``: a committed answer
    survives a crash of the process (HOSTILE-CASES §3.3 "kill -9 the verifier"). The file is
    created with mode 0600, since it holds ephemeral keys and, for a while, verified claims.
    One connection serves all threads behind a lock; SQLite serialises writers anyway.

    >>> store = SqliteTransactionStore(":memory:")
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        target = os.fspath(path)
        if target != ":memory:":
            file = Path(target)
            file.parent.mkdir(parents=True, exist_ok=True)
            if not file.exists():
                os.close(os.open(file, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout = 5000")
        if target != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION):
            raise ValueError(f"{target}: transaction store schema {version} is not supported")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def add(self, transaction: Transaction) -> None:
        t = transaction
        key = None if t.encryption_jwk is None else json_dumps(dict(t.encryption_jwk))
        with _guarded(self._lock, "add"):
            self._db.execute(
                _INSERT,
                (
                    t.id, t.request_id, t.state, t.nonce, t.encryption_kid, t.created_at,
                    t.expires_at, t.status.value, t._body(), key, None, None, None,
                ),
            )  # fmt: skip

    def get(self, transaction_id: str) -> Transaction | None:
        return self._one("id", transaction_id)

    def find(
        self, *, request_id: str | None = None, state: str | None = None, kid: str | None = None
    ) -> Transaction | None:
        given = [(c, v) for c, v in (("request_id", request_id), ("state", state), ("kid", kid))]
        chosen = [(c, v) for c, v in given if v is not None]
        if len(chosen) != 1:
            raise TypeError("find() takes exactly one of request_id, state or kid")
        return self._one(*chosen[0])

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
        with _guarded(self._lock, "complete"):
            cursor = self._db.execute(
                "UPDATE transactions SET status = ?, result = ?, response_code = ?,"
                " answered_at = ?, encryption_key = NULL"
                " WHERE id = ? AND status = 'pending' AND expires_at > ?",
                (status.value, json_dumps(dict(result)), response_code, at, transaction_id, at),
            )
            return cursor.rowcount == 1

    def purge(self, before: float) -> int:
        with _guarded(self._lock, "purge"):
            cursor = self._db.execute("DELETE FROM transactions WHERE expires_at < ?", (before,))
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, column: str, value: str) -> Transaction | None:
        with _guarded(self._lock, "read"):
            row = self._db.execute(_LOOKUPS[column], (value,)).fetchone()
        return None if row is None else _from_row(row)

    def __repr__(self) -> str:
        return "SqliteTransactionStore()"


def _from_row(row: tuple[Any, ...]) -> Transaction:
    (tid, request_id, state, nonce, kid, created, expires, status, body, key, result, code,
     answered) = row  # fmt: skip
    data = json_loads(body)
    return Transaction(
        id=tid,
        request_id=request_id,
        state=state,
        nonce=nonce,
        client_id=data["client_id"],
        response_uri=data["response_uri"],
        response_mode=data["response_mode"],
        dcql_query=data["dcql_query"],
        purpose=data["purpose"],
        created_at=created,
        expires_at=expires,
        request_object=data["request_object"],
        encryption_kid=kid,
        encryption_jwk=None if key is None else json_loads(key),
        enc_values=tuple(data["enc_values"]),
        redirect_uri=data["redirect_uri"],
        request_uri_method=data.get("request_uri_method"),
        status=TransactionStatus(status),
        result=None if result is None else json_loads(result),
        response_code=code,
        answered_at=answered,
    )
