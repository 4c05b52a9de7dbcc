"""The wallet's OpenID4VCI client against a real issuer service (uvicorn on 127.0.0.1):
offer → QR → token with tx_code → nonce → a batch of copies → verified and stored →
notification; mdoc; by reference; deferred; and what the wallet refuses on the way."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_wallet_role_support import FAST, PIN, sample

from honnin.errors import InvalidGrant, IssuancePending, UntrustedIssuer
from honnin.oid4vci import TxCode
from issuer import IssuerSettings
from wallet import Wallet

SLIP = "withholding-slip"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    settings = IssuerSettings(dev=True, deferred_interval=2)
    with live_issuer(settings=settings) as served:
        yield served


def _wallet(live: LiveIssuer, path: Path, **options: object) -> Wallet:
    options.setdefault("trust", [live.issuer.certificate])
    return Wallet.open(path, PIN, kdf=FAST, allow_loopback_http=True, **options)  # type: ignore[arg-type]


def _scan(png: bytes) -> str:
    (decoded,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return str(decoded.text)


class Asker:
    """The app's tx_code prompt: records what it was shown and answers ``code``."""

    def __init__(self, code: str | None) -> None:
        self.code = code
        self.asked: list[TxCode] = []

    def __call__(self, hint: TxCode) -> str:
        self.asked.append(hint)
        assert self.code is not None
        return self.code


def test_offer_qr_to_a_stored_batch_of_eight(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample())
    scanned = _scan(offer.qr_png())
    assert scanned == offer.uri
    ask = Asker(offer.tx_code)
    with _wallet(live, tmp_path / "w") as wallet:
        receipt = wallet.receive(scanned, tx_code=ask)
        (held,) = receipt.credentials
        assert held.copies == 8 and held.format == "dc+sd-jwt"
        assert held.trust == "trusted" and held.issuer == live.issuer.iss
        assert held.claims["withholding_tax"] == sample()["withholding_tax"]
        assert receipt.notified == (held.id,)
        assert receipt.issuer_name == "Example Corp"
        assert [(a.length, a.effective_input_mode.value) for a in ask.asked] == [(6, "numeric")]
        # Every copy is bound to its own key made in this wallet.
        assert len(set(wallet.vault.binding_keys())) == 8
    (record,) = live.issuer.store.issuances(offer.offer_id)
    assert len(record.status) == 8
    assert [e.event for e in live.issuer.store.notifications(record.batch_id)] == [
        "credential_accepted"
    ]


def test_an_mdoc_batch_by_reference(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample(), format="mso_mdoc", by_reference=True)
    assert "credential_offer_uri" in offer.uri
    with _wallet(live, tmp_path / "w") as wallet:
        receipt = wallet.receive(offer.uri, tx_code=offer.tx_code)
        (held,) = receipt.credentials
        assert (held.format, held.copies) == ("mso_mdoc", 8)
        assert held.type_value == "example.honnin.withholding_slip.1"


def test_fewer_copies_when_asked(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample(), tx_code=False)
    with _wallet(live, tmp_path / "w") as wallet:
        before = wallet.vault.generation
        (held,) = wallet.receive(offer, copies=3).credentials
        assert held.copies == 3 and len(wallet.vault.binding_keys()) == 3
        # The keys, the copies and the log entry are one commit (one fsync per issuance).
        assert wallet.vault.generation == before + 1


def test_a_deferred_issuance_completes(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample(), deferred=True, tx_code=False)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the school approves while the wallet waits
            assert live.issuer.approve(offer) == 1

    with _wallet(live, tmp_path / "w", sleep=sleep) as wallet:
        (held,) = wallet.receive(offer.uri, copies=2).credentials
        assert held.copies == 2
    assert waits == [2.0, 2.0]


def test_a_deferred_issuance_not_ready_in_time(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample(), deferred=True, tx_code=False)
    with _wallet(live, tmp_path / "w", sleep=lambda s: None) as wallet:
        with pytest.raises(IssuancePending):
            wallet.receive(offer.uri, copies=1, deferred_timeout=5)
        assert wallet.credentials() == [] and wallet.vault.binding_keys() == []


def test_a_wrong_tx_code_stores_nothing(live: LiveIssuer, tmp_path: Path) -> None:
    offer = live.issuer.create_offer(SLIP, sample())
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    with _wallet(live, tmp_path / "w") as wallet:
        with pytest.raises(InvalidGrant):
            wallet.receive(offer.uri, tx_code=wrong)
        assert wallet.credentials() == [] and wallet.vault.binding_keys() == []
        # The right code still works (the code is void only after 5 failures).
        assert wallet.receive(offer.uri, tx_code=offer.tx_code).credentials[0].copies == 8


def test_an_untrusted_issuer_is_refused_before_the_tx_code_is_asked(
    live: LiveIssuer, tmp_path: Path
) -> None:
    offer = live.issuer.create_offer(SLIP, sample())
    stranger = live_issuer  # another issuer's root: the wallet trusts only that one
    with (
        stranger(name="Other Corp") as other,
        _wallet(live, tmp_path / "w", trust=[other.issuer.certificate]) as wallet,
    ):
        ask = Asker(offer.tx_code)
        with pytest.raises(UntrustedIssuer):
            wallet.receive(offer.uri, tx_code=ask)
        assert ask.asked == [] and wallet.credentials() == []


def test_received_credentials_can_be_presented(live: LiveIssuer, tmp_path: Path) -> None:
    from test_wallet_role_support import StatusLists

    from verifier import Query, Verifier

    offer = live.issuer.create_offer(SLIP, sample(), tx_code=False)
    agency = Verifier.create(
        "Hello Work", trust=[live.issuer.certificate], fetcher=StatusLists(live.issuer)
    )
    with _wallet(live, tmp_path / "w", trust=[live.issuer.certificate, agency.certificate]) as w:
        w.receive(offer.uri)
        request = agency.request(Query.of(SLIP, "payment_amount"), purpose="benefit")
        result = agency.verify(w.present(w.consider(request).approve()))
        assert result.verified, result.errors
        assert result["payment_amount"] == sample()["payment_amount"]
