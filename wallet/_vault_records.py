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
multiset hash over all (rid, version) pairs is sealed in ``vault_state``; it detects a
deleted, added or individually rolled-back row. It is MSet-Add-Hash (Clarke et al., 2003):
the sum mod 2^128 of a secret pseudorandom function of each pair, here AES-256 on the
single block ``rid XOR version`` (distinct pairs give distinct blocks, as a version is far
below 2^64 and rids are keyed hashes). AES lets the vault compute all 10,000 terms of a
large wallet in one call when it opens.
"""

from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin.encoding import json_dumps
from honnin.errors import WalletCorrupted

from ._vault_file import sqlite_errors

__all__ = [
    "MAX_VALUE_SIZE",
    "Entry",
    "IndexValue",
    "LoadedIndex",
    "Record",
    "RecordCipher",
    "add_term",
    "check_index",
    "check_name",
    "load_index",
    "remove_term",
    "select",
]

IndexValue: TypeAlias = str | int | bool | None
_NONCE: Final = 12
_ACC_MOD: Final = 1 << 128
_TERM_WORDS: Final = struct.Struct(">QQ")
#: The largest value one record may hold (a credential is ≤ 512 KiB, D10; this is roomier).
MAX_VALUE_SIZE: Final = 16 * 1024 * 1024
_MAX_META: Final = 64 * 1024
_RESERVED: Final = "honnin."
_MAX_NAME: Final = 512
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
        return bool(select([self], filters))


_MISSING: Final = object()


def select(entries: list[Entry], filters: Mapping[str, object]) -> list[Entry]:
    """The entries whose index matches every filter (see ``Entry.matches``)."""
    if not filters:
        return list(entries)
    checks = [
        (
            name,
            wanted,
            frozenset(wanted) if isinstance(wanted, tuple | list | set | frozenset) else None,
        )
        for name, wanted in filters.items()
    ]
    found = []
    for entry in entries:
        get = entry.index.get
        for name, wanted, members in checks:
            have = get(name, _MISSING)
            if (have != wanted) if members is None else (have not in members):
                break
        else:
            found.append(entry)
    return found


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


def _term_block(rid: bytes, version: int) -> bytes:
    return (int.from_bytes(rid, "big") ^ version).to_bytes(16, "big")


def rid_label(rid: bytes) -> str:
    """How an error names a row whose kind and id cannot be decrypted."""
    return f"row {rid.hex()[:16]}"


class RecordCipher:
    """Seals and opens records of one wallet under keys derived from its data key."""

    __slots__ = ("_aead", "_prf", "_rid_key", "_wallet_id")

    def __init__(self, data_key: bytes, wallet_id: bytes) -> None:
        def derive(label: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, wallet_id, b"honnin wallet " + label).derive(data_key)

        self._aead = AESGCM(derive(b"record encryption v1"))
        self._rid_key = derive(b"row id v1")
        # ECB here is a pseudorandom function on distinct single blocks, not a cipher mode
        # for data: nothing is encrypted with it and its output never leaves the process.
        # One context serves every call: ECB carries no state from one block to the next.
        prf_key = derive(b"record set digest v1")
        self._prf = Cipher(algorithms.AES(prf_key), modes.ECB()).encryptor()  # noqa: S305
        self._wallet_id = wallet_id

    def __repr__(self) -> str:
        return "RecordCipher(<keys hidden>)"

    def rid(self, kind: str, record_id: str) -> bytes:
        """The row key: HMAC-SHA256 of kind and id, truncated to 128 bits."""
        return hmac.digest(self._rid_key, _lp(kind) + _lp(record_id), "sha256")[:16]

    def term(self, rid: bytes, version: int) -> int:
        """This row's share of the record-set digest."""
        return self.terms_total(_term_block(rid, version))

    def terms_total(self, blocks: bytes) -> int:
        """The sum of the terms of many rows (their blocks concatenated), mod 2^128."""
        out = self._prf.update(blocks)
        high = low = 0
        for hi, lo in _TERM_WORDS.iter_unpack(out):
            high += hi
            low += lo
        return ((high << 64) + low) % _ACC_MOD

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

    def open_meta(self, rid: bytes, version: int, blob: bytes) -> bytes:
        """Decrypt one ``meta`` ciphertext (parse it with ``entries_from_metas``).

        Raises:
            WalletCorrupted: authentication fails (``record`` names the row).
        """
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], self._meta_aad(rid, version))
        except (InvalidTag, ValueError) as exc:
            label = rid_label(rid)
            raise WalletCorrupted(
                f"the index entry of {label} does not authenticate", record=label
            ) from exc

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
                # Authenticated plaintext written by ``seal_body`` (see ``open_meta``).
                return json.loads(payload)
            except (ValueError, RecursionError) as exc:
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
    blocks = bytearray()
    plains: list[bytes] = []
    versions: list[int] = []
    open_meta = cipher.open_meta
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
        plains.append(open_meta(rid, version, meta))
        versions.append(version)
        blocks += _term_block(rid, version)
    entries = _entries_from_metas(plains, versions)
    if cipher.terms_total(bytes(blocks)) != digest:
        raise WalletCorrupted(
            "records were removed, added or rolled back one by one", record="record set"
        )
    if bodies != len(rows):
        raise WalletCorrupted(
            f"{len(rows)} index entries but {bodies} record bodies", record="record set"
        )
    return LoadedIndex(entries, generation, digest)


