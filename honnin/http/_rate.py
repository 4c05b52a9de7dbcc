"""A per-client request budget for the services (HOSTILE-CASES IS-30; ASVS 2.4.1): a token
bucket per client address, on the monotonic clock (a wall-clock step neither lifts nor
tightens a limit), in bounded memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from honnin.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``per_minute`` requests a minute from one client, in bursts of up to
    ``burst`` (``per_minute`` unless given).

    Clients are keyed by what the caller passes (the peer address; behind a reverse proxy,
    the address uvicorn takes from ``X-Forwarded-For`` when the proxy is trusted with
    ``forwarded_allow_ips``). At most ``max_clients`` buckets are kept: full buckets are
    dropped first (they hold no debt), then, under a flood of distinct addresses, the
    oldest, so memory stays bounded whatever arrives.

    >>> limiter = RateLimiter(60)
    >>> limiter.take("192.0.2.7")   # raises RateLimited once the budget is spent
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self._rate = per_minute / 60.0
        self._burst = float(burst if burst is not None else per_minute)
        if self._burst < 1:
            raise ValueError("burst must be at least 1")
        self._max_clients = max_clients
        self._clock = clock
        #: client -> (tokens left, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Spend one request of ``client``'s budget.

        Raises:
            RateLimited: the budget is spent; ``fields["retry_after"]`` is the whole number
                of seconds until one request is allowed again.
        """
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                wait = math.ceil((1 - tokens) / self._rate)
                raise RateLimited(
                    "too many requests from this client; try again later", retry_after=wait
                )
            if client not in self._buckets and len(self._buckets) >= self._max_clients:
                self._evict(now)
            self._buckets[client] = (tokens - 1, now)

    def _evict(self, now: float) -> None:
        full = [
            c for c, (t, at) in self._buckets.items() if t + (now - at) * self._rate >= self._burst
        ]
        for client in full:
            del self._buckets[client]
        while len(self._buckets) >= self._max_clients:
            del self._buckets[next(iter(self._buckets))]  # the oldest insertion
