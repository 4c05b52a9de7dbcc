"""PIN policy of the wallet (HOSTILE-CASES D7, WL-20/21/22/29): counted, backed off, locked,
recovered, changed without re-encryption."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import wallet._vault_unlock as unlock
from honnin.clock import FixedClock
from honnin.errors import WalletCorrupted, WalletLocked, WrongPin
from wallet import KdfParams, Vault

PIN = "246810"
WRONG = "000000"
FAST = KdfParams.INSECURE_TEST_ONLY
T0 = 1_800_000_000.0


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def path(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "pin.wallet"
    with Vault.create(path, PIN, kdf=FAST, clock=clock) as vault:
        vault.put("credential", "c1", {"claim": "value"})
        assert vault.recovery_code is not None
        (tmp_path / "recovery.txt").write_text(vault.recovery_code)
    return path


def _recovery_code(path: Path) -> str:
    return (path.parent / "recovery.txt").read_text()


def _wrong(path: Path, clock: FixedClock) -> WrongPin:
    with pytest.raises(WrongPin) as info:
        Vault.open(path, WRONG, clock=clock)
    return info.value


def _failures_on_disk(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT failures FROM pin_counter").fetchone()[0])
    finally:
        conn.close()


def test_four_wrong_pins_count_down_without_waiting(path: Path, clock: FixedClock) -> None:
    for left in (9, 8, 7, 6):
        error = _wrong(path, clock)
        assert (error.attempts_left, error.retry_after) == (left, 0.0)


def test_the_fifth_wrong_pin_starts_a_30_second_back_off(path: Path, clock: FixedClock) -> None:
    for _ in range(4):
        _wrong(path, clock)
    error = _wrong(path, clock)
    assert (error.attempts_left, error.retry_after) == (5, 30.0)
    with pytest.raises(WalletLocked) as info:
        Vault.open(path, PIN, clock=clock)  # even the right PIN waits (WL-22)
    assert info.value.retry_after == 30.0
    clock.advance(29)
    with pytest.raises(WalletLocked) as info:
        Vault.open(path, PIN, clock=clock)
    assert info.value.retry_after == pytest.approx(1.0)
    assert _failures_on_disk(path) == 5  # refused attempts are not run, nor counted
    clock.advance(1)
    Vault.open(path, PIN, clock=clock).close()
    assert _failures_on_disk(path) == 0


def test_back_off_grows_30s_2min_10min_1h_4h(path: Path, clock: FixedClock) -> None:
    for _ in range(4):
        _wrong(path, clock)
    waits = []
    for _ in range(5):
        error = _wrong(path, clock)
        waits.append(error.retry_after)
        clock.advance(error.retry_after)
    assert waits == [30.0, 120.0, 600.0, 3600.0, 14400.0]
    assert _wrong(path, clock).retry_after is None  # the 10th: locked


def test_ten_wrong_pins_lock_until_recovery(path: Path, clock: FixedClock) -> None:
    for _ in range(10):
        error = _wrong(path, clock)
        clock.advance(5 * 3600)
    assert (error.attempts_left, error.retry_after) == (0, None)
    clock.advance(365 * 86400)
    with pytest.raises(WalletLocked) as info:
        Vault.open(path, PIN, clock=clock)
    assert info.value.retry_after is None


def test_recovery_code_unlocks_a_locked_wallet_and_is_rotated(
    path: Path, clock: FixedClock
) -> None:
    for _ in range(10):
        _wrong(path, clock)
        clock.advance(5 * 3600)
    old_code = _recovery_code(path)
    with Vault.recover(path, old_code.lower(), "135790", clock=clock) as vault:
        record = vault.get("credential", "c1")
        assert record is not None and record.value == {"claim": "value"}
        assert vault.recovery_code is not None and vault.recovery_code != old_code
    Vault.open(path, "135790", clock=clock).close()
    with pytest.raises(WrongPin) as info:
        Vault.recover(path, old_code, "111111", clock=clock)
    assert info.value.attempts_left is None


def test_a_wrong_recovery_code_is_refused(path: Path, clock: FixedClock) -> None:
    for code in ("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "not a code", ""):
        with pytest.raises(WrongPin):
            Vault.recover(path, code, "111111", clock=clock)
    Vault.open(path, PIN, clock=clock).close()


def test_the_counter_survives_reopen(path: Path, clock: FixedClock) -> None:
    _wrong(path, clock)
    _wrong(path, clock)
    assert _failures_on_disk(path) == 2
    assert _wrong(path, clock).attempts_left == 7


def test_the_attempt_is_on_disk_before_the_kdf_result(
    path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WL-21: killing the process during the KDF must not give a free guess."""

    def killed_during_kdf(*_args: object) -> bytes:
        assert _failures_on_disk_while_open(path) == 1
        raise KeyboardInterrupt

    monkeypatch.setattr(unlock, "derive_pin_key", killed_during_kdf)
    with pytest.raises(KeyboardInterrupt):
        Vault.open(path, PIN, clock=clock)
    monkeypatch.undo()
    assert _failures_on_disk(path) == 1


