"""StatusChecker: fetch, verify, cache and decide (draft-ietf-oauth-status-list-20 §8)."""

from __future__ import annotations

import zlib

import pytest

from honnin.clock import FixedClock
from honnin.errors import (
    FetchError,
    Revoked,
    StatusError,
    StatusUnavailable,
    Suspended,
    UntrustedIssuer,
)
from honnin.jose import PublicKey, generate_key, public_key_of
from honnin.ports import FetchedResource
from honnin.status import (
    MEDIA_TYPE_JWT,
    ListTokenHeader,
    StatusChecker,
    StatusList,
    StatusReference,
    StatusValue,
    UnknownStatus,
    build_status_list_jwt,
)

URI = "https://issuer.example/status/1"
T0 = 1_800_000_000
KEY = generate_key()


class MemoryFetcher:
    """A Fetcher double serving bytes from a dict; unknown URLs are unreachable."""

    def __init__(self) -> None:
        self.resources: dict[str, FetchedResource] = {}
        self.calls: list[tuple[str, str | None]] = []

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        self.calls.append((url, accept))
        found = self.resources.get(url)
        if found is None:
            raise FetchError(f"{url} is unreachable", url=url)
        if len(found.body) > max_bytes:
            raise FetchError(f"{url} body over {max_bytes} bytes", url=url)
        return found

    def serve_jwt(self, url: str, token: str) -> None:
        self.resources[url] = FetchedResource(token.encode(), MEDIA_TYPE_JWT)


def resolver(header: ListTokenHeader) -> PublicKey:
    return public_key_of(KEY)


def publish(
    fetcher: MemoryFetcher,
    statuses: dict[int, int],
    *,
    iat: int = T0,
    ttl: int | None = 300,
    exp: int | None = T0 + 86400,
    sub: str = URI,
    key: object = KEY,
    bits: int = 2,
) -> None:
    lst = StatusList(1024, bits)
    for idx, value in statuses.items():
        lst.set(idx, value)
    token = build_status_list_jwt(lst, sub=sub, key=key, iat=iat, exp=exp, ttl=ttl)  # type: ignore[arg-type]
    fetcher.serve_jwt(URI, token)


def make(fetcher: MemoryFetcher, clock: FixedClock, **kwargs: object) -> StatusChecker:
    return StatusChecker(fetcher, resolver, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_valid_revoked_suspended() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {1: StatusValue.INVALID, 2: StatusValue.SUSPENDED})
    checker = make(fetcher, clock)
    result = checker.check(StatusReference(URI, 0))
    assert (result.status, result.known, result.reason) == (StatusValue.VALID, True, None)
    with pytest.raises(Revoked):
        checker.check(StatusReference(URI, 1))
    with pytest.raises(Suspended):
        checker.check(StatusReference(URI, 2))
    assert fetcher.calls == [(URI, MEDIA_TYPE_JWT)]  # one fetch, then the cache


def test_cache_honours_ttl_then_sees_the_change() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    checker = make(fetcher, clock)
    assert checker.check(StatusReference(URI, 9)).status == 0
    publish(fetcher, {9: StatusValue.INVALID}, iat=T0 + 10)
    clock.advance(299)
    assert checker.check(StatusReference(URI, 9)).status == 0  # still within ttl
    clock.advance(2)
    with pytest.raises(Revoked):
        checker.check(StatusReference(URI, 9))
    assert len(fetcher.calls) == 2


def test_ttl_is_clamped() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {}, ttl=1)
    checker = make(fetcher, clock, min_refresh=60)
    checker.check(StatusReference(URI, 0))
    clock.advance(30)
    checker.check(StatusReference(URI, 0))
    assert len(fetcher.calls) == 1  # ttl=1 is raised to 60 s
    publish(fetcher, {}, ttl=10**9)
    checker.forget()
    checker.check(StatusReference(URI, 0))
    clock.advance(24 * 3600 + 1)
    publish(fetcher, {}, iat=int(clock.now()), exp=None)
    checker.check(StatusReference(URI, 0))
    assert len(fetcher.calls) == 3  # a huge ttl is cut to 24 h


def test_exp_forces_a_refetch_before_ttl() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {}, ttl=3600, exp=T0 + 100)
    checker = make(fetcher, clock, skew=0)
    checker.check(StatusReference(URI, 0))
    clock.advance(101)
    publish(fetcher, {0: 1}, iat=T0 + 100, exp=T0 + 10_000)
    with pytest.raises(Revoked):
        checker.check(StatusReference(URI, 0))


