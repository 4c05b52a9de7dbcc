"""Hostile and damaged wallet files (HOSTILE-CASES WL-23, WL-24, WL-28, WL-32).

Every case ends in a typed ``WalletError`` subclass, or, where the damage hit bytes SQLite
never reads, in exactly the original data: never a bare exception, never different data.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from honnin.errors import (
    HonninError,
    NotAWallet,
    UnsupportedWalletVersion,
    WalletCorrupted,
    WalletError,
    WrongPin,
)
from wallet import KdfParams, Vault
from wallet._vault_file import _header_checksum

PIN = "583920"
FAST = KdfParams.INSECURE_TEST_ONLY
Snapshot = tuple[dict[tuple[str, str], Any], dict[str, dict[str, str]]]


def _build(path: Path) -> Snapshot:
    with Vault.create(path, PIN, kdf=FAST) as vault, vault.transaction():
        for i in range(24):
            claims = {"family_name": f"Family{i}", "amount": i * 1111, "pad": "x" * (i * 40)}
            vault.put("credential", f"c{i}", claims, index={"vct": f"urn:t{i % 3}"})
        vault.put("log", "l0", {"event": "presented", "to": "Hello Work"})
        vault.new_binding_keys(2)
    return _read_everything(path)


def _read_everything(path: Path) -> Snapshot:
    with Vault.open(path, PIN) as vault:
        records: dict[tuple[str, str], Any] = {}
        for kind in ("credential", "log"):
            for entry in vault.find(kind):
                record = vault.get(kind, entry.id)
                assert record is not None
                records[kind, entry.id] = (dict(entry.index), record.value)
        keys = {}
        for key_id in vault.binding_keys():
            signer = vault.signer(key_id)
            assert len(signer.sign(b"m")) == 64
            keys[key_id] = signer.public_jwk
        return records, keys


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Snapshot]:
    path = tmp_path_factory.mktemp("pristine") / "w.wallet"
    snapshot = _build(path)
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes(), snapshot


def _outcome_of_flip(path: Path, image: bytes, bit: int, expected: Snapshot) -> str:
    damaged = bytearray(image)
    damaged[bit // 8] ^= 1 << (bit % 8)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    path.write_bytes(damaged)
    try:
        observed = _read_everything(path)
    except WalletError as exc:
        return type(exc).__name__
    assert observed == expected, f"bit {bit} changed the data without an error"
    return "unaffected"


def _flip_many(tmp_path: Path, pristine: tuple[bytes, Snapshot], bits: list[int]) -> set[str]:
    image, expected = pristine
    return {_outcome_of_flip(tmp_path / "f.wallet", image, bit, expected) for bit in bits}


def test_flipped_bits_in_the_sqlite_file_header(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    outcomes = _flip_many(tmp_path, pristine, [byte * 8 + byte % 8 for byte in range(100)])
    assert "NotAWallet" in outcomes  # the magic string is in these bytes
    assert outcomes <= {"NotAWallet", "WalletCorrupted", "unaffected"}


def test_a_damaged_format_version_byte(built: Path) -> None:
    image = bytearray(built.read_bytes())
    image[18] ^= 0x04  # write version 2 -> 6: SQLite would open it read-only
    built.write_bytes(image)
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record == "file"


def test_flipped_bits_in_the_schema_text(tmp_path: Path, pristine: tuple[bytes, Snapshot]) -> None:
    """A damaged CREATE statement makes SQLite quote invalid UTF-8 in its error message."""
    image = pristine[0]
    bits, at = [], image.find(b"CREATE")
    while at >= 0:
        bits += [(at + offset) * 8 + 7 for offset in range(0, 60, 3)]  # high bit: not UTF-8
        at = image.find(b"CREATE", at + 1)
    outcomes = _flip_many(tmp_path, pristine, bits)
    assert len(bits) >= 100
    assert "WalletCorrupted" in outcomes


def test_flipped_bits_at_every_page_header(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    image = pristine[0]
    page = int.from_bytes(image[16:18], "big")
    bits = [
        (start + offset) * 8 + offset % 8
        for start in range(page, len(image), page)
        for offset in (0, 3, 5, 7)
    ]
    outcomes = _flip_many(tmp_path, pristine, bits)
    assert outcomes <= {"WalletCorrupted", "NotAWallet", "unaffected"}
    assert "WalletCorrupted" in outcomes


def test_flipped_bits_sampled_across_the_whole_file(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    image = pristine[0]
    bits = list(range(800, len(image) * 8, 1999))  # ~one per 250 bytes, every bit position
    outcomes = _flip_many(tmp_path, pristine, bits)
    assert len(bits) > 100
    assert "WalletCorrupted" in outcomes
    assert outcomes <= {"WalletCorrupted", "NotAWallet", "WrongPin", "WalletError", "unaffected"}


def test_every_bit_of_one_record_ciphertext(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    image = pristine[0]
    path = tmp_path / "r.wallet"
    path.write_bytes(image)
    with Vault.open(path, PIN) as vault:
        rid = vault._store._cipher.rid("credential", "c7")
    with sqlite3.connect(path) as conn:
        body = conn.execute("SELECT body FROM bodies WHERE rid = ?", (rid,)).fetchone()[0]
    conn.close()
    start = image.index(body)
    for bit in range(start * 8, (start + len(body)) * 8, 29):
        damaged = bytearray(image)
        damaged[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(damaged)
        with Vault.open(path, PIN) as vault:  # the index is intact: only this value is hit
            assert vault.get("credential", "c6") is not None
            with pytest.raises(WalletCorrupted) as info:
                vault.get("credential", "c7")
        assert info.value.record == "credential/c7"


# -- not a wallet ----------------------------------------------------------------------------


def test_missing_file_is_not_a_wallet(tmp_path: Path) -> None:
    with pytest.raises(NotAWallet):
        Vault.open(tmp_path / "nothing.wallet", PIN)
    assert list(tmp_path.iterdir()) == []


def test_empty_file_is_not_a_wallet_and_stays_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wallet"
    path.write_bytes(b"")
    with pytest.raises(NotAWallet):
        Vault.open(path, PIN)
    assert path.read_bytes() == b""


def test_random_bytes_are_not_a_wallet(tmp_path: Path) -> None:
    path = tmp_path / "random.wallet"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(NotAWallet):
        Vault.open(path, PIN)


def test_a_directory_is_not_a_wallet(tmp_path: Path) -> None:
    with pytest.raises(NotAWallet):
        Vault.open(tmp_path, PIN)


# -- truncation ----------------------------------------------------------------------------


def test_truncated_inside_the_sqlite_header(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    path = tmp_path / "t.wallet"
    path.write_bytes(pristine[0][:50])
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(path, PIN)
    assert info.value.record == "file"


def test_truncated_to_half(tmp_path: Path, pristine: tuple[bytes, Snapshot]) -> None:
    path = tmp_path / "t.wallet"
    path.write_bytes(pristine[0][: len(pristine[0]) // 2])
    with pytest.raises(WalletCorrupted):
        _read_everything(path)


def test_truncated_anywhere_is_a_typed_error(
    tmp_path: Path, pristine: tuple[bytes, Snapshot]
) -> None:
    image = pristine[0]
    page = int.from_bytes(image[16:18], "big")
    for size in [0, 16, 99, 100, page, page + 1, *range(2 * page, len(image), page)]:
        path = tmp_path / f"t{size}.wallet"
        path.write_bytes(image[:size])
        with pytest.raises((WalletCorrupted, NotAWallet)):
            _read_everything(path)


# -- versions and headers --------------------------------------------------------------------


def _rewrite_header(path: Path, name: str, value: bytes, *, fix_checksum: bool) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE honnin_wallet SET value = ? WHERE name = ?", (value, name))
        if fix_checksum:
            rows = dict(conn.execute("SELECT name, value FROM honnin_wallet"))
            rows.pop("checksum")
            conn.execute(
                "UPDATE honnin_wallet SET value = ? WHERE name = 'checksum'",
                (_header_checksum(rows),),
            )
    conn.close()


@pytest.fixture
def built(tmp_path: Path, pristine: tuple[bytes, Snapshot]) -> Path:
    path = tmp_path / "h.wallet"
    path.write_bytes(pristine[0])
    return path


def test_a_wallet_from_a_newer_version(built: Path) -> None:
    _rewrite_header(built, "schema_version", b"2", fix_checksum=True)
    with pytest.raises(UnsupportedWalletVersion) as info:
        Vault.open(built, PIN)
    assert (info.value.found, info.value.supported) == (2, 1)


def test_a_header_edit_fails_the_checksum_and_costs_no_attempt(built: Path) -> None:
    _rewrite_header(built, "pin_salt", b"\x00" * 16, fix_checksum=False)
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record == "header"


def test_kdf_parameters_asking_for_4_gib_are_refused_before_allocation(built: Path) -> None:
    _rewrite_header(built, "kdf", b"4194304,3,4", fix_checksum=True)
    with pytest.raises(WalletCorrupted, match="memory") as info:
        Vault.open(built, PIN)
    assert info.value.record == "header"


def test_a_forged_salt_with_a_fixed_checksum_is_just_a_wrong_pin(built: Path) -> None:
    _rewrite_header(built, "pin_salt", b"\x01" * 16, fix_checksum=True)
    with pytest.raises(WrongPin):
        Vault.open(built, PIN)


def test_a_damaged_magic_is_not_a_wallet(built: Path) -> None:
    _rewrite_header(built, "magic", b"other-format", fix_checksum=True)
    with pytest.raises(NotAWallet):
        Vault.open(built, PIN)


# -- records moved, removed, rolled back (AEAD associated data, record-set digest) -----------


def _rids(path: Path, *ids: str) -> list[bytes]:
    with Vault.open(path, PIN) as vault:
        return [vault._store._cipher.rid("credential", i) for i in ids]


def test_bodies_swapped_between_two_records(built: Path) -> None:
    a, b = _rids(built, "c1", "c2")
    with sqlite3.connect(built) as conn:
        body_a = conn.execute("SELECT body FROM bodies WHERE rid = ?", (a,)).fetchone()[0]
        body_b = conn.execute("SELECT body FROM bodies WHERE rid = ?", (b,)).fetchone()[0]
        conn.execute("UPDATE bodies SET body = ? WHERE rid = ?", (body_b, a))
        conn.execute("UPDATE bodies SET body = ? WHERE rid = ?", (body_a, b))
    conn.close()
    with Vault.open(built, PIN) as vault:
        with pytest.raises(WalletCorrupted) as info:
            vault.get("credential", "c1")
        assert info.value.record == "credential/c1"


def test_index_entries_swapped_between_two_records(built: Path) -> None:
    a, b = _rids(built, "c1", "c2")
    with sqlite3.connect(built) as conn:
        meta_a = conn.execute("SELECT meta FROM entries WHERE rid = ?", (a,)).fetchone()[0]
        meta_b = conn.execute("SELECT meta FROM entries WHERE rid = ?", (b,)).fetchone()[0]
        conn.execute("UPDATE entries SET meta = ? WHERE rid = ?", (meta_b, a))
        conn.execute("UPDATE entries SET meta = ? WHERE rid = ?", (meta_a, b))
    conn.close()
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record.startswith("row ")


def test_a_record_removed_from_the_file(built: Path) -> None:
    (a,) = _rids(built, "c3")
    with sqlite3.connect(built) as conn:
        conn.execute("DELETE FROM entries WHERE rid = ?", (a,))
        conn.execute("DELETE FROM bodies WHERE rid = ?", (a,))
    conn.close()
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record == "record set"


def test_one_record_rolled_back_to_an_older_write(built: Path) -> None:
    (a,) = _rids(built, "c4")
    with sqlite3.connect(built) as conn:
        old = conn.execute("SELECT version, meta FROM entries WHERE rid = ?", (a,)).fetchone()
        old_body = conn.execute("SELECT body FROM bodies WHERE rid = ?", (a,)).fetchone()[0]
    conn.close()
    with Vault.open(built, PIN) as vault:
        vault.put("credential", "c4", {"family_name": "Changed"})
    with sqlite3.connect(built) as conn:
        conn.execute("UPDATE entries SET version = ?, meta = ? WHERE rid = ?", (*old, a))
        conn.execute("UPDATE bodies SET body = ? WHERE rid = ?", (old_body, a))
    conn.close()
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record == "record set"


def test_the_generation_edited(built: Path) -> None:
    with sqlite3.connect(built) as conn:
        conn.execute("UPDATE vault_state SET generation = generation + 1")
    conn.close()
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(built, PIN)
    assert info.value.record == "vault_state"


def test_a_record_from_another_wallet(built: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.wallet"
    with Vault.create(other, PIN, kdf=FAST) as vault:
        vault.put("credential", "c1", {"family_name": "Intruder"})
    with sqlite3.connect(other) as conn:
        rows = conn.execute(
            "SELECT e.rid, e.version, e.meta, b.body FROM entries e JOIN bodies b ON b.rid = e.rid"
        ).fetchall()
    conn.close()
    with sqlite3.connect(built) as conn:
        for rid, version, meta, body in rows:
            conn.execute("INSERT INTO entries VALUES (?, ?, ?)", (rid, version, meta))
            conn.execute("INSERT INTO bodies(rid, body) VALUES (?, ?)", (rid, body))
    conn.close()
    with pytest.raises(WalletCorrupted):
        Vault.open(built, PIN)


# -- nothing readable at rest (WL-28) -----------------------------------------------------------


def test_no_claim_key_pin_or_secret_in_the_file_or_wal(tmp_path: Path) -> None:
    pin = "864213"
    path = tmp_path / "scan.wallet"
    claims = {"family_name": "YAMADAUNIQUE", "my_number": "987654321098", "tax": "TAX7731905"}
    vault = Vault.create(path, pin, kdf=FAST)
    vault.put("credential", "cred-unique-id-42", claims, index={"vct": "urn:jp:UNIQUEVCT"})
    vault.put("log", "log-1", {"disclosed": "YAMADAUNIQUE"})
    signer = vault.new_binding_key()
    secret = vault.secret("pseudonym")
    d = vault._private_key(signer.key_id).private_numbers().private_value.to_bytes(32, "big")
    assert vault.recovery_code is not None
    code = vault.recovery_code.encode()
    needles = [
        *(v.encode() for v in claims.values()),
        b"UNIQUEVCT",
        b"cred-unique-id-42",
        pin.encode(),
        d,
        secret,
        vault._data_key,
        code,
        code.replace(b"-", b""),
    ]
    wal = Path(f"{path}-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the scan covers live WAL frames
    at_rest = path.read_bytes() + wal.read_bytes()
    vault.backup(tmp_path / "scan.backup", "backup passphrase", kdf=FAST)
    vault.close()
    at_rest += path.read_bytes() + (tmp_path / "scan.backup").read_bytes()
    for needle in needles:
        assert needle not in at_rest


def test_errors_name_no_secret(built: Path) -> None:
    with pytest.raises(HonninError) as info:
        Vault.open(built, "wrong-pin-999")
    assert "wrong-pin-999" not in str(info.value) and "wrong-pin-999" not in repr(info.value)
