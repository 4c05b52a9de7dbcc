"""Record encryption: AES-256-GCM per record, bound to its wallet, kind, id and version.

Each record is two ciphertexts under keys derived from the data key (HKDF, RFC 5869):

* ``meta`` — kind, id and the query index; decrypted for every record when the vault
  opens, so queries run in memory and no query field is ever stored in clear;
* ``body`` — the value; decrypted only on ``get``.

The row key ``rid`` is an HMAC of kind and id, so the file shows neither. Associated data
binds ``meta`` to (wallet, rid, version) and ``body`` to (wallet, kind, id, version): a
ciphertext copied into another row, another wallet or back from an older write fails
authentication (NIST SP 800-38D §5.2.1.1) and is reported as ``WalletCorrupted``.

``version`` is the vault generation of the write: unique for every write ever made. A keyed
multiset hash over all (rid, version) pairs (sum of HMACs mod 2^256, a MSet-Add-Hash) is
sealed in ``vault_state``; it detects a deleted, added or individually rolled-back row.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin.encoding import json_dumps, json_loads
from honnin.errors import HonninError, WalletCorrupted

from ._vault_file import sqlite_errors

__all__ = [
    "MAX_VALUE_SIZE",
    "Entry",
    "IndexValue",
    "LoadedIndex",
    "Record",
    "RecordCipher",
    "add_term",
    "load_index",
    "remove_term",
]

IndexValue: TypeAlias = str | int | bool | None
_NONCE: Final = 12
_ACC_MOD: Final = 1 << 256
#: The largest value one record may hold (a credential is ≤ 512 KiB, D10; this is roomier).
MAX_VALUE_SIZE: Final = 16 * 1024 * 1024
_MAX_META: Final = 64 * 1024
_BYTES_TAG: Final = b"b"
_JSON_TAG: Final = b"j"


@dataclass(frozen=True, slots=True)
class Entry:
    """What the vault knows about a record without decrypting its value.

    ``version`` is the vault generation of the last write: later writes have larger ones,
    so it orders records by time of writing.
    """

    kind: str
    id: str
    index: Mapping[str, IndexValue]
    version: int

    def matches(self, filters: Mapping[str, object]) -> bool:
        """True when every filter holds: equal to a value, or in a tuple/list/set of values."""
        index = self.index
        for name, wanted in filters.items():
            have = index.get(name, _MISSING)
            if isinstance(wanted, tuple | list | set | frozenset):
                if have not in wanted:
                    return False
            elif have != wanted:
                return False
        return True


_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class Record:
    """A decrypted record: its entry and its value (``bytes`` or the stored JSON value)."""

    entry: Entry
    value: Any

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def id(self) -> str:
        return self.entry.id

    def __repr__(self) -> str:
        # Values are claims and secrets: never in a repr (WL-28).
        return f"Record(kind={self.kind!r}, id={self.id!r}, version={self.entry.version})"


def _lp(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">I", len(raw)) + raw


def rid_label(rid: bytes) -> str:
    """How an error names a row whose kind and id cannot be decrypted."""
    return f"row {rid.hex()[:16]}"


class RecordCipher:
    """Seals and opens records of one wallet under keys derived from its data key."""

    __slots__ = ("_acc_key", "_aead", "_rid_key", "_wallet_id")

    def __init__(self, data_key: bytes, wallet_id: bytes) -> None:
        def derive(label: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, wallet_id, b"honnin wallet " + label).derive(data_key)

        self._aead = AESGCM(derive(b"record encryption v1"))
        self._rid_key = derive(b"row id v1")
        self._acc_key = derive(b"record set digest v1")
        self._wallet_id = wallet_id

    def __repr__(self) -> str:
        return "RecordCipher(<keys hidden>)"

    def rid(self, kind: str, record_id: str) -> bytes:
        """The row key: HMAC-SHA256 of kind and id, truncated to 128 bits."""
        return hmac.digest(self._rid_key, _lp(kind) + _lp(record_id), "sha256")[:16]

    def term(self, rid: bytes, version: int) -> int:
        """This row's share of the record-set digest."""
        mac = hmac.digest(self._acc_key, rid + struct.pack(">q", version), "sha256")
        return int.from_bytes(mac, "big")

    # -- meta ------------------------------------------------------------------------------

    def _meta_aad(self, rid: bytes, version: int) -> bytes:
        return b"honnin meta v1\0" + self._wallet_id + rid + struct.pack(">q", version)

    def seal_meta(
        self, rid: bytes, version: int, kind: str, record_id: str, index: Mapping[str, Any]
    ) -> bytes:
        plain = json_dumps([kind, record_id, dict(index)]).encode("utf-8")
        if len(plain) > _MAX_META:
            raise ValueError(f"the index of a record may hold at most {_MAX_META} bytes")
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, self._meta_aad(rid, version))

    def open_meta(self, rid: bytes, version: int, blob: bytes) -> Entry:
        """Decrypt and check one ``meta`` ciphertext.

        Raises:
            WalletCorrupted: authentication fails, or kind/id do not belong to this row.
        """
        label = rid_label(rid)
        try:
            plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], self._meta_aad(rid, version))
        except (InvalidTag, ValueError) as exc:
            raise WalletCorrupted(
                f"the index entry of {label} does not authenticate", record=label
            ) from exc
        try:
            kind, record_id, index = json_loads(plain, max_size=_MAX_META)
        except (HonninError, ValueError, TypeError) as exc:
            raise WalletCorrupted(f"the index entry of {label} is malformed", record=label) from exc
        if not (isinstance(kind, str) and isinstance(record_id, str) and isinstance(index, dict)):
            raise WalletCorrupted(f"the index entry of {label} is malformed", record=label)
        if not hmac.compare_digest(self.rid(kind, record_id), rid):
            raise WalletCorrupted(f"{kind}/{record_id} is stored under another row", record=label)
        return Entry(kind, record_id, MappingProxyType(index), version)

    # -- body ------------------------------------------------------------------------------

    def _body_aad(self, kind: str, record_id: str, version: int) -> bytes:
        return (
            b"honnin body v1\0"
            + self._wallet_id
            + _lp(kind)
            + _lp(record_id)
            + struct.pack(">q", version)
        )

    def seal_body(self, kind: str, record_id: str, version: int, value: Any) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            plain = _BYTES_TAG + bytes(value)
        else:
            plain = _JSON_TAG + json_dumps(value).encode("utf-8")
        if len(plain) > MAX_VALUE_SIZE:
            raise ValueError(f"a record value may hold at most {MAX_VALUE_SIZE} bytes")
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, self._body_aad(kind, record_id, version))

    def open_body(self, entry: Entry, blob: bytes) -> Any:
        """Decrypt one ``body`` ciphertext into ``bytes`` or the JSON value it held.

        Raises:
            WalletCorrupted: authentication fails (``record`` is ``kind/id``).
        """
        label = f"{entry.kind}/{entry.id}"
        aad = self._body_aad(entry.kind, entry.id, entry.version)
        try:
            plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad)
        except (InvalidTag, ValueError) as exc:
            raise WalletCorrupted(f"record {label} does not authenticate", record=label) from exc
        tag, payload = plain[:1], plain[1:]
        if tag == _BYTES_TAG:
            return payload
        if tag == _JSON_TAG:
            try:
                return json_loads(payload, max_depth=64)
            except HonninError as exc:
                raise WalletCorrupted(f"record {label} is malformed", record=label) from exc
        raise WalletCorrupted(f"record {label} has an unknown encoding", record=label)

    # -- the vault state -------------------------------------------------------------------

    def seal_state(self, generation: int, digest: int) -> bytes:
        plain = struct.pack(">q", generation) + (digest % _ACC_MOD).to_bytes(32, "big")
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, b"honnin state v1\0" + self._wallet_id)

    def open_state(self, blob: bytes) -> tuple[int, int]:
        """Raises WalletCorrupted (``record="vault_state"``) when it does not authenticate."""
        try:
            plain = self._aead.decrypt(
                blob[:_NONCE], blob[_NONCE:], b"honnin state v1\0" + self._wallet_id
            )
        except (InvalidTag, ValueError) as exc:
            raise WalletCorrupted(
                "the vault state does not authenticate", record="vault_state"
            ) from exc
        if len(plain) != 40:
            raise WalletCorrupted("the vault state is malformed", record="vault_state")
        return struct.unpack(">q", plain[:8])[0], int.from_bytes(plain[8:], "big")


