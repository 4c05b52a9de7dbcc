"""``honnin issuer``: help, refusal of insecure settings, offers from a file, approve,
revoke, and ``serve --dev`` in a real subprocess answering a full issuance."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from honnin.cli import main
from honnin.clock import SystemClock
from honnin.credential_types import load_catalogue
from honnin.jose import generate_key
from honnin.oid4vci import build_proof_jwt, parse_credential_offer_uri
from honnin.status import StatusValue
from issuer import Issuer

CLAIMS = load_catalogue().get("withholding-slip").sample_claims()


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["issuer", "--help"],
        ["issuer", "serve", "--help"],
        ["issuer", "offer", "--help"],
        ["issuer", "revoke", "--help"],
        ["issuer", "approve", "--help"],
        ["issuer", "init", "--help"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
        assert "usage: honnin issuer" in capsys.readouterr().out


def test_serve_refuses_insecure_settings_outside_dev(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["issuer", "serve"]) == 1
    err = capsys.readouterr().err
    assert "refusing insecure settings" in err and "https" in err
    assert not (tmp_path / "issuer-dev.db").exists()


def test_serve_names_a_wallet_attestation_settings_mistake(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HONNIN_ISSUER_CLIENT_ATTESTATION_REQUIRED", "true")
    assert main(["issuer", "serve", "--dev", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: insecure_settings:") and "wallet provider" in err


def test_dev_mode_stays_on_loopback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["issuer", "serve", "--dev", "--host", "0.0.0.0"]) == 1
    assert "loopback hosts only" in capsys.readouterr().err


def test_offer_from_file_then_approve_and_revoke(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    claims = tmp_path / "slips.json"
    claims.write_text(json.dumps([CLAIMS, CLAIMS], ensure_ascii=False), "utf-8")
    argv = ["issuer", "offer", "--dev", "--type", "withholding-slip", "--claims", str(claims)]
    assert main([*argv, "--json", "--qr-dir", "qr", "--deferred"]) == 0
    offers = json.loads(capsys.readouterr().out)
    assert len(offers) == 2
    for offer in offers:
        assert parse_credential_offer_uri(offer["uri"], allow_loopback_http=True).offer
        assert len(offer["tx_code"]) == 6
        assert (tmp_path / "qr" / f"{offer['offer_id']}.png").exists()
    # Nothing is pending yet: the wallet has not asked.
    assert main(["issuer", "approve", "--dev", offers[0]["offer_id"]]) == 1
    assert "no pending" in capsys.readouterr().err
    # The same dev identity and store back the in-process issuer.
    issuer = Issuer.load(
        "issuer-dev-keys/issuer.key.pem",
        "issuer-dev-keys/issuer-chain.pem",
        iss="http://127.0.0.1:8080",
        store="issuer-dev.db",
    )
    batch = issuer.issue("withholding-slip", CLAIMS, holder=[_holder_jwk()])
    (tmp_path / "copy.txt").write_text(batch.credentials[0], "ascii")
    assert main(["issuer", "revoke", "--dev", "--suspend", "copy.txt"]) == 0
    assert issuer.status.status_of(f"{batch.batch_id}.0") == StatusValue.SUSPENDED
    assert main(["issuer", "revoke", "--dev", batch.batch_id]) == 0
    assert issuer.status.status_of(f"{batch.batch_id}.0") == StatusValue.INVALID
    assert main(["issuer", "revoke", "--dev", "no-such-batch"]) == 1
    assert "not_found" in capsys.readouterr().err
    issuer.close()


def test_single_offer_prints_the_terminal_qr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.json").write_text(json.dumps([CLAIMS], ensure_ascii=False), "utf-8")
    argv = ["issuer", "offer", "--dev", "--type", "withholding-slip", "--claims", "one.json"]
    assert main([*argv, "--no-tx-code", "--by-reference"]) == 0
    out = capsys.readouterr().out
    assert "openid-credential-offer://?credential_offer_uri=" in out
    assert "tx_code" not in out and "█" in out


def test_init_writes_key_chain_and_anchor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["issuer", "init", "--dir", str(tmp_path / "keys"), "--name", "Example Corp"]
    assert main([*argv, "--iss", "https://issuer.example"]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert oct(os.stat(paths["key"]).st_mode & 0o777) == "0o600"
    issuer = Issuer.load(paths["key"], paths["chain"], anchor=paths["anchor"])
    assert issuer.iss == "https://issuer.example"


def _holder_jwk() -> dict[str, str]:
    from honnin.jose import jwk_from_public_key

    return jwk_from_public_key(generate_key())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _credential_request(http: httpx.Client, base: str, offer: dict[str, str]) -> httpx.Response:
    """The wallet's side of a pre-authorized issuance: token, nonce, credential request."""
    link = parse_credential_offer_uri(offer["uri"], allow_loopback_http=True)
    assert link.offer is not None and link.offer.pre_authorized_code is not None
    token = http.post(
        f"{base}/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": link.offer.pre_authorized_code.pre_authorized_code,
            "tx_code": offer["tx_code"],
        },
    ).json()["access_token"]
    nonce = http.post(f"{base}/nonce").json()["c_nonce"]
    proof = build_proof_jwt(generate_key(), audience=base, nonce=nonce, now=SystemClock().now())
    return http.post(
        f"{base}/credential",
        json={
            "credential_configuration_id": "withholding-slip.sd_jwt_vc",
            "proofs": {"jwt": [proof]},
        },
        headers={"Authorization": f"Bearer {token}"},
    )


def test_serve_dev_in_a_subprocess_issues_a_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HONNIN_ISSUER_PORT", str(port))
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "honnin.cli", "issuer", "serve", "--dev", "--no-access-log"],
        cwd=tmp_path,
        env={**os.environ, "HONNIN_ISSUER_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        with httpx.Client(timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    metadata = http.get(f"{base}/.well-known/openid-credential-issuer")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, (tmp_path / "server.log").read_text()
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            assert metadata.json()["credential_issuer"] == base
            # No server banner; the Date header RFC 9110 §6.6.1 asks for is still sent.
            assert "server" not in metadata.headers and "date" in metadata.headers
            (tmp_path / "one.json").write_text(json.dumps([CLAIMS], ensure_ascii=False), "utf-8")
            argv = ["issuer", "offer", "--dev", "--type", "withholding-slip"]
            assert main([*argv, "--claims", "one.json", "--json"]) == 0
            (offer,) = json.loads(capsys.readouterr().out)
            response = _credential_request(http, base, offer)
            assert response.status_code == 200, response.text
            assert len(response.json()["credentials"]) == 1
            # A deferred offer: the wallet is told to come back until the back office approves.
            assert main([*argv, "--claims", "one.json", "--deferred", "--json"]) == 0
            (deferred,) = json.loads(capsys.readouterr().out)
            pending = _credential_request(http, base, deferred)
            assert pending.status_code == 202 and "transaction_id" in pending.json()
            code = main(["issuer", "approve", deferred["offer_id"], "--dev", "--json"])
            assert code == 0
            assert json.loads(capsys.readouterr().out) == {
                "offer_id": deferred["offer_id"],
                "approved": 1,
            }
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    served = (tmp_path / "server.log").read_text()
    assert f"serving {base} (development mode)" in served
    assert "POST /credential" not in served  # --no-access-log
