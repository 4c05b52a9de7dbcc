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

import json
from collections.abc import Iterable, Sequence
from typing import Final

from honnin.clock import Clock
from honnin.errors import WalletCorrupted

from ._transparency_entries import (
    ENTRY_KIND,
    GENESIS,
    Event,
    LogEntry,
    LoggedClaims,
    Recipient,
    entry_hash,
    entry_id,
    logged_claims,
    overlaps,
    parse_entry,
    tampered,
    text_field,
)
from ._vault import Vault
from ._vault_records import Entry

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

HEAD_KIND: Final = "transparency_head"
_HEAD_ID: Final = "head"


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
        # The head as last read or written, with the vault entry it came from: while that
        # entry is the one the vault holds, the head needs no decryption. A rollback puts
        # back the entry object of before, and any other write makes a new one.
        self._known_head: tuple[Entry, int, str] | None = None

    # -- writing ---------------------------------------------------------------------------

    def _head(self) -> tuple[int, str]:
        entries = self._vault.find(HEAD_KIND)
        known = self._known_head
        if known is not None and entries and entries[0] is known[0]:
            return known[1], known[2]
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
        count, digest = int(value["count"]), str(value["hash"])
        self._known_head = (record.entry, count, digest)
        return count, digest

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
            "party_id": text_field(party_id, "party_id"),
            "party_name": text_field(party_name, "party_name"),
            "purpose": text_field(purpose, "purpose"),
            "outcome": text_field(outcome, "outcome"),
            "detail": text_field(detail, "detail"),
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
                disclosed=logged_claims(disclosed),
                refused=logged_claims(refused),
                outcome=outcome,
                detail=fields["detail"],
                prev_hash=last,
                entry_hash="",
            )
            body = draft.body()
            digest = entry_hash(body)
            self._vault.put(
                ENTRY_KIND,
                entry_id(seq),
                {**body, "entry_hash": digest},
                index={"seq": seq, "event": draft.event.value},
            )
            head = self._vault.put(HEAD_KIND, _HEAD_ID, {"count": seq, "hash": digest})
            self._known_head = (head, seq, digest)
        return parse_entry({**body, "entry_hash": digest}, seq)

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
            record = self._vault.get(ENTRY_KIND, entry_id(seq))
            if record is None:
                raise tampered(seq, "missing", "the entry is gone (deleted or truncated)")
            entry = parse_entry(record.value, seq)
            if entry.seq != seq:
                raise tampered(seq, "reordered", f"entry {entry.seq} stands in its place")
            if entry_hash(entry.body()) != entry.entry_hash:
                raise tampered(seq, "edited", "its content does not match its hash")
            if entry.prev_hash != previous:
                raise tampered(seq, "reordered", "it does not follow the entry before it")
            previous = entry.entry_hash
            out.append(entry)
        extra = [e for e in self._vault.find(ENTRY_KIND) if not _within(e.id, count)]
        if extra:
            first = min(int(e.index.get("seq") or 0) for e in extra)
            raise tampered(first, "extra", "an entry exists beyond the head")
        if previous != head_hash:
            raise tampered(count, "head", "the head does not match the last entry")
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
        """Who received ``claim`` ("who has received which of my claims"): every presentation
        (an entry is written when the data leaves the wallet) that disclosed it, its parent
        or one of its members, oldest first.
        ``credential_type`` narrows it to one type (as logged).

        Raises:
            WalletCorrupted: see ``verify``.
        """
        wanted = tuple(claim)
        out = []
        for entry in self._read_verified():
            if entry.event is not Event.PRESENTATION:
                continue
            for item in entry.disclosed:
                if credential_type is not None and item.credential_type != credential_type:
                    continue
                for path in item.claims:
                    if overlaps(path, wanted):
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


def _within(record_id: str, count: int) -> bool:
    return record_id.isdigit() and 1 <= int(record_id) <= count
