"""``honnin demo``: the job change (default) or the birth registration, end to end.

    honnin demo                 # the job change, step by step, with QR codes
    honnin demo birth           # doctor -> parent -> municipality, mso_mdoc
    honnin demo --json          # one JSON object: verified, steps, disclosed, withheld, ...

Registered through the ``honnin.commands`` entry point (the core never imports the demo).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from honnin.cli import CommandFailed
from wallet import KdfParams

from ._scenarios import SCENARIOS
from ._story import run_scenario
from ._terminal import SilentNarrator, TerminalNarrator

__all__ = ["register"]

#: The OWASP Password Storage Cheat Sheet minimum for Argon2id (19 MiB, t=2, p=1): what
#: ``--kdf light`` uses, for slow machines. The wallet refuses anything weaker.
LIGHT_KDF = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)
_KDFS = {"strong": KdfParams.STRONG, "light": LIGHT_KDF}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``honnin demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the job change (or birth registration) story end to end",
        description="Run a whole citizen-mediated procedure on this machine: a generated test"
        " PKI and trust list, the issuer's OpenID4VCI service and the verifier's OpenID4VP"
        " service on loopback HTTP, state in SQLite files in a temporary directory. The"
        " verifier carries a registrar-signed registration and never asks beyond it; the"
        " wallet uses each copy once and ends by reading its transparency log. Nothing"
        " leaves 127.0.0.1.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="job-change",
        choices=sorted(SCENARIOS),
        help="which story (default: job-change)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the story"
    )
    parser.add_argument(
        "--kdf",
        choices=sorted(_KDFS),
        default="strong",
        help="the wallet's PIN key derivation: strong (Argon2id 64 MiB, t=3, p=4, the"
        " default) or light (19 MiB, t=2, p=1, the OWASP minimum)",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="run in DIR and keep the trust list, keys, SQLite stores and wallet there",
    )
    parser.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    scenario = SCENARIOS[args.scenario]
    directory = Path(args.keep) if args.keep else None
    if directory is not None and directory.exists() and any(directory.iterdir()):
        # A previous run's wallet, keys and stores would not match this run's PKI and PIN.
        raise CommandFailed(f"{directory} is not empty: --keep needs a new or empty directory")
    kdf = _KDFS[args.kdf]
    if args.json:
        report = run_scenario(scenario, SilentNarrator(), directory=directory, kdf=kdf)
        # Lossless on any stdout: \u escapes where the stream cannot carry UTF-8.
        text = json.dumps(report.to_json(), indent=2, ensure_ascii=not _utf8(sys.stdout))
        sys.stdout.write(text + "\n")
    else:
        report = run_scenario(scenario, TerminalNarrator(_stdout()), directory=directory, kdf=kdf)
    return 0 if report.verified else 1


def _utf8(stream: TextIO) -> bool:
    return (stream.encoding or "").lower().replace("-", "") == "utf8"


def _stdout() -> TextIO:
    # QR codes and ja labels need more than ASCII; never fail on a narrow terminal encoding.
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and not _utf8(stream):
        reconfigure(errors="replace")
    return stream
