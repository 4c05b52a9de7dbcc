"""The transparency log: every presentation, refusal, issuance, deletion and revocation
request, hash-chained in the wallet's encrypted vault (DESIGN "Transparency"; ARF DASH_02,
DASH_03, DASH_03a, DASH_06, DASH_07; HOSTILE-CASES WL-30..33).

Each entry records who (the counterparty's id and verified name), when, why (the purpose),
what (credential types and claim *paths*, never values: DASH_03a) and the outcome. It
carries ``prev_hash``, the ``entry_hash`` of the entry before it, and its own ``entry_hash``
= SHA-256 over its canonical encoding (JSON, keys sorted, no whitespace, UTF-8; every field
is an ASCII-named string, integer, null or array of those, so the encoding is unique).

Records: ``transparency_entry/<seq>`` per entry and ``transparency_head/head`` with the
count and last hash, written in the same vault transaction as the entry, so truncating the
tail is detected as well as editing, reordering or deleting an entry. The vault already
encrypts and authenticates every record; the chain makes a change made *through* the vault
(by code holding the PIN) visible. What it cannot show: a rewrite of the whole log and its
head together. Compare ``head()`` with a copy kept elsewhere for that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from honnin.clock import Clock
from honnin.errors import WalletCorrupted

from ._vault import Vault

__all__ = [
    "ENTRY_KIND",
    "GENESIS",
    "HEAD_KIND",
    "Event",
    "LogEntry",
    "LoggedClaims",
    "Recipient",
    "TransparencyLog",
    "entry_hash",
]

ENTRY_KIND: Final = "transparency_entry"
HEAD_KIND: Final = "transparency_head"
_HEAD_ID: Final = "head"
#: The ``prev_hash`` of the first entry: a fixed, versioned value.
GENESIS: Final = hashlib.sha256(b"honnin transparency log v1").hexdigest()
_FIELDS: Final = (
    "seq",
    "time",
    "event",
    "party_id",
    "party_name",
    "purpose",
    "disclosed",
    "refused",
    "outcome",
    "detail",
    "prev_hash",
)
_MAX_TEXT: Final = 2000

ClaimPath = tuple[str | int | None, ...]


class Event(StrEnum):
    """What happened (ARF DASH_02: every transaction, failures included)."""

    PRESENTATION = "presentation"
    REFUSAL = "refusal"
    ISSUANCE = "issuance"
    DELETION = "deletion"
    REVOCATION_REQUEST = "revocation_request"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True, slots=True)
class LoggedClaims:
    """Claim paths of one credential type (identifiers only, never values)."""

    credential_type: str
    claims: tuple[ClaimPath, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"credential_type": self.credential_type, "claims": [list(p) for p in self.claims]}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry of the log (see the module docstring)."""

    seq: int
    time: int
    event: Event
    party_id: str | None
    party_name: str | None
    purpose: str | None
    disclosed: tuple[LoggedClaims, ...]
    refused: tuple[LoggedClaims, ...]
    outcome: str
    detail: str | None
    prev_hash: str
    entry_hash: str

    def body(self) -> dict[str, Any]:
        """The hashed fields as JSON values."""
        return {
            "seq": self.seq,
            "time": self.time,
            "event": self.event.value,
            "party_id": self.party_id,
            "party_name": self.party_name,
            "purpose": self.purpose,
            "disclosed": [c.to_dict() for c in self.disclosed],
            "refused": [c.to_dict() for c in self.refused],
            "outcome": self.outcome,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict, ``entry_hash`` included."""
        return {**self.body(), "entry_hash": self.entry_hash}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone who received a claim: from ``recipients_of``."""

    party_id: str | None
    party_name: str | None
    time: int
    purpose: str | None
    credential_type: str
    claim: ClaimPath
    seq: int


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical encoding of an entry's hashed fields."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text(value: str | None, name: str) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > _MAX_TEXT):
        raise ValueError(f"{name} is a string of at most {_MAX_TEXT} characters")
    return value


def _claims(
    items: Iterable[tuple[str, Iterable[Sequence[str | int | None]]]],
) -> tuple[LoggedClaims, ...]:
    out = []
    for credential_type, paths in items:
        clean = []
        for path in paths:
            step = tuple(path)
            if not all(p is None or isinstance(p, str) or type(p) is int for p in step):
                raise ValueError("a claim path holds names, indices and None")
            clean.append(step)
        out.append(LoggedClaims(str(credential_type), tuple(clean)))
    return tuple(out)


def _overlaps(a: ClaimPath, b: ClaimPath) -> bool:
    for x, y in zip(a, b, strict=False):
        if x is None or y is None:
            if not (x is None or type(x) is int) or not (y is None or type(y) is int):
                return False
        elif x != y:
            return False
    return True


class TransparencyLog:
    """The wallet's tamper-evident log over an open ``Vault`` (one per wallet).

    Example::

        log = TransparencyLog(vault, clock)
        log.append(Event.PRESENTATION, party_id=client_id, party_name="Hello Work",
                   purpose="unemployment benefit application",
                   disclosed=[("withholding-slip", [("payment_amount",)])], outcome="success")
        log.verify()                        # raises WalletCorrupted naming the first bad entry
        log.recipients_of(("payment_amount",))
    """

    def __init__(self, vault: Vault, clock: Clock) -> None:
        self._vault = vault
        self._clock = clock

    # -- writing ---------------------------------------------------------------------------

    def _head(self) -> tuple[int, str]:
        record = self._vault.get(HEAD_KIND, _HEAD_ID)
        if record is None:
            return 0, GENESIS
        value = record.value
        if (
            not isinstance(value, dict)
            or type(value.get("count")) is not int
            or not isinstance(value.get("hash"), str)
        ):
            raise WalletCorrupted(
                "the transparency log head is malformed",
                record=f"{HEAD_KIND}/{_HEAD_ID}",
                reason="head",
            )
        return int(value["count"]), str(value["hash"])

    def append(
        self,
        event: Event | str,
        *,
        outcome: str,
        party_id: str | None = None,
        party_name: str | None = None,
        purpose: str | None = None,
        disclosed: Iterable[tuple[str, Iterable[Sequence[str | int | None]]]] = (),
        refused: Iterable[tuple[str, Iterable[Sequence[str | int | None]]]] = (),
        detail: str | None = None,
    ) -> LogEntry:
        """Append an entry (one vault transaction; joins the caller's transaction, so a
        presentation and its entry commit together).

        ``disclosed`` / ``refused`` are ``(credential type, claim paths)`` pairs: paths,
        never values (ARF DASH_03a).

        Raises:
            ValueError: an over-long text or a malformed claim path (a programmer mistake).
            WalletCorrupted: the stored head is damaged.
        """
        fields = {
            "party_id": _text(party_id, "party_id"),
            "party_name": _text(party_name, "party_name"),
            "purpose": _text(purpose, "purpose"),
            "outcome": _text(outcome, "outcome"),
            "detail": _text(detail, "detail"),
        }
        with self._vault.transaction():
            count, last = self._head()
            seq = count + 1
            draft = LogEntry(
                seq=seq,
                time=int(self._clock.now()),
                event=Event(event),
                party_id=fields["party_id"],
                party_name=fields["party_name"],
                purpose=fields["purpose"],
                disclosed=_claims(disclosed),
                refused=_claims(refused),
                outcome=outcome,
                detail=fields["detail"],
                prev_hash=last,
                entry_hash="",
            )
            body = draft.body()
            digest = entry_hash(body)
            self._vault.put(
                ENTRY_KIND,
                _entry_id(seq),
                {**body, "entry_hash": digest},
                index={"seq": seq, "event": draft.event.value},
            )
            self._vault.put(HEAD_KIND, _HEAD_ID, {"count": seq, "hash": digest})
        return _parse({**body, "entry_hash": digest}, seq)

    # -- reading and verifying -------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """``(count, hash of the last entry)``: keep a copy elsewhere to detect a rewrite."""
        return self._head()

    def __len__(self) -> int:
        return self._head()[0]

    def entries(self) -> list[LogEntry]:
        """Every entry, oldest first, after ``verify``.

        Raises:
            WalletCorrupted: see ``verify``.
        """
        return self._read_verified()

    def verify(self) -> int:
        """Check the whole chain and the head; returns the number of entries.

        Raises:
            WalletCorrupted: ``entry`` names the first bad entry and ``reason`` says what is
                wrong: ``missing`` (deleted, or the tail truncated), ``reordered`` (another
                entry in its place, or its predecessor changed), ``edited`` (its content no
                longer matches its hash), ``extra`` (an entry beyond the head), ``head``
                (the head does not match the last entry), ``malformed``.
        """
        return len(self._read_verified())

    def _read_verified(self) -> list[LogEntry]:
        count, head_hash = self._head()
        out: list[LogEntry] = []
        previous = GENESIS
        for seq in range(1, count + 1):
            record = self._vault.get(ENTRY_KIND, _entry_id(seq))
            if record is None:
                raise _tampered(seq, "missing", "the entry is gone (deleted or truncated)")
            entry = _parse(record.value, seq)
            if entry.seq != seq:
                raise _tampered(seq, "reordered", f"entry {entry.seq} stands in its place")
            if entry_hash(entry.body()) != entry.entry_hash:
                raise _tampered(seq, "edited", "its content does not match its hash")
            if entry.prev_hash != previous:
                raise _tampered(seq, "reordered", "it does not follow the entry before it")
            previous = entry.entry_hash
            out.append(entry)
        extra = [e for e in self._vault.find(ENTRY_KIND) if not _within(e.id, count)]
        if extra:
            first = min(int(e.index.get("seq") or 0) for e in extra)
            raise _tampered(first, "extra", "an entry exists beyond the head")
        if previous != head_hash:
            raise _tampered(count, "head", "the head does not match the last entry")
        return out

    def export_json(self) -> str:
        """The verified log as JSON (ARF DASH_07): ``{"version", "head", "entries"}``.

        Raises:
            WalletCorrupted: see ``verify``.
        """
        entries = self._read_verified()
        count, head_hash = self._head()
        document = {
            "version": 1,
            "head": {"count": count, "hash": head_hash},
            "entries": [e.to_dict() for e in entries],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    def recipients_of(
        self, claim: Sequence[str | int | None], credential_type: str | None = None
    ) -> list[Recipient]:
        """Who received ``claim`` ("who has received which of my claims"): every successful
        presentation that disclosed it, its parent or one of its members, oldest first.
        ``credential_type`` narrows it to one type (as logged).

        Raises:
            WalletCorrupted: see ``verify``.
        """
        wanted = tuple(claim)
        out = []
        for entry in self._read_verified():
            if entry.event is not Event.PRESENTATION or entry.outcome != "success":
                continue
            for item in entry.disclosed:
                if credential_type is not None and item.credential_type != credential_type:
                    continue
                for path in item.claims:
                    if _overlaps(path, wanted):
                        out.append(
                            Recipient(
                                entry.party_id,
                                entry.party_name,
                                entry.time,
                                entry.purpose,
                                item.credential_type,
                                path,
                                entry.seq,
                            )
                        )
        return out


def _entry_id(seq: int) -> str:
    return f"{seq:012d}"


def _within(record_id: str, count: int) -> bool:
    return record_id.isdigit() and 1 <= int(record_id) <= count


def _tampered(seq: int, reason: str, what: str) -> WalletCorrupted:
    return WalletCorrupted(
        f"transparency log entry {seq}: {what}",
        record=f"{ENTRY_KIND}/{_entry_id(seq)}",
        entry=seq,
        reason=reason,
    )


def _logged(value: Any, seq: int) -> tuple[LoggedClaims, ...]:
    if not isinstance(value, list):
        raise _tampered(seq, "malformed", "claims are not a list")
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"credential_type", "claims"}
            or not isinstance(item["credential_type"], str)
            or not isinstance(item["claims"], list)
            or not all(isinstance(p, list) for p in item["claims"])
        ):
            raise _tampered(seq, "malformed", "a claims item is malformed")
        out.append(LoggedClaims(item["credential_type"], tuple(tuple(p) for p in item["claims"])))
    return tuple(out)


def _parse(value: Any, seq: int) -> LogEntry:
    if not isinstance(value, dict) or set(value) != {*_FIELDS, "entry_hash"}:
        raise _tampered(seq, "malformed", "the entry does not have the log's fields")
    try:
        return LogEntry(
            seq=_int(value["seq"]),
            time=_int(value["time"]),
            event=Event(value["event"]),
            party_id=_opt(value["party_id"]),
            party_name=_opt(value["party_name"]),
            purpose=_opt(value["purpose"]),
            disclosed=_logged(value["disclosed"], seq),
            refused=_logged(value["refused"], seq),
            outcome=str(_opt(value["outcome"])),
            detail=_opt(value["detail"]),
            prev_hash=str(_opt(value["prev_hash"])),
            entry_hash=str(_opt(value["entry_hash"])),
        )
    except (ValueError, TypeError) as exc:
        raise _tampered(seq, "malformed", f"a field has the wrong type ({exc})") from exc


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _opt(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("not a string")
    return value
