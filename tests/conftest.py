from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vectors import SKIPPED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SKIPPED:
        terminalreporter.section("vectors not used (with reasons)")
        for name, reason in sorted(SKIPPED.items()):
            terminalreporter.write_line(f"{name}: {reason}")
