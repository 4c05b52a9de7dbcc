"""The wallet file: one SQLite database, its schema, its header and the PIN counter.

Tables (schema version 1):

* ``honnin_wallet(name, value)`` — the header: magic, schema version, wallet id, Argon2id
  parameters and salt, the wrapped data key (PIN and recovery), the key-wrapper name and a
  SHA-256 checksum over all other rows. Nothing in it is secret.
* ``pin_counter`` — consecutive wrong PINs and the time of the last attempt, with a checksum.
* ``vault_state`` — the generation (one more per committed change) and, sealed under the
  data key, a keyed digest of the whole record set.
* ``entries(rid, version, meta)`` / ``bodies(rid, body)`` — every record, encrypted.

SQLite runs in WAL mode with ``synchronous=FULL``: each commit is on disk before it returns,
which the PIN counter needs (a power cut must not undo a counted attempt, WL-21), and a
wallet writes too rarely for the extra fsync to matter. ``locking_mode=EXCLUSIVE`` keeps a
second process out while a vault is open (WL-27), ``secure_delete`` zeroes deleted content.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from honnin.errors import (
    HonninError,
    NotAWallet,
    UnsupportedWalletVersion,
    WalletCorrupted,
    WalletError,
    WalletInUse,
)

from ._keywrap import KdfParams
from ._pin_policy import PinCounter

__all__ = [
    "SCHEMA_VERSION",
    "Header",
    "connect",
    "create_schema",
    "read_header",
    "read_pin_counter",
    "sqlite_errors",
    "write_header",
    "write_pin_counter",
]

SCHEMA_VERSION: Final = 1
_MAGIC: Final = b"honnin-wallet"
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S: Final = 0.25

_SCHEMA: Final = (
    "CREATE TABLE honnin_wallet (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE pin_counter (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " failures INTEGER NOT NULL, last_attempt REAL NOT NULL, checksum BLOB NOT NULL)",
    "CREATE TABLE vault_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " generation INTEGER NOT NULL, sealed BLOB NOT NULL)",
    "CREATE TABLE entries (rid BLOB PRIMARY KEY, version INTEGER NOT NULL,"
    " meta BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE bodies (rid BLOB PRIMARY KEY, body BLOB NOT NULL)",
)


@dataclass(frozen=True, slots=True)
class Header:
    """The wallet header (no secret in it; the wraps are ciphertexts)."""

    wallet_id: bytes
    kdf: KdfParams
    pin_salt: bytes
    pin_wrap: bytes
    key_wrapper: str
    recovery_salt: bytes
    recovery_wrap: bytes

    def pin_aad(self) -> bytes:
        """Associated data of the PIN wrap: binds it to this wallet, salt and parameters."""
        return b"honnin wallet pin wrap v1\0" + self.wallet_id + self.pin_salt + self._kdf_text()

    def recovery_aad(self) -> bytes:
        """Associated data of the recovery wrap."""
        return b"honnin wallet recovery wrap v1\0" + self.wallet_id + self.recovery_salt

    def _kdf_text(self) -> bytes:
        k = self.kdf
        return f"{k.memory_kib},{k.iterations},{k.lanes}".encode("ascii")

    def rows(self) -> dict[str, bytes]:
        """The header as ``honnin_wallet`` rows, without the checksum."""
        return {
            "magic": _MAGIC,
            "schema_version": str(SCHEMA_VERSION).encode("ascii"),
            "wallet_id": self.wallet_id,
            "kdf": self._kdf_text(),
            "pin_salt": self.pin_salt,
            "pin_wrap": self.pin_wrap,
            "key_wrapper": self.key_wrapper.encode("utf-8"),
            "recovery_salt": self.recovery_salt,
            "recovery_wrap": self.recovery_wrap,
        }


def _header_checksum(rows: dict[str, bytes]) -> bytes:
    # Defined over every row but the checksum itself, in name order, so that it stays the
    # same computation in every schema version: a reader checks it before the version.
    h = hashlib.sha256(b"honnin wallet header checksum\0")
    for name in sorted(rows):
        raw = name.encode("utf-8")
        h.update(struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(rows[name])))
        h.update(rows[name])
    return h.digest()


@contextlib.contextmanager
def sqlite_errors(record: str | None = None) -> Iterator[None]:
    """Turn ``sqlite3`` errors into typed wallet errors naming ``record`` when known."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _typed(exc, record) from exc
    except UnicodeDecodeError as exc:
        # The sqlite3 module cannot decode an error message that quotes damaged schema
        # text (a flipped bit in sqlite_master makes it invalid UTF-8).
        raise WalletCorrupted(
            "the wallet file's schema is damaged", record=record or "schema"
        ) from exc


