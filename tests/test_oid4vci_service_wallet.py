"""Interop: the Wallet role's OpenID4VCI client against the issuer service on 127.0.0.1 —
SD-JWT VC and mdoc batches, an offer by reference, a deferred issuance and the
notifications the wallet sends back; then an in-process presentation with status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer

from honnin.credential_types import load_catalogue
from honnin.errors import InvalidGrant
from issuer import IssuerSettings
from verifier import Query, Verifier
from wallet import KdfParams, Wallet

CATALOGUE = load_catalogue()
SLIP = CATALOGUE.get("withholding-slip").sample_claims()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    settings = IssuerSettings(
        dev=True, deferred_types=("national-qualification",), deferred_interval=1
    )
    with live_issuer(settings=settings) as served:
        yield served


@pytest.fixture
def wallet(live: LiveIssuer, tmp_path: Path) -> Iterator[Wallet]:
    opened = Wallet.open(
        tmp_path / "alice.wallet",
        "123456",
        kdf=KdfParams.INSECURE_TEST_ONLY,
        trust=[live.issuer.certificate],
        allow_loopback_http=True,
    )
    yield opened
    opened.close()


@pytest.mark.parametrize(("fmt", "by_reference"), [("dc+sd-jwt", False), ("mso_mdoc", True)])
def test_wallet_receives_a_batch_and_notifies(
    live: LiveIssuer, wallet: Wallet, fmt: str, by_reference: bool
) -> None:
    offer = live.issuer.create_offer(
        "withholding-slip", SLIP, format=fmt, by_reference=by_reference
    )
    asked: list[bool] = []

    def tx_code(*_: object, **__: object) -> str:
        asked.append(True)
        assert offer.tx_code is not None
        return offer.tx_code

    receipt = wallet.receive(offer.uri, tx_code=tx_code)
    (held,) = receipt.credentials
    assert asked == [True]
    assert (held.format, held.copies, held.trust) == (fmt, 8, "trusted")
    assert receipt.notified == (held.id,)  # waits for the notification's answer
    (record,) = live.issuer.store.issuances(offer.offer_id)
    assert [n.event for n in live.issuer.store.notifications(record.batch_id)] == [
        "credential_accepted"
    ]


def test_wallet_with_a_wrong_tx_code_gets_invalid_grant(live: LiveIssuer, wallet: Wallet) -> None:
    offer = live.issuer.create_offer("withholding-slip", SLIP)
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    with pytest.raises(InvalidGrant):
        wallet.receive(offer.uri, tx_code=wrong)
    assert live.issuer.store.issuances(offer.offer_id) == []


def test_wallet_waits_for_a_deferred_issuance(live: LiveIssuer, wallet: Wallet) -> None:
    claims = CATALOGUE.get("national-qualification").sample_claims()
    offer = live.issuer.create_offer("national-qualification", claims)
    approver = threading.Timer(1.0, live.issuer.approve, args=(offer,))
    approver.start()
    try:
        receipt = wallet.receive(offer.uri, tx_code=offer.tx_code, deferred_timeout=30)
    finally:
        approver.join()
    (held,) = receipt.credentials
    assert held.credential_type == "national-qualification" and held.copies == 8


def test_received_credentials_present_and_revocation_shows(
    live: LiveIssuer, wallet: Wallet
) -> None:
    offer = live.issuer.create_offer("withholding-slip", SLIP)
    wallet.receive(offer.uri, tx_code=offer.tx_code)
    agency = Verifier.create(
        "Hello Work", trust=[live.issuer.certificate], fetcher=live.issuer.status_fetcher()
    )
    query = Query.of("withholding-slip", "payment_amount")
    # The wallet trusts this issuer only; the demo verifier's access CA is not configured.
    result = agency.verify(
        wallet.present(
            wallet.consider(agency.request(query, purpose="x")).approve(
                allow_untrusted_verifier=True
            )
        )
    )
    assert result.verified, result.errors
    assert result["payment_amount"] == SLIP["payment_amount"]
    (record,) = live.issuer.store.issuances(offer.offer_id)
    live.issuer.revoke(record.batch_id)
    again = Verifier.create(
        "Hello Work", trust=[live.issuer.certificate], fetcher=live.issuer.status_fetcher()
    )
    answer = wallet.present(
        wallet.consider(again.request(query, purpose="x")).approve(allow_untrusted_verifier=True)
    )
    revoked = again.verify(answer)
    assert not revoked.verified
    assert "revoked" in [e.code for e in revoked.errors]