def _failures_on_disk_while_open(path: Path) -> int:
    # The vault holds an exclusive lock; the committed WAL frames are readable through a
    # private copy of both files.
    copy = path.with_name("peek.wallet")
    shutil.copyfile(path, copy)
    wal = Path(f"{path}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    try:
        return _failures_on_disk(copy)
    finally:
        for p in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            p.unlink(missing_ok=True)


def test_a_clock_set_back_does_not_shorten_the_wait(path: Path, clock: FixedClock) -> None:
    for _ in range(5):
        _wrong(path, clock)
    clock.set(T0 - 86400)
    with pytest.raises(WalletLocked) as info:
        Vault.open(path, PIN, clock=clock)
    assert info.value.retry_after == 30.0


def test_change_pin_rewraps_the_key_without_touching_records(path: Path, clock: FixedClock) -> None:
    rows_before = _record_rows(path)
    with Vault.open(path, PIN, clock=clock) as vault:
        vault.change_pin(PIN, "975310")
    assert _record_rows(path) == rows_before  # same ciphertexts: nothing re-encrypted
    with pytest.raises(WrongPin):
        Vault.open(path, PIN, clock=clock)
    with Vault.open(path, "975310", clock=clock) as vault:
        record = vault.get("credential", "c1")
        assert record is not None and record.value == {"claim": "value"}


def test_change_pin_with_a_wrong_old_pin_is_a_counted_attempt(
    path: Path, clock: FixedClock
) -> None:
    with Vault.open(path, PIN, clock=clock) as vault:
        with pytest.raises(WrongPin) as info:
            vault.change_pin(WRONG, "975310")
        assert info.value.attempts_left == 9
    Vault.open(path, PIN, clock=clock).close()


def _record_rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT rid, version, meta FROM entries ORDER BY rid").fetchall()
        return rows + conn.execute("SELECT rid, body FROM bodies ORDER BY rid").fetchall()
    finally:
        conn.close()


def test_a_damaged_counter_is_reported_and_recovery_repairs_it(
    path: Path, clock: FixedClock
) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE pin_counter SET last_attempt = last_attempt + 1 WHERE id = 1")
    conn.commit()
    conn.close()
    with pytest.raises(WalletCorrupted) as info:
        Vault.open(path, PIN, clock=clock)
    assert info.value.record == "pin_counter"
    Vault.recover(path, _recovery_code(path), "192837", clock=clock).close()
    Vault.open(path, "192837", clock=clock).close()


def test_a_copied_back_file_resets_the_counter_but_shows_its_age(
    path: Path, clock: FixedClock
) -> None:
    """WL-29, as documented in docs/WALLET-SECURITY.md: software alone cannot stop this.

    Whoever holds the file can copy an older one back; the counter comes back with it. What
    remains: every guess still costs one Argon2id, and ``generation`` goes back, which an
    app that keeps the last generation in a monotonic store (OS keystore) can detect.
    """
    with Vault.open(path, PIN, clock=clock) as vault:
        vault.put("credential", "c2", {"claim": "newer"})
        seen_generation = vault.generation
    saved = path.read_bytes()
    with Vault.open(path, PIN, clock=clock) as vault:
        vault.put("credential", "c3", {"claim": "newest"})
        seen_generation = vault.generation
    for _ in range(10):
        _wrong(path, clock)
        clock.advance(5 * 3600)
    with pytest.raises(WalletLocked):
        Vault.open(path, PIN, clock=clock)
    path.write_bytes(saved)  # the attacker's copy-back
    with Vault.open(path, PIN, clock=clock) as vault:  # not prevented: documented
        assert vault.generation < seen_generation  # but detectable with a monotonic anchor
        assert vault.get("credential", "c3") is None
