"""``honnin wallet withdraw`` and ``honnin wallet revoke``: the person's controls on the
command line, on a real wallet file, with the revocation sent to a real issuer service on
127.0.0.1 (spec/PROFILE.md "Holder-initiated revocation")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, StatusLists, sample

from honnin.credentials import CredentialBatch
from honnin.pseudonym import pseudonym_credential_query
from honnin.status import StatusValue
from verifier import Query, Verifier
from wallet import Wallet

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as running:
        yield running


def _options(path: Path) -> list[str]:
    return ["--wallet", str(path), "--pin", PIN, "--dev"]


def _stocked(live: LiveIssuer, path: Path, *, fmt: str = "dc+sd-jwt") -> CredentialBatch:
    """A wallet file holding one withholding slip in two copies; the issued batch."""
    with Wallet.open(path, PIN, kdf=FAST, trust=[live.issuer.certificate]) as wallet:
        batch = live.issuer.issue(SLIP, sample(), holder=wallet.binding_keys(2), format=fmt)
        wallet.accept(batch)
    return batch


def _statuses(live: LiveIssuer, batch: CredentialBatch) -> set[int]:
    """The issuer's status of every copy of ``batch``."""
    ids = (f"{batch.batch_id}.{i}" for i in range(len(batch.credentials)))
    return {live.issuer.status.status_of(copy) for copy in ids}


def _log(run: Run, path: Path) -> list[dict[str, object]]:
    code, out, err = run("wallet", "log", *_options(path), "--json")
    assert code == 0, err
    entries: list[dict[str, object]] = json.loads(out)["entries"]
    return entries


def _held_id(run: Run, path: Path) -> str:
    code, out, err = run("wallet", "list", *_options(path), "--json")
    assert code == 0, err
    (held,) = json.loads(out)
    return str(held["id"])


# -- withdraw ---------------------------------------------------------------------------------


