"""Status indices reserved in synced blocks and handed out from memory (``reserve > 1``):
still random, never given twice (also across registries and restarts), a crash wastes only
the unbound rest of a block (draft-ietf-oauth-status-list-20 §12.5, §13.4)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from honnin.clock import FixedClock
from honnin.errors import StoreUnavailable
from honnin.jose import generate_key
from issuer import SqliteStatusStore, StatusListSigner, StatusRegistry

BASE = "https://issuer.example/status"
KEY = generate_key()


def registry(path: Path, *, reserve: int = 16, **kwargs: object) -> StatusRegistry:
    return StatusRegistry(
        SqliteStatusStore(path / "status.db"),
        StatusListSigner(KEY),
        base_uri=BASE,
        clock=FixedClock(1_800_000_000),
        reserve=reserve,
        **kwargs,  # type: ignore[arg-type]
    )


def _bound(path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(path / "status.db") as db:
        return list(db.execute("SELECT list_id, idx FROM status_entry"))


def test_one_synced_reserve_serves_many_batches(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=1 << 12, reserve=64)
    refs = [r for n in range(8) for r in reg.allocate_batch([f"b{n}.{i}" for i in range(8)])]
    assert len({r.idx for r in refs}) == 64 and len({r.uri for r in refs}) == 1
    with sqlite3.connect(tmp_path / "status.db") as db:
        assert db.execute("SELECT count(*) FROM status_reserved").fetchone() == (0,)
        assert db.execute("SELECT allocated FROM status_list").fetchone() == (64,)
    assert len(_bound(tmp_path)) == 64


def test_allocated_indices_counts_bound_copies_only(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=1 << 12, reserve=64)
    ref = reg.allocate("c1")
    list_id = reg.list_id_of(ref)
    store = SqliteStatusStore(tmp_path / "status.db")
    assert store.allocated_indices(list_id) == [ref.idx]
    assert len(store.taken_indices(list_id)) == 64


def test_a_crash_wastes_the_unbound_reserve_and_reuses_nothing(tmp_path: Path) -> None:
    first = registry(tmp_path, size=64, bits=1, reserve=48)
    before = {r.idx for r in first.allocate_batch([f"a{i}" for i in range(20)])}
    # The process dies here: 28 reserved indices were never bound.
    again = registry(tmp_path, size=64, bits=1, reserve=48)
    after = again.allocate_batch([f"b{i}" for i in range(16)])
    assert {r.idx for r in after}.isdisjoint(before)
    assert len({r.uri for r in after}) == 1
    assert again.list_id_of(after[0]) == first.list_id_of(first.reference_of("a0"))
    with pytest.raises(ValueError, match="1 to 64"):
        again.allocate_batch([f"x{i}" for i in range(65)])
    spill = again.allocate("c")  # 48 + 16 = 64 taken: the next list
    assert spill.uri != after[0].uri


def test_reserving_and_direct_registries_share_one_database(tmp_path: Path) -> None:
    reserving = registry(tmp_path, size=64, bits=1, reserve=8)
    direct = registry(tmp_path, size=64, bits=1, reserve=1)
    reserving.allocate("seed")
    got = []
    for n in range(28):
        got.append(reserving.allocate(f"r{n}").idx)
        got.append(direct.allocate(f"d{n}").idx)
    assert len(set(got)) == len(got) == 56
    rows = _bound(tmp_path)
    assert len(rows) == len(set(rows)) == 57


def test_two_reserving_registries_never_double_allocate(tmp_path: Path) -> None:
    one = registry(tmp_path, size=256, bits=1, reserve=32)
    two = registry(tmp_path, size=256, bits=1, reserve=32)
    one.allocate("seed")
    got = [one.allocate(f"a{i}").idx for i in range(60)]
    got += [two.allocate(f"b{i}").idx for i in range(60)]
    assert len(set(got)) == 120
    assert len({uri for uri, _ in _bound(tmp_path)}) == 1


def test_duplicate_credential_id_keeps_the_reserved_indices(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=32, bits=1, reserve=32)
    reg.allocate("c1")
    with pytest.raises(ValueError, match="already"):
        reg.allocate("c1")
    with pytest.raises(ValueError, match="distinct"):
        reg.allocate_batch(["d", "d"])
    rest = reg.allocate_batch([f"e{i}" for i in range(31)])  # nothing was lost
    assert len({r.idx for r in rest}) == 31 and len({r.uri for r in rest}) == 1


def test_bind_refuses_an_index_that_is_not_reserved(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=64, bits=1, reserve=4)
    ref = reg.allocate("c1")
    store = SqliteStatusStore(tmp_path / "status.db")
    list_id = reg.list_id_of(ref)
    with pytest.raises(ValueError, match="not reserved"):
        store.bind(list_id, [(ref.idx, "c2")], batch_id=None)  # bound, not reserved
    free = next(i for i in range(64) if i not in store.taken_indices(list_id))
    with pytest.raises(ValueError, match="not reserved"):
        store.bind(list_id, [(free, "c3")], batch_id=None)
    assert store.reserve(list_id, [free]) is True
    assert store.reserve(list_id, [free]) is False  # reserved already
    assert store.reserve(list_id, [ref.idx]) is False  # bound already
    store.bind(list_id, [(free, "c3")], batch_id="b")
    assert [e.idx for e in store.entries(batch_id="b")] == [free]


def test_revocation_of_a_reserved_copy_is_published(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=1 << 10, reserve=32)
    refs = reg.allocate_batch(["x.0", "x.1"], batch_id="x")
    reg.revoke_batch("x")
    version, rows = SqliteStatusStore(tmp_path / "status.db").snapshot(reg.list_id_of(refs[0]))
    assert version == 1 and sorted(rows) == sorted((r.idx, 1) for r in refs)


def test_store_failure_while_reserving_allocates_nothing(tmp_path: Path) -> None:
    store = SqliteStatusStore(tmp_path / "status.db", timeout=0.05)
    reg = StatusRegistry(
        store, StatusListSigner(KEY), base_uri=BASE, clock=FixedClock(0), reserve=16
    )
    reg.allocate("c1")
    other = sqlite3.connect(tmp_path / "status.db", timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable):
            reg.allocate_batch([f"d{i}" for i in range(20)])  # needs a new block
    finally:
        other.rollback()
        other.close()
    assert len(_bound(tmp_path)) == 1


def test_reserve_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserve"):
        registry(tmp_path, reserve=0)
