"""Entries of the transparency log: their fields, canonical hash and strict parsing (the log
itself is ``_transparency``; spec/PROFILE.md "Transparency log")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from honnin.errors import WalletCorrupted

__all__ = [
    "ENTRY_KIND",
    "GENESIS",
    "ClaimPath",
    "Event",
    "LogEntry",
    "LoggedClaims",
    "Recipient",
    "entry_hash",
    "entry_id",
    "logged_claims",
    "overlaps",
    "parse_entry",
    "tampered",
    "text_field",
]

ENTRY_KIND: Final = "transparency_entry"
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


def text_field(value: str | None, name: str) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > _MAX_TEXT):
        raise ValueError(f"{name} is a string of at most {_MAX_TEXT} characters")
    return value


def logged_claims(
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


def overlaps(a: ClaimPath, b: ClaimPath) -> bool:
    for x, y in zip(a, b, strict=False):
        if x is None or y is None:
            if not (x is None or type(x) is int) or not (y is None or type(y) is int):
                return False
        elif x != y:
            return False
    return True


def entry_id(seq: int) -> str:
    return f"{seq:012d}"


def tampered(seq: int, reason: str, what: str) -> WalletCorrupted:
    return WalletCorrupted(
        f"transparency log entry {seq}: {what}",
        record=f"{ENTRY_KIND}/{entry_id(seq)}",
        entry=seq,
        reason=reason,
    )


def _logged(value: Any, seq: int) -> tuple[LoggedClaims, ...]:
    if not isinstance(value, list):
        raise tampered(seq, "malformed", "claims are not a list")
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"credential_type", "claims"}
            or not isinstance(item["credential_type"], str)
            or not isinstance(item["claims"], list)
            or not all(isinstance(p, list) for p in item["claims"])
        ):
            raise tampered(seq, "malformed", "a claims item is malformed")
        out.append(LoggedClaims(item["credential_type"], tuple(tuple(p) for p in item["claims"])))
    return tuple(out)


def parse_entry(value: Any, seq: int) -> LogEntry:
    if not isinstance(value, dict) or set(value) != {*_FIELDS, "entry_hash"}:
        raise tampered(seq, "malformed", "the entry does not have the log's fields")
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
        raise tampered(seq, "malformed", f"a field has the wrong type ({exc})") from exc


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _opt(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("not a string")
    return value
