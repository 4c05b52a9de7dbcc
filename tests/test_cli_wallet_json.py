"""A script's journey through the command line, JSON at every step, options after each
command name: ``wallet receive --json`` from an issuer service, ``verifier request --json``
on a verifier service, ``wallet present --json`` (the consent goes to stderr), ``verifier
result --json``; all over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import PIN, PURPOSE, SLIP, sample

from honnin.http import HttpxFetcher
from honnin.trust import certificates_to_pem
from verifier import Verifier, VerifierSettings, create_app

TOKEN = "j" * 40
Run = Callable[..., tuple[int, str, str]]


@dataclass
class Services:
    live: LiveIssuer
    base: str
    anchors: list[Path]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with live_issuer() as live, bound_socket() as (sock, base):
        base = base.replace("127.0.0.1", "localhost")
        # Its own status-list client, closed at the end: a kept-alive connection to the
        # issuer service would otherwise leak a socket until garbage collection.
        fetcher = HttpxFetcher()
        agency = Verifier.create(
            "Hello Work",
            trust=[live.issuer.certificate],
            client_id_host="localhost",
            fetcher=fetcher,
        )
        settings = VerifierSettings(public_url=base, dev=True, api_token=TOKEN)
        folder = tmp_path_factory.mktemp("anchors")
        anchors = []
        for name, cert in (("issuer", live.issuer.certificate), ("verifier", agency.certificate)):
            anchors.append(folder / f"{name}.pem")
            anchors[-1].write_text(certificates_to_pem([cert]))
        with serving(create_app(agency, settings), sock):
            yield Services(live, base, anchors)
        fetcher.close()


def test_receive_present_and_result_as_json(services: Services, tmp_path: Path, run: Run) -> None:
    wallet = ["--wallet", str(tmp_path / "w"), "--pin", PIN, "--dev"]
    for anchor in services.anchors:
        wallet += ["--trust-anchor", str(anchor)]
    assert run("wallet", "init", *wallet, "--insecure-test-kdf")[0] == 0

    offer = services.live.issuer.create_offer(SLIP, sample())
    code, out, err = run("wallet", "receive", offer.uri, "--tx-code", str(offer.tx_code),
                         *wallet, "--json")  # fmt: skip
    assert code == 0, err
    receipt = json.loads(out)
    assert receipt["issuer_name"] == "Example Corp"
    assert receipt["sender_constrained"] is True  # the issuer takes DPoP proofs
    (held,) = receipt["credentials"]
    assert (held["type"], held["trust"], held["copies"]) == (SLIP, "trusted", 8)

    back_office = ["--server", services.base, "--token", TOKEN, "--json"]
    code, out, err = run("verifier", "request", "--type", SLIP, "--claims",
                         "payment_amount", "--purpose", PURPOSE, *back_office)  # fmt: skip
    assert code == 0, err
    created = json.loads(out)

    code, out, err = run("wallet", "present", created["uri"], "--yes", *wallet, "--json")
    assert code == 0, err
    sent = json.loads(out)  # nothing but the result on stdout
    assert sent["sent"] is True and sent["status"] == 200
    assert sent["verifier"] == {
        "name": "Hello Work",
        "client_id": "x509_san_dns:localhost",
        "trusted": True,
    }
    assert sent["purpose"] == PURPOSE
    assert "Verifier: Hello Work" in err and "Purpose:" in err  # the consent, on stderr

    code, out, err = run("verifier", "result", created["transaction_id"], *back_office)
    assert code == 0, err
    result = json.loads(out)
    assert result["verified"] is True
    assert result["claims"] == {"payment_amount": sample()["payment_amount"]}

    code, out, _ = run("wallet", "delete", held["id"], *wallet, "--json")
    assert code == 0 and json.loads(out) == {"deleted": held["id"]}
    code, out, _ = run("wallet", "log", *wallet, "--json")
    events = [entry["event"] for entry in json.loads(out)["entries"]]
    assert events == ["issuance", "presentation", "deletion"]


def test_a_declined_presentation_is_an_error(
    services: Services, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet = ["--wallet", str(tmp_path / "w"), "--pin", PIN, "--dev"]
    for anchor in services.anchors:
        wallet += ["--trust-anchor", str(anchor)]
    assert run("wallet", "init", *wallet, "--insecure-test-kdf")[0] == 0
    offer = services.live.issuer.create_offer(SLIP, sample())
    assert run("wallet", "receive", offer.uri, "--tx-code", str(offer.tx_code), *wallet)[0] == 0
    back_office = ["--server", services.base, "--token", TOKEN, "--json"]
    created = json.loads(run("verifier", "request", "--type", SLIP, "--claims",
                             "payment_amount", "--purpose", PURPOSE, *back_office)[1])  # fmt: skip
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, err = run("wallet", "present", created["uri"], *wallet, "--json")
    assert (code, out) == (1, "")
    assert err.strip().splitlines()[-1] == "error: declined: not sent; the verifier was told no"
    code, out, _ = run("verifier", "result", created["transaction_id"], *back_office)
    assert code == 1 and json.loads(out)["verified"] is False
