from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vectors import SKIPPED

from honnin.cli import main


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run("wallet", "list", ...)``: ``honnin.cli.main`` with the argv given, returning
    its exit status and what it wrote to stdout and stderr."""

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SKIPPED:
        terminalreporter.section("vectors not used (with reasons)")
        for name, reason in sorted(SKIPPED.items()):
            terminalreporter.write_line(f"{name}: {reason}")
