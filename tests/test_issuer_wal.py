"""Group commit of the issuer service: ``WalSync`` syncs the SQLite log, ``SyncGroup`` shares
one sync among every answer waiting, and no credential leaves before its sync."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_oid4vci_service_fixtures import (
    CLAIMS,
    SD,
    LiveIssuer,
    assert_oauth_error,
    live_issuer,
    wallet_for,
)

from honnin.errors import StoreUnavailable
from honnin.jose import generate_key, jwk_from_public_key
from issuer import Issuer, SqliteIssuanceStore, SqliteStatusStore
from issuer._wal import SyncGroup, WalSync


class RecordingSync:
    """A sync that takes a while and records when each run began and ended."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.seconds = seconds
        self.runs: list[tuple[float, float]] = []
        self.fail = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        began = time.perf_counter()
        time.sleep(self.seconds)
        if self.fail:
            raise StoreUnavailable("disk gone", operation="sync")
        with self._lock:
            self.runs.append((began, time.perf_counter()))


def test_one_sync_serves_every_caller_waiting() -> None:
    sync = RecordingSync()
    group = SyncGroup(sync)

    async def caller() -> tuple[float, float]:
        called = time.perf_counter()
        await group.durable()
        return called, time.perf_counter()

    async def main() -> list[tuple[float, float]]:
        return await asyncio.gather(*(caller() for _ in range(40)))

    calls = asyncio.run(main())
    assert len(sync.runs) in (1, 2)  # 40 callers, one or two fsyncs
    for called, returned in calls:
        # Some sync began after the call and ended before the answer.
        assert any(called <= began and ended <= returned for began, ended in sync.runs)


def test_a_caller_during_a_running_sync_waits_for_the_next() -> None:
    sync = RecordingSync(0.05)
    group = SyncGroup(sync)

    async def main() -> tuple[float, float]:
        first = asyncio.ensure_future(group.durable())
        await asyncio.sleep(0.01)  # the first sync is running now
        called = time.perf_counter()
        await group.durable()
        await first
        return called, time.perf_counter()

    called, returned = asyncio.run(main())
    assert len(sync.runs) == 2
    assert sync.runs[1][0] >= called and sync.runs[1][1] <= returned


def test_a_failed_sync_fails_its_callers_and_the_next_call_retries() -> None:
    sync = RecordingSync()
    group = SyncGroup(sync)

    async def main() -> list[Any]:
        sync.fail = True
        failed = await asyncio.gather(*(group.durable() for _ in range(5)), return_exceptions=True)
        sync.fail = False
        await group.durable()
        return failed

    failed = asyncio.run(main())
    assert all(isinstance(result, StoreUnavailable) for result in failed)
    assert len(sync.runs) == 1


def test_a_caller_going_away_does_not_cancel_the_sync_of_the_others() -> None:
    sync = RecordingSync(0.05)
    group = SyncGroup(sync)

    async def main() -> None:
        leaving = asyncio.ensure_future(group.durable())
        staying = asyncio.ensure_future(group.durable())
        await asyncio.sleep(0.01)
        leaving.cancel()
        await staying
        with pytest.raises(asyncio.CancelledError):
            await leaving

    asyncio.run(main())
    assert len(sync.runs) == 1


def test_wal_sync_of_both_stores_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "issuer.db"
    store, status = SqliteIssuanceStore(path), SqliteStatusStore(path)
    store.add_nonce("n", 1e12)
    store.sync()
    status.sync()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.close()
    status.close()


def test_wal_sync_in_memory_is_a_no_op() -> None:
    WalSync(":memory:").sync()


def test_wal_sync_without_a_log_is_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        WalSync(str(tmp_path / "nothing.db"))


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


def test_no_credential_leaves_when_the_store_cannot_sync(
    live: LiveIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with wallet_for(live) as wallet:
        token = wallet.token(live.issuer.create_offer("withholding-slip", CLAIMS))

        def down() -> None:
            raise StoreUnavailable("cannot sync", operation="sync")

        with monkeypatch.context() as patch:
            patch.setattr(live.issuer.store, "sync", down)
            response = wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1))
            assert_oauth_error(response, 503, "server_error")
            assert "credentials" not in response.json()
        again = wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1))
        assert again.status_code == 200


def test_in_process_issue_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = Issuer.create("Example Corp", store=tmp_path / "issuer.db")
    synced: list[str] = []
    monkeypatch.setattr(issuer.store, "sync", lambda: synced.append("issuance"))
    monkeypatch.setattr(issuer.status_store, "sync", lambda: synced.append("status"))
    issuer.issue("withholding-slip", CLAIMS, holder=jwk_from_public_key(generate_key()))
    assert synced == ["issuance", "status"]
    issuer.close()
