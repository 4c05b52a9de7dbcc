"""Alternated sampling on two clocks, for the micro-benchmarks that compare honnin with the
crypto floor and a peer library (``bench_sdjwt``, ``bench_mdoc``).

The machine is shared: load comes and goes within a second. So the functions compared are
sampled in turn (honnin, floor, peer, honnin, floor, peer, ...), each sample a calibrated
loop with the garbage collector paused, and every sample is taken on both clocks at once:
thread CPU time (``time.thread_time``: only the work done by this thread, the figure the
ratios use) and wall time (``time.perf_counter``: what a caller waits, other people's load
included). The result is the median over all samples of each function, per clock.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """Median time of one call, in microseconds, on each clock."""

    cpu_us: float
    wall_us: float


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
    """How many calls make one sample of at least ``min_time`` seconds of CPU time."""
    fn()  # lazy imports and first-use caches stay out of the samples
    number = 1
    while True:
        start = time.thread_time()
        for _ in range(number):
            fn()
        if time.thread_time() - start >= min_time:
            return number
        number *= 2


def alternated(
    fns: Sequence[Callable[[], object] | None], *, samples: int, min_time: float
) -> list[Timing | None]:
    """The median CPU and wall time of each function (None stays None), sampled in turn."""
    numbers = [None if fn is None else _calibrate(fn, min_time) for fn in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    wall: list[list[float]] = [[] for _ in fns]
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(samples):
            for index, fn in enumerate(fns):
                number = numbers[index]
                if fn is None or number is None:
                    continue
                start_cpu, start_wall = time.thread_time(), time.perf_counter()
                for _ in range(number):
                    fn()
                end_wall, end_cpu = time.perf_counter(), time.thread_time()
                cpu[index].append((end_cpu - start_cpu) / number)
                wall[index].append((end_wall - start_wall) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return [
        Timing(statistics.median(c) * 1e6, statistics.median(w) * 1e6) if c else None
        for c, w in zip(cpu, wall, strict=True)
    ]
