"""Persistence of status list allocations behind a small store interface (SQLite default).

The ``StatusStore`` protocol is what ``StatusRegistry`` needs; ``SqliteStatusStore`` is the
default. Each change is one transaction, and a list's ``version`` is bumped in the same
transaction as the statuses it covers, so a published list can always be matched to the
state it was built from (HOSTILE-CASES §2.6: "the published status list equals the DB
state").

Durability. An index is taken for good by a synced transaction (``synchronous=FULL``: it
survives a power cut), either bound to a credential at once (``allocate``) or reserved in a
block (``reserve``) that the registry then binds copy by copy (``bind``). A binding commits
with ``synchronous=NORMAL`` (WAL): it survives a crash of the process at once, and a power
cut once ``sync`` has run; the issuer syncs (one fsync of the log for every waiting answer,
``issuer._wal``) before a credential leaves. Whatever happens, a reserved index is never
handed out again (draft-ietf-oauth-status-list-20 §13.4: no double allocation); a crash
wastes the reserved indices not yet bound. Status changes (revocation, suspension) are
synced at commit.

The SQL is plain SQL-92 apart from the ``?`` placeholders and the SQLite pragmas, so a
PostgreSQL store can follow the same schema with ``%s`` and ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from honnin.errors import NotFound, PolicyViolation, StoreUnavailable

from ._status_schema import (
    ENTRY_COLUMNS as _ENTRY_COLUMNS,
)
from ._status_schema import (
    SCHEMA as _SCHEMA,
)
from ._status_schema import (
    bound as _bound,
)
from ._status_schema import (
    count_allocated as _count_allocated,
)
from ._status_schema import (
    credential_ids as _credential_ids,
)
from ._status_schema import (
    insert_entries as _insert_entries,
)
from ._status_schema import (
    refuse_existing as _refuse_existing,
)
from ._status_schema import (
    reserved as _reserved,
)
from ._status_schema import (
    selector as _selector,
)
from ._wal import WalSync

__all__ = ["SqliteStatusStore", "StatusEntry", "StatusStore", "StoredStatusList"]


@dataclass(frozen=True, slots=True)
class StoredStatusList:
    """One status list: its id, capacity, bit width, allocated count and change version."""

    list_id: str
    size: int
    bits: int
    allocated: int
    version: int
    created_at: int


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One allocated index: which credential copy holds it, in which batch, and its status."""

    list_id: str
    idx: int
    credential_id: str
    batch_id: str | None
    status: int


class _IndexTaken(Exception):
    """Inside ``SqliteStatusStore.allocate``: an index was already bound (roll back)."""


