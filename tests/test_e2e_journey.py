"""The whole journey over real HTTP with nothing in process between the roles: an issuer
service and a verifier service on 127.0.0.1, a wallet driven through ``honnin wallet`` (the
command line) — offer → receive → present → verified result, the verifier checking the
issuer's status list over HTTP too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import PIN, PURPOSE, SLIP, sample

from honnin.cli import main
from honnin.http import HttpxFetcher
from honnin.trust import certificates_to_pem
from verifier import Verifier, VerifierSettings, create_app

TOKEN = "e" * 40


@dataclass
class Journey:
    live: LiveIssuer
    agency: Verifier
    base: str
    http: httpx.Client
    anchors: list[Path]

    def transaction(self, *claims: str) -> dict[str, Any]:
        body = {"purpose": PURPOSE, "credential_type": SLIP, "claims": list(claims)}
        answer = self.http.post(f"{self.base}/transactions", json=body, headers=_auth())
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def result(self, created: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.get(created["result"], headers=_auth())
        found: dict[str, Any] = answer.json()
        return found


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    with live_issuer() as live, bound_socket() as (sock, base):
        base = base.replace("127.0.0.1", "localhost")
        # Default status checking: the verifier fetches the issuer's lists over HTTP.
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
        with serving(create_app(agency, settings), sock), httpx.Client(timeout=30) as http:
            yield Journey(live, agency, base, http, anchors)
        fetcher.close()


def _wallet(
    journey: Journey, path: Path, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    head = ["wallet", "--wallet", str(path), "--pin", PIN, "--allow-loopback-http"]
    for anchor in journey.anchors:
        head += ["--trust-anchor", str(anchor)]
    code = main([*head, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_offer_receive_present_verified(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alice.wallet"
    code, out, _ = _wallet(journey, path, "init", "--insecure-test-kdf", capsys=capsys)
    assert code == 0 and "recovery code" in out

    offer = journey.live.issuer.create_offer(SLIP, sample())
    assert offer.tx_code is not None
    code, out, err = _wallet(
        journey, path, "receive", offer.uri, "--tx-code", offer.tx_code, capsys=capsys
    )
    assert code == 0, err
    assert "received 給与所得の源泉徴収票 / Employment income withholding slip" in out

    code, out, _ = _wallet(journey, path, "list", "--json", capsys=capsys)
    (listed,) = json.loads(out)
    assert (listed["copies"], listed["trust"], listed["issuer_name"]) == (
        8,
        "trusted",
        "Example Corp",
    )

    created = journey.transaction("payment_amount", "withholding_tax")
    code, out, err = _wallet(journey, path, "present", created["uri"], "--yes", capsys=capsys)
    assert code == 0, err
    assert "Verifier: Hello Work [x509_san_dns:localhost] - trusted" in out
    assert f"Purpose:  {PURPOSE}" in out
    assert "支払金額 / Payment amount (JPY)" in out
    assert "sent: the verifier answered HTTP 200" in out
    result = journey.result(created)
    assert result["verified"], result
    assert result["claims"] == {
        "payment_amount": sample()["payment_amount"],
        "withholding_tax": sample()["withholding_tax"],
    }
    (verified,) = result["credentials"][SLIP]
    assert verified["status"] == "valid"  # fetched from the issuer service

    code, out, _ = _wallet(journey, path, "list", "--json", capsys=capsys)
    assert json.loads(out)[0]["copies"] == 7

    code, out, _ = _wallet(journey, path, "delete", listed["id"], capsys=capsys)
    assert code == 0
    code, out, _ = _wallet(journey, path, "list", capsys=capsys)
    assert out.strip() == "no credentials"


def test_present_without_yes_outside_a_terminal_sends_nothing(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w"
    assert _wallet(journey, path, "init", "--insecure-test-kdf", capsys=capsys)[0] == 0
    offer = journey.live.issuer.create_offer(SLIP, sample(), tx_code=False)
    assert _wallet(journey, path, "receive", offer.uri, "--copies", "2", capsys=capsys)[0] == 0
    created = journey.transaction("payment_amount")
    code, _, err = _wallet(journey, path, "present", created["uri"], capsys=capsys)
    assert code == 1 and "not sent" in err
    assert journey.result(created)["status"] == "pending"


def test_a_wrong_pin_is_reported(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w"
    assert _wallet(journey, path, "init", "--insecure-test-kdf", capsys=capsys)[0] == 0
    code = main(["wallet", "--wallet", str(path), "--pin", "000000", "list"])
    assert code == 1
    assert "error: wrong_pin" in capsys.readouterr().err


def test_the_command_runs_as_a_process(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w"
    assert _wallet(journey, path, "init", "--insecure-test-kdf", capsys=capsys)[0] == 0
    env = {**os.environ, "HONNIN_WALLET": str(path), "HONNIN_WALLET_PIN": PIN}
    done = subprocess.run(
        [sys.executable, "-m", "honnin.cli", "wallet", "list"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no credentials"


def test_cli_refusals_are_reported(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w"
    assert _wallet(journey, path, "init", "--insecure-test-kdf", capsys=capsys)[0] == 0
    code, _, err = _wallet(journey, path, "init", capsys=capsys)
    assert code == 1 and "exists already" in err
    offer = journey.live.issuer.create_offer(SLIP, sample())
    code, _, err = _wallet(journey, path, "receive", offer.uri, capsys=capsys)
    assert code == 1 and "pass --tx-code" in err
    assert _wallet(journey, path, "receive", offer.uri, "--tx-code", str(offer.tx_code),
                   capsys=capsys)[0] == 0  # fmt: skip
    created = journey.transaction("payment_amount")
    # Trusting the issuer only: the verifier is shown untrusted and nothing is sent.
    head = ["wallet", "--wallet", str(path), "--pin", PIN, "--allow-loopback-http"]
    code, _, err = _wallet(
        journey, path, "present", created["uri"], "--drop", "nope", capsys=capsys
    )
    assert code == 2 and "cannot be dropped" in err
    code = main([*head, "--trust-anchor", str(journey.anchors[0]), "present", created["uri"],
                 "--yes"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1 and "NOT TRUSTED" in out and "error: untrusted_verifier" in err
    assert journey.result(created)["status"] == "pending"
    code, _, err = _wallet(journey, tmp_path / "none", "list", capsys=capsys)
    assert code == 1 and "honnin wallet init" in err
