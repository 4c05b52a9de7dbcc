"""Per-client request budgets (HOSTILE-CASES IS-30): the token bucket itself, and the issuer's
token endpoint answering 429 + Retry-After to one flooding address while another goes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_oid4vci_service_fixtures import CLAIMS, LiveIssuer, assert_oauth_error, live_issuer

from honnin.errors import RateLimited
from honnin.http import RateLimiter, error_from_oauth_response
from honnin.oid4vci import parse_credential_offer_uri
from issuer import IssuerSettings
from wallet import KdfParams, Wallet


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_rate() -> None:
    ticks = Ticks()
    limiter = RateLimiter(60, burst=3, clock=ticks)
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited) as caught:
        limiter.take("a")
    assert caught.value.fields["retry_after"] == 1 and caught.value.http_status == 429
    limiter.take("b")  # another client has its own budget
    ticks.now += 1.0  # one request a second comes back
    limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")
    ticks.now += 60  # never more than the burst is saved up
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")


def test_refused_requests_do_not_lengthen_the_wait() -> None:
    ticks = Ticks()
    limiter = RateLimiter(6, burst=1, clock=ticks)
    limiter.take("a")
    for _ in range(5):
        with pytest.raises(RateLimited) as caught:
            limiter.take("a")
    assert caught.value.fields["retry_after"] == 10
    ticks.now += 10
    limiter.take("a")


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    ticks = Ticks()
    limiter = RateLimiter(60, burst=2, max_clients=100, clock=ticks)
    for n in range(1000):
        limiter.take(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) <= 100
    limiter.take("10.0.0.0")  # evicted long ago: a fresh budget, never an error


def test_bad_arguments_are_programmer_errors() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(10, burst=0)


def test_a_429_answer_is_rate_limited_on_the_client_side() -> None:
    body = b'{"error": "temporarily_unavailable", "error_description": "slow down"}'
    assert isinstance(error_from_oauth_response(429, body), RateLimited)
    assert isinstance(error_from_oauth_response(429, b""), RateLimited)


@pytest.fixture
def limited() -> Iterator[LiveIssuer]:
    with live_issuer(settings=IssuerSettings(dev=True, token_requests_per_minute=5)) as live:
        yield live


def _redeem(http: httpx.Client, live: LiveIssuer, code: str, tx_code: str | None) -> httpx.Response:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}
    form["pre-authorized_code"] = code
    if tx_code is not None:
        form["tx_code"] = tx_code
    return http.post(f"{live.base}/token", data=form)


def test_one_address_flooding_the_token_endpoint_gets_429(limited: LiveIssuer) -> None:
    offer = limited.issuer.create_offer("withholding-slip", CLAIMS, by_reference=False)
    grant = parse_credential_offer_uri(offer.uri, allow_loopback_http=True).offer
    assert grant is not None and grant.pre_authorized_code is not None
    code = grant.pre_authorized_code.pre_authorized_code
    with httpx.Client() as flood:
        for _ in range(5):
            assert_oauth_error(_redeem(flood, limited, "guess", None), 400, "invalid_grant")
        refused = _redeem(flood, limited, code, offer.tx_code)
        assert_oauth_error(refused, 429, "temporarily_unavailable")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["cache-control"] == "no-store"
    # Another address is not held up, and the refused request did not touch the code.
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=other) as honest:
        answer = _redeem(honest, limited, code, offer.tx_code)
        assert answer.status_code == 200, answer.text


def test_the_wallet_gets_a_typed_error_when_throttled(limited: LiveIssuer, tmp_path: Path) -> None:
    with httpx.Client() as flood:
        for _ in range(5):
            _redeem(flood, limited, "guess", None)
    offer = limited.issuer.create_offer("withholding-slip", CLAIMS)
    with Wallet.open(
        tmp_path / "w.wallet", "482913", kdf=KdfParams.INSECURE_TEST_ONLY,
        allow_loopback_http=True,
    ) as wallet:  # fmt: skip
        with pytest.raises(RateLimited):
            wallet.receive(offer.uri, tx_code=offer.tx_code)
        assert wallet.credentials() == []
