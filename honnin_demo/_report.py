"""What a demo run shows in the end: the steps and their times, what the verifier received,
what stayed in the wallet, and the JSON form of it (``honnin demo --json``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from honnin.credential_types import CredentialType

__all__ = ["GOAL_MS", "DemoReport", "DemoStep", "withheld_claims"]

#: The public service mesh plan's goal: a procedure done on a smartphone in 60 seconds.
GOAL_MS: Final = 60_000.0


@dataclass(frozen=True)
class DemoStep:
    """One step of the story and how long it took (milliseconds, wall clock)."""

    name: str
    title: str
    ms: float


@dataclass(frozen=True)
class DemoReport:
    """The outcome of one scenario run.

    ``disclosed`` holds the claims of the person's credential the verifier verified (claim
    key -> value); ``withheld`` the claims the wallet holds but did not send;
    ``always_visible`` the claims the issuer made non-selectively-disclosable (sent with
    every presentation of an SD-JWT VC, but not passed on by the verifier since they were
    not asked for); ``refused`` what the procedure wanted and did not get, as ``(claim,
    reason, by)``: ``by`` is ``verifier`` when the verifier's own registration check kept it
    out of the request (HOSTILE-CASES VS-37), ``wallet`` when the wallet refused it.

    The privacy layer: ``copies_left`` after the presentation (``once`` uses each copy
    once); ``pseudonym`` the pairwise pseudonym the verifier verified, if it asked for one;
    ``registration`` a summary of the verifier's registration as the wallet verified it;
    ``log`` the wallet's transparency log entries as exported (``Wallet.log()``), and
    ``log_head`` its head (count, last hash) after the chain verified.
    """

    scenario: str
    verified: bool
    steps: tuple[DemoStep, ...]
    disclosed: Mapping[str, Any] = field(repr=False)
    withheld: tuple[str, ...]
    always_visible: tuple[str, ...]
    refused: tuple[tuple[str, str, str], ...]
    issuer: Mapping[str, str]
    verifier: Mapping[str, str]
    purpose: str
    format: str
    copies: int
    kdf: str
    errors: tuple[str, ...] = ()
    copies_left: int = 0
    pseudonym: str | None = None
    registration: Mapping[str, Any] | None = None
    log: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    log_head: Mapping[str, Any] | None = None

    @property
    def total_ms(self) -> float:
        """The whole run, every step included."""
        return sum(step.ms for step in self.steps)

    @property
    def within_goal(self) -> bool:
        """Whether the whole run took less than the 60-second goal."""
        return self.total_ms < GOAL_MS

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON object (the ``--json`` output)."""
        return {
            "scenario": self.scenario,
            "verified": self.verified,
            "total_ms": round(self.total_ms, 1),
            "goal_ms": GOAL_MS,
            "steps": [{"name": s.name, "ms": round(s.ms, 1)} for s in self.steps],
            "disclosed": dict(self.disclosed),
            "withheld": list(self.withheld),
            "always_visible": list(self.always_visible),
            "refused": [
                {"claim": claim, "reason": reason, "by": by} for claim, reason, by in self.refused
            ],
            "issuer": dict(self.issuer),
            "verifier": dict(self.verifier),
            "purpose": self.purpose,
            "format": self.format,
            "copies": self.copies,
            "kdf": self.kdf,
            "errors": list(self.errors),
            "copies_left": self.copies_left,
            "pseudonym": self.pseudonym,
            "registration": None if self.registration is None else dict(self.registration),
            "log": [dict(entry) for entry in self.log],
            "log_head": None if self.log_head is None else dict(self.log_head),
        }


def withheld_claims(
    claims: Mapping[str, Any],
    credential_type: CredentialType,
    sent: Collection[str],
) -> list[str]:
    """The claim keys of ``claims`` (a credential's JSON claims) that were not sent.

    ``sent`` holds claim keys (``payer.name``) that left the wallet. An object partly sent
    is described by its members that were not; protocol claims (``iss``, ``cnf``, ...) that
    are not in the credential type are not the person's data and are left out.
    """
    out: list[str] = []

    def walk(node: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        for name, value in node.items():
            path = (*prefix, name)
            if not prefix and credential_type.claim(path) is None:
                continue
            key = ".".join(path)
            if key in sent:
                continue
            if isinstance(value, Mapping) and any(s.startswith(key + ".") for s in sent):
                walk(value, path)
            else:
                out.append(key)

    walk(claims, ())
    order = {".".join(map(str, c.path)): n for n, c in enumerate(credential_type.claims)}
    return sorted(out, key=lambda key: (order.get(key, len(order)), key))
