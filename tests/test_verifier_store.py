"""The verifier's transaction store: lookups, answer-once under races, expiry, persistence."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from honnin.errors import Expired, ReplayDetected, StoreUnavailable
from verifier import (
    MemoryTransactionStore,
    SqliteTransactionStore,
    Transaction,
    TransactionStatus,
    TransactionStore,
)

STORES = [MemoryTransactionStore, SqliteTransactionStore]


def _transaction(n: int, *, expires_at: float = 2_000.0) -> Transaction:
    return Transaction(
        id=f"tx-{n}",
        request_id=f"req-{n}",
        state=f"state-{n}",
        nonce=f"nonce-{n}",
        client_id="x509_san_dns:verifier.example",
        response_uri="https://verifier.example/response",
        response_mode="direct_post.jwt",
        dcql_json='{"credentials":[]}',
        purpose="testing",
        created_at=1_000.0,
        expires_at=expires_at,
        request_object="header.payload.signature",
        encryption_kid=f"kid-{n}",
        encryption_jwk={"kty": "EC", "d": "secret"},
        enc_values=("A128GCM", "A256GCM"),
        redirect_uri="https://verifier.example/done",
        request_uri_method="post",
    )


@pytest.mark.parametrize("kind", STORES)
def test_lookups_by_id_request_state_and_kid(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1))
    store.add(_transaction(2))
    assert store.get("tx-1") == _transaction(1)
    assert store.find(request_id="req-2") == _transaction(2)
    assert store.find(state="state-1") == _transaction(1)
    assert store.find(kid="kid-2") == _transaction(2)
    assert store.get("tx-9") is None and store.find(state="nope") is None
    assert store.get("tx-1").dcql_query == {"credentials": []}  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        store.find(state="state-1", kid="kid-1")


def test_secrets_stay_out_of_repr() -> None:
    text = repr(_transaction(1))
    assert "secret" not in text and "header.payload" not in text


@pytest.mark.parametrize("kind", STORES)
def test_complete_answers_once_and_erases_the_key(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1))
    result = {"verified": True}
    done = store.complete(
        "tx-1", status=TransactionStatus.VERIFIED, result=result, response_code="rc", at=1_500.0
    )
    assert done is True
    again = store.complete(
        "tx-1", status=TransactionStatus.REJECTED, result={}, response_code=None, at=1_501.0
    )
    assert again is False
    stored = store.get("tx-1")
    assert stored is not None
    assert stored.status is TransactionStatus.VERIFIED
    assert stored.result == result and stored.response_code == "rc"
    assert stored.encryption_jwk is None and stored.answered_at == 1_500.0
    with pytest.raises(ReplayDetected):
        stored.ensure_open(1_502.0)


@pytest.mark.parametrize("kind", STORES)
def test_an_expired_transaction_cannot_be_completed(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1, expires_at=1_200.0))
    assert not store.complete(
        "tx-1", status=TransactionStatus.VERIFIED, result={}, response_code=None, at=1_200.0
    )
    stored = store.get("tx-1")
    assert stored is not None and stored.status is TransactionStatus.PENDING
    with pytest.raises(Expired):
        stored.ensure_open(1_200.0)


def test_twenty_racing_answers_record_exactly_one(tmp_path: Path) -> None:
    path = tmp_path / "verifier.sqlite3"
    SqliteTransactionStore(path).add(_transaction(1))
    stores = [SqliteTransactionStore(path) for _ in range(4)]  # as if four processes
    wins: list[bool] = []
    barrier = threading.Barrier(20)

    def answer(n: int) -> None:
        barrier.wait()
        store = stores[n % 4]
        wins.append(
            store.complete(
                "tx-1",
                status=TransactionStatus.VERIFIED,
                result={"n": n},
                response_code=None,
                at=1_500.0,
            )
        )

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_the_file_store_persists_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "state" / "verifier.sqlite3"
    store = SqliteTransactionStore(path)
    store.add(_transaction(1))
    store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert SqliteTransactionStore(path).get("tx-1") == _transaction(1)


@pytest.mark.parametrize("kind", STORES)
def test_purge_removes_expired_transactions(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1, expires_at=1_100.0))
    store.add(_transaction(2, expires_at=3_000.0))
    assert store.purge(2_000.0) == 1
    assert store.get("tx-1") is None and store.get("tx-2") is not None


def test_a_broken_database_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "verifier.sqlite3"
    store = SqliteTransactionStore(path)
    store.close()
    with pytest.raises(StoreUnavailable):
        store.get("tx-1")


@pytest.mark.parametrize("kind", STORES)
def test_a_pending_status_cannot_complete(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1))
    with pytest.raises(ValueError):
        store.complete(
            "tx-1", status=TransactionStatus.PENDING, result={}, response_code=None, at=1.0
        )


@pytest.mark.parametrize("kind", STORES)
def test_duplicate_identifiers_are_refused(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1))
    with pytest.raises((ValueError, StoreUnavailable)):
        store.add(_transaction(1))


def test_the_memory_store_racing_answers_record_exactly_one() -> None:
    store = MemoryTransactionStore()
    store.add(_transaction(1))
    barrier = threading.Barrier(20)
    wins: list[bool] = []

    def answer() -> None:
        barrier.wait()
        wins.append(store.complete("tx-1", status=TransactionStatus.VERIFIED, result={},
                                   response_code=None, at=1_500.0))  # fmt: skip

    threads = [threading.Thread(target=answer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_the_memory_store_purges_when_full() -> None:
    store = MemoryTransactionStore(max_transactions=2)
    store.add(_transaction(1, expires_at=1_100.0))
    store.add(_transaction(2, expires_at=3_000.0))
    store.add(_transaction(3, expires_at=3_000.0))
    assert store.get("tx-1") is None and store.find(state="state-1") is None
    assert store.get("tx-3") is not None


@pytest.mark.parametrize("kind", STORES)
def test_a_response_code_is_redeemed_once(kind: type[TransactionStore]) -> None:
    store = kind()
    store.add(_transaction(1))
    assert not store.redeem("tx-1", "rc")  # nothing to redeem while pending
    store.complete(
        "tx-1", status=TransactionStatus.VERIFIED, result={}, response_code="rc", at=1_500.0
    )
    assert not store.redeem("tx-1", "wrong")
    assert store.redeem("tx-1", "rc")
    assert not store.redeem("tx-1", "rc")


_SCHEMA_1 = """
CREATE TABLE transactions (
    id TEXT PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, state TEXT NOT NULL UNIQUE,
    nonce TEXT NOT NULL UNIQUE, kid TEXT UNIQUE, client_id TEXT NOT NULL,
    response_uri TEXT NOT NULL, response_mode TEXT NOT NULL, dcql TEXT NOT NULL,
    purpose TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    request_object TEXT NOT NULL, encryption_key TEXT, enc_values TEXT NOT NULL,
    redirect_uri TEXT, request_uri_method TEXT, status TEXT NOT NULL, result TEXT,
    response_code TEXT, answered_at REAL
);
CREATE INDEX transactions_expiry ON transactions (expires_at);
PRAGMA user_version = 1;
"""


def test_a_schema_1_store_is_migrated_and_keeps_its_transactions(tmp_path: Path) -> None:
    # A file written before transaction_data existed (schema 1): a pending transaction.
    path = tmp_path / "verifier.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(_SCHEMA_1)
        db.execute(
            "INSERT INTO transactions VALUES"
            " (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, ?, NULL, NULL, NULL)",
            ("tx-old", "req-old", "state-old", "nonce-old", "x509_san_dns:verifier.example",
             "https://verifier.example/response", "direct_post", '{"credentials":[]}',
             "testing", 1_000.0, 2_000.0, "h.p.s", "", "pending"),
        )  # fmt: skip
        db.commit()
    store = SqliteTransactionStore(path)
    try:
        old = store.get("tx-old")
        assert old is not None and old.nonce == "nonce-old" and old.transaction_data == ()
        new = replace(_transaction(1), transaction_data=("eyJ0eXBlIjoieCJ9",))
        store.add(new)
        assert store.get("tx-1") == new
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    reopened = SqliteTransactionStore(path)  # schema 2 opens as it is
    try:
        assert reopened.get("tx-1") == new
    finally:
        reopened.close()
