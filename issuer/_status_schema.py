"""SQL of the SQLite status store: the schema and the small queries its transactions share.

Plain SQL-92 apart from the ``?`` placeholders, so a PostgreSQL store can follow it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

__all__ = ["ENTRY_COLUMNS", "SCHEMA", "bound", "existing_credentials", "reserved", "selector"]

SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS status_list (
        list_id TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        bits INTEGER NOT NULL,
        allocated INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )""",
    # (list_id, idx) is the primary key: the database itself refuses a double allocation
    # (draft-ietf-oauth-status-list-20 §13.4 "MUST prevent any unintended double allocation").
    """CREATE TABLE IF NOT EXISTS status_entry (
        list_id TEXT NOT NULL REFERENCES status_list (list_id),
        idx INTEGER NOT NULL,
        credential_id TEXT NOT NULL UNIQUE,
        batch_id TEXT,
        status INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (list_id, idx)
    )""",
    # Indices reserved in a block and not yet bound (``reserve``, ``bind``).
    """CREATE TABLE IF NOT EXISTS status_reserved (
        list_id TEXT NOT NULL REFERENCES status_list (list_id),
        idx INTEGER NOT NULL,
        PRIMARY KEY (list_id, idx)
    )""",
    "CREATE INDEX IF NOT EXISTS status_entry_batch ON status_entry (batch_id)",
    "CREATE INDEX IF NOT EXISTS status_entry_nonzero ON status_entry (list_id, status)",
)

ENTRY_COLUMNS: Final = "list_id, idx, credential_id, batch_id, status"


def selector(credential_id: str | None, batch_id: str | None) -> tuple[str, str]:
    """The WHERE clause and argument for one copy or one batch."""
    if (credential_id is None) == (batch_id is None):
        raise ValueError("give exactly one of credential_id and batch_id")
    if credential_id is not None:
        return "credential_id = ?", credential_id
    assert batch_id is not None
    return "batch_id = ?", batch_id


def credential_ids(entries: Sequence[tuple[int, str]]) -> list[str]:
    """The credential ids of ``(index, credential id)`` entries, which must be distinct.

    Raises:
        ValueError: one credential id twice.
    """
    ids = [credential_id for _, credential_id in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("credential ids in one allocation must be distinct")
    return ids


def refuse_existing(db: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Raise ``ValueError`` if any of ``ids`` already holds an index (one index per copy)."""
    known = existing_credentials(db, ids)
    if known:
        raise ValueError(f"credential ids already hold an index: {sorted(known)}")


def insert_entries(
    db: sqlite3.Connection,
    list_id: str,
    entries: Sequence[tuple[int, str]],
    batch_id: str | None,
) -> None:
    """Bind each ``(index, credential id)`` of ``entries`` (``sqlite3.IntegrityError`` when
    an index is bound already)."""
    db.executemany(
        "INSERT INTO status_entry (list_id, idx, credential_id, batch_id) VALUES (?, ?, ?, ?)",
        [(list_id, idx, cid, batch_id) for idx, cid in entries],
    )


def count_allocated(db: sqlite3.Connection, list_id: str, count: int) -> None:
    """Add ``count`` taken indices (bound or reserved) to the list's tally."""
    db.execute(
        "UPDATE status_list SET allocated = allocated + ? WHERE list_id = ?", (count, list_id)
    )


def existing_credentials(db: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` already hold an index."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT credential_id FROM status_entry WHERE credential_id IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update(row[0] for row in rows)
    return found


def bound(db: sqlite3.Connection, list_id: str, indices: Sequence[int]) -> bool:
    """Whether any of ``indices`` is bound to a credential."""
    return any(
        db.execute(
            "SELECT 1 FROM status_entry WHERE list_id = ? AND idx = ?", (list_id, idx)
        ).fetchone()
        for idx in indices
    )


def reserved(db: sqlite3.Connection, list_id: str, indices: Sequence[int]) -> bool:
    """Whether any of ``indices`` is reserved and not yet bound."""
    return any(
        db.execute(
            "SELECT 1 FROM status_reserved WHERE list_id = ? AND idx = ?", (list_id, idx)
        ).fetchone()
        for idx in indices
    )
