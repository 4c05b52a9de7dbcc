"""Instructions per journey, counted by valgrind: a measure the machine's noise cannot move.

    python -m bench.instructions              # 5 and 25 journeys: about 4 minutes
    python -m bench.instructions --extra 40   # 5 and 45

The journey is ``bench_journey``'s, with the services in another process (one copy). Each
count runs the whole program under ``valgrind --tool=callgrind --trace-children=yes``, which
counts the instructions the CPU executes (not time); start-up, imports and the wallet's
opening are in both counts, so the difference between a run of 5 journeys and one of
5 + ``extra``, divided by ``extra``, is what one journey costs: in the wallet's process (the
wallet and the verifier's back office) and in the services' process (issuer and verifier
under uvicorn). The services' count includes one offer made in advance per journey.
Instruction counts say where work went away, not how long a journey takes on a given machine;
a compiled library (OpenSSL, SQLite) counts like Python. Needs valgrind (Debian: ``valgrind``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--extra", type=int, default=20, help="journeys between the two runs")
    parser.add_argument("--drive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive is not None:
        _drive(args.drive)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    low, high = _counted(_WARM), _counted(_WARM + args.extra)
    print(f"instructions per journey (difference of {_WARM} and {_WARM + args.extra} journeys):")
    for part in ("wallet", "services"):
        per = (high[part] - low[part]) / args.extra
        print(f"  {part:8s} {per / 1e6:8.2f} M")
    return 0


if __name__ == "__main__":
    sys.exit(main())
