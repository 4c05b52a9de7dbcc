"""The encrypted backup file of a whole wallet.

Layout (all integers big-endian)::

    "HONNIN-WALLET-BACKUP\\0"  format u16  memory_kib u32  iterations u32  lanes u32
    salt[16]  nonce[12]  length u64  ciphertext[length]  sha256[32]

The ciphertext is AES-256-GCM under Argon2id(passphrase, salt) with everything before it as
associated data; it holds the data key followed by a consistent snapshot of the wallet's
SQLite file (whose records are themselves still encrypted under the data key). The trailing
SHA-256 tells accidental damage (``WalletCorrupted``) apart from a wrong passphrase
(``WrongPin``): only an authentication failure with an intact checksum means the latter.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import struct
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from honnin.errors import (
    NotAWallet,
    UnsupportedWalletVersion,
    WalletCorrupted,
    WalletError,
    WrongPin,
)

from ._keywrap import DATA_KEY_SIZE, KdfParams, KeyWrapper, derive_pin_key, new_salt, normalize_pin
from ._pin_policy import PinCounter
from ._vault_file import (
    Header,
    connect,
    fsync_directory,
    read_header,
    sqlite_errors,
    write_header,
    write_pin_counter,
)
from ._vault_records import Entry, RecordCipher, load_index
from ._vault_unlock import committed, place_file, with_new_pin

__all__ = ["read_backup", "restore_wallet_file", "write_backup"]

_MAGIC: Final = b"HONNIN-WALLET-BACKUP\0"
_FORMAT: Final = 1
_FIXED: Final = struct.Struct(">HIII16s12sQ")
_HEAD_SIZE: Final = len(_MAGIC) + _FIXED.size
_MAX_BACKUP: Final = 1024 * 1024 * 1024
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"


def write_backup(path: Path, passphrase: str, kdf: KdfParams, data_key: bytes, db: bytes) -> None:
    """Write the backup atomically (temporary file, fsync, rename)."""
    salt, nonce = new_salt(), secrets.token_bytes(12)
    key = derive_pin_key(passphrase, salt, kdf)
    plain = data_key + db
    length = len(plain) + 16
    head = _MAGIC + _FIXED.pack(
        _FORMAT, kdf.memory_kib, kdf.iterations, kdf.lanes, salt, nonce, length
    )
    body = head + AESGCM(key).encrypt(nonce, plain, head)
    blob = body + hashlib.sha256(body).digest()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_directory(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WalletError(f"the backup could not be written: {exc}") from exc


def read_backup(path: Path, passphrase: str) -> tuple[bytes, bytes]:
    """Check and decrypt a backup: the data key and the SQLite snapshot.

    Raises:
        NotAWallet: missing, or not a honnin wallet backup.
        UnsupportedWalletVersion: written by a newer honnin.
        WalletCorrupted: damaged or truncated (``record="backup"``).
        WrongPin: the passphrase is wrong (``attempts_left=None``: backups have no counter).
    """
    try:
        size = path.stat().st_size
        if size > _MAX_BACKUP:
            raise WalletCorrupted(f"backup of {size} bytes exceeds {_MAX_BACKUP}", record="backup")
        blob = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotAWallet(f"no backup file at {path}") from exc
    except OSError as exc:
        raise WalletError(f"the backup could not be read: {exc}") from exc
    if not blob.startswith(_MAGIC[: len(blob)]) or not blob:
        raise NotAWallet(f"{path} is not a honnin wallet backup")
    if len(blob) < _HEAD_SIZE + 16 + 32:
        raise WalletCorrupted("the backup is truncated", record="backup")
    body, checksum = blob[:-32], blob[-32:]
    fmt, memory, iterations, lanes, salt, nonce, length = _FIXED.unpack_from(blob, len(_MAGIC))
    if fmt > _FORMAT:
        raise UnsupportedWalletVersion(
            f"backup format {fmt} is newer than this honnin (supports {_FORMAT})",
            found=fmt,
            supported=_FORMAT,
        )
    if not hmac.compare_digest(hashlib.sha256(body).digest(), checksum):
        raise WalletCorrupted(
            "the backup fails its checksum (damaged or truncated)", record="backup"
        )
    if fmt < 1 or length != len(body) - _HEAD_SIZE:
        raise WalletCorrupted("the backup header is inconsistent", record="backup")
    kdf = KdfParams.from_stored(memory, iterations, lanes, record="backup")
    key = derive_pin_key(passphrase, salt, kdf)
    try:
        plain = AESGCM(key).decrypt(nonce, body[_HEAD_SIZE:], body[:_HEAD_SIZE])
    except InvalidTag as exc:
        raise WrongPin("wrong backup passphrase", attempts_left=None) from exc
    data_key, db = plain[:DATA_KEY_SIZE], plain[DATA_KEY_SIZE:]
    if len(data_key) != DATA_KEY_SIZE or not db.startswith(_SQLITE_MAGIC):
        raise WalletCorrupted("the backup holds no wallet database", record="backup")
    return data_key, db


def restore_wallet_file(
    backup: Path,
    passphrase: str,
    target: Path,
    pin: str,
    kdf: KdfParams,
    wrapper: KeyWrapper | None,
    now: float,
    overwrite: bool,
) -> tuple[sqlite3.Connection, Header, bytes]:
    """Verify a backup completely, then put it in place at ``target`` under a new PIN.

    Every record (index entries and values) is authenticated in memory first; only then is
    a temporary file written, synced and renamed over ``target``. Returns the target's open
    connection, its header and the data key.
    """
    normalize_pin(pin)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    data_key, db = read_backup(backup, passphrase)
    image = bytearray(db)
    image[18:20] = b"\x01\x01"  # SQLite file format §1.3.3: WAL images deserialize as legacy
    mem = sqlite3.connect(":memory:", isolation_level=None)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.restoring")
    try:
        with sqlite_errors("backup"):
            mem.deserialize(bytes(image))
            tables = {r[0] for r in mem.execute("SELECT name FROM sqlite_master")}
        if "honnin_wallet" not in tables:
            raise NotAWallet("the backup holds a SQLite database that is not a honnin wallet")
        header = read_header(mem)
        _authenticate_everything(mem, RecordCipher(data_key, header.wallet_id))
        header = with_new_pin(header, data_key, pin, kdf, wrapper)
        with committed(mem, "header"):
            write_header(mem, header)
            write_pin_counter(mem, header.wallet_id, PinCounter(0, now))
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with sqlite_errors("file"):
            disk = sqlite3.connect(tmp, isolation_level=None)
            try:
                mem.backup(disk)
            finally:
                disk.close()
        connect(tmp).close()  # back to WAL mode; the close leaves no -wal behind
        place_file(tmp, target, overwrite=overwrite)
    except OSError as exc:
        if isinstance(exc, FileExistsError):
            raise
        raise WalletError(f"the wallet could not be restored: {exc}") from exc
    finally:
        mem.close()
        tmp.unlink(missing_ok=True)
    conn = connect(target)
    try:
        if read_header(conn) != header:
            raise WalletCorrupted("the restored file changed under us", record="header")
    except BaseException:
        conn.close()
        raise
    return conn, header, data_key


def _authenticate_everything(conn: sqlite3.Connection, cipher: RecordCipher) -> None:
    index = load_index(conn, cipher)
    by_rid: dict[bytes, Entry] = {}
    for bucket in index.entries.values():
        for entry in bucket.values():
            by_rid[cipher.rid(entry.kind, entry.id)] = entry
    with sqlite_errors("backup"):
        rows = conn.execute("SELECT rid, body FROM bodies").fetchall()
    for rid, body in rows:
        found = by_rid.pop(rid, None) if isinstance(rid, bytes) else None
        if found is None or not isinstance(body, bytes):
            raise WalletCorrupted("a record body has no index entry", record="backup")
        cipher.open_body(found, body)
