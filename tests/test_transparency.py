"""The transparency log: append, verify, export, "who received which claim", and tampering
through the vault (edit, reorder, delete, truncate the tail, add beyond the head)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from honnin.clock import FixedClock
from honnin.errors import WalletCorrupted
from wallet import KdfParams, Vault
from wallet._transparency import (
    ENTRY_KIND,
    GENESIS,
    HEAD_KIND,
    Event,
    TransparencyLog,
    entry_hash,
)

PIN = "246810"
AGENCY = "x509_san_dns:agency.honnin.example"
EMPLOYER = "x509_san_dns:employer.honnin.example"


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with Vault.create(tmp_path / "w.wallet", PIN, kdf=KdfParams.INSECURE_TEST_ONLY) as opened:
        yield opened


@pytest.fixture
def log(vault: Vault) -> TransparencyLog:
    log = TransparencyLog(vault, FixedClock(1_780_000_000))
    log.append(
        Event.ISSUANCE,
        party_id="https://example-corp.issuer.honnin.example",
        party_name="Example Corp",
        disclosed=[("withholding-slip", [])],
        outcome="success",
    )
    log.append(
        Event.PRESENTATION,
        party_id=AGENCY,
        party_name="Hello Work",
        purpose="unemployment benefit application",
        disclosed=[("withholding-slip", [("payment_amount",), ("payer", "name")])],
        outcome="success",
    )
    log.append(
        Event.REFUSAL,
        party_id=EMPLOYER,
        party_name="New Employer",
        purpose="hiring",
        refused=[("withholding-slip", [("my_number",)])],
        outcome="refused",
        detail="restricted_claim",
    )
    log.append(
        Event.PRESENTATION,
        party_id=EMPLOYER,
        party_name="New Employer",
        purpose="hiring",
        disclosed=[("withholding-slip", [("payer",)]), ("tax-certificate", [("total_income",)])],
        outcome="success",
    )
    return log


def _tamper(vault: Vault, seq: int, **changes: object) -> None:
    record = vault.get(ENTRY_KIND, f"{seq:012d}")
    assert record is not None
    vault.put(ENTRY_KIND, f"{seq:012d}", {**record.value, **changes}, index=record.entry.index)


def test_append_and_verify(log: TransparencyLog) -> None:
    assert log.verify() == 4 and len(log) == 4
    entries = log.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.event for e in entries] == [
        Event.ISSUANCE,
        Event.PRESENTATION,
        Event.REFUSAL,
        Event.PRESENTATION,
    ]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    assert all(entry_hash(e.body()) == e.entry_hash for e in entries)
    assert log.head() == (4, entries[-1].entry_hash)
    assert entries[2].refused[0].claims == (("my_number",),)
    assert entries[1].time == 1_780_000_000


def test_an_empty_log_verifies(vault: Vault) -> None:
    log = TransparencyLog(vault, FixedClock(0))
    assert log.verify() == 0 and log.head() == (0, GENESIS) and log.entries() == []


def test_the_log_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "r.wallet"
    with Vault.create(path, PIN, kdf=KdfParams.INSECURE_TEST_ONLY) as vault:
        TransparencyLog(vault, FixedClock(1)).append(Event.DELETION, outcome="success")
    with Vault.open(path, PIN) as vault:
        log = TransparencyLog(vault, FixedClock(2))
        log.append(Event.REVOCATION_REQUEST, party_id="https://issuer.example", outcome="success")
        assert log.verify() == 2


def test_an_entry_commits_with_the_callers_transaction(vault: Vault) -> None:
    log = TransparencyLog(vault, FixedClock(1))
    with pytest.raises(RuntimeError), vault.transaction():
        log.append(Event.PRESENTATION, party_id=AGENCY, outcome="success")
        raise RuntimeError("the presentation failed after logging")
    assert log.head() == (0, GENESIS) and log.verify() == 0


def test_a_rolled_back_entry_leaves_the_head_of_before(vault: Vault) -> None:
    # The log keeps the head it last saw: a rollback must bring back the one of before.
    log = TransparencyLog(vault, FixedClock(1))
    log.append(Event.ISSUANCE, party_id=AGENCY, outcome="success")
    committed = log.head()
    with pytest.raises(RuntimeError), vault.transaction():
        log.append(Event.PRESENTATION, party_id=AGENCY, outcome="success")
        assert log.head()[0] == 2
        raise RuntimeError("the presentation failed after logging")
    assert log.head() == committed
    log.append(Event.REFUSAL, party_id=AGENCY, outcome="refused")
    assert log.head()[0] == 2 and log.verify() == 2
    assert [e.event for e in log.entries()] == [Event.ISSUANCE, Event.REFUSAL]


def test_export_json(log: TransparencyLog) -> None:
    document = json.loads(log.export_json())
    assert document["version"] == 1
    assert document["head"] == {"count": 4, "hash": log.head()[1]}
    assert [e["seq"] for e in document["entries"]] == [1, 2, 3, 4]
    second = document["entries"][1]
    assert second["disclosed"] == [
        {"credential_type": "withholding-slip", "claims": [["payment_amount"], ["payer", "name"]]}
    ]
    assert second["party_name"] == "Hello Work"


def test_recipients_of_a_claim(log: TransparencyLog) -> None:
    payer_name = log.recipients_of(("payer", "name"))
    assert [(r.party_id, r.claim) for r in payer_name] == [
        (AGENCY, ("payer", "name")),
        (EMPLOYER, ("payer",)),  # the whole payer object includes its name
    ]
    assert [r.party_name for r in log.recipients_of(("payer",))] == ["Hello Work", "New Employer"]
    assert log.recipients_of(("my_number",)) == []  # refused, never received
    income = log.recipients_of(("total_income",), "tax-certificate")
    assert [r.seq for r in income] == [4]
    assert log.recipients_of(("total_income",), "withholding-slip") == []
    assert payer_name[0].purpose == "unemployment benefit application"


def test_no_claim_values_are_logged(log: TransparencyLog) -> None:
    text = log.export_json()
    assert "5000000" not in text and "123456789018" not in text


def test_append_refuses_bad_input(log: TransparencyLog) -> None:
    with pytest.raises(ValueError):
        log.append(Event.PRESENTATION, outcome="success", purpose="x" * 3000)
    with pytest.raises(ValueError):
        log.append(Event.PRESENTATION, outcome="success", disclosed=[("t", [(1.5,)])])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        log.append("gossip", outcome="success")
    assert log.verify() == 4


# -- tampering through the vault --------------------------------------------------------------


def _detected(log: TransparencyLog, entry: int, reason: str) -> None:
    with pytest.raises(WalletCorrupted) as info:
        log.verify()
    assert info.value.fields["entry"] == entry
    assert info.value.fields["reason"] == reason
    with pytest.raises(WalletCorrupted):
        log.export_json()
    with pytest.raises(WalletCorrupted):
        log.recipients_of(("payer",))


def test_editing_an_entry_is_detected(vault: Vault, log: TransparencyLog) -> None:
    _tamper(vault, 2, party_name="Someone Else")
    _detected(log, 2, "edited")


def test_hiding_a_disclosed_claim_is_detected(vault: Vault, log: TransparencyLog) -> None:
    _tamper(vault, 4, disclosed=[{"credential_type": "withholding-slip", "claims": []}])
    _detected(log, 4, "edited")


def test_editing_an_entry_and_its_hash_is_detected_at_the_next(
    vault: Vault, log: TransparencyLog
) -> None:
    record = vault.get(ENTRY_KIND, f"{2:012d}")
    assert record is not None
    edited = {**record.value, "purpose": "something harmless"}
    body = {k: v for k, v in edited.items() if k != "entry_hash"}
    vault.put(ENTRY_KIND, f"{2:012d}", {**body, "entry_hash": entry_hash(body)})
    _detected(log, 3, "reordered")


def test_reordering_entries_is_detected(vault: Vault, log: TransparencyLog) -> None:
    second = vault.get(ENTRY_KIND, f"{2:012d}")
    third = vault.get(ENTRY_KIND, f"{3:012d}")
    assert second is not None and third is not None
    with vault.transaction():
        vault.put(ENTRY_KIND, f"{2:012d}", third.value)
        vault.put(ENTRY_KIND, f"{3:012d}", second.value)
    _detected(log, 2, "reordered")


def test_renumbered_reordering_is_detected(vault: Vault, log: TransparencyLog) -> None:
    second = vault.get(ENTRY_KIND, f"{2:012d}")
    third = vault.get(ENTRY_KIND, f"{3:012d}")
    assert second is not None and third is not None
    with vault.transaction():
        vault.put(ENTRY_KIND, f"{2:012d}", {**third.value, "seq": 2})
        vault.put(ENTRY_KIND, f"{3:012d}", {**second.value, "seq": 3})
    _detected(log, 2, "edited")


def test_deleting_an_entry_is_detected(vault: Vault, log: TransparencyLog) -> None:
    assert vault.delete(ENTRY_KIND, f"{3:012d}")
    _detected(log, 3, "missing")


def test_truncating_the_tail_is_detected(vault: Vault, log: TransparencyLog) -> None:
    with vault.transaction():
        vault.delete(ENTRY_KIND, f"{4:012d}")
        vault.delete(ENTRY_KIND, f"{3:012d}")
    _detected(log, 3, "missing")


def test_rolling_the_head_back_is_detected(vault: Vault, log: TransparencyLog) -> None:
    third = vault.get(ENTRY_KIND, f"{3:012d}")
    assert third is not None
    vault.put(HEAD_KIND, "head", {"count": 3, "hash": third.value["entry_hash"]})
    _detected(log, 4, "extra")


def test_a_head_that_disagrees_is_detected(vault: Vault, log: TransparencyLog) -> None:
    vault.put(HEAD_KIND, "head", {"count": 4, "hash": "0" * 64})
    _detected(log, 4, "head")


def test_a_malformed_entry_is_detected(vault: Vault, log: TransparencyLog) -> None:
    vault.put(ENTRY_KIND, f"{1:012d}", {"seq": 1})
    _detected(log, 1, "malformed")


def test_an_entry_with_a_wrong_field_type_is_detected(vault: Vault, log: TransparencyLog) -> None:
    _tamper(vault, 2, time="yesterday")
    _detected(log, 2, "malformed")


def test_a_malformed_head(vault: Vault, log: TransparencyLog) -> None:
    vault.put(HEAD_KIND, "head", ["not", "a", "head"])
    with pytest.raises(WalletCorrupted) as info:
        log.verify()
    assert info.value.fields["reason"] == "head"
    with pytest.raises(WalletCorrupted):
        log.append(Event.PRESENTATION, outcome="success")
