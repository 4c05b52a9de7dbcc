"""SQLite implementation of ``IssuanceStore`` (the default; WAL, one connection, a lock).

Single-use consumption is one ``UPDATE ... WHERE used = 0 ...`` whose row count says who
won, so it stays atomic across threads and across processes sharing the file.

Commits use ``synchronous=NORMAL`` (WAL): durable against a crash of the process at once,
against a power cut once ``sync`` (one fsync of the log, ``issuer._wal``) has run after
them. The service syncs before it answers a credential request, for every answer waiting
at once; offers, codes, tokens and fresh nonces are not synced one by one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from honnin.credentials import CredentialFormat
from honnin.encoding import json_dumps, json_loads
from honnin.errors import StoreUnavailable

from ._issuance_schema import (
    DEFERRED_ANY,
    DEFERRED_PENDING,
    DEFERRED_UNDELIVERED,
    ISSUANCE_BY_ID,
    ISSUANCES,
    MIGRATE_1_TO_2,
    NOTIFICATIONS,
    OFFER_BY_CODE,
    OFFER_BY_ID,
    OFFER_INSERT,
    SCHEMA,
    SCHEMA_VERSION,
)
from ._issuance_store import (
    AccessTokenRecord,
    CodeState,
    DeferredRecord,
    IssuanceRecord,
    NotificationRecord,
    OfferRecord,
    StatusPlace,
)
from ._wal import WalSync

__all__ = ["SqliteIssuanceStore"]


class SqliteIssuanceStore:
    """The issuer's state in one SQLite file (``":memory:"`` keeps it in this process only).

    A file store survives restarts: a voided code stays void and a used nonce stays used
    (HOSTILE-CASES IS-27, IS-35). The file is created with mode 0600.

    Raises:
        StoreUnavailable: the database cannot be opened, read or written.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:" and not os.path.exists(self.path):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a process crash (IS-35); only power loss may
            # drop the last transactions, never corrupt the file, unless ``sync`` ran after
            # them (the service syncs before it answers a credential request).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(access_tokens)")}
            if "dpop_jkt" not in columns:
                self._db.execute(MIGRATE_1_TO_2)
            self._db.execute("PRAGMA user_version=" + str(int(SCHEMA_VERSION)))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the issuer store {self.path!r}: {exc}") from exc
        self._wal = WalSync(self.path)

    def __repr__(self) -> str:
        return f"SqliteIssuanceStore({self.path!r})"

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            try:
                yield self._db.cursor()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"issuer store error: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._cursor() as cur:
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    # -- offers and pre-authorized codes -------------------------------------------------
    def add_offer(self, offer: OfferRecord, *, ref_hash: str | None, sealed: bytes | None) -> None:
        with self._cursor() as cur:
            cur.execute(
                OFFER_INSERT,
                (
                    offer.offer_id,
                    offer.credential_type,
                    offer.configuration_id,
                    offer.format.value,
                    json_dumps(dict(offer.claims)),
                    offer.code_hash,
                    offer.tx_code_hash,
                    offer.created_at,
                    offer.code_expires_at,
                    int(offer.deferred),
                    ref_hash,
                    sealed,
                ),
            )

    @staticmethod
    def _offer(row: tuple[Any, ...]) -> OfferRecord:
        return OfferRecord(
            offer_id=row[0],
            credential_type=row[1],
            configuration_id=row[2],
            format=CredentialFormat(row[3]),
            claims=json_loads(row[4]) if row[4] is not None else {},
            code_hash=row[5],
            tx_code_hash=row[6],
            created_at=row[7],
            code_expires_at=row[8],
            deferred=bool(row[9]),
        )

    def offer(self, offer_id: str) -> OfferRecord | None:
        with self._cursor() as cur:
            row = cur.execute(OFFER_BY_ID, (offer_id,)).fetchone()
        return None if row is None else self._offer(row)

    def sealed_offer(self, ref_hash: str) -> tuple[bytes, float] | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT sealed, code_expires_at FROM offers WHERE ref_hash = ?", (ref_hash,)
            ).fetchone()
        return None if row is None or row[0] is None else (bytes(row[0]), float(row[1]))

    def code_state(self, code_hash: str) -> CodeState | None:
        with self._cursor() as cur:
            row = cur.execute(OFFER_BY_CODE, (code_hash,)).fetchone()
        if row is None:
            return None
        return CodeState(self._offer(row), int(row[10]), bool(row[11]), bool(row[12]))

    def fail_tx_code(self, code_hash: str, max_attempts: int) -> int:
        with self._cursor() as cur:
            # One statement: concurrent wrong guesses cannot both read the old count.
            cur.execute(
                "UPDATE offers SET attempts = attempts + 1, void = (attempts + 1 >= ?)"
                " WHERE code_hash = ? AND used = 0 AND void = 0",
                (max_attempts, code_hash),
            )
            row = cur.execute(
                "SELECT attempts FROM offers WHERE code_hash = ?", (code_hash,)
            ).fetchone()
        return int(row[0]) if row else 0

    def redeem_code(self, code_hash: str, now: float) -> bool:
        with self._cursor() as cur:
            cur.execute(
                "UPDATE offers SET used = 1, ref_hash = NULL, sealed = NULL"
                " WHERE code_hash = ? AND used = 0 AND void = 0 AND code_expires_at > ?",
                (code_hash, now),
            )
            return cur.rowcount == 1

    # -- access tokens and nonces --------------------------------------------------------
    def add_access_token(self, token_hash: str, record: AccessTokenRecord) -> None:
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO access_tokens (token_hash, offer_id, expires_at, dpop_jkt)"
                " VALUES (?, ?, ?, ?)",
                (token_hash, record.offer_id, record.expires_at, record.dpop_jkt),
            )

    def access_token(self, token_hash: str) -> AccessTokenRecord | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT offer_id, expires_at, dpop_jkt FROM access_tokens WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        return None if row is None else AccessTokenRecord(row[0], float(row[1]), row[2])

    def add_nonce(self, nonce: str, expires_at: float) -> None:
        with self._cursor() as cur:
            cur.execute("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))

    def consume_nonce(self, nonce: str, now: float) -> bool:
        with self._cursor() as cur:
            cur.execute(
                "UPDATE nonces SET used = 1 WHERE nonce = ? AND used = 0 AND expires_at > ?",
                (nonce, now),
            )
            return cur.rowcount == 1

    # -- issuances -------------------------------------------------------------------------
    def record_issuance(self, record: IssuanceRecord) -> None:
        status = json_dumps([[entry.list_id, entry.index] for entry in record.status])
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO issuances (batch_id, credential_type, format, status, issued_at,"
                " offer_id, notification_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.batch_id,
                    record.credential_type,
                    record.format.value,
                    status,
                    record.issued_at,
                    record.offer_id,
                    record.notification_id,
                ),
            )
            cur.executemany(
                "INSERT INTO issued_status (list_id, idx, batch_id) VALUES (?, ?, ?)",
                [(entry.list_id, entry.index, record.batch_id) for entry in record.status],
            )

    @staticmethod
    def _issuance(row: tuple[Any, ...]) -> IssuanceRecord:
        return IssuanceRecord(
            batch_id=row[0],
            credential_type=row[1],
            format=CredentialFormat(row[2]),
            status=tuple(StatusPlace(str(a), int(b)) for a, b in json_loads(row[3])),
            issued_at=float(row[4]),
            offer_id=row[5],
            notification_id=row[6],
        )

    def issuance(self, batch_id: str) -> IssuanceRecord | None:
        with self._cursor() as cur:
            row = cur.execute(ISSUANCE_BY_ID, (batch_id,)).fetchone()
        return None if row is None else self._issuance(row)

    def issuances(self, offer_id: str | None = None) -> list[IssuanceRecord]:
        with self._cursor() as cur:
            rows = cur.execute(ISSUANCES, (offer_id, offer_id)).fetchall()
        return [self._issuance(row) for row in rows]

    def batch_of(self, list_id: str, index: int) -> str | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT batch_id FROM issued_status WHERE list_id = ? AND idx = ?",
                (list_id, index),
            ).fetchone()
        return None if row is None else str(row[0])

    # -- deferred ----------------------------------------------------------------------------
    def add_deferred(self, record: DeferredRecord) -> None:
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO deferred (transaction_hash, offer_id, configuration_id, holder_jwks,"
                " created_at, expires_at, approved) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.transaction_hash,
                    record.offer_id,
                    record.configuration_id,
                    json_dumps([dict(jwk) for jwk in record.holder_jwks]),
                    record.created_at,
                    record.expires_at,
                    int(record.approved),
                ),
            )

    @staticmethod
    def _deferred(row: tuple[Any, ...]) -> DeferredRecord:
        return DeferredRecord(
            transaction_hash=row[0],
            offer_id=row[1],
            configuration_id=row[2],
            holder_jwks=tuple(json_loads(row[3])),
            created_at=float(row[4]),
            expires_at=float(row[5]),
            approved=bool(row[6]),
        )

    def deferred(self, transaction_hash: str) -> DeferredRecord | None:
        with self._cursor() as cur:
            row = cur.execute(DEFERRED_UNDELIVERED, (transaction_hash,)).fetchone()
        return None if row is None else self._deferred(row)

    def pending_deferred(self) -> list[DeferredRecord]:
        with self._cursor() as cur:
            rows = cur.execute(DEFERRED_PENDING).fetchall()
        return [self._deferred(row) for row in rows]

    def approve_deferred(self, offer_id: str) -> int:
        with self._cursor() as cur:
            cur.execute(
                "UPDATE deferred SET approved = 1 WHERE offer_id = ? AND approved = 0"
                " AND delivered = 0",
                (offer_id,),
            )
            return cur.rowcount

    def deliver_deferred(self, transaction_hash: str, now: float) -> DeferredRecord | None:
        with self._cursor() as cur:
            cur.execute(
                "UPDATE deferred SET delivered = 1 WHERE transaction_hash = ? AND approved = 1"
                " AND delivered = 0 AND expires_at > ?",
                (transaction_hash, now),
            )
            if cur.rowcount != 1:
                return None
            row = cur.execute(DEFERRED_ANY, (transaction_hash,)).fetchone()
        return self._deferred(row)

    # -- notifications -------------------------------------------------------------------
    def record_notification(
        self,
        notification_id: str,
        event: str,
        description: str | None,
        now: float,
        *,
        offer_id: str | None = None,
    ) -> bool:
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO notifications (notification_id, batch_id, event, description,"
                " received_at) SELECT notification_id, batch_id, ?, ?, ? FROM issuances"
                " WHERE notification_id = ? AND (? IS NULL OR offer_id = ?)",
                (event, description, now, notification_id, offer_id, offer_id),
            )
            return cur.rowcount == 1

    def notifications(self, batch_id: str | None = None) -> list[NotificationRecord]:
        with self._cursor() as cur:
            rows = cur.execute(NOTIFICATIONS, (batch_id, batch_id)).fetchall()
        return [NotificationRecord(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]

    # -- housekeeping --------------------------------------------------------------------
    def purge(self, now: float, *, claims_grace: float) -> int:
        with self._cursor() as cur:
            changed = 0
            for statement, args in (
                ("DELETE FROM nonces WHERE expires_at <= ?", (now,)),
                (
                    # A token stays usable at the deferred endpoint while its offer waits.
                    "DELETE FROM access_tokens WHERE expires_at <= ?"
                    " AND offer_id NOT IN (SELECT offer_id FROM deferred)",
                    (now,),
                ),
                ("DELETE FROM deferred WHERE expires_at <= ? OR delivered = 1", (now,)),
                (
                    "UPDATE offers SET claims = NULL, sealed = NULL, ref_hash = NULL"
                    " WHERE claims IS NOT NULL AND code_expires_at <= ?"
                    " AND offer_id NOT IN (SELECT offer_id FROM deferred)",
                    (now - claims_grace,),
                ),
            ):
                cur.execute(statement, args)
                changed += max(cur.rowcount, 0)
            return changed

    def sync(self) -> None:
        self._wal.sync()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._wal.close()
