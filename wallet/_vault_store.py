"""The record engine under ``Vault``: one connection, the in-memory index, transactions.

The in-memory index mirrors the file exactly: a transaction applies its changes to both,
and on any exception (including a failed COMMIT) rolls both back.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from honnin.errors import WalletCorrupted

from ._vault_file import sqlite_errors
from ._vault_records import Entry, Record, RecordCipher, add_term, load_index, remove_term

__all__ = ["RecordStore"]


@dataclass(slots=True)
class _Txn:
    generation: int
    digest: int
    undo: dict[tuple[str, str], Entry | None] = field(default_factory=dict)
    checkpoint: bool = False


class RecordStore:
    """Encrypted records in one SQLite connection, indexed in memory."""

    __slots__ = ("_cipher", "_conn", "_digest", "_entries", "_generation", "_txn", "on_rollback")

    def __init__(self, conn: sqlite3.Connection, cipher: RecordCipher) -> None:
        index = load_index(conn, cipher)
        self._conn: sqlite3.Connection | None = conn
        self._cipher = cipher
        self._entries = index.entries
        self._generation = index.generation
        self._digest = index.digest
        self._txn: _Txn | None = None
        #: Called after a rolled-back transaction (the vault drops cached keys).
        self.on_rollback: list[Callable[[], None]] = []

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def in_transaction(self) -> bool:
        return self._txn is not None

    def count(self) -> int:
        return sum(len(bucket) for bucket in self._entries.values())

    def db(self) -> sqlite3.Connection:
        """The connection; ``ValueError`` once closed (a programming mistake)."""
        if self._conn is None:
            raise ValueError("the vault is closed")
        return self._conn

    def close(self) -> None:
        if self._conn is None:
            return
        if self._txn is not None:
            raise ValueError("close() inside a transaction")
        conn, self._conn = self._conn, None
        self._entries = {}
        with sqlite_errors("file"):
            conn.close()

    def request_checkpoint(self) -> None:
        """Truncate the WAL after this transaction commits (old page images go with it)."""
        assert self._txn is not None
        self._txn.checkpoint = True

    @contextlib.contextmanager
    def transaction(
        self, *, wipes: bool = False, after_commit: Callable[[], object] | None = None
    ) -> Iterator[None]:
        """Group changes into one atomic SQLite transaction (all or nothing, also on crash).

        A ``transaction()`` inside another joins it (no savepoints). If the block raises,
        the file and the vault in memory are left as before it. With ``wipes`` the WAL is
        checkpointed and truncated after the commit whether or not a key was destroyed.
        ``after_commit`` runs once the commit is on disk and before that checkpoint, which
        then overlaps whatever it starts (it must not use the vault from another thread).
        """
        conn = self.db()
        if self._txn is not None:
            if after_commit is not None:
                raise ValueError("after_commit belongs to the outermost transaction")
            yield
            return
        if wipes and after_commit is None:
            # SQLite "WAL mode": with synchronous=NORMAL a commit is not synced, but every
            # checkpoint syncs the WAL before copying it and the database after. The
            # checkpoint below runs before this returns, so the commit is as durable as with
            # FULL once the caller has control again, with one fsync fewer. (The level
            # cannot change inside a transaction: hence a hint given before BEGIN.)
            with sqlite_errors("file"):
                conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with sqlite_errors("file"):
                conn.execute("BEGIN IMMEDIATE")
            txn = self._txn = _Txn(self._generation + 1, self._digest)
            try:
                yield
                if txn.undo:
                    with sqlite_errors("vault_state"):
                        conn.execute(
                            "UPDATE vault_state SET generation = ?, sealed = ? WHERE id = 1",
                            (txn.generation, self._cipher.seal_state(txn.generation, txn.digest)),
                        )
                with sqlite_errors("file"):
                    conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
                    conn.execute("ROLLBACK")
                self._undo(txn)
                raise
            finally:
                self._txn = None
        finally:
            if wipes and after_commit is None:
                with sqlite_errors("file"):
                    conn.execute("PRAGMA synchronous=FULL")
        if txn.undo:
            self._generation, self._digest = txn.generation, txn.digest
        try:
            if after_commit is not None:
                after_commit()
        finally:
            if txn.checkpoint or (wipes and txn.undo):
                # Old page images of destroyed keys stay in the WAL until it is truncated.
                with sqlite_errors("file"):
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _undo(self, txn: _Txn) -> None:
        for (kind, record_id), before in txn.undo.items():
            bucket = self._entries.setdefault(kind, {})
            if before is None:
                bucket.pop(record_id, None)
            else:
                bucket[record_id] = before
        for callback in self.on_rollback:
            callback()

    def write(self, kind: str, record_id: str, value: Any, index: Mapping[str, Any]) -> Entry:
        txn = self._txn
        assert txn is not None
        conn = self.db()
        rid = self._cipher.rid(kind, record_id)
        version = txn.generation
        before = self._entries.get(kind, {}).get(record_id)
        meta = self._cipher.seal_meta(rid, version, kind, record_id, index)
        body = self._cipher.seal_body(kind, record_id, version, value)
        label = f"{kind}/{record_id}"
        with sqlite_errors(label):
            conn.execute(
                "INSERT OR REPLACE INTO entries(rid, version, meta) VALUES (?, ?, ?)",
                (rid, version, meta),
            )
            conn.execute("INSERT OR REPLACE INTO bodies(rid, body) VALUES (?, ?)", (rid, body))
        txn.undo.setdefault((kind, record_id), before)
        if before is not None:
            txn.digest = remove_term(txn.digest, self._cipher.term(rid, before.version))
        txn.digest = add_term(txn.digest, self._cipher.term(rid, version))
        entry = Entry(kind, record_id, MappingProxyType(dict(index)), version)
        self._entries.setdefault(kind, {})[record_id] = entry
        return entry

    def remove(self, kind: str, record_id: str) -> bool:
        txn = self._txn
        assert txn is not None
        before = self._entries.get(kind, {}).get(record_id)
        if before is None:
            return False
        rid = self._cipher.rid(kind, record_id)
        with sqlite_errors(f"{kind}/{record_id}"):
            self.db().execute("DELETE FROM entries WHERE rid = ?", (rid,))
            self.db().execute("DELETE FROM bodies WHERE rid = ?", (rid,))
        txn.undo.setdefault((kind, record_id), before)
        txn.digest = remove_term(txn.digest, self._cipher.term(rid, before.version))
        del self._entries[kind][record_id]
        return True

    def read(self, kind: str, record_id: str) -> Record | None:
        entry = self._entries.get(kind, {}).get(record_id)
        if entry is None:
            return None
        label = f"{kind}/{record_id}"
        with sqlite_errors(label):
            row = (
                self.db()
                .execute(
                    "SELECT body FROM bodies WHERE rid = ?", (self._cipher.rid(kind, record_id),)
                )
                .fetchone()
            )
        if row is None or not isinstance(row[0], bytes):
            raise WalletCorrupted(f"record {label} has no readable body", record=label)
        return Record(entry, self._cipher.open_body(entry, row[0]))

    def entry(self, kind: str, record_id: str) -> Entry | None:
        return self._entries.get(kind, {}).get(record_id)

    def entries(self, kind: str) -> list[Entry]:
        self.db()
        return list(self._entries.get(kind, {}).values())
