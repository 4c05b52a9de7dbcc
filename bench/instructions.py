"""Instructions per journey, counted by valgrind: a measure the machine's noise cannot move.

    python -m bench.instructions              # 5 and 25 journeys: about 4 minutes
    python -m bench.instructions --extra 40   # 5 and 45
    python -m bench.instructions --requests   # one loopback GET, by HTTP client: ~7 minutes

The journey is ``bench_journey``'s, with the services in another process (one copy). Each
count runs the whole program under ``valgrind --tool=callgrind --trace-children=yes``, which
counts the instructions the CPU executes (not time); start-up, imports and the wallet's
opening are in both counts, so the difference between a run of 5 journeys and one of
5 + ``extra``, divided by ``extra``, is what one journey costs: in the wallet's process (the
wallet and the verifier's back office) and in the services' process (issuer and verifier
under uvicorn). The services' count includes one offer made in advance per journey.
Instruction counts say where work went away, not how long a journey takes on a given machine;
a compiled library (OpenSSL, SQLite) counts like Python. Needs valgrind (Debian: ``valgrind``).

``--requests`` counts the client's side of one GET on a kept-alive loopback connection (a
JSON answer of about 1 kB from uvicorn in an untraced child), the same way (20 and 220
requests), for honnin's ``HttpxFetcher``, ``httpx.Client`` and a bare ``httpcore``
connection pool: what each request of a journey costs the wallet in its HTTP client.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._harness import child, serve_until_stdin_closes
from bench.bench_journey import _journey, services_elsewhere

_WARM = 5


def _drive(journeys: int) -> None:
    """The program valgrind runs: the services in a child, ``_WARM`` + ``journeys`` journeys."""
    with tempfile.TemporaryDirectory(prefix="honnin-bench-instructions-") as folder:
        offers = _WARM + journeys
        with services_elsewhere(Path(folder), offers) as (back_office, wallet):
            for _ in range(offers):
                _journey(back_office, wallet, 1)


def _counted(journeys: int) -> dict[str, int]:
    """Instructions of the wallet's and the services' processes for ``journeys`` journeys."""
    with tempfile.TemporaryDirectory(prefix="honnin-callgrind-") as folder:
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--trace-children=yes",
                f"--callgrind-out-file={folder}/cg.%p",
                sys.executable, "-m", "bench.instructions", "--drive", str(journeys),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        counts: dict[str, int] = {}
        for out in Path(folder).glob("cg.*"):
            text = out.read_text(errors="replace")
            command = re.search(r"^cmd:\s*(.*)$", text, re.M)
            summary = re.search(r"^summary:\s*(\d+)", text, re.M)
            if command is None or summary is None:
                continue
            if "bench.instructions" in command.group(1):
                counts["wallet"] = int(summary.group(1))
            elif "bench.bench_journey" in command.group(1):
                counts["services"] = int(summary.group(1))
        return counts


_CLIENTS = ("HttpxFetcher", "httpx.Client", "httpcore.ConnectionPool")


def _drive_requests(client: str, url: str, requests: int) -> None:
    """The program valgrind runs for ``--requests``: ``requests`` GETs with one client."""
    import httpcore
    import httpx

    from honnin.http import HttpxFetcher

    if client == "HttpxFetcher":
        with HttpxFetcher(timeout=10) as fetcher:
            for _ in range(requests):
                fetcher.request("GET", url, max_bytes=65536)
    elif client == "httpx.Client":
        with httpx.Client(trust_env=False) as http:
            for _ in range(requests):
                http.get(url).read()
    else:
        with httpcore.ConnectionPool() as pool:
            for _ in range(requests):
                pool.request("GET", url)


def _answer_server() -> None:
    """The untraced child for ``--requests``: a JSON answer on a free port, until stdin ends."""
    body = b'{"answer":"' + b"x" * 1000 + b'"}'

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        await send(  # type: ignore[operator]
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    serve_until_stdin_closes(app, "/answer")


def _per_request() -> dict[str, float]:
    with child("bench.instructions", "--answer-server") as (_, url):
        out: dict[str, float] = {}
        for client in _CLIENTS:
            low, high = (_client_count(client, url, n) for n in (20, 220))
            out[client] = (high - low) / 200
        return out


def _client_count(client: str, url: str, requests: int) -> int:
    with tempfile.TemporaryDirectory(prefix="honnin-callgrind-") as folder:
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/cg.out",
                sys.executable, "-m", "bench.instructions",
                "--drive-requests", client, url, str(requests),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        text = (Path(folder) / "cg.out").read_text(errors="replace")
        summary = re.search(r"^summary:\s*(\d+)", text, re.M)
        assert summary is not None
        return int(summary.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--extra", type=int, default=20, help="journeys between the two runs")
    parser.add_argument("--requests", action="store_true", help="one GET, by HTTP client")
    parser.add_argument("--drive", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--drive-requests", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--answer-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive is not None:
        _drive(args.drive)
        return 0
    if args.drive_requests is not None:
        client, url, requests = args.drive_requests
        _drive_requests(client, url, int(requests))
        return 0
    if args.answer_server:
        _answer_server()
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.requests:
        print("instructions per loopback GET, client side (difference of 20 and 220):")
        for client, per in _per_request().items():
            print(f"  {client:26s} {per / 1e6:6.2f} M")
        return 0
    low, high = _counted(_WARM), _counted(_WARM + args.extra)
    print(f"instructions per journey (difference of {_WARM} and {_WARM + args.extra} journeys):")
    for part in ("wallet", "services"):
        per = (high[part] - low[part]) / args.extra
        print(f"  {part:8s} {per / 1e6:8.2f} M")
    return 0


if __name__ == "__main__":
    sys.exit(main())
