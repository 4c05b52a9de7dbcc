"""Run one scenario end to end and time every step.

The back offices work in process (the issuer makes an offer, the verifier a request, as
``honnin issuer offer`` / ``honnin verifier request`` do); everything between the person's
wallet and the two services goes over loopback HTTP: OpenID4VCI 1.0 (offer by reference ->
token with tx_code -> nonce -> batch credential request -> notification) and OpenID4VP 1.0
(request_uri -> signed request object -> consent -> ``direct_post.jwt``).

The privacy layer is the real one: the verifier carries a registration the trust
framework's registrar signed and never asks beyond it (the My Number stays out), the wallet
verifies that registration and shows it, uses each copy once, answers the pairwise
pseudonym where the story asks for one, and logs the presentation in its hash-chained
transparency log, which the last step reads and verifies.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Protocol

from honnin.clock import Clock
from honnin.credential_types import load_catalogue
from honnin.oid4vci import TxCode
from issuer import Offer
from verifier import PresentationRequest, Query, VerificationResult
from wallet import ConsentRequest, KdfParams, Receipt, Wallet

from . import _render as render
from ._privacy import ask, presentation_entry, registration_summary
from ._report import DemoReport, DemoStep, withheld_claims
from ._scenarios import Scenario
from ._stage import Stage

__all__ = ["Narrator", "describe_kdf", "run_scenario"]

#: The DCQL Credential Query id of the pairwise pseudonym.
PSEUDONYM_QUERY: Final = "pseudonym"
#: The trust decision of a credential the wallet issued itself (the pseudonym proof).
SELF_ISSUED: Final = "self_issued"


class Narrator(Protocol):
    """Shows the story as it happens (the terminal) or not at all (``--json``)."""

    def begin(self, scenario: Scenario) -> None:
        """Before the first step."""

    def start(self, number: int, step: str, title: str) -> None:
        """A step starts."""

    def done(self, step: DemoStep, body: Callable[[], str]) -> None:
        """A step ended; ``body()`` renders what it showed (not counted in its time)."""

    def end(self, report: DemoReport) -> None:
        """After the last step."""


def describe_kdf(kdf: KdfParams) -> str:
    """``Argon2id 64 MiB, t=3, p=4`` (RFC 9106 parameters of the wallet's PIN key)."""
    return f"Argon2id {kdf.memory_kib // 1024} MiB, t={kdf.iterations}, p={kdf.lanes}"


class _Timeline:
    def __init__(self, narrator: Narrator) -> None:
        self.narrator = narrator
        self.steps: list[DemoStep] = []

    @contextmanager
    def step(self, name: str, title: str) -> Iterator[list[Callable[[], str]]]:
        """Time the block; the block appends the renderer of what the step shows."""
        self.narrator.start(len(self.steps) + 1, name, title)
        body: list[Callable[[], str]] = []
        started = time.perf_counter()
        yield body
        step = DemoStep(name, title, (time.perf_counter() - started) * 1000)
        self.steps.append(step)
        self.narrator.done(step, body[0] if body else str)


def _query(scenario: Scenario, *, optional: bool) -> Query:
    claim_sets = None
    if optional and scenario.optional:
        # DCQL §6.4.1: the first claim set is preferred; the second lets the wallet answer
        # without the optional claims it may not release.
        claim_sets = [[*scenario.required, *scenario.optional], list(scenario.required)]
    query = Query.of(
        scenario.credential_type,
        *scenario.required,
        *(scenario.optional if optional else ()),
        format=scenario.format,
        claim_sets=claim_sets,
    )
    # spec/PROFILE.md "Pairwise pseudonyms": needs no registration, the wallet derives it.
    return query & Query.pseudonym(id=PSEUDONYM_QUERY) if scenario.pseudonym else query


def run_scenario(
    scenario: Scenario,
    narrator: Narrator,
    *,
    directory: Path | None = None,
    kdf: KdfParams = KdfParams.STRONG,
    clock: Clock | None = None,
) -> DemoReport:
    """Run ``scenario`` in ``directory`` (a fresh temporary directory when ``None``)."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return _run(scenario, narrator, directory, kdf, clock)
    with tempfile.TemporaryDirectory(prefix="honnin-demo-") as temporary:
        return _run(scenario, narrator, Path(temporary), kdf, clock)


def _run(
    scenario: Scenario, narrator: Narrator, directory: Path, kdf: KdfParams, clock: Clock | None
) -> DemoReport:
    narrator.begin(scenario)
    timeline = _Timeline(narrator)
    catalogue = load_catalogue()
    credential_type = catalogue.get(scenario.credential_type)

    with timeline.step("setup", "trust framework, issuer and verifier services") as show:
        stage = Stage.open(scenario, directory, clock=clock, register=True)
        show.append(lambda: render.setup(stage))
    with stage:
        with timeline.step("offer", f"the {scenario.issuer_role} offers the credential") as show:
            offer = stage.issuer.create_offer(
                scenario.credential_type,
                credential_type.sample_claims(),
                format=scenario.format,
                by_reference=True,
            )
            show.append(lambda: render.offer(scenario, offer, credential_type))

        with timeline.step("wallet", "the person opens a new wallet (PIN)") as show:
            wallet = Wallet.open(
                directory / "citizen.wallet",
                f"{secrets.randbelow(10**6):06d}",
                kdf=kdf,
                trust=stage.trust,
                allow_loopback_http=True,
            )
            show.append(lambda: render.wallet(wallet, describe_kdf(kdf), kdf))

        with wallet:
            return _present(scenario, stage, wallet, offer, timeline, kdf)


def _present(
    scenario: Scenario,
    stage: Stage,
    wallet: Wallet,
    offer: Offer,
    timeline: _Timeline,
    kdf: KdfParams,
) -> DemoReport:
    credential_type = load_catalogue().get(scenario.credential_type)

    def tx_code(hint: TxCode) -> str:
        # The person types the code the issuer sent by another channel (§4.1.1, §13.6.1).
        assert offer.tx_code is not None  # the demo's offers always ask for one
        return offer.tx_code

    with timeline.step("issuance", "the wallet receives a batch over OpenID4VCI") as show:
        receipt: Receipt = wallet.receive(offer.uri, tx_code=tx_code)
        show.append(lambda: render.receipt(receipt))
    (held,) = receipt.credentials

    def request(optional: bool) -> PresentationRequest:
        return stage.verifier.request(
            _query(scenario, optional=optional),
            purpose=scenario.purpose,
            request_uri_base=stage.request_uri_base,
        )

    with timeline.step("request", f"the {scenario.verifier_role} asks over OpenID4VP") as show:
        made, kept_out = ask(scenario, stage, request)
        show.append(lambda: render.request(scenario, made, kept_out, credential_type))

    with timeline.step("consent", "the wallet shows who asks, for what, and why") as show:
        consent: ConsentRequest = wallet.consider(made.uri)
        show.append(lambda: render.consent(consent))

    with timeline.step(
        "presentation", "the person approves; the wallet presents, the verifier verifies"
    ) as show:
        submission = wallet.present(consent.approve(), post=True)
        left = wallet.credential(held.id).copies
        policy = wallet.copy_policy.value
        show.append(lambda: render.submission(submission, scenario.format, left, held, policy))

    with timeline.step("form", "the verifier prefills its form with the verified values") as show:
        result = stage.verifier.result(made.transaction_id)
        if result is None:
            raise RuntimeError("the verifier has no result although the wallet was answered")
        show.append(lambda: render.form(result, credential_type))

    with timeline.step("log", "the person reads the wallet's transparency log") as show:
        journal = wallet.log()
        count = journal.verify()  # WalletCorrupted, naming the entry, if the chain is broken
        exported = json.loads(journal.export_json())
        entries: list[dict[str, Any]] = exported["entries"]
        entry = presentation_entry(entries, stage.verifier.client_id)
        show.append(lambda: render.log(entry, entries, exported["head"]))

    disclosed = _plain(result)
    json_claims = (
        credential_type.from_mdoc(held.claims) if held.format == "mso_mdoc" else held.claims
    )
    always = tuple(a for choice in consent.credentials for a in choice.always_disclosed)
    sent = set(disclosed) | set(always)
    report = DemoReport(
        scenario=scenario.id,
        verified=result.verified,
        steps=tuple(timeline.steps),
        disclosed=disclosed,
        withheld=tuple(withheld_claims(json_claims, credential_type, sent)),
        always_visible=always,
        refused=kept_out + tuple((r.key, r.reason, "wallet") for r in consent.refused),
        issuer={"name": stage.issuer.name, "iss": stage.issuer.iss, "role": scenario.issuer_role},
        verifier={
            "name": stage.verifier.name,
            "client_id": stage.verifier.client_id,
            "role": scenario.verifier_role,
        },
        purpose=scenario.purpose,
        format=scenario.format,
        copies=held.copies,
        kdf=describe_kdf(kdf),
        errors=tuple(f"{e.code}: {e.message}" for e in result.errors),
        copies_left=left,
        pseudonym=result.pseudonym,
        registration=registration_summary(consent.verifier, credential_type),
        log=tuple(entries),
        log_head={"count": count, "hash": exported["head"]["hash"]},
    )
    timeline.narrator.end(report)
    return report


def _plain(result: VerificationResult) -> dict[str, Any]:
    """The verified claims of the person's credentials as JSON values (mdoc full-dates as
    ISO 8601 text); the pairwise pseudonym is the wallet's own, reported on its own."""
    out: dict[str, Any] = {}
    for found in result.credentials.values():
        for credential in found:
            if credential.trust.entitlement == SELF_ISSUED:
                continue
            for key, value in credential.claims.items():
                out.setdefault(key, value.isoformat() if hasattr(value, "isoformat") else value)
    return out
