"""Getting the data key out of a wallet file: create, unlock with a PIN, recover, re-wrap."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from honnin.clock import Clock
from honnin.errors import WalletError, WrongPin

from ._keywrap import (
    DATA_KEY_SIZE,
    KdfParams,
    KeyWrapper,
    derive_pin_key,
    derive_recovery_key,
    new_recovery_code,
    new_salt,
    normalize_pin,
    outer_unwrap,
    outer_wrap,
    seal_key,
    unseal_key,
)
from ._pin_policy import LOCK_AFTER, PinCounter, backoff_seconds, check_may_attempt
from ._vault_file import (
    Header,
    connect,
    create_schema,
    fsync_directory,
    read_header,
    read_pin_counter,
    sqlite_errors,
    write_header,
    write_pin_counter,
)
from ._vault_records import RecordCipher, load_index

__all__ = [
    "committed",
    "create_wallet_file",
    "place_file",
    "unlock_with_pin",
    "unlock_with_recovery",
    "verify_pin",
    "with_new_pin",
    "with_new_recovery_code",
]


@contextlib.contextmanager
def committed(conn: sqlite3.Connection, record: str | None = None) -> Iterator[None]:
    """One SQLite transaction: committed on success, rolled back on any exception."""
    with sqlite_errors(record):
        conn.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_errors(record):
            yield
            conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
            conn.execute("ROLLBACK")
        raise


def with_new_pin(
    header: Header, data_key: bytes, pin: str, kdf: KdfParams, wrapper: KeyWrapper | None
) -> Header:
    """The header with the data key wrapped under a new PIN (fresh salt), nothing else."""
    draft = dataclasses.replace(
        header, kdf=kdf, pin_salt=new_salt(), key_wrapper=wrapper.name if wrapper else ""
    )
    wrap = seal_key(derive_pin_key(pin, draft.pin_salt, kdf), data_key, draft.pin_aad())
    if wrapper is not None:
        wrap = outer_wrap(wrapper, wrap)
    return dataclasses.replace(draft, pin_wrap=wrap)


def with_new_recovery_code(header: Header, data_key: bytes) -> tuple[Header, str]:
    """The header with the data key wrapped under a fresh recovery code, and the code."""
    code = new_recovery_code()
    draft = dataclasses.replace(header, recovery_salt=new_salt())
    kek = derive_recovery_key(code, draft.recovery_salt)
    assert kek is not None  # a code we just made always parses
    wrap = seal_key(kek, data_key, draft.recovery_aad())
    return dataclasses.replace(draft, recovery_wrap=wrap), code


def create_wallet_file(
    path: Path, pin: str, kdf: KdfParams, wrapper: KeyWrapper | None, now: float
) -> tuple[sqlite3.Connection, Header, bytes, str]:
    """Build a new wallet beside ``path``, then link it into place (never half-created).

    Returns the open connection, the header, the data key and the recovery code.
    """
    normalize_pin(pin)
    if path.exists():
        raise FileExistsError(f"{path} exists; a wallet is never created over a file")
    data_key = secrets.token_bytes(DATA_KEY_SIZE)
    blank = Header(secrets.token_bytes(16), kdf, b"", b"", "", b"", b"")
    header = with_new_pin(blank, data_key, pin, kdf, wrapper)
    header, code = with_new_recovery_code(header, data_key)
    cipher = RecordCipher(data_key, header.wallet_id)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.creating")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = connect(tmp, create=True)
        try:
            with committed(conn, "file"):
                create_schema(conn)
                write_header(conn, header)
                write_pin_counter(conn, header.wallet_id, PinCounter(0, now))
                conn.execute(
                    "INSERT INTO vault_state(id, generation, sealed) VALUES (1, 0, ?)",
                    (cipher.seal_state(0, 0),),
                )
        finally:
            conn.close()  # the last close checkpoints the WAL into the file and removes it
        place_file(tmp, path, overwrite=False)
    finally:
        tmp.unlink(missing_ok=True)
    conn = connect(path)
    try:
        return conn, read_header(conn), data_key, code
    except BaseException:
        conn.close()
        raise


def place_file(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Move a finished wallet file into place durably (fsync, link or rename, fsync dir)."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            # A stale WAL beside the new file would be replayed into it: remove it first.
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic and never clobbers: FileExistsError if taken
            tmp.unlink()
        fsync_directory(path)
    except FileExistsError:
        raise
    except OSError as exc:
        raise WalletError(f"the wallet file could not be written: {exc}") from exc


def _inner_pin_wrap(header: Header, wrapper: KeyWrapper | None) -> bytes:
    if header.key_wrapper and wrapper is None:
        raise WalletError(
            f"this wallet's key is also wrapped by {header.key_wrapper!r}: pass key_wrapper"
        )
    if wrapper is None:
        return header.pin_wrap
    if wrapper.name != header.key_wrapper:
        raise WalletError(
            f"this wallet expects key wrapper {header.key_wrapper or 'none'!r}, "
            f"not {wrapper.name!r}"
        )
    return outer_unwrap(wrapper, header.pin_wrap)


def verify_pin(
    conn: sqlite3.Connection,
    header: Header,
    pin: str,
    clock: Clock,
    wrapper: KeyWrapper | None,
) -> bytes:
    """Run one counted PIN attempt (D7) and return the data key.

    The attempt is committed to the counter before the KDF runs (WL-21); only a correct PIN
    resets it. A refused attempt never reaches the KDF (WL-22).

    Raises:
        WalletLocked: back-off running, or locked until recovery.
        WrongPin: ``attempts_left`` before the lock, ``retry_after`` before the next try.
        WalletCorrupted: the PIN counter is damaged (recovery rewrites it).
    """
    normalize_pin(pin)
    inner = _inner_pin_wrap(header, wrapper)
    counter = read_pin_counter(conn, header.wallet_id)
    now = clock.now()
    check_may_attempt(counter, now)
    failures = counter.failures + 1
    with committed(conn, "pin_counter"):
        write_pin_counter(conn, header.wallet_id, PinCounter(failures, now))
    data_key = unseal_key(derive_pin_key(pin, header.pin_salt, header.kdf), inner, header.pin_aad())
    if data_key is None:
        left = max(0, LOCK_AFTER - failures)
        wait = backoff_seconds(failures)
        raise WrongPin(
            f"wrong PIN: {left} attempts left before the wallet locks",
            attempts_left=left,
            retry_after=wait,
        )
    with committed(conn, "pin_counter"):
        write_pin_counter(conn, header.wallet_id, PinCounter(0, now))
    return data_key


def unlock_with_pin(
    path: Path, pin: str, clock: Clock, wrapper: KeyWrapper | None
) -> tuple[sqlite3.Connection, Header, bytes]:
    """Open the file and unlock it with the PIN (one counted attempt)."""
    conn = connect(path)
    try:
        header = read_header(conn)
        return conn, header, verify_pin(conn, header, pin, clock, wrapper)
    except BaseException:
        conn.close()
        raise


def unlock_with_recovery(
    path: Path,
    code: str,
    new_pin: str,
    kdf: KdfParams | None,
    wrapper: KeyWrapper | None,
    now: float,
) -> tuple[sqlite3.Connection, Header, bytes, str]:
    """Unwrap the data key with the recovery code, then set a new PIN and a new code.

    The code carries 160 random bits, so it is not rate-limited; the damaged or maxed-out
    PIN counter is not even read, only reset. Every record is checked before the header
    is rewritten. Returns the connection, new header, data key and new recovery code.

    Raises:
        WrongPin: the recovery code is wrong (``attempts_left=None``).
    """
    normalize_pin(new_pin)
    conn = connect(path)
    try:
        header = read_header(conn)
        kek = derive_recovery_key(code, header.recovery_salt)
        data_key = (
            None if kek is None else unseal_key(kek, header.recovery_wrap, header.recovery_aad())
        )
        if data_key is None:
            raise WrongPin("wrong recovery code", attempts_left=None)
        load_index(conn, RecordCipher(data_key, header.wallet_id))
        header = with_new_pin(header, data_key, new_pin, kdf or header.kdf, wrapper)
        header, new_code = with_new_recovery_code(header, data_key)
        with committed(conn, "header"):
            write_header(conn, header)
            write_pin_counter(conn, header.wallet_id, PinCounter(0, now))
        return conn, header, data_key, new_code
    except BaseException:
        conn.close()
        raise
