"""``Vault``: the wallet's encrypted store (records, binding keys, secrets) in one file.

See docs/WALLET-SECURITY.md "Wallet at rest" for the threat model and what is and is not
prevented. The file layout is in ``_vault_file``, record encryption in ``_vault_records``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from honnin.clock import Clock, SystemClock
from honnin.errors import NotFound, WalletCorrupted

from ._backup import restore_wallet_file, write_backup
from ._keywrap import KdfParams, KeyWrapper, same_key
from ._signer import BINDING_KEY_KIND, Signer, VaultSigner, key_from_scalar, new_p256_key
from ._signer import scalar_of as _scalar_of
from ._vault_file import Header, sqlite_errors, write_header
from ._vault_records import (
    Entry,
    IndexValue,
    Record,
    RecordCipher,
    check_index,
    check_name,
    select,
)
from ._vault_store import RecordStore
from ._vault_unlock import (
    committed,
    create_wallet_file,
    unlock_with_pin,
    unlock_with_recovery,
    verify_pin,
    with_new_pin,
    with_new_recovery_code,
)

__all__ = ["Vault"]

_SECRET_KIND: Final = "honnin.secret"  # noqa: S105 - a record kind, not a password
_KEY_NAME: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class Vault:
    """An open, unlocked wallet file. Use ``Vault.create``/``open``/``recover``/``restore``.

    Every change is one SQLite transaction; ``transaction()`` groups several. A vault belongs
    to the thread that opened it and holds the file exclusively until ``close()``.

    >>> with Vault.open("alice.wallet", pin="123456") as vault:  # doctest: +SKIP
    ...     vault.find("credential", vct="urn:jp:withholding-slip", format="dc+sd-jwt")
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        header: Header,
        data_key: bytes,
        clock: Clock,
        key_wrapper: KeyWrapper | None,
    ) -> None:
        """Internal: build through ``create``, ``open``, ``recover`` or ``restore``."""
        self._store = RecordStore(conn, RecordCipher(data_key, header.wallet_id))
        self._path = path
        self._header = header
        self._data_key = data_key
        self._clock = clock
        self._wrapper = key_wrapper
        self._keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._store.on_rollback.append(self._keys.clear)  # reloaded from the file on demand
        #: Binding keys made for an issuance still under way: in memory only (``draft_*``).
        self._drafts: dict[str, tuple[dict[str, str], ec.EllipticCurvePrivateKey]] = {}
        #: Set only by ``create``, ``recover`` and ``rotate_recovery_code``: show it once.
        self.recovery_code: str | None = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        pin: str,
        *,
        kdf: KdfParams = KdfParams.STRONG,
        clock: Clock | None = None,
        key_wrapper: KeyWrapper | None = None,
    ) -> Vault:
        """Create a new, empty wallet file at ``path`` and return it open.

        ``vault.recovery_code`` holds the recovery code: show it to the person once.

        Raises:
            FileExistsError: ``path`` exists.
            ValueError: an empty PIN, or weak ``kdf`` without ``insecure=True``.
        """
        path, clock = Path(path), clock or SystemClock()
        conn, header, data_key, code = create_wallet_file(path, pin, kdf, key_wrapper, clock.now())
        vault = cls._adopt(conn, path, header, data_key, clock, key_wrapper)
        vault.recovery_code = code
        return vault

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        pin: str,
        *,
        clock: Clock | None = None,
        key_wrapper: KeyWrapper | None = None,
    ) -> Vault:
        """Unlock the wallet at ``path`` with ``pin`` (one counted attempt, D7).

        Raises:
            WrongPin: ``attempts_left``, ``retry_after``.
            WalletLocked: ``retry_after`` seconds, or ``None`` (locked until recovery).
            NotAWallet / UnsupportedWalletVersion / WalletCorrupted / WalletInUse.
        """
        path, clock = Path(path), clock or SystemClock()
        conn, header, data_key = unlock_with_pin(path, pin, clock, key_wrapper)
        return cls._adopt(conn, path, header, data_key, clock, key_wrapper)

    @classmethod
    def recover(
        cls,
        path: str | os.PathLike[str],
        recovery_code: str,
        new_pin: str,
        *,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
        key_wrapper: KeyWrapper | None = None,
    ) -> Vault:
        """Unlock with the recovery code, set ``new_pin``, reset the counter, rotate the code.

        Works after a lockout, a forgotten PIN or a lost device key (``key_wrapper`` is then
        the new device's wrapper, or ``None`` for PIN-only). The new recovery code is in
        ``vault.recovery_code``; the old one stops working.

        Raises:
            WrongPin: the recovery code is wrong (``attempts_left=None``).
        """
        path, clock = Path(path), clock or SystemClock()
        conn, header, data_key, code = unlock_with_recovery(
            path, recovery_code, new_pin, kdf, key_wrapper, clock.now()
        )
        vault = cls._adopt(conn, path, header, data_key, clock, key_wrapper)
        vault.recovery_code = code
        return vault

    @classmethod
    def _adopt(
        cls,
        conn: sqlite3.Connection,
        path: Path,
        header: Header,
        data_key: bytes,
        clock: Clock,
        key_wrapper: KeyWrapper | None,
    ) -> Vault:
        try:
            return cls(conn, path, header, data_key, clock, key_wrapper)
        except BaseException:
            conn.close()
            raise

    # -- life cycle ------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The wallet file."""
        return self._path

    @property
    def generation(self) -> int:
        """Committed changes so far; store it in a monotonic place to detect a rollback."""
        return self._store.generation

    @property
    def kdf(self) -> KdfParams:
        """The Argon2id parameters protecting the PIN wrap."""
        return self._header.kdf

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._store.closed

    def close(self) -> None:
        """Checkpoint the WAL into the file, release the lock and forget the keys."""
        self._store.close()
        self._keys.clear()
        self._drafts.clear()
        self._data_key = b""

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        count = self._store.count()
        return f"Vault(path={str(self._path)!r}, records={count}, {state})"

    def transaction(
        self, *, wipes: bool = False, after_commit: Callable[[], object] | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """Group changes into one atomic SQLite transaction (all or nothing, also on crash).

        A ``transaction()`` inside another joins it (no savepoints). If the block raises,
        the file and the vault in memory are left as before it. ``wipes``: the block is
        expected to destroy keys, so the WAL is truncated after the commit in any case, and
        that checkpoint's syncs make the commit durable before this returns (one fsync
        fewer than a commit synced on its own and then checkpointed).

        ``after_commit`` (outermost transaction only) is called once the commit is synced,
        before the WAL is truncated: work that must follow a durable commit (sending the
        presentation that spent the copies) then overlaps the truncation, which is done by
        the time this returns. It runs only if the block succeeded; the truncation runs
        even if it raises.
        """
        return self._store.transaction(wipes=wipes, after_commit=after_commit)

    def _db(self) -> sqlite3.Connection:
        return self._store.db()

    def _outside_transaction(self, what: str) -> sqlite3.Connection:
        conn = self._store.db()
        if self._store.in_transaction:
            raise ValueError(f"{what}() inside a transaction")
        return conn

    # -- records ---------------------------------------------------------------------------

    def put(
        self,
        kind: str,
        record_id: str,
        value: Any,
        *,
        index: Mapping[str, IndexValue] | None = None,
    ) -> Entry:
        """Store ``value`` (``bytes`` or a JSON value) as ``kind``/``record_id``, replacing it.

        ``index`` holds the fields ``find`` can filter on (type, format, issuer, copies
        left ...); it is encrypted like the value. Kinds starting ``honnin.`` are reserved.
        Ids and kinds are never stored in clear, but keep claim values out of them anyway.

        Raises:
            ValueError: a reserved kind, an empty or overlong name, a non-scalar index value.
        """
        check_name(kind, record_id)
        clean = check_index(index)
        with self.transaction():
            return self._store.write(kind, record_id, value, clean)

    def get(self, kind: str, record_id: str) -> Record | None:
        """The decrypted record, or ``None`` if there is none.

        Raises:
            WalletCorrupted: the record does not authenticate (``record="kind/id"``).
        """
        check_name(kind, record_id)
        return self._store.read(kind, record_id)

    def delete(self, kind: str, record_id: str) -> bool:
        """Delete a record; ``False`` if there was none."""
        check_name(kind, record_id)
        with self.transaction():
            return self._store.remove(kind, record_id)

    def find(self, kind: str, /, **filters: object) -> list[Entry]:
        """Entries of ``kind`` whose index matches every filter, oldest write first.

        A filter value matches equal index values; a tuple, list or set matches any member:
        ``find("credential", vct="urn:x", format=("dc+sd-jwt", "mso_mdoc"))``. Runs in memory:
        no value is decrypted (``get`` does that).
        """
        check_name(kind, "-")
        bucket = self._store.entries(kind)
        if not bucket:
            return []
        found = select(bucket, filters)
        found.sort(key=lambda e: (e.version, e.id))
        return found

    # -- secrets and binding keys ----------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """A 256-bit random secret kept in the vault (e.g. for pairwise pseudonyms).

        Made on first use, the same bytes afterwards.
        """
        if not _KEY_NAME.fullmatch(name):
            raise ValueError("a secret name is 1-64 characters of A-Z a-z 0-9 _ . : -")
        record = self._store.read(_SECRET_KIND, name)
        if record is not None:
            if not isinstance(record.value, bytes) or len(record.value) != 32:
                raise WalletCorrupted(
                    f"secret {name} is malformed", record=f"{_SECRET_KIND}/{name}"
                )
            return bytes(record.value)
        value = secrets.token_bytes(32)
        with self.transaction():
            self._store.write(_SECRET_KIND, name, value, {})
        return value

    def new_binding_key(self) -> Signer:
        """Generate a P-256 binding key inside the vault and return its signer."""
        return self.new_binding_keys(1)[0]

    def new_binding_keys(self, count: int) -> list[Signer]:
        """Generate ``count`` binding keys in one transaction (one per batch copy)."""
        if not 0 < count <= 10_000:
            raise ValueError("count must be 1..10000")
        made = [new_p256_key() for _ in range(count)]
        with self.transaction():
            for key_id, jwk, key in made:
                self._store.write(
                    BINDING_KEY_KIND, key_id, _scalar_of(key), {**jwk, "alg": "ES256"}
                )
        return [VaultSigner(key_id, jwk, self._private_key) for key_id, jwk, _ in made]

    def draft_binding_keys(self, count: int) -> list[Signer]:
        """``count`` binding keys held in memory only, until ``keep_binding_keys`` stores
        them (OpenID4VCI: the keys of the proofs are stored with the copies bound to them, in
        the same transaction, so one commit makes both durable and a failed issuance leaves
        nothing on disk). ``discard_binding_key`` forgets one that is not kept."""
        if not 0 < count <= 10_000:
            raise ValueError("count must be 1..10000")
        self._db()
        made = [new_p256_key() for _ in range(count)]
        for key_id, jwk, key in made:
            self._drafts[key_id] = (jwk, key)
        return [VaultSigner(key_id, jwk, self._private_key) for key_id, jwk, _ in made]

    def keep_binding_keys(self, key_ids: Iterable[str]) -> None:
        """Store drafted keys, inside the caller's ``transaction()`` (if it rolls back, the
        keys are gone: neither stored nor held).

        Raises:
            NotFound: a key that is not a draft of this vault.
            ValueError: called outside a transaction.
        """
        if not self._store.in_transaction:
            raise ValueError("keep_binding_keys() outside a transaction")
        for key_id in key_ids:
            draft = self._drafts.pop(key_id, None)
            if draft is None:
                raise NotFound(f"no drafted binding key {key_id!r}", key_id=key_id)
            jwk, key = draft
            self._store.write(BINDING_KEY_KIND, key_id, _scalar_of(key), {**jwk, "alg": "ES256"})
            self._keys[key_id] = key  # cleared with the others if the transaction rolls back

    def discard_binding_key(self, key_id: str) -> None:
        """Forget a drafted key; a key already stored is destroyed (``destroy_key``), one
        lost with a rolled-back transaction is gone already."""
        drafted = self._drafts.pop(key_id, None) is not None
        if not drafted and self._store.entry(BINDING_KEY_KIND, key_id) is not None:
            self.destroy_key(key_id)

    def binding_keys(self) -> list[str]:
        """The ids (RFC 7638 thumbprints) of the binding keys, oldest first."""
        keys = self._store.entries(BINDING_KEY_KIND)
        keys.sort(key=lambda e: (e.version, e.id))
        return [e.id for e in keys]

    def signer(self, key_id: str) -> Signer:
        """The signer of a binding key.

        Raises:
            NotFound: no such key (or it was destroyed).
        """
        self._db()
        entry = self._store.entry(BINDING_KEY_KIND, key_id)
        if entry is None:
            raise NotFound(f"no binding key {key_id!r} in this wallet", key_id=key_id)
        jwk = {k: str(entry.index[k]) for k in ("kty", "crv", "x", "y")}
        return VaultSigner(key_id, jwk, self._private_key)

    def destroy_key(self, key_id: str) -> None:
        """Delete a binding key; its bytes are zeroed in the file and the WAL is truncated.

        Raises:
            NotFound: no such key.
        """
        with self.transaction():
            if not self._store.remove(BINDING_KEY_KIND, key_id):
                raise NotFound(f"no binding key {key_id!r} in this wallet", key_id=key_id)
            self._store.request_checkpoint()
        self._keys.pop(key_id, None)

    def _private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        self._db()
        key = self._keys.get(key_id)
        if key is None:
            draft = self._drafts.get(key_id)
            if draft is not None:
                return draft[1]
            record = self._store.read(BINDING_KEY_KIND, key_id)
            if record is None:
                raise NotFound(f"binding key {key_id!r} was destroyed", key_id=key_id)
            key = self._keys[key_id] = key_from_scalar(record.value, key_id)
        return key

    # -- backup ----------------------------------------------------------------------------

    def backup(
        self, path: str | os.PathLike[str], passphrase: str, *, kdf: KdfParams = KdfParams.STRONG
    ) -> None:
        """Write an encrypted backup of the whole wallet, under a key from ``passphrase``.

        The backup does not depend on the PIN or the device key wrapper; keep the passphrase
        apart from the device.
        """
        conn = self._outside_transaction("backup")
        with sqlite_errors("file"):
            snapshot = conn.serialize()
        write_backup(Path(path), passphrase, kdf, self._data_key, snapshot)

    @classmethod
    def restore(
        cls,
        backup_path: str | os.PathLike[str],
        passphrase: str,
        target_path: str | os.PathLike[str],
        pin: str,
        *,
        kdf: KdfParams = KdfParams.STRONG,
        clock: Clock | None = None,
        key_wrapper: KeyWrapper | None = None,
        overwrite: bool = False,
    ) -> Vault:
        """Restore a backup to ``target_path`` under a new ``pin`` and return it open.

        The backup is decrypted and every record authenticated before anything is written;
        the target is then replaced in one rename. The recovery code stays as it was.

        Raises:
            WrongPin: wrong passphrase. NotAWallet / WalletCorrupted /
            UnsupportedWalletVersion: not a backup, damaged, or from a newer honnin.
            FileExistsError: ``target_path`` exists and ``overwrite`` is false.
        """
        target, clock = Path(target_path), clock or SystemClock()
        conn, header, data_key = restore_wallet_file(
            Path(backup_path), passphrase, target, pin, kdf, key_wrapper, clock.now(), overwrite
        )
        return cls._adopt(conn, target, header, data_key, clock, key_wrapper)

    # -- PIN and recovery ------------------------------------------------------------------

    def change_pin(self, old_pin: str, new_pin: str, *, kdf: KdfParams | None = None) -> None:
        """Re-wrap the data key under ``new_pin`` (no record is re-encrypted).

        ``old_pin`` is checked as a counted attempt, exactly like ``open``.

        Raises:
            WrongPin / WalletLocked: as for ``open``.
        """
        conn = self._outside_transaction("change_pin")
        key = verify_pin(conn, self._header, old_pin, self._clock, self._wrapper)
        if not same_key(key, self._data_key):
            raise WalletCorrupted("the PIN unwraps another wallet's key", record="header")
        header = with_new_pin(
            self._header, self._data_key, new_pin, kdf or self._header.kdf, self._wrapper
        )
        with committed(conn, "header"):
            write_header(conn, header)
        self._header = header

    def rotate_recovery_code(self) -> str:
        """Replace the recovery code (the old one stops working) and return the new one."""
        conn = self._outside_transaction("rotate_recovery_code")
        header, code = with_new_recovery_code(self._header, self._data_key)
        with committed(conn, "header"):
            write_header(conn, header)
        self._header = header
        self.recovery_code = code
        return code