def _entries_from_metas(plains: list[bytes], versions: list[int]) -> dict[str, dict[str, Entry]]:
    # Every plaintext authenticated under the data key with its row id and version as
    # associated data, so only ``seal_meta`` (json_dumps of a 3-item list) can have written
    # it: one parse of all of them as a JSON array is safe, and 10x faster than 10,000
    # parses through honnin.encoding.json_loads, whose screens are for hostile input.
    try:
        parsed = json.loads(b"[" + b",".join(plains) + b"]")
    except (ValueError, RecursionError) as exc:
        raise WalletCorrupted("an index entry is malformed", record="record set") from exc
    entries: dict[str, dict[str, Entry]] = {}
    for item, version in zip(parsed, versions, strict=True):
        try:
            kind, record_id, index = item
        except (ValueError, TypeError) as exc:
            raise WalletCorrupted("an index entry is malformed", record="record set") from exc
        if not (isinstance(kind, str) and isinstance(record_id, str) and isinstance(index, dict)):
            raise WalletCorrupted("an index entry is malformed", record="record set")
        bucket = entries.setdefault(kind, {})
        if record_id in bucket:
            raise WalletCorrupted(f"{kind}/{record_id} is stored twice", record="record set")
        bucket[record_id] = Entry(kind, record_id, MappingProxyType(index), version)
    return entries


def check_name(kind: str, record_id: str) -> None:
    """Refuse non-strings, empty or overlong names and the reserved ``honnin.`` kinds."""
    if not isinstance(kind, str) or not isinstance(record_id, str):
        raise TypeError("kind and record id are strings")
    if not kind or not record_id or len(kind) > _MAX_NAME or len(record_id) > _MAX_NAME:
        raise ValueError(f"kind and record id are 1..{_MAX_NAME} characters")
    if kind.startswith(_RESERVED):
        raise ValueError(f"kinds starting {_RESERVED!r} are reserved for the vault itself")


def check_index(index: Mapping[str, IndexValue] | None) -> dict[str, IndexValue]:
    """A plain copy of ``index``; only scalar values (they are compared in ``select``)."""
    clean: dict[str, IndexValue] = {}
    for name, value in (index or {}).items():
        if not isinstance(name, str) or not (value is None or isinstance(value, str | int)):
            raise ValueError("index names are strings and index values str, int, bool or None")
        clean[name] = value
    return clean
