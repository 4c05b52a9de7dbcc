"""The privacy layer over real HTTP on 127.0.0.1: refusals and presentations posted to a
verifier service are logged once each; the holder asks its issuer's service to revoke, and a
verifier then sees the credential as INVALID; the ``honnin wallet log`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_wallet_oid4vp import Agency, agency  # noqa: F401 - the live verifier fixture
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, StatusLists, sample

from honnin.cli import main
from honnin.errors import NotFound
from verifier import Query, VerificationResult, Verifier
from wallet import Wallet
from wallet._transparency import Event


def test_a_posted_presentation_and_a_refusal_are_logged_once(
    agency: Agency,  # noqa: F811
    tmp_path: Path,
) -> None:
    with agency.wallet(tmp_path / "w") as wallet:
        accepted = len(wallet.log())
        first = agency.create(claims=["payment_amount"])
        wallet.present(wallet.consider(first["uri"]).approve(), post=True)
        second = agency.create(claims=["payment_amount"])
        wallet.submit(wallet.consider(second["uri"]).refuse())
        third = agency.create(credential_type="resident-record", claims=["family_name"])
        wallet.decline(third["uri"])
        events = [(e.event, e.outcome) for e in wallet.log().entries()[accepted:]]
        assert events == [
            (Event.PRESENTATION, "presented"),
            (Event.REFUSAL, "declined"),
            (Event.REFUSAL, "declined"),
        ]
        assert wallet.log().entries()[accepted].party_name == "Hello Work"
    assert agency.result(first)["verified"]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as running:
        yield running


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_revocation_requested_by_the_holder_shows_up_at_a_verifier(
    live: LiveIssuer, tmp_path: Path, fmt: str
) -> None:
    def verifier() -> Verifier:
        return Verifier.create(
            "Hello Work", trust=[live.issuer.certificate], fetcher=StatusLists(live.issuer)
        )

    before, after = verifier(), verifier()  # after: one that has not cached the list yet
    trust = [live.issuer.certificate, before.certificate, after.certificate]
    with Wallet.open(
        tmp_path / "w", PIN, kdf=FAST, trust=trust, allow_loopback_http=True
    ) as wallet:
        batch = live.issuer.issue(SLIP, sample(), holder=wallet.binding_keys(3), format=fmt)
        held = wallet.accept(batch)
        query = Query.of(SLIP, "payment_amount", format=fmt)

        def verify(at: Verifier) -> VerificationResult:
            request = at.request(query, purpose=PURPOSE)
            return at.verify(wallet.present(wallet.consider(request).approve()))

        assert verify(before).verified
        wallet.request_revocation(held.id)
        result = verify(after)
        assert not result.verified
        assert next(e.code for e in result.errors) == "revoked"
        entry = [e for e in wallet.log().entries() if e.event is Event.REVOCATION_REQUEST]
        assert [(e.party_id, e.outcome) for e in entry] == [(live.base, "revoked")]


def test_revocation_needs_a_copy_to_prove_possession(live: LiveIssuer, tmp_path: Path) -> None:
    with Wallet.open(
        tmp_path / "w", PIN, kdf=FAST, trust=[live.issuer.certificate], allow_loopback_http=True
    ) as wallet:
        held = wallet.accept(live.issuer.issue(SLIP, sample(), holder=wallet.binding_keys(1)))
        from wallet._holdings import COPY_KIND

        (copy,) = wallet.vault.find(COPY_KIND, credential=held.id)
        wallet.vault.delete(COPY_KIND, copy.id)
        with pytest.raises(NotFound):
            wallet.request_revocation(held.id)
        with pytest.raises(NotFound):
            wallet.request_revocation("no-such-credential")


def test_the_wallet_log_command(
    live: LiveIssuer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cli.wallet"
    with Wallet.open(path, PIN, kdf=FAST, trust=[live.issuer.certificate]) as wallet:
        wallet.accept(live.issuer.issue(SLIP, sample(), holder=wallet.binding_keys(2)))
    base = ["wallet", "--wallet", str(path), "--pin", PIN]
    assert main([*base, "log"]) == 0
    out = capsys.readouterr().out
    assert "issuance" in out and "Example Corp" in out and "accepted" in out
    assert main([*base, "log", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["head"]["count"] == 1 and document["entries"][0]["event"] == "issuance"
    assert main([*base, "log", "--verify"]) == 0
    assert "ok: 1 entries" in capsys.readouterr().out
    with Wallet.open(path, PIN) as wallet:
        wallet.vault.delete("transparency_entry", f"{1:012d}")
    assert main([*base, "log", "--verify"]) == 1
    err = capsys.readouterr().err
    assert "wallet_corrupted" in err and "entry 1" in err
