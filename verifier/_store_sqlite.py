"""``SqliteTransactionStore``: the verifier service's durable transaction store.

One row per transaction, one column per field (no JSON to parse on the hot path except the
encryption key and the result). "Answer once" is one statement, ``UPDATE ... WHERE status =
'pending' AND expires_at > ?``, so two responses racing for a transaction cannot both be
recorded, also across processes sharing the file (HOSTILE-CASES VS-07, VS-08). The same
statement erases the ephemeral private key.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from honnin.encoding import json_dumps, json_loads
from honnin.errors import StoreUnavailable

from ._store import Transaction, TransactionStatus

__all__ = ["SqliteTransactionStore"]

_SCHEMA_VERSION: Final = 2
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL UNIQUE,
    nonce TEXT NOT NULL UNIQUE,
    kid TEXT UNIQUE,
    client_id TEXT NOT NULL,
    response_uri TEXT NOT NULL,
    response_mode TEXT NOT NULL,
    dcql TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    request_object TEXT NOT NULL,
    encryption_key TEXT,
    enc_values TEXT NOT NULL,
    redirect_uri TEXT,
    request_uri_method TEXT,
    status TEXT NOT NULL,
    result TEXT,
    response_code TEXT,
    answered_at REAL,
    transaction_data TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS transactions_expiry ON transactions (expires_at);
"""
_COLUMNS: Final = (
    "id, request_id, state, nonce, kid, client_id, response_uri, response_mode, dcql, purpose,"
    " created_at, expires_at, request_object, encryption_key, enc_values, redirect_uri,"
    " request_uri_method, status, result, response_code, answered_at, transaction_data"
)
# Statements are assembled once, from the constants here only: never from input.
_INSERT: Final = f"INSERT INTO transactions ({_COLUMNS}) VALUES ({', '.join('?' * 22)})"  # noqa: S608
_LOOKUPS: Final = {
    column: f"SELECT {_COLUMNS} FROM transactions WHERE {column} = ?"  # noqa: S608
    for column in ("id", "request_id", "state", "kid")
}
_COMPLETE: Final = (
    "UPDATE transactions SET status = ?, result = ?, response_code = ?, answered_at = ?,"
    " encryption_key = NULL WHERE id = ? AND status = 'pending' AND expires_at > ?"
)


_REDEEM: Final = (
    "UPDATE transactions SET response_code = NULL"
    " WHERE id = ? AND response_code = ? AND status != 'pending'"
)


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


class SqliteTransactionStore:
    """A ``TransactionStore`` in one SQLite database (a file, or ``":memory:"``).

    A file database uses WAL journaling with ``synchronous=NORMAL``: a committed answer
    survives a crash of the process (HOSTILE-CASES §3.3 "kill -9 the verifier"). The file is
    created with mode 0600, since it holds ephemeral keys and, for a while, verified claims.
    One connection serves all threads behind a lock; SQLite serialises writers anyway.

    >>> store = SqliteTransactionStore("verifier.sqlite3")
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
        if version not in (0, 1, _SCHEMA_VERSION):
            raise ValueError(f"{target}: transaction store schema {version} is not supported")
        self._db.executescript(_SCHEMA)
        if version == 1:
            # Schema 2 adds the request's transaction_data strings (OpenID4VP 1.0 §5.1).
            self._db.execute(
                "ALTER TABLE transactions ADD COLUMN transaction_data TEXT NOT NULL DEFAULT ''"
            )
        self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def add(self, transaction: Transaction) -> None:
        t = transaction
        key = None if t.encryption_jwk is None else json_dumps(dict(t.encryption_jwk))
        row = (
            t.id, t.request_id, t.state, t.nonce, t.encryption_kid, t.client_id, t.response_uri,
            t.response_mode, t.dcql_json, t.purpose, t.created_at, t.expires_at,
            t.request_object, key, " ".join(t.enc_values), t.redirect_uri,
            t.request_uri_method, t.status.value, None, None, None,
            " ".join(t.transaction_data),
        )  # fmt: skip
        with _guarded(self._lock, "add"):
            self._db.execute(_INSERT, row)

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
        values = (status.value, json_dumps(dict(result)), response_code, at, transaction_id, at)
        with _guarded(self._lock, "complete"):
            return self._db.execute(_COMPLETE, values).rowcount == 1

    def redeem(self, transaction_id: str, response_code: str) -> bool:
        # The code is compared by SQLite's '=', not in constant time; it is 256 random bits
        # and single-use, so timing reveals nothing usable.
        with _guarded(self._lock, "redeem"):
            cursor = self._db.execute(_REDEEM, (transaction_id, response_code))
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
    (tid, request_id, state, nonce, kid, client_id, response_uri, response_mode, dcql, purpose,
     created, expires, request_object, key, enc_values, redirect_uri, method, status, result,
     code, answered, transaction_data) = row  # fmt: skip
    return Transaction(
        id=tid,
        request_id=request_id,
        state=state,
        nonce=nonce,
        client_id=client_id,
        response_uri=response_uri,
        response_mode=response_mode,
        dcql_json=dcql,
        purpose=purpose,
        created_at=created,
        expires_at=expires,
        request_object=request_object,
        encryption_kid=kid,
        encryption_jwk=None if key is None else json_loads(key),
        enc_values=tuple(enc_values.split()),
        redirect_uri=redirect_uri,
        request_uri_method=method,
        status=TransactionStatus(status),
        result=None if result is None else json_loads(result),
        response_code=code,
        answered_at=answered,
        transaction_data=tuple(transaction_data.split()),
    )