def test_withdraw_destroys_the_bound_copy_and_forgets_the_pseudonym(
    live: LiveIssuer, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "alice.wallet"
    with Verifier.create(
        "Hello Work", trust=[live.issuer.certificate], fetcher=StatusLists(live.issuer)
    ) as agency:
        trust = [live.issuer.certificate, agency.certificate]
        with Wallet.open(path, PIN, kdf=FAST, trust=trust, copy_policy="per_verifier") as wallet:
            held = wallet.accept(live.issuer.issue(SLIP, sample(), holder=wallet.binding_keys(3)))
            slip = agency.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
            assert agency.verify(wallet.present(wallet.consider(slip).approve())).verified
            who = Query.dcql({"credentials": [pseudonym_credential_query("who")]})
            returning = agency.request(who, purpose="recognise a returning applicant")
            wallet.present(wallet.consider(returning).approve())
            pseudonym = wallet.pseudonym(agency.client_id)
            assert wallet.credential(held.id).copies == 3  # the bound copy is kept
        client_id = agency.client_id

    code, out, err = run("wallet", "withdraw", client_id, *_options(path), "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "client_id": client_id,
        "copies_destroyed": 1,
        "credentials": [held.id],
        "pseudonym_forgotten": True,
    }
    code, out, _ = run("wallet", "list", *_options(path), "--json")
    assert code == 0 and json.loads(out)[0]["copies"] == 2  # the bound copy and its key gone
    last = _log(run, path)[-1]
    assert (last["event"], last["party_id"], last["outcome"]) == (
        "withdrawal",
        client_id,
        "withdrawn",
    )
    assert last["detail"] == "1 copies destroyed; pseudonym forgotten: True"
    with Wallet.open(path, PIN) as wallet:
        assert wallet.pseudonym(client_id) != pseudonym  # a new relationship next time


def test_withdraw_from_a_verifier_never_met_destroys_nothing(
    live: LiveIssuer, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "alice.wallet"
    _stocked(live, path)
    stranger = "x509_san_dns:stranger.example"
    code, out, err = run("wallet", "withdraw", stranger, *_options(path))
    assert code == 0, err
    assert out == f"withdrew from {stranger}: nothing was bound to it, nothing destroyed" \
        " (the withdrawal is logged)\n"  # fmt: skip
    code, out, _ = run("wallet", "withdraw", stranger, *_options(path), "--json")
    assert code == 0 and json.loads(out) == {
        "client_id": stranger,
        "copies_destroyed": 0,
        "credentials": [],
        "pseudonym_forgotten": False,
    }
    code, out, _ = run("wallet", "list", *_options(path), "--json")
    assert json.loads(out)[0]["copies"] == 2
    # Wallet.withdraw logs the withdrawal even when nothing was bound.
    assert [e["event"] for e in _log(run, path)] == ["issuance", "withdrawal", "withdrawal"]


# -- revoke -----------------------------------------------------------------------------------


def test_revoke_with_yes_revokes_every_copy_at_the_issuer(
    live: LiveIssuer, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "alice.wallet"
    batch = _stocked(live, path)
    held_id = _held_id(run, path)
    assert _statuses(live, batch) == {StatusValue.VALID}
    code, out, err = run("wallet", "revoke", held_id, "--yes", *_options(path), "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "revoked": held_id,
        "issuer": live.base,
        "issuer_name": "Example Corp",
        "copies_kept": 2,
    }
    assert f"asking Example Corp to revoke {held_id}..." in err
    assert _statuses(live, batch) == {StatusValue.INVALID}
    last = _log(run, path)[-1]
    assert (last["event"], last["party_id"], last["outcome"]) == (
        "revocation_request",
        live.base,
        "revoked",
    )


def test_revoke_asks_in_a_terminal_and_keeps_the_copies(
    live: LiveIssuer, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "alice.wallet"
    batch = _stocked(live, path, fmt="mso_mdoc")
    held_id = _held_id(run, path)
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", answer)
    code, out, err = run("wallet", "revoke", held_id, *_options(path))
    assert code == 0, err
    assert asked == ["Ask Example Corp to revoke it? [y/N] "]
    assert "for good" in out and "cannot be undone" in out
    assert out.endswith(
        f"revoked: Example Corp revoked every copy of {held_id}\n"
        f"the 2 copies stay in this wallet, no longer valid;"
        f" remove them with 'honnin wallet delete {held_id}'\n"
    )
    assert _statuses(live, batch) == {StatusValue.INVALID}
    assert _held_id(run, path) == held_id


def test_revoke_declined_in_a_terminal_sends_nothing(
    live: LiveIssuer, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "alice.wallet"
    batch = _stocked(live, path)
    held_id = _held_id(run, path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, err = run("wallet", "revoke", held_id, *_options(path), "--json")
    assert (code, out) == (1, "")
    assert err.strip().splitlines()[-1] == (
        "error: declined: not sent; nothing was asked of the issuer"
    )
    assert _statuses(live, batch) == {StatusValue.VALID}
    assert [e["event"] for e in _log(run, path)] == ["issuance"]


def test_revoke_without_yes_and_without_a_terminal_sends_nothing(
    live: LiveIssuer, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "alice.wallet"
    batch = _stocked(live, path)
    held_id = _held_id(run, path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, out, err = run("wallet", "revoke", held_id, *_options(path))
    assert (code, out) == (1, "")
    assert err == "error: failed: not sent: confirm in a terminal or pass --yes\n"
    assert _statuses(live, batch) == {StatusValue.VALID}
    assert [e["event"] for e in _log(run, path)] == ["issuance"]


def test_revoke_of_an_unknown_credential_is_not_found(
    live: LiveIssuer, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "alice.wallet"
    _stocked(live, path)
    for json_flag in ([], ["--json"]):
        code, out, err = run("wallet", "revoke", "no-such-id", "--yes", *_options(path),
                             *json_flag)  # fmt: skip
        assert (code, out) == (1, "")
        assert err.startswith("error: not_found: ")
    assert [e["event"] for e in _log(run, path)] == ["issuance"]
