"""Faults inside the issuer service: a store outage answers 503 with Retry-After, a bug
answers 500 ``server_error``; neither takes the service down (HOSTILE-CASES IS-42, G5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_oid4vci_service_fixtures import (
    CLAIMS,
    SD,
    LiveIssuer,
    ProtocolWallet,
    assert_oauth_error,
    live_issuer,
    wallet_for,
)

from honnin.errors import StoreUnavailable


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


@pytest.fixture
def wallet(live: LiveIssuer) -> Iterator[ProtocolWallet]:
    with wallet_for(live) as client:
        yield client


def test_store_outage_is_503_and_recovers(
    live: LiveIssuer, wallet: ProtocolWallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = wallet.token(live.issuer.create_offer("withholding-slip", CLAIMS))

    def down(*_: Any, **__: Any) -> None:
        raise StoreUnavailable("disk full", operation="nonce")

    with monkeypatch.context() as patch:
        patch.setattr(live.issuer.store, "add_nonce", down)
        response = wallet.http.post(f"{live.base}/nonce")
        assert_oauth_error(response, 503, "server_error")
        assert response.headers["retry-after"] == "5"
        assert response.headers["cache-control"] == "no-store"
    proofs = wallet.proofs(wallet.nonce(), 1)
    assert wallet.credential_response(token, SD, proofs).status_code == 200


def test_a_bug_is_500_server_error_and_the_service_stays_up(
    live: LiveIssuer, wallet: ProtocolWallet, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    token = wallet.token(live.issuer.create_offer("withholding-slip", CLAIMS))

    def bug(*_: Any, **__: Any) -> None:
        raise RuntimeError("a genuine bug")

    with monkeypatch.context() as patch:
        patch.setattr(live.issuer.store, "access_token", bug)
        with caplog.at_level("ERROR", logger="issuer"):
            response = wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1))
        assert_oauth_error(response, 500, "server_error")
        assert "a genuine bug" not in response.text
        assert any("bug while serving" in r.message for r in caplog.records)
    assert (
        wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1)).status_code == 200
    )
