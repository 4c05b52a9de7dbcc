"""Run every benchmark in one process and print one table (and write it as JSON).

    python -m bench [--quick] [--only NAME ...] [--json bench/results/latest.json] [--markdown]
    python -m bench --list

Every ``bench/bench_*.py`` module exposes ``run(quick: bool) -> list[Row]``; they run one
after the other in this process (servers some of them start are its children), so the
ratios in one table were measured under the same conditions. A module that fails is
reported with its traceback, the others still run, and the exit status is 1.

Peers (PyPI ``sd-jwt`` and ``pymdoccbor``) must be installed in the bench environment:
``bench/run`` makes that environment and calls this module. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench._harness import Row, format_markdown, format_table

PEERS = ("sd-jwt", "pymdoccbor")


def _modules(only: list[str] | None) -> list[str]:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    return names


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _meta(quick: bool) -> dict[str, Any]:
    peers = {name: _version(name) for name in PEERS}
    return {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "honnin": _version("honnin"),
        "peers": peers,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "quick": quick,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (sdjwt ...)")
    parser.add_argument("--json", default="bench/results/latest.json", help="where to write JSON")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()
    names = _modules(args.only)
    if args.list:
        print("\n".join(n.removeprefix("bench_") for n in names))
        return 0
    meta = _meta(args.quick)
    missing = [name for name, found in meta["peers"].items() if found is None]
    if missing:
        print(
            f"note: peers not installed ({', '.join(missing)}): their columns stay empty;"
            " bench/run installs them",
            file=sys.stderr,
        )
    rows: list[Row] = []
    failed: dict[str, str] = {}
    durations: dict[str, float] = {}
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            rows.extend(module.run(quick=args.quick))
        except Exception:  # one broken benchmark must not hide the others' figures
            failed[name] = traceback.format_exc()
            print(f"  FAILED:\n{failed[name]}", file=sys.stderr, flush=True)
        durations[name] = round(time.perf_counter() - started, 1)
        print(f"  done in {durations[name]:.1f} s", file=sys.stderr, flush=True)
    meta["durations_s"] = durations
    meta["failed"] = failed
    print(format_table(rows))
    if args.markdown:
        print()
        print(format_markdown(rows))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "rows": [r.as_dict() for r in rows]}
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {out}", file=sys.stderr)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