@runtime_checkable
class StatusStore(Protocol):
    """What the status registry persists. Every method is atomic; failures raise
    ``honnin.errors.StoreUnavailable`` and leave nothing half-done (ASVS 2.3.3)."""

    def create_list(self, list_id: str, *, size: int, bits: int, created_at: int) -> None:
        """Record a new, empty list."""
        ...

    def lists(self) -> list[StoredStatusList]:
        """Every list, oldest first."""
        ...

    def allocated_indices(self, list_id: str) -> list[int]:
        """Every index of ``list_id`` bound to a credential (never released)."""
        ...

    def taken_indices(self, list_id: str) -> list[int]:
        """Every index of ``list_id`` bound or reserved (never handed out again)."""
        ...

    def reserve(self, list_id: str, indices: Sequence[int]) -> bool:
        """Reserve free indices for later ``bind`` calls, in one synced transaction.

        Returns ``False`` and reserves nothing when any index is already taken.
        """
        ...

    def bind(
        self, list_id: str, entries: Sequence[tuple[int, str]], *, batch_id: str | None
    ) -> None:
        """Bind reserved indices to credential ids in one transaction.

        ``ValueError`` when a credential id is already known or an index is not reserved.
        """
        ...

    def allocate(
        self, list_id: str, entries: Sequence[tuple[int, str]], *, batch_id: str | None
    ) -> bool:
        """Bind each ``(idx, credential_id)`` in one transaction.

        Returns ``False`` and stores nothing when any index is already taken (another
        process won the race). ``ValueError`` when a credential id is already known.
        """
        ...

    def set_status(
        self,
        *,
        credential_id: str | None = None,
        batch_id: str | None = None,
        status: int,
        final: frozenset[int] = frozenset(),
    ) -> list[StatusEntry]:
        """Set the status of one credential copy or of every copy in a batch, atomically.

        Entries whose current status is in ``final`` (and differs) block the whole change:
        ``honnin.errors.PolicyViolation`` is raised (with ``credential_id``) and nothing is
        written. Returns the entries as they were
        before the change (empty when nothing matched).
        """
        ...

    def entries(
        self, *, credential_id: str | None = None, batch_id: str | None = None
    ) -> list[StatusEntry]:
        """The entries of one credential copy or of one batch."""
        ...

    def version(self, list_id: str) -> int | None:
        """The change counter of ``list_id`` (``None`` for an unknown list)."""
        ...

    def snapshot(self, list_id: str) -> tuple[int, list[tuple[int, int]]]:
        """``(version, [(idx, status) ...])`` of the non-VALID entries, read atomically.

        ``honnin.errors.NotFound`` for an unknown list.
        """
        ...

    def sync(self) -> None:
        """Make every change committed so far durable (``bind`` included)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class SqliteStatusStore:
    """``StatusStore`` in one SQLite file (WAL, one transaction per change; every change
    synced except ``bind``, see the module docstring).

    Safe to share between threads (one connection behind a lock) and between processes
    (SQLite locking; ``BEGIN IMMEDIATE`` takes the write lock up front).
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self._path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a revocation reported as done survives a power cut (ASVS 16.5.3).
            self._db.execute("PRAGMA synchronous=FULL")
            self._synchronous = "FULL"
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._write("create schema") as db:
                for statement in _SCHEMA:
                    db.execute(statement)
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"status store {self._path} cannot be opened: {exc}", operation="open"
            ) from exc
        self._wal = WalSync(self._path)

    @contextmanager
    def _write(self, operation: str, *, synced: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                mode = "FULL" if synced else "NORMAL"
                if mode != self._synchronous:
                    # Read at COMMIT (outside a transaction here): FULL syncs the WAL.
                    self._db.execute(f"PRAGMA synchronous={mode}")
                    self._synchronous = mode
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"status store: {operation} failed: {exc}", operation=operation
                ) from exc

    @contextmanager
    def _read(self, operation: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN")
                try:
                    yield self._db
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"status store: {operation} failed: {exc}", operation=operation
                ) from exc

    def create_list(self, list_id: str, *, size: int, bits: int, created_at: int) -> None:
        with self._write("create list") as db:
            db.execute(
                "INSERT INTO status_list (list_id, size, bits, created_at) VALUES (?, ?, ?, ?)",
                (list_id, size, bits, created_at),
            )

    def lists(self) -> list[StoredStatusList]:
        with self._read("list lists") as db:
            rows = db.execute(
                "SELECT list_id, size, bits, allocated, version, created_at FROM status_list"
                " ORDER BY created_at, rowid"
            ).fetchall()
        return [StoredStatusList(*row) for row in rows]

    def allocated_indices(self, list_id: str) -> list[int]:
        with self._read("read allocations") as db:
            rows = db.execute("SELECT idx FROM status_entry WHERE list_id = ?", (list_id,))
            return [row[0] for row in rows]

    def taken_indices(self, list_id: str) -> list[int]:
        with self._read("read allocations") as db:
            rows = db.execute(
                "SELECT idx FROM status_entry WHERE list_id = ?"
                " UNION ALL SELECT idx FROM status_reserved WHERE list_id = ?",
                (list_id, list_id),
            )
            return [row[0] for row in rows]

    def reserve(self, list_id: str, indices: Sequence[int]) -> bool:
        try:
            with self._write("reserve") as db:
                if _bound(db, list_id, indices):
                    raise _IndexTaken("bound")
                try:
                    db.executemany(
                        "INSERT INTO status_reserved (list_id, idx) VALUES (?, ?)",
                        [(list_id, idx) for idx in indices],
                    )
                except sqlite3.IntegrityError as exc:
                    raise _IndexTaken(str(exc)) from exc
                _count_allocated(db, list_id, len(indices))
        except _IndexTaken:
            return False
        return True

    def bind(
        self, list_id: str, entries: Sequence[tuple[int, str]], *, batch_id: str | None
    ) -> None:
        ids = _credential_ids(entries)
        with self._write("bind", synced=False) as db:
            _refuse_existing(db, ids)
            for idx, _ in entries:
                gone = db.execute(
                    "DELETE FROM status_reserved WHERE list_id = ? AND idx = ?", (list_id, idx)
                )
                if gone.rowcount != 1:
                    raise ValueError(f"index {idx} of {list_id!r} is not reserved")
            _insert_entries(db, list_id, entries, batch_id)

    def allocate(
        self, list_id: str, entries: Sequence[tuple[int, str]], *, batch_id: str | None
    ) -> bool:
        ids = _credential_ids(entries)
        try:
            with self._write("allocate") as db:
                _refuse_existing(db, ids)
                if _reserved(db, list_id, [idx for idx, _ in entries]):
                    raise _IndexTaken("reserved by another registry")
                try:
                    _insert_entries(db, list_id, entries, batch_id)
                except sqlite3.IntegrityError as exc:
                    raise _IndexTaken(str(exc)) from exc
                _count_allocated(db, list_id, len(entries))
        except _IndexTaken:
            return False
        return True

    def set_status(
        self,
        *,
        credential_id: str | None = None,
        batch_id: str | None = None,
        status: int,
        final: frozenset[int] = frozenset(),
    ) -> list[StatusEntry]:
        where, arg = _selector(credential_id, batch_id)
        with self._write("set status") as db:
            query = f"SELECT {_ENTRY_COLUMNS} FROM status_entry WHERE {where}"  # noqa: S608
            before = [StatusEntry(*row) for row in db.execute(query, (arg,))]
            for entry in before:
                if entry.status in final and entry.status != status:
                    raise PolicyViolation(
                        f"status {entry.status:#04x} is final and cannot be changed",
                        credential_id=entry.credential_id,
                    )
            changed = [e for e in before if e.status != status]
            if changed:
                db.execute(f"UPDATE status_entry SET status = ? WHERE {where}", (status, arg))  # noqa: S608
                db.executemany(
                    "UPDATE status_list SET version = version + 1 WHERE list_id = ?",
                    [(list_id,) for list_id in sorted({e.list_id for e in changed})],
                )
        return before

    def entries(
        self, *, credential_id: str | None = None, batch_id: str | None = None
    ) -> list[StatusEntry]:
        where, arg = _selector(credential_id, batch_id)
        with self._read("read entries") as db:
            rows = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM status_entry WHERE {where}", (arg,))  # noqa: S608
            return [StatusEntry(*row) for row in rows]

    def version(self, list_id: str) -> int | None:
        with self._read("read version") as db:
            row = db.execute(
                "SELECT version FROM status_list WHERE list_id = ?", (list_id,)
            ).fetchone()
        return None if row is None else int(row[0])

    def snapshot(self, list_id: str) -> tuple[int, list[tuple[int, int]]]:
        with self._read("read list") as db:
            row = db.execute(
                "SELECT version FROM status_list WHERE list_id = ?", (list_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no status list {list_id!r}", list_id=list_id)
            rows = db.execute(
                "SELECT idx, status FROM status_entry WHERE list_id = ? AND status <> 0",
                (list_id,),
            ).fetchall()
        return int(row[0]), [(int(i), int(s)) for i, s in rows]

    def sync(self) -> None:
        self._wal.sync()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._wal.close()
