"""Where one journey's wall time goes: its HTTP exchanges and commits, laid out in time.

    python -m bench.timeline                  # 5 warm-up journeys, then 60 (about 10 s)
    python -m bench.timeline --journeys 200
    python -m bench.timeline --copies 8       # the issuer's default batch

The journey is ``bench_journey``'s with the services in another process (one copy unless
``--copies`` says otherwise). Each
journey records, with ``time.perf_counter``, when each HTTP exchange of the wallet and of
the back office (both ``HttpxFetcher.request``; the back office's go to ``/transactions``)
started and ended, on which thread, and when each vault commit ran (the outermost
``RecordStore.transaction``, from the end of its block to its return: the commit, and with
``wipes`` the WAL truncation).
It prints the journey whose total is the median of the run, every event relative to its
start, then the median duration of each kind of event over all journeys. The gaps between
events on the main thread are the wallet's own work (parsing, checking, signing, storing);
the time inside an exchange is the services' work plus both HTTP stacks. The back office's
``GET .../result`` is the long poll: it waits from the request's creation to the result.

A diagnostic, not a benchmark: the wrappers add a few microseconds per event, and nothing
here is compared with a target (``bench_journey`` does that).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.bench_journey import services_elsewhere
from honnin.http import HttpxFetcher
from wallet import _vault_store

_WARM = 5
# Random path segments (offer ids, request ids, transaction ids: base64url, with a capital,
# a digit or "_" somewhere) shown as one name; well-known names are lower case and hyphens.
_RANDOM = re.compile(r"/(?=[A-Za-z0-9_-]*[A-Z0-9_])[A-Za-z0-9_-]{20,}")


class _Event(NamedTuple):
    start: float
    end: float
    thread: str
    what: str


class _Recorder:
    """Wraps the fetcher, the back office's client and the vault's transactions."""

    def __init__(self) -> None:
        self.events: list[_Event] = []

    def add(self, start: float, what: str) -> None:
        thread = threading.current_thread().name
        self.events.append(_Event(start, time.perf_counter(), thread, what))

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        recorder = self
        fetch = HttpxFetcher.request
        transaction = _vault_store.RecordStore.transaction

        def request(fetcher: HttpxFetcher, method: str, url: str, **options: Any) -> Any:
            started = time.perf_counter()
            try:
                return fetch(fetcher, method, url, **options)
            finally:
                path = _path(url)
                office = "back office " if path.startswith("/transactions") else ""
                recorder.add(started, f"{office}{method} {path}")

        @contextlib.contextmanager
        def timed_transaction(
            store: Any, *, wipes: bool = False, after_commit: Callable[[], object] | None = None
        ) -> Iterator[None]:
            outermost = store._txn is None
            ended = 0.0
            with transaction(store, wipes=wipes, after_commit=after_commit):
                yield
                ended = time.perf_counter()
            if outermost and ended:
                recorder.add(ended, "commit, WAL truncated" if wipes else "commit")

        HttpxFetcher.request = request  # type: ignore[method-assign, assignment]
        _vault_store.RecordStore.transaction = timed_transaction  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            HttpxFetcher.request = fetch  # type: ignore[method-assign]
            _vault_store.RecordStore.transaction = transaction  # type: ignore[method-assign]


def _path(url: str) -> str:
    path = httpx.URL(url).path
    return _RANDOM.sub("/{id}", path)


def _journeys(count: int, copies: int) -> list[tuple[float, list[_Event]]]:
    """``count`` journeys of ``copies`` copies after ``_WARM``: each one's total and its
    events (relative)."""
    recorder = _Recorder()
    out: list[tuple[float, list[_Event]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="honnin-bench-timeline-") as folder,
        services_elsewhere(Path(folder), _WARM + count) as (back_office, wallet),
        recorder.installed(),
    ):
        for number in range(_WARM + count):
            recorder.events.clear()
            started = time.perf_counter()
            uri, tx_code = back_office.offer()
            receipt = wallet.receive(uri, tx_code=tx_code, copies=copies)
            recorder.add(started, "Wallet.receive")
            request_uri, verified = back_office.request()
            considered = time.perf_counter()
            consent = wallet.consider(request_uri)
            recorder.add(considered, "Wallet.consider")
            presented = time.perf_counter()
            wallet.present(consent.approve(), post=True)
            recorder.add(presented, "Wallet.present")
            if not verified():
                raise RuntimeError("the journey did not verify")
            total = time.perf_counter() - started
            events = [
                _Event(e.start - started, e.end - started, e.thread, e.what)
                for e in recorder.events
            ]
            for held in receipt.credentials:
                wallet.delete(held.id)  # as bench_journey: not part of a journey
            if number >= _WARM:
                out.append((total, events))
    return out


def _thread(name: str) -> str:
    if name == "MainThread":
        return "main"
    if name.startswith("honnin-wallet"):
        return "wallet pool"
    return "back office" if name.startswith("back-office") else name[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__)
    parser.add_argument("--journeys", type=int, default=60, help="journeys after the warm-up")
    parser.add_argument("--copies", type=int, default=1, help="copies issued per journey")
    args = parser.parse_args(argv)
    journeys = sorted(_journeys(args.journeys, args.copies), key=lambda j: j[0])
    total, events = journeys[len(journeys) // 2]
    print(f"the median journey of {len(journeys)}: {total * 1e3:.2f} ms")
    print(f"  {'start':>7} {'end':>7} {'took':>6}  {'thread':12} what (ms from its start)")
    for event in sorted(events):
        took = (event.end - event.start) * 1e3
        print(
            f"  {event.start * 1e3:7.2f} {event.end * 1e3:7.2f} {took:6.2f}  "
            f"{_thread(event.thread):12} {event.what}"
        )
    durations: dict[str, list[float]] = defaultdict(list)
    for _, journey in journeys:
        for event in journey:
            durations[event.what].append((event.end - event.start) * 1e3)
    print(f"median duration of each event over the {len(journeys)} journeys:")
    for what, taken in sorted(durations.items(), key=lambda item: -statistics.median(item[1])):
        per = len(taken) / len(journeys)
        print(f"  {statistics.median(taken):6.2f} ms  x{per:.0f}  {what}")
    totals = [t * 1e3 for t, _ in journeys]
    print(f"journey: median {statistics.median(totals):.2f} ms, fastest {totals[0]:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