def add_term(digest: int, term: int) -> int:
    """Add a row to the record-set digest."""
    return (digest + term) % _ACC_MOD


def remove_term(digest: int, term: int) -> int:
    """Remove a row from the record-set digest."""
    return (digest - term) % _ACC_MOD


@dataclass(slots=True)
class LoadedIndex:
    """Every record's entry, decrypted and checked, with the generation and digest."""

    entries: dict[str, dict[str, Entry]]
    generation: int
    digest: int


def load_index(conn: sqlite3.Connection, cipher: RecordCipher) -> LoadedIndex:
    """Decrypt every ``meta`` and check the set against the sealed record-set digest.

    Nothing is returned unless every entry authenticates and the set is complete: a row
    removed, added, duplicated or rolled back on its own is ``WalletCorrupted``.
    """
    with sqlite_errors("vault_state"):
        state = conn.execute("SELECT generation, sealed FROM vault_state WHERE id = 1").fetchone()
    if state is None or not isinstance(state[0], int) or not isinstance(state[1], bytes):
        raise WalletCorrupted("the vault state is missing or malformed", record="vault_state")
    generation, digest = cipher.open_state(state[1])
    if generation != state[0]:
        raise WalletCorrupted("the vault generation was altered", record="vault_state")
    with sqlite_errors("entries"):
        rows = conn.execute("SELECT rid, version, meta FROM entries").fetchall()
        bodies = conn.execute("SELECT count(*) FROM bodies").fetchone()[0]
    entries: dict[str, dict[str, Entry]] = {}
    total = 0
    term, open_meta = cipher.term, cipher.open_meta
    for rid, version, meta in rows:
        if (
            not isinstance(rid, bytes)
            or len(rid) != 16
            or not isinstance(version, int)
            or not 0 < version <= generation
            or not isinstance(meta, bytes)
        ):
            label = rid_label(rid) if isinstance(rid, bytes) else "entries"
            raise WalletCorrupted(f"{label} is malformed", record=label)
        entry = open_meta(rid, version, meta)
        total += term(rid, version)
        entries.setdefault(entry.kind, {})[entry.id] = entry
    if total % _ACC_MOD != digest:
        raise WalletCorrupted(
            "records were removed, added or rolled back one by one", record="record set"
        )
    if bodies != len(rows):
        raise WalletCorrupted(
            f"{len(rows)} index entries but {bodies} record bodies", record="record set"
        )
    return LoadedIndex(entries, generation, digest)
