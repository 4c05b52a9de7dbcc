"""Injectable time (CONVENTIONS 5): core code never reads the system clock itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock", "as_datetime"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current time as POSIX seconds."""

    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...


class SystemClock:
    """The real clock. The only place in honnin that reads the system time."""

    def now(self) -> float:
        return time.time()  # noqa: TID251 - the one sanctioned use


class FixedClock:
    """A clock that stands still until moved; for tests, demos and ``--at``.

    >>> clock = FixedClock(1_700_000_000)
    >>> clock.advance(60).now()
    1700000060.0
    """

    def __init__(self, at: float | datetime) -> None:
        self._at = at.timestamp() if isinstance(at, datetime) else float(at)

    def now(self) -> float:
        return self._at

    def advance(self, seconds: float) -> FixedClock:
        """Move the clock forward by ``seconds`` and return it."""
        self._at += seconds
        return self

    def set(self, at: float | datetime) -> None:
        """Jump to ``at``."""
        self._at = at.timestamp() if isinstance(at, datetime) else float(at)


def as_datetime(clock: Clock) -> datetime:
    """The clock's current time as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.now(), tz=UTC)
