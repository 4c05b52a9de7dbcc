"""The wallet store's record API: put/get/find/delete, transactions, life cycle, reprs."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest

import wallet
from honnin.errors import NotAWallet, WalletInUse
from wallet import Entry, KdfParams, Record, Vault

PIN = "271828"
FAST = KdfParams.INSECURE_TEST_ONLY


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "alice.wallet"


@pytest.fixture
def vault(path: Path) -> Vault:
    return Vault.create(path, PIN, kdf=FAST)


def test_public_names_are_exported() -> None:
    for name in ("Entry", "KdfParams", "KeyWrapper", "Record", "Signer", "Vault"):
        assert name in wallet.__all__
        assert getattr(wallet, name).__module__.startswith("wallet._")


def test_bytes_and_json_values_round_trip_across_reopen(vault: Vault, path: Path) -> None:
    claims = {"given_name": "花子", "payment_amount": 4_820_000, "nested": {"a": [1, None]}}
    vault.put("credential", "c1", claims, index={"vct": "urn:jp:withholding-slip"})
    vault.put("credential", "c2", b"\x00\xffraw mdoc bytes", index={"doctype": "org.iso.18013.5.1"})
    vault.close()
    with Vault.open(path, PIN) as again:
        one, two = again.get("credential", "c1"), again.get("credential", "c2")
        assert one is not None and one.value == claims
        assert two is not None and two.value == b"\x00\xffraw mdoc bytes"
        assert dict(two.entry.index) == {"doctype": "org.iso.18013.5.1"}


def test_get_of_a_missing_record_is_none(vault: Vault) -> None:
    assert vault.get("credential", "nope") is None


def test_find_filters_by_type_and_format_in_write_order(vault: Vault) -> None:
    vault.put("credential", "a", {}, index={"vct": "urn:x", "format": "dc+sd-jwt"})
    vault.put("credential", "b", {}, index={"vct": "urn:y", "format": "dc+sd-jwt"})
    vault.put("credential", "c", {}, index={"vct": "urn:x", "format": "mso_mdoc"})
    vault.put("credential", "d", {}, index={"vct": "urn:x", "format": "dc+sd-jwt"})
    vault.put("log", "l1", {}, index={"vct": "urn:x", "format": "dc+sd-jwt"})
    assert [e.id for e in vault.find("credential", vct="urn:x", format="dc+sd-jwt")] == ["a", "d"]
    assert [e.id for e in vault.find("credential", format=("mso_mdoc", "dc+sd-jwt"))] == list(
        "abcd"
    )
    assert vault.find("credential", vct="urn:none") == []
    assert vault.find("credential", missing_field="x") == []
    assert vault.find("nothing-of-this-kind") == []
    assert all(isinstance(e, Entry) for e in vault.find("credential"))


def test_put_replaces_and_gets_a_later_version(vault: Vault) -> None:
    first = vault.put("setting", "language", "ja")
    second = vault.put("setting", "language", "en")
    assert second.version > first.version
    record = vault.get("setting", "language")
    assert record is not None and record.value == "en"
    assert len(vault.find("setting")) == 1


def test_delete_reports_whether_a_record_was_there(vault: Vault, path: Path) -> None:
    vault.put("credential", "c1", {"x": 1})
    assert vault.delete("credential", "c1") is True
    assert vault.delete("credential", "c1") is False
    vault.close()
    with Vault.open(path, PIN) as again:
        assert again.get("credential", "c1") is None


def test_a_failed_transaction_leaves_file_and_memory_unchanged(vault: Vault, path: Path) -> None:
    vault.put("credential", "keep", {"v": 1})
    generation = vault.generation
    with pytest.raises(RuntimeError), vault.transaction():
        vault.put("credential", "keep", {"v": 2})
        vault.put("credential", "new", {"v": 3})
        vault.delete("credential", "keep")
        raise RuntimeError("the app changed its mind")
    assert [e.id for e in vault.find("credential")] == ["keep"]
    assert vault.generation == generation
    record = vault.get("credential", "keep")
    assert record is not None and record.value == {"v": 1}
    vault.close()
    with Vault.open(path, PIN) as again:
        assert [e.id for e in again.find("credential")] == ["keep"]


def test_a_transaction_commits_all_changes_as_one_generation(vault: Vault, path: Path) -> None:
    before = vault.generation
    with vault.transaction():
        vault.put("credential", "c1", {"v": 1})
        with vault.transaction():  # a nested transaction joins the outer one
            vault.put("log", "l1", {"event": "stored"})
    assert vault.generation == before + 1
    vault.close()
    with Vault.open(path, PIN) as again:
        assert again.get("log", "l1") is not None
        assert again.generation == before + 1


def test_reserved_kinds_and_bad_names_are_refused(vault: Vault) -> None:
    with pytest.raises(ValueError, match="reserved"):
        vault.put("honnin.binding_key", "k", b"x")
    with pytest.raises(ValueError, match="reserved"):
        vault.get("honnin.secret", "pseudonym")
    with pytest.raises(ValueError):
        vault.put("", "id", b"x")
    with pytest.raises(ValueError):
        vault.put("credential", "id", b"x", index={"claims": ["not", "a", "scalar"]})  # type: ignore[dict-item]


def test_secret_is_random_stable_and_kept(vault: Vault, path: Path) -> None:
    secret = vault.secret("pseudonym")
    assert len(secret) == 32 and vault.secret("pseudonym") == secret
    assert vault.secret("other") != secret
    vault.close()
    with Vault.open(path, PIN) as again:
        assert again.secret("pseudonym") == secret


def test_closed_vault_refuses_use(vault: Vault) -> None:
    vault.close()
    vault.close()  # idempotent
    assert vault.closed
    with pytest.raises(ValueError, match="closed"):
        vault.put("credential", "c", b"x")
    with pytest.raises(ValueError, match="closed"):
        vault.find("credential")


def test_a_second_open_of_the_same_file_is_refused(vault: Vault, path: Path) -> None:
    with pytest.raises(WalletInUse):
        Vault.open(path, PIN)
    vault.close()
    Vault.open(path, PIN).close()


def test_create_never_overwrites_and_leaves_no_temporary_file(vault: Vault, path: Path) -> None:
    vault.close()
    with pytest.raises(FileExistsError):
        Vault.create(path, PIN, kdf=FAST)
    assert sorted(p.name for p in path.parent.iterdir()) == ["alice.wallet"]


def test_the_file_is_private_to_its_owner(vault: Vault, path: Path) -> None:
    assert path.stat().st_mode & 0o077 == 0


def test_strong_kdf_is_the_default(tmp_path: Path) -> None:
    for fn in (Vault.create, Vault.backup, Vault.restore):
        assert inspect.signature(fn).parameters["kdf"].default is KdfParams.STRONG
    assert (KdfParams.STRONG.memory_kib, KdfParams.STRONG.iterations) == (64 * 1024, 3)
    assert KdfParams.STRONG.lanes == 4 and not KdfParams.STRONG.insecure
    with Vault.create(tmp_path / "strong.wallet", PIN) as vault:
        assert vault.kdf == KdfParams.STRONG


def test_weak_kdf_parameters_need_the_insecure_flag() -> None:
    with pytest.raises(ValueError, match="INSECURE_TEST_ONLY"):
        KdfParams(memory_kib=1024, iterations=1, lanes=1)
    with pytest.raises(ValueError, match="memory"):
        KdfParams(memory_kib=4 * 1024 * 1024, iterations=3, lanes=4)
    assert KdfParams.INSECURE_TEST_ONLY.insecure


def test_reprs_show_no_secret_or_value(vault: Vault) -> None:
    vault.put("credential", "c1", {"given_name": "SecretClaimValue"})
    record = vault.get("credential", "c1")
    signer = vault.new_binding_key()
    code = vault.recovery_code
    assert code is not None
    for text in (repr(vault), repr(record), repr(signer), str(vault)):
        assert "SecretClaimValue" not in text
        assert PIN not in text
        assert code not in text
    assert isinstance(record, Record)


def test_open_does_not_touch_a_foreign_sqlite_database(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(NotAWallet):
        Vault.open(other, PIN)
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
