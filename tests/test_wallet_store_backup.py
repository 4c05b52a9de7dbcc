"""Encrypted backup and restore of a whole wallet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from honnin.errors import NotAWallet, UnsupportedWalletVersion, WalletCorrupted, WrongPin
from honnin.jose import JwsAlgorithm, public_key_from_jwk, verify_bytes
from wallet import KdfParams, Vault

PIN = "112358"
PASS = "correct horse battery staple"
FAST = KdfParams.INSECURE_TEST_ONLY


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.wallet"
    with Vault.create(path, PIN, kdf=FAST) as vault:
        vault.put("credential", "c1", {"family_name": "Suzuki"}, index={"vct": "urn:a"})
        vault.put("credential", "c2", b"mdoc", index={"doctype": "org.iso.18013.5.1.mDL"})
        vault.new_binding_key()
        assert vault.recovery_code is not None
        (tmp_path / "code.txt").write_text(vault.recovery_code)
        vault.backup(tmp_path / "w.backup", PASS, kdf=FAST)
    return path


@pytest.fixture
def backup(source: Path) -> Path:
    return source.with_name("w.backup")


def test_restore_gives_the_same_records_and_keys_under_a_new_pin(
    source: Path, backup: Path
) -> None:
    with Vault.open(source, PIN) as vault:
        (key_id,) = vault.binding_keys()
        jwk = vault.signer(key_id).public_jwk
    target = source.with_name("restored.wallet")
    with Vault.restore(backup, PASS, target, "999111", kdf=FAST) as restored:
        one = restored.get("credential", "c1")
        assert one is not None and one.value == {"family_name": "Suzuki"}
        assert [e.id for e in restored.find("credential", doctype="org.iso.18013.5.1.mDL")] == [
            "c2"
        ]
        signer = restored.signer(key_id)
        assert signer.public_jwk == jwk
        verify_bytes(b"m", signer.sign(b"m"), public_key_from_jwk(jwk), JwsAlgorithm.ES256)
    with pytest.raises(WrongPin):
        Vault.open(target, PIN)
    Vault.open(target, "999111").close()


def test_the_recovery_code_still_opens_a_restored_wallet(source: Path, backup: Path) -> None:
    target = source.with_name("restored.wallet")
    Vault.restore(backup, PASS, target, "999111", kdf=FAST).close()
    code = source.with_name("code.txt").read_text()
    Vault.recover(target, code, "444555", kdf=FAST).close()


def test_a_wrong_passphrase_writes_nothing(source: Path, backup: Path) -> None:
    target = source.with_name("restored.wallet")
    with pytest.raises(WrongPin) as info:
        Vault.restore(backup, "wrong passphrase", target, "999111", kdf=FAST)
    assert info.value.attempts_left is None
    assert not target.exists()


def test_a_damaged_backup_never_replaces_the_target(source: Path, backup: Path) -> None:
    blob = bytearray(backup.read_bytes())
    blob[len(blob) // 2] ^= 0x10
    backup.write_bytes(blob)
    before = source.read_bytes()
    with pytest.raises(WalletCorrupted) as info:
        Vault.restore(backup, PASS, source, "999111", kdf=FAST, overwrite=True)
    assert info.value.record == "backup"
    assert source.read_bytes() == before


def test_a_truncated_backup(source: Path, backup: Path) -> None:
    for size in (30, 100, backup.stat().st_size - 1):
        cut = source.with_name(f"cut{size}.backup")
        cut.write_bytes(backup.read_bytes()[:size])
        with pytest.raises(WalletCorrupted):
            Vault.restore(cut, PASS, source.with_name("t.wallet"), "999111", kdf=FAST)


def test_files_that_are_not_backups(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.wallet"
    random_file = tmp_path / "random.bin"
    random_file.write_bytes(os.urandom(4096))
    for path in (tmp_path / "missing.backup", random_file, source):
        with pytest.raises(NotAWallet):
            Vault.restore(path, PASS, target, "999111", kdf=FAST)
    assert not target.exists()


def test_a_backup_from_a_newer_version(backup: Path, tmp_path: Path) -> None:
    blob = bytearray(backup.read_bytes())
    magic = len(b"HONNIN-WALLET-BACKUP\0")
    blob[magic : magic + 2] = (2).to_bytes(2, "big")
    backup.write_bytes(blob)
    with pytest.raises(UnsupportedWalletVersion) as info:
        Vault.restore(backup, PASS, tmp_path / "t.wallet", "999111", kdf=FAST)
    assert info.value.found == 2


def test_restore_refuses_an_existing_target_unless_asked(source: Path, backup: Path) -> None:
    with pytest.raises(FileExistsError):
        Vault.restore(backup, PASS, source, "999111", kdf=FAST)
    with Vault.open(source, PIN) as vault:
        vault.put("credential", "c3", {"after": "backup"})
    with Vault.restore(backup, PASS, source, "999111", kdf=FAST, overwrite=True) as restored:
        assert restored.get("credential", "c3") is None
    leftovers = sorted(p.name for p in source.parent.iterdir())
    assert leftovers == ["code.txt", "source.wallet", "w.backup"]


def test_the_backup_file_is_private_to_its_owner(backup: Path) -> None:
    assert backup.stat().st_mode & 0o077 == 0