def _typed(exc: sqlite3.Error, record: str | None) -> HonninError:
    name = getattr(exc, "sqlite_errorname", "")
    where = f" ({record})" if record else ""
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return WalletInUse("the wallet file is open elsewhere (another process or vault)")
    if name == "SQLITE_NOTADB":
        return NotAWallet(f"not a SQLite database, or its file header is damaged: {exc}")
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")):
        return WalletError(f"the wallet file could not be read or written{where}: {exc}")
    return WalletCorrupted(f"the wallet file is damaged{where}: {exc}", record=record)


def _precheck(path: Path) -> None:
    # Decided from the bytes before SQLite touches the file: SQLite would happily turn an
    # empty file into a database, and a wallet is never created by open().
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError as exc:
        raise NotAWallet(f"no wallet file at {path}") from exc
    except IsADirectoryError as exc:
        raise NotAWallet(f"{path} is a directory, not a wallet file") from exc
    except OSError as exc:
        raise WalletError(f"the wallet file could not be read: {exc}") from exc
    if not head:
        raise NotAWallet(f"{path} is empty")
    if not head.startswith(_SQLITE_MAGIC[: len(head)]) or len(head) < len(_SQLITE_MAGIC):
        raise NotAWallet(f"{path} is not a SQLite database, so not a honnin wallet")
    if len(head) < 100:
        raise WalletCorrupted(f"{path} is truncated inside its file header", record="file")
    if head[18] not in (1, 2) or head[19] not in (1, 2):
        # SQLite file format §1.3.3: 1 = rollback journal, 2 = WAL. Anything else makes
        # SQLite treat the file as read-only or unreadable: here it can only be damage.
        raise WalletCorrupted(f"{path} has a damaged SQLite format version", record="file")


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """A connection to a wallet file with the wallet's pragmas, holding an exclusive lock.

    Raises:
        NotAWallet: missing, empty, not SQLite, or SQLite without a wallet header.
        WalletInUse: another process or vault has the file open.
        WalletCorrupted: SQLite reports damage.
    """
    if not create:
        _precheck(path)
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}",
            uri=True,
            isolation_level=None,
            timeout=_BUSY_TIMEOUT_S,
            check_same_thread=True,
        )
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise WalletCorrupted(f"the wallet file cannot be opened: {exc}", record="file") from exc
    try:
        with sqlite_errors("file"):
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("PRAGMA cell_size_check=ON")
            if not create:
                tables = {
                    r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                if "honnin_wallet" not in tables:
                    raise NotAWallet(f"{path} is a SQLite database but not a honnin wallet")
            # Only now may anything be written: journal_mode is a no-op for a wallet that is
            # already in WAL mode, and a stranger's database has been turned away above.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the wallet tables (inside the caller's transaction)."""
    for statement in _SCHEMA:
        conn.execute(statement)


def write_header(conn: sqlite3.Connection, header: Header) -> None:
    """Write every header row and the checksum (inside the caller's transaction)."""
    rows = header.rows()
    rows["checksum"] = _header_checksum(rows)
    conn.executemany(
        "INSERT OR REPLACE INTO honnin_wallet(name, value) VALUES (?, ?)", list(rows.items())
    )


def read_header(conn: sqlite3.Connection) -> Header:
    """Read and check the header: magic, checksum, then schema version.

    Raises:
        NotAWallet: the magic is not honnin's.
        WalletCorrupted: the checksum fails or a field is malformed (``record="header"``).
        UnsupportedWalletVersion: written by a newer honnin.
    """
    with sqlite_errors("header"):
        raw = conn.execute("SELECT name, value FROM honnin_wallet").fetchall()
    rows: dict[str, bytes] = {}
    for name, value in raw:
        if not isinstance(name, str) or not isinstance(value, bytes):
            raise WalletCorrupted("a header row has the wrong type", record="header")
        rows[name] = value
    if rows.get("magic") != _MAGIC:
        raise NotAWallet("the header table does not carry the honnin wallet magic")
    stored = rows.pop("checksum", b"")
    if stored != _header_checksum(rows):
        raise WalletCorrupted("the wallet header fails its checksum", record="header")
    version_text = rows.get("schema_version", b"")
    if not version_text.isdigit() or len(version_text) > 6:
        raise WalletCorrupted("the schema version is not a number", record="header")
    version = int(version_text)
    if version > SCHEMA_VERSION:
        raise UnsupportedWalletVersion(
            f"wallet schema version {version} is newer than this honnin "
            f"(supports {SCHEMA_VERSION}); upgrade honnin",
            found=version,
            supported=SCHEMA_VERSION,
        )
    if version < 1:
        raise WalletCorrupted(f"schema version {version} does not exist", record="header")
    return _parse_header(rows)


def _parse_header(rows: dict[str, bytes]) -> Header:
    try:
        kdf_parts = [int(p) for p in rows["kdf"].decode("ascii").split(",")]
        wallet_id, pin_salt = rows["wallet_id"], rows["pin_salt"]
        recovery_salt = rows["recovery_salt"]
        key_wrapper = rows["key_wrapper"].decode("utf-8")
        pin_wrap, recovery_wrap = rows["pin_wrap"], rows["recovery_wrap"]
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise WalletCorrupted(f"the wallet header is malformed: {exc}", record="header") from exc
    if len(kdf_parts) != 3 or len(wallet_id) != 16 or len(pin_salt) != 16:
        raise WalletCorrupted("the wallet header has malformed KDF fields", record="header")
    if len(recovery_salt) != 16:
        raise WalletCorrupted("the wallet header has a malformed recovery salt", record="header")
    kdf = KdfParams.from_stored(*kdf_parts)
    return Header(wallet_id, kdf, pin_salt, pin_wrap, key_wrapper, recovery_salt, recovery_wrap)


def read_pin_counter(conn: sqlite3.Connection, wallet_id: bytes) -> PinCounter:
    """The persistent wrong-PIN counter, checked against its checksum.

    Raises:
        WalletCorrupted: missing or damaged (``record="pin_counter"``); recovery rewrites it.
    """
    with sqlite_errors("pin_counter"):
        row = conn.execute(
            "SELECT failures, last_attempt, checksum FROM pin_counter WHERE id = 1"
        ).fetchone()
    if row is None:
        raise WalletCorrupted("the PIN counter is missing", record="pin_counter")
    failures, last_attempt, checksum = row
    if (
        not isinstance(failures, int)
        or not isinstance(last_attempt, float)
        or not isinstance(checksum, bytes)
        or not 0 <= failures < 2**31
    ):
        raise WalletCorrupted("the PIN counter has the wrong type", record="pin_counter")
    counter = PinCounter(failures, last_attempt)
    if checksum != counter.checksum(wallet_id):
        raise WalletCorrupted("the PIN counter fails its checksum", record="pin_counter")
    return counter


def write_pin_counter(conn: sqlite3.Connection, wallet_id: bytes, counter: PinCounter) -> None:
    """Store the counter (the caller commits)."""
    conn.execute(
        "INSERT OR REPLACE INTO pin_counter(id, failures, last_attempt, checksum)"
        " VALUES (1, ?, ?, ?)",
        (counter.failures, counter.last_attempt, counter.checksum(wallet_id)),
    )


def fsync_directory(path: Path) -> None:
    """Make a rename or a new file in ``path``'s directory durable (POSIX)."""
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