def test_application_specific_value_needs_acceptance() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {5: StatusValue.APPLICATION_SPECIFIC})
    with pytest.raises(StatusError) as info:
        make(fetcher, clock).check(StatusReference(URI, 5))
    assert type(info.value) is StatusError and info.value.status == 3
    accepting = make(fetcher, clock, accepted=(StatusValue.VALID, 3))
    assert accepting.check(StatusReference(URI, 5)).status == 3


# -- fail closed ------------------------------------------------------------------------


def test_unreachable_list_fails_closed() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "fetch_error"
    assert isinstance(info.value.__cause__, FetchError)


def test_accept_policy_returns_unknown_instead_of_raising() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    checker = make(fetcher, clock, unknown=UnknownStatus.ACCEPT)
    result = checker.check(StatusReference(URI, 0))
    assert (result.status, result.known) == (None, False)
    assert isinstance(result.reason, StatusUnavailable)


def test_accept_policy_still_reports_revocation() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {0: 1})
    with pytest.raises(Revoked):
        make(fetcher, clock, unknown=UnknownStatus.ACCEPT).check(StatusReference(URI, 0))


def test_failure_is_not_retried_at_once_then_recovers() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    checker = make(fetcher, clock, retry_after_failure=5)
    for _ in range(3):
        with pytest.raises(StatusUnavailable):
            checker.check(StatusReference(URI, 0))
    assert len(fetcher.calls) == 1
    publish(fetcher, {})
    clock.advance(6)
    assert checker.check(StatusReference(URI, 0)).status == 0


def test_list_signed_by_another_key() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {}, key=generate_key())
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "invalid_signature"


def test_untrusted_signer_from_the_resolver() -> None:
    def refuse(header: ListTokenHeader) -> PublicKey:
        raise UntrustedIssuer("x5c does not chain to an anchor")

    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    with pytest.raises(StatusUnavailable) as info:
        StatusChecker(fetcher, refuse, clock=clock).check(StatusReference(URI, 0))
    assert info.value.reason == "untrusted_issuer"


def test_sub_not_matching_the_referenced_uri() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {}, sub="https://issuer.example/status/2")
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "invalid_claim"


def test_expired_list_token() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {}, iat=T0 - 7200, exp=T0 - 3600)
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "expired"


def test_index_out_of_range_is_rejected_even_under_accept() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    checker = make(fetcher, clock, unknown=UnknownStatus.ACCEPT)
    with pytest.raises(StatusUnavailable) as info:
        checker.check(StatusReference(URI, 1024))  # first check: fetch, then out of bounds
    assert info.value.size == 1024
    assert checker.check(StatusReference(URI, 1023)).status == 0
    with pytest.raises(StatusUnavailable):
        checker.check(StatusReference(URI, 1024))  # cached list: the same answer


def test_wrong_content_type() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    fetcher.resources[URI] = FetchedResource(fetcher.resources[URI].body, "application/json")
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "content_type"


def test_zlib_bomb_in_a_signed_list() -> None:
    from honnin.encoding import b64url_encode
    from honnin.jose import sign_jws

    bomb = zlib.compress(bytes(20 * 1024 * 1024), 9)
    claims = {"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": b64url_encode(bomb)}}
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    fetcher.serve_jwt(URI, sign_jws(claims, KEY, header={"typ": "statuslist+jwt"}))
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "too_large"


def test_malformed_list_in_a_signed_token() -> None:
    from honnin.encoding import b64url_encode
    from honnin.jose import sign_jws

    claims = {"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": b64url_encode(b"junk")}}
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    fetcher.serve_jwt(URI, sign_jws(claims, KEY, header={"typ": "statuslist+jwt"}))
    with pytest.raises(StatusUnavailable) as info:
        make(fetcher, clock).check(StatusReference(URI, 0))
    assert info.value.reason == "malformed"


def test_token_over_the_fetch_limit() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    publish(fetcher, {})
    with pytest.raises(StatusUnavailable):
        make(fetcher, clock, max_token_bytes=100).check(StatusReference(URI, 0))


def test_cache_is_bounded() -> None:
    fetcher, clock = MemoryFetcher(), FixedClock(T0)
    checker = make(fetcher, clock, max_cached_lists=4, unknown=UnknownStatus.ACCEPT)
    for n in range(50):
        checker.check(StatusReference(f"https://issuer.example/status/x{n}", 0))
    assert len(checker._cache) == 4
