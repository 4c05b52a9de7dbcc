"""Narrators: the terminal one prints each step as it happens, the silent one nothing."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TextIO

from ._report import GOAL_MS, DemoReport, DemoStep
from ._scenarios import Scenario

__all__ = ["SilentNarrator", "TerminalNarrator"]

_INDENT = "     "


class TerminalNarrator:
    """Prints the story on ``out``: a title line when a step starts, its time and what it
    showed when it ends, and a summary against the 60-second goal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def begin(self, scenario: Scenario) -> None:
        self._write(
            f"honnin demo: {scenario.title}\n"
            f"{scenario.issuer_role} {scenario.issuer_name} -> wallet of {scenario.holder}"
            f" -> {scenario.verifier_role} {scenario.verifier_name}\n"
        )

    def start(self, number: int, step: str, title: str) -> None:
        self._write(f"\n{number}. {step}: {title} ... ")

    def done(self, step: DemoStep, body: Callable[[], str]) -> None:
        self._write(f"{step.ms:,.0f} ms\n")
        text = body()
        if text:
            self._write(textwrap.indent(text, _INDENT) + "\n")

    def end(self, report: DemoReport) -> None:
        total = report.total_ms
        verdict = "met" if report.within_goal else "MISSED"
        role = report.verifier.get("role", "verifier")
        lines = [
            "",
            f"verified: {'yes' if report.verified else 'NO'}",
            f"sent to the {role}: {', '.join(report.disclosed)}",
            f"kept in the wallet: {', '.join(report.withheld)}",
        ]
        if report.refused:
            lines.append(
                "refused: "
                + ", ".join(f"{claim} ({why}, by the {by})" for claim, why, by in report.refused)
            )
        lines.append(f"copies left in the wallet: {report.copies_left} of {report.copies}")
        if report.pseudonym is not None:
            lines.append(f"pairwise pseudonym at the {role}: {report.pseudonym}")
        if report.log_head is not None:
            lines.append(
                f"transparency log: {report.log_head['count']} entries, hash chain verified"
            )
        lines.append(
            f"total: {total / 1000:.2f} s for every step, setup included;"
            f" the goal is {GOAL_MS / 1000:.0f} s: {verdict}"
        )
        self._write("\n".join(lines) + "\n")


class SilentNarrator:
    """Shows nothing (``honnin demo --json`` prints only the report)."""

    def begin(self, scenario: Scenario) -> None:
        """Nothing to show."""

    def start(self, number: int, step: str, title: str) -> None:
        """Nothing to show."""

    def done(self, step: DemoStep, body: Callable[[], str]) -> None:
        """Nothing to show (the body is not even rendered)."""

    def end(self, report: DemoReport) -> None:
        """Nothing to show."""
