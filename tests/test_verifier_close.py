"""``Verifier.close``: it releases what the verifier made (its transaction store's connection
and the status-list HTTP client) and leaves alone what it was given."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verifier_support import PURPOSE, SLIP, clock, pki

from honnin.clock import FixedClock
from honnin.errors import StoreUnavailable
from honnin.http import HttpxFetcher
from honnin.trust import TestPki
from verifier import Query, SqliteTransactionStore, Verifier

__all__ = ["clock", "pki"]  # shared fixtures from test_verifier_support


def test_closing_a_verifier_closes_its_store_and_its_status_client(
    tmp_path: Path, pki: TestPki, clock: FixedClock
) -> None:
    store = SqliteTransactionStore(tmp_path / "verifier.sqlite3")
    with Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock, store=store) as v:
        made = v.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
        assert store.get(made.transaction_id) is not None
        own = v._own_fetcher
        assert own is not None and not own.closed
    assert own.closed
    with pytest.raises(StoreUnavailable):
        store.get(made.transaction_id)
    v.close()  # idempotent


def test_a_fetcher_given_to_a_verifier_stays_open(pki: TestPki, clock: FixedClock) -> None:
    with HttpxFetcher() as fetcher:
        with Verifier.create(
            "Hello Work", trust=[pki.root.certificate], clock=clock, fetcher=fetcher
        ) as verifier:
            assert verifier._own_fetcher is None
        assert not fetcher.closed
    assert fetcher.closed


def test_a_closed_memory_verifier_forgets_its_transactions(pki: TestPki, clock: FixedClock) -> None:
    verifier = Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock)
    made = verifier.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
    assert verifier.store.get(made.transaction_id) is not None
    verifier.close()
    assert verifier.store.get(made.transaction_id) is None
