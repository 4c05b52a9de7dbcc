"""Timing and reporting shared by every benchmark module.

Each ``bench/bench_*.py`` module exposes ``run(quick: bool) -> list[Row]``. Times are
medians of repeated runs (this machine is shared and noisy); ratios are computed in the same
process run, so they compare like with like.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One benchmark step. Times in microseconds (median)."""

    group: str
    step: str
    honnin_us: float
    floor_us: float | None = None
    peer: str | None = None
    peer_us: float | None = None
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio_to_floor(self) -> float | None:
        return self.honnin_us / self.floor_us if self.floor_us else None

    @property
    def speedup_vs_peer(self) -> float | None:
        return self.peer_us / self.honnin_us if self.peer_us else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio_to_floor"] = self.ratio_to_floor
        out["speedup_vs_peer"] = self.speedup_vs_peer
        return out


def median_us(fn: Callable[[], object], *, repeat: int = 7, min_time: float = 0.05) -> float:
    """Median time of one call of ``fn`` in microseconds.

    Each of ``repeat`` samples runs ``fn`` in a loop for at least ``min_time`` seconds.
    """
    fn()  # warm caches and lazy imports outside the measurement
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time / 5:
            break
        number *= 2
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples) * 1e6


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    """Median, p95 and p99 of a list of durations in seconds, as milliseconds."""
    ordered = sorted(samples_s)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3

    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
    }


def notes(row: Row) -> str:
    """The few ``extra`` figures worth a glance in the table (all of them are in the JSON)."""
    extra = row.extra
    parts = []
    if "p95_ms" in extra:
        parts.append(f"p95 {extra['p95_ms']:,.1f} ms")
    if "p99_ms" in extra:
        parts.append(f"p99 {extra['p99_ms']:,.1f} ms")
    for key in ("credentials_per_s", "throughput_per_s"):
        if key in extra:
            parts.append(f"{extra[key]:,.0f}/s")
    if extra.get("errors"):
        parts.append(f"{extra['errors']} errors")
    if "met" in extra:
        parts.append("target met" if extra["met"] else "target MISSED")
    return ", ".join(parts)


HEAD = (
    "group",
    "step",
    "honnin µs",
    "floor µs",
    "peer",
    "peer µs",
    "×floor",
    "vs peer",
    "target",
    "notes",
)


def _cells(r: Row) -> tuple[str, ...]:
    return (
        r.group,
        r.step,
        f"{r.honnin_us:,.1f}",
        f"{r.floor_us:,.1f}" if r.floor_us else "-",
        r.peer or "-",
        f"{r.peer_us:,.1f}" if r.peer_us else "-",
        f"{r.ratio_to_floor:.2f}" if r.ratio_to_floor else "-",
        f"{r.speedup_vs_peer:.1f}x" if r.speedup_vs_peer else "-",
        r.target,
        notes(r),
    )


def format_table(rows: list[Row]) -> str:
    """The one table: step, honnin, crypto floor, peer, ratio to floor, speed-up vs peer."""
    lines = [HEAD, *(_cells(r) for r in rows)]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(HEAD))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_markdown(rows: list[Row]) -> str:
    """The same table in Markdown (for the README or a pull request)."""
    out = ["| " + " | ".join(HEAD) + " |", "|" + " --- |" * len(HEAD)]
    for r in rows:
        cells = (c.replace("|", "\\|") for c in _cells(r))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


@contextmanager
def child(*arguments: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m <arguments>`` run from the repository root, with the first line it prints
    (its announcement: a URL, a JSON document). It serves until its stdin is closed, which
    happens when the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        yield process, process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def serve_until_stdin_closes(app: Any, path: str = "") -> None:
    """The body of a ``child`` that serves: ``app`` under uvicorn on a free 127.0.0.1 port,
    its URL (with ``path``) printed as the announcement, until the parent closes stdin."""
    import uvicorn

    # Configured as honnin_demo.LoopbackServer serves the journey's services (no proxy-header
    # middleware, no server banner), so a replay against it costs what theirs would.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}{path}", flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join(timeout=10)
