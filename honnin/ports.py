"""Ports: the interfaces through which honnin's pure core reaches the outside world.

Format and protocol code receives a ``Fetcher`` instead of doing network I/O itself
(CONVENTIONS 9); ``honnin.http`` has the httpx adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["FetchedResource", "Fetcher"]


@dataclass(frozen=True, slots=True)
class FetchedResource:
    """The body and media type of a fetched resource."""

    body: bytes
    content_type: str = ""


@runtime_checkable
class Fetcher(Protocol):
    """Fetches a URL. Implementations raise ``honnin.errors.FetchError`` on any failure."""

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        """GET ``url``; refuse bodies larger than ``max_bytes``."""
        ...
