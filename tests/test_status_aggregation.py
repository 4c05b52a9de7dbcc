"""Status List Aggregation (draft-ietf-oauth-status-list-20 §9): the document, the
relying party's prefetch, and the issuer service's aggregation endpoint on real uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_oid4vci_service_fixtures import CLAIMS, LiveIssuer, live_issuer, wallet_for
from test_status_checker import KEY, T0, URI, MemoryFetcher, make, publish

from honnin.clock import FixedClock
from honnin.errors import MalformedInput, Revoked, StatusUnavailable, TooLarge
from honnin.http import HttpxFetcher
from honnin.jose import public_key_of
from honnin.ports import FetchedResource
from honnin.status import (
    ListTokenHeader,
    StatusChecker,
    StatusList,
    StatusReference,
    build_status_list_aggregation,
    build_status_list_jwt,
    parse_status_list_aggregation,
    verify_status_list_jwt,
)

AGGREGATION = "https://issuer.example/status"


def test_the_document_round_trips_in_order_and_once() -> None:
    uris = ["https://i.example/status/b", "https://i.example/status/a"]
    document = build_status_list_aggregation([*uris, uris[0]])
    assert document == {"status_lists": uris}
    assert parse_status_list_aggregation(json.dumps(document)) == tuple(uris)
    assert parse_status_list_aggregation(document) == tuple(uris)
    assert parse_status_list_aggregation(b'{"status_lists": []}') == ()


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b'{"status_lists": "https://i.example/status/1"}',
        b'{"status_lists": [1]}',
        b'{"status_lists": [""]}',
        b'{"status_lists": ["/status/1"]}',
        b'{"status_lists": ["ftp://i.example/1"]}',
        b'{"status_lists": ["https://i.example:99999/1"]}',
        b'{"status_lists": ["https://i.example/1#frag"]}',
        ('{"status_lists": ["https://i.example/' + "a" * 2100 + '"]}').encode(),
        b'{"status_lists": [], "status_lists": []}',
        b"not json",
    ],
)
def test_a_malformed_aggregation_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedInput):
        parse_status_list_aggregation(body)


def test_too_many_lists_or_bytes_are_refused() -> None:
    many = {"status_lists": [f"https://i.example/status/{n}" for n in range(1001)]}
    with pytest.raises(TooLarge):
        parse_status_list_aggregation(many)
    with pytest.raises(TooLarge):
        parse_status_list_aggregation(b" " * (256 * 1024 + 1))
    assert len(parse_status_list_aggregation(many, max_lists=2000)) == 1001


def _serve_aggregation(fetcher: MemoryFetcher, uris: list[str]) -> None:
    body = json.dumps({"status_lists": uris}).encode()
    fetcher.resources[AGGREGATION] = FetchedResource(body, "application/json")


def test_prefetch_caches_every_list_then_checks_need_no_fetch() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {3: 1})
    second = "https://issuer.example/status/2"
    fetcher.serve_jwt(
        second, build_status_list_jwt(StatusList(16, 2), sub=second, key=KEY, iat=T0, ttl=300)
    )
    _serve_aggregation(fetcher, [URI, second])
    checker = make(fetcher, clock)
    assert checker.prefetch(AGGREGATION) == {URI: None, second: None}
    fetched = len(fetcher.calls)
    assert fetcher.calls[0] == (AGGREGATION, "application/json")
    with pytest.raises(Revoked):
        checker.check(StatusReference(URI, 3))
    assert checker.check(StatusReference(second, 5)).status == 0
    assert len(fetcher.calls) == fetched  # both answered from the cache


def test_a_list_that_fails_is_reported_and_the_others_still_cached() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    missing = "https://issuer.example/status/gone"
    _serve_aggregation(fetcher, [missing, URI])
    report = make(fetcher, clock).prefetch(AGGREGATION)
    assert report[URI] is None
    failed = report[missing]
    assert isinstance(failed, StatusUnavailable) and failed.fields["uri"] == missing


def test_lists_on_another_origin_are_not_fetched() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    elsewhere = "https://tracker.example/status/1"
    other_port = "https://issuer.example:8443/status/1"
    _serve_aggregation(fetcher, [URI, elsewhere, other_port])
    report = make(fetcher, clock).prefetch(AGGREGATION)
    assert report[URI] is None
    for uri in (elsewhere, other_port):
        found = report[uri]
        assert isinstance(found, StatusUnavailable) and found.fields["reason"] == "origin"
    assert [url for url, _ in fetcher.calls] == [AGGREGATION, URI]  # no third party asked
    fetcher.calls.clear()
    make(fetcher, clock).prefetch(AGGREGATION, same_origin=False)
    assert elsewhere in [url for url, _ in fetcher.calls]


def test_no_more_lists_are_fetched_than_the_cache_holds() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    uris = [f"https://issuer.example/status/{n}" for n in range(5)]
    for uri in uris:
        token = build_status_list_jwt(StatusList(16, 2), sub=uri, key=KEY, iat=T0, ttl=300)
        fetcher.serve_jwt(uri, token)
    _serve_aggregation(fetcher, uris)
    report = make(fetcher, clock, max_cached_lists=3).prefetch(AGGREGATION)
    assert [u for u, error in report.items() if error is None] == uris[:3]
    assert {e.fields["reason"] for e in report.values() if e is not None} == {"cache_full"}


@pytest.mark.parametrize(
    "resource",
    [None, FetchedResource(b'{"status_lists": [7]}', "application/json")],
)
def test_an_unusable_aggregation_is_status_unavailable(resource: FetchedResource | None) -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    if resource is not None:
        fetcher.resources[AGGREGATION] = resource
    with pytest.raises(StatusUnavailable) as caught:
        make(fetcher, clock).prefetch(AGGREGATION)
    assert caught.value.fields["uri"] == AGGREGATION
    assert caught.value.fields["reason"] in ("fetch_error", "malformed")


# -- the issuer service ----------------------------------------------------------------------


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


def test_the_issuer_serves_and_advertises_its_aggregation(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = wallet.token(live.issuer.create_offer("withholding-slip", CLAIMS))
        response = wallet.credential_response(
            token, "withholding-slip.sd_jwt_vc", wallet.proofs(wallet.nonce(), 1)
        )
        credential = response.json()["credentials"][0]["credential"]
    metadata = httpx.get(f"{live.base}/.well-known/oauth-authorization-server").json()
    endpoint = metadata["status_list_aggregation_endpoint"]
    assert endpoint == f"{live.base}/status"
    answer = httpx.get(endpoint)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "public, max-age=60"
    uris = parse_status_list_aggregation(answer.content)
    assert uris == tuple(live.issuer.status.uri_of(i) for i in live.issuer.status.list_ids())
    assert len(uris) == 1
    # §9.2: each list names the aggregation too.
    public_key = live.issuer.identity.key.public_key()
    listed = verify_status_list_jwt(
        httpx.get(uris[0]).content, key=public_key, expected_sub=uris[0], now=live.clock.now()
    )
    assert listed.status_list.aggregation_uri == endpoint
    # A relying party prefetches over real HTTP, then the revocation shows from its cache.
    live.issuer.revoke(credential)

    def key(header: ListTokenHeader) -> Any:
        return public_key_of(live.issuer.identity.key)

    with HttpxFetcher() as fetcher:
        checker = StatusChecker(fetcher, key, clock=live.clock)
        assert checker.prefetch(endpoint) == {uris[0]: None}
        reference = _status_reference(credential)
        with pytest.raises(Revoked):
            checker.check(reference)


def _status_reference(credential: str) -> StatusReference:
    import base64

    payload = credential.split("~")[0].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    status = claims["status"]["status_list"]
    return StatusReference(status["uri"], status["idx"])
