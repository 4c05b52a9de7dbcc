"""The privacy layer as the demo uses it: a request kept within the verifier's registration,
the registration as the wallet verified it, and the wallet's transparency log entry for the
presentation (spec/PROFILE.md "Privacy"; docs/PRIVACY.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from honnin.credential_types import CredentialType
from honnin.errors import PolicyViolation
from honnin.registration import check_request
from verifier import PresentationRequest
from wallet import RequestingVerifier

from ._scenarios import Scenario
from ._stage import Stage

__all__ = ["ask", "claim_key", "presentation_entry", "registration_summary"]

#: ``(claim key, reason, by)``: see ``DemoReport.refused``.
Refused = tuple[str, str, str]


def claim_key(path: Sequence[str | int | None]) -> str:
    """``payer.address`` for ``["payer", "address"]`` (``*`` for any array element)."""
    return ".".join("*" if part is None else str(part) for part in path)


def ask(
    scenario: Scenario, stage: Stage, request: Callable[[bool], PresentationRequest]
) -> tuple[PresentationRequest, tuple[Refused, ...]]:
    """Make the verifier's request: with the scenario's optional claims if the verifier may
    ask for them, else without them, naming what its registration kept out.

    ``request(optional)`` makes the request with or without the optional claims.

    Raises:
        PolicyViolation: the request is refused for another reason than over-asking (a
            purpose the verifier is not registered for).
    """
    if not scenario.optional:
        return request(False), ()
    try:
        return request(True), ()
    except PolicyViolation as exc:
        # HOSTILE-CASES VS-37: a registered verifier refuses to send a request beyond its
        # registration, since every wallet would refuse it; ask for what it is registered for.
        if exc.fields.get("reason") != "over_asking":
            raise
    return request(False), _beyond_registration(scenario, stage)


def _beyond_registration(scenario: Scenario, stage: Stage) -> tuple[Refused, ...]:
    wanted = [tuple(key.split(".")) for key in scenario.optional]
    check = check_request(
        stage.registration,
        {scenario.credential_type: wanted},
        stage.trust.restricted_claims,
        purpose=scenario.purpose,
    )
    restricted = set(check.restricted.get(scenario.credential_type, ()))
    excess = set(check.excess.get(scenario.credential_type, ()))
    out: list[Refused] = []
    for key, path in zip(scenario.optional, wanted, strict=True):
        if path in restricted:
            out.append((key, "restricted", "verifier"))
        elif path in excess:
            out.append((key, "not_registered", "verifier"))
    return tuple(out)


def registration_summary(
    shown: RequestingVerifier, credential_type: CredentialType
) -> dict[str, Any]:
    """What the wallet verified of the verifier's registration (the ``--json`` summary).

    ``status`` is the wallet's ``registration_status`` (``verified``, ``invalid``,
    ``unchecked`` or ``none``); the other members are there when it verified one.
    """
    summary: dict[str, Any] = {"status": shown.registration_status}
    registration = shown.registration
    if shown.registration_error:
        summary["error"] = shown.registration_error
    if registration is None:
        return summary
    order = {claim_key(c.path): n for n, c in enumerate(credential_type.claims)}
    entitled = {
        name: sorted(map(claim_key, paths), key=lambda key: (order.get(key, len(order)), key))
        for name, paths in registration.entitlements.items()
    }
    summary.update(
        {
            "name": registration.name,
            "client_id": registration.client_id,
            "registrar": registration.registrar,
            "purposes": dict(registration.purposes),
            "entitled": entitled,
            "issued_at": registration.issued_at,
            "expires_at": registration.expires_at,
        }
    )
    return summary


def presentation_entry(
    entries: Sequence[Mapping[str, Any]], client_id: str
) -> Mapping[str, Any] | None:
    """The last ``presentation`` entry of the exported log for ``client_id``."""
    found = [
        entry
        for entry in entries
        if entry.get("event") == "presentation" and entry.get("party_id") == client_id
    ]
    return found[-1] if found else None
