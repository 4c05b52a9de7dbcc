"""The verifier service verifies responses on its event loop; a status list that has to be
fetched sends the response to a worker thread (``verifier._status.no_status_fetch``)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_oid4vp_service_support import bound_socket, serving
from test_verifier_support import (
    ISSUER,
    SLIP,
    Holder,
    ask,
    form,
    issue_sd_jwt_vc,
    pki_at,
    present_sd_jwt,
)

from honnin.clock import FixedClock, SystemClock
from honnin.errors import FetchError
from honnin.http import HttpxFetcher
from honnin.ports import FetchedResource
from honnin.status import StatusList, StatusReference, build_status_list_jwt
from verifier import Verifier, VerifierSettings, create_app
from verifier._status import FetchOffTheLoop, no_status_fetch

_URI = "https://example-corp.issuer.honnin.example/status/1"


class _Lists:
    """An in-memory Fetcher serving one status list token; counts its fetches."""

    def __init__(self, token: str) -> None:
        self.token, self.fetched = token, 0

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        if url != _URI:
            raise FetchError(f"{url}: 404", status=404)
        self.fetched += 1
        return FetchedResource(self.token.encode(), "application/statuslist+jwt")


def _setup(clock: FixedClock, **options: Any) -> tuple[Verifier, _Lists, Any]:
    pki = pki_at(clock)
    issuer = pki.issuer(ISSUER)
    token = build_status_list_jwt(
        StatusList(64, bits=2), sub=_URI, key=issuer.private_key, iat=int(clock.now()),
        x5c=[c.public_bytes(Encoding.DER) for c in issuer.chain],
    )  # fmt: skip
    lists = _Lists(token)
    agency = Verifier.create(
        "Hello Work", trust=[pki.root.certificate], clock=clock, fetcher=lists, **options
    )
    return agency, lists, pki


def _answer(agency: Verifier, pki: Any, clock: FixedClock) -> dict[str, str]:
    holder = Holder()
    reference = StatusReference(uri=_URI, idx=5)
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), status=reference)
    _, claims = ask(agency)
    paths = [("payment_amount",), ("withholding_tax",)]
    presentation = present_sd_jwt(token, holder, paths, claims, iat=int(clock.now()))
    return form({SLIP: [presentation]}, claims["state"])


def test_no_status_fetch_stops_before_the_network_and_records_nothing() -> None:
    clock = FixedClock(int(SystemClock().now()))
    agency, lists, pki = _setup(clock)
    assert agency.verifies_on_loop
    answer = _answer(agency, pki, clock)
    with no_status_fetch(), pytest.raises(FetchOffTheLoop):
        agency.verify(answer)
    assert lists.fetched == 0
    # Nothing was recorded: the same response verifies where fetching is allowed.
    result = agency.verify(answer)
    assert result.verified, result.errors
    assert lists.fetched == 1
    # A cached, fresh list needs no fetch: verification completes inside the block.
    with no_status_fetch():
        assert agency.verify(_answer(agency, pki, clock)).verified
    assert lists.fetched == 1


def test_the_service_verifies_cold_and_warm_status_lists() -> None:
    clock = FixedClock(int(SystemClock().now()))
    with bound_socket() as (sock, base):
        agency, lists, pki = _setup(clock, base_url=base)
        app = create_app(agency, VerifierSettings(public_url=base, dev=True))
        with serving(app, sock), HttpxFetcher(timeout=10) as http:
            for expected_fetches in (1, 1):  # cold: a worker thread fetches; warm: the loop
                answer = http.post_form(f"{base}/response", _answer(agency, pki, clock),
                                        max_bytes=65536)  # fmt: skip
                assert answer.status == 200, answer.body
                assert lists.fetched == expected_fetches


def test_a_caller_supplied_status_checker_is_never_used_on_the_loop() -> None:
    clock = FixedClock(int(SystemClock().now()))
    agency, _, _ = _setup(clock)
    other = Verifier.create(
        "Hello Work", trust=[], clock=clock, status_checker=agency._presentations.status
    )
    assert not other.verifies_on_loop
