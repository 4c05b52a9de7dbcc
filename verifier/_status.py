"""The verifier's status checking (Token Status List §8, fail closed per HOSTILE-CASES D5).

Status List Tokens are accepted when signed by a key whose ``x5c`` chain validates to the
verifier's issuer trust anchors (HAIP §5.3.1 signs them with ``x5c``), at the time of the
check. Lists are fetched through the ``Fetcher`` port only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from honnin.clock import Clock, as_datetime
from honnin.errors import UntrustedIssuer
from honnin.jose import PublicKey
from honnin.ports import FetchedResource, Fetcher
from honnin.status import ListTokenHeader, StatusChecker
from honnin.trust import certificates_from_der_list, validate_chain

from ._trust import IssuerTrust

__all__ = ["FetchOffTheLoop", "no_status_fetch", "status_checker_for", "status_key_resolver"]

_NO_FETCH: ContextVar[bool] = ContextVar("honnin_verifier_no_status_fetch", default=False)


class FetchOffTheLoop(Exception):
    """Inside ``no_status_fetch()`` a status list had to be fetched: the service verifies
    the response again in a worker thread. Nothing was recorded (verification only reads
    until its final ``complete``), so running it again is safe."""


@contextlib.contextmanager
def no_status_fetch() -> Iterator[None]:
    """Within the block, the checkers made by ``status_checker_for`` raise
    ``FetchOffTheLoop`` instead of fetching: the verifier service verifies on its event
    loop, where a fetch would stall every other request for up to its timeout."""
    token = _NO_FETCH.set(True)
    try:
        yield
    finally:
        _NO_FETCH.reset(token)


class _Guarded:
    """The status checker's ``Fetcher``: refuses to do network I/O in ``no_status_fetch``."""

    __slots__ = ("_fetcher",)

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        if _NO_FETCH.get():
            raise FetchOffTheLoop(url)
        return self._fetcher.fetch(url, accept=accept, max_bytes=max_bytes)


def status_key_resolver(trust: IssuerTrust, clock: Clock) -> object:
    """A ``KeyResolver`` taking the list token's key from an ``x5c`` chain to the anchors."""

    def resolve(header: ListTokenHeader) -> PublicKey:
        if not header.x5c:
            raise UntrustedIssuer("the status list token carries no x5c chain", reason="no_x5c")
        chain = certificates_from_der_list(list(header.x5c))
        verified = validate_chain(chain, trust.anchors, at=as_datetime(clock))
        return verified.public_key  # type: ignore[return-value]

    return resolve


def status_checker_for(trust: IssuerTrust, fetcher: Fetcher, clock: Clock) -> StatusChecker:
    """A ``StatusChecker`` over ``fetcher`` (the ``Verifier`` makes a
    ``honnin.http.HttpxFetcher`` when given none: no redirects, bounded bodies and
    timeouts), which never fetches in ``no_status_fetch``."""
    resolver = status_key_resolver(trust, clock)
    return StatusChecker(_Guarded(fetcher), resolver, clock=clock)  # type: ignore[arg-type]
