"""``honnin demo``: whole citizen-mediated procedures on one machine, and the pieces the
examples and benchmarks reuse.

* ``run_scenario(SCENARIOS["job-change"], TerminalNarrator(sys.stdout))`` — the job change:
  a former employer's OpenID4VCI service issues the withholding slip to the person's wallet,
  the new employer's OpenID4VP service asks for what its year-end adjustment needs; returns a
  ``DemoReport`` (``to_json()`` is the ``honnin demo --json`` output).
* ``Stage`` — a test PKI, trust list, issuer and verifier services on loopback HTTP.
* ``LoopbackServer`` — serve an ASGI app with uvicorn on a free 127.0.0.1 port.

This package imports the three roles; the core ``honnin`` never imports it.
"""

from ._loopback import LoopbackServer
from ._report import GOAL_MS, DemoReport, DemoStep, withheld_claims
from ._scenarios import BIRTH, JOB_CHANGE, SCENARIOS, Scenario
from ._stage import Stage
from ._story import Narrator, describe_kdf, run_scenario
from ._terminal import SilentNarrator, TerminalNarrator

__all__ = [
    "BIRTH",
    "GOAL_MS",
    "JOB_CHANGE",
    "SCENARIOS",
    "DemoReport",
    "DemoStep",
    "LoopbackServer",
    "Narrator",
    "Scenario",
    "SilentNarrator",
    "Stage",
    "TerminalNarrator",
    "describe_kdf",
    "run_scenario",
    "withheld_claims",
]
