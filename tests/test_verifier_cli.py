"""``honnin verifier serve | request | result`` through ``honnin.cli.main`` and a real process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_oid4vp_service_support import bound_socket, serving
from test_verifier_support import SLIP, encrypted_slip_answer, pki_at, request_claims

from honnin.clock import SystemClock
from verifier import Verifier, VerifierSettings, create_app

TOKEN = "k" * 40
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    pki = pki_at(SystemClock())
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    monkeypatch.setenv("HONNIN_VERIFIER_API_TOKEN", TOKEN)
    with bound_socket() as (sock, base):
        settings = VerifierSettings(public_base_url=base, dev=True, api_token=TOKEN)
        with serving(create_app(agency, settings), sock):
            yield base, pki


def test_request_then_result(server: tuple[str, Any], run: Run) -> None:
    base, pki = server
    code, out, _ = run(
        "verifier", "request", "--type", "withholding-slip",
        "--claims", "payment_amount,withholding_tax", "--purpose", "benefit",
        "--server", base, "--json",
    )  # fmt: skip
    assert code == 0
    created = json.loads(out)
    assert created["uri"].startswith("openid4vp://?client_id=")
    code, out, _ = run("verifier", "result", created["transaction_id"], "--server", base)
    assert code == 3 and "pending" in out
    # A wallet answers (played here with httpx and honnin.sdjwt).
    claims = request_claims(httpx.get(created["request_uri"]).text)
    answer = encrypted_slip_answer(pki, SystemClock(), claims)
    assert httpx.post(claims["response_uri"], data=answer).status_code == 200
    code, out, _ = run(
        "verifier", "result", created["transaction_id"], "--server", base, "--wait", "5"
    )
    assert code == 0
    assert "verified: true" in out and "payment_amount: 5000000" in out


def test_request_asks_for_a_pseudonym(server: tuple[str, Any], run: Run) -> None:
    from honnin.pseudonym import pseudonym_credential_query

    base, _ = server
    code, out, _ = run(
        "verifier", "request", "--pseudonym", "--purpose", "sign in",
        "--server", base, "--json",
    )  # fmt: skip
    assert code == 0
    dcql = request_claims(httpx.get(json.loads(out)["request_uri"]).text)["dcql_query"]
    (credential,) = dcql["credentials"]
    assert credential["meta"] == pseudonym_credential_query("who")["meta"]
    code, _, err = run("verifier", "request", "--purpose", "x", "--server", base)
    assert code == 2 and "--pseudonym" in err


def test_request_prints_a_terminal_qr(server: tuple[str, Any], run: Run) -> None:
    base, _ = server
    code, out, _ = run(
        "verifier", "request", "--type", "withholding-slip", "--claims",
        "payment_amount", "--purpose", "benefit", "--server", base,
    )  # fmt: skip
    assert code == 0 and "█" in out and "openid4vp://" in out


def test_back_office_errors_are_typed(server: tuple[str, Any], run: Run) -> None:
    base, _ = server
    code, _, err = run("verifier", "result", "no-such-tx", "--server", base)
    assert code == 1 and err.startswith("error: ")
    code, _, err = run(
        "verifier", "request", "--type", "no-such-type", "--purpose", "x",
        "--server", base,
    )  # fmt: skip
    assert code == 1 and "error:" in err
    code, _, err = run("verifier", "result", "x", "--server", base, "--token", "wrong-token")
    assert code == 1 and "invalid_client" in err


def test_result_json_is_the_services_answer(server: tuple[str, Any], run: Run) -> None:
    base, pki = server
    code, out, _ = run(
        "verifier", "request", "--type", "withholding-slip", "--claims", "payment_amount",
        "--purpose", "benefit", "--server", base, "--json",
    )  # fmt: skip
    created = json.loads(out)
    result_url = created["result"]
    assert set(created) == {
        "transaction_id", "client_id", "uri", "request_uri", "qr_png", "qr_svg", "result",
        "expires_at",
    }  # fmt: skip
    code, out, _ = run("verifier", "result", created["transaction_id"], "--server", base, "--json")
    assert code == 3
    assert json.loads(out) == {"status": "pending", "transaction_id": created["transaction_id"]}
    claims = request_claims(httpx.get(created["request_uri"]).text)
    answer = encrypted_slip_answer(pki, SystemClock(), claims)
    assert httpx.post(claims["response_uri"], data=answer).status_code == 200
    code, out, _ = run("verifier", "result", created["transaction_id"], "--server", base, "--json")
    assert code == 0
    served = httpx.get(result_url, headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert json.loads(out) == served
    assert served["status"] == "verified" and served["claims"]["payment_amount"] == 5000000


def test_the_token_never_goes_in_clear_to_another_machine(run: Run) -> None:
    # 192.0.2.1 (TEST-NET-1) is never reached: the command refuses before any connection.
    for argv in (
        ("request", "--type", "withholding-slip", "--purpose", "x"),
        ("result", "tx"),
    ):
        code, out, err = run(
            "verifier", *argv, "--server", "http://192.0.2.1:8400", "--token", TOKEN
        )
        assert code == 1 and out == ""
        assert "insecure_settings" in err and "https" in err
        assert TOKEN not in err


def test_an_unreachable_service_is_named(run: Run) -> None:
    port = _free_port()  # nothing listens there
    code, _, err = run("verifier", "result", "tx", "--server", f"http://127.0.0.1:{port}")
    assert code == 1
    assert err.startswith("error: unreachable: cannot reach the verifier at http://127.0.0.1:")


def test_a_negative_wait_is_a_usage_error(server: tuple[str, Any], run: Run) -> None:
    base, _ = server
    code, _, err = run("verifier", "result", "tx", "--server", base, "--wait", "-1")
    assert code == 2 and "--wait" in err


def test_serve_refuses_insecure_settings_outside_dev(tmp_path: Path, run: Run) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text('[verifier]\npublic_url = "http://verifier.example"\n')
    code, _, err = run("verifier", "serve", "--config", str(config))
    assert code == 1
    assert "refusing insecure settings" in err and "https" in err and "api_token" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_dev_runs_a_real_service(tmp_path: Path) -> None:
    port = _free_port()
    # In --dev the public URL follows --host and --port.
    env = {**os.environ, "HONNIN_VERIFIER_STORE_PATH": str(tmp_path / "v.sqlite3")}
    process = subprocess.Popen(
        [sys.executable, "-m", "honnin.cli", "verifier", "serve", "--dev", "--port", str(port),
         "--no-access-log"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        created = None
        deadline = time.monotonic() + 30
        while created is None and time.monotonic() < deadline:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/transactions",
                    json={"purpose": "x", "credential_type": "withholding-slip"},
                )
                created = answer.json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert created is not None, "the service did not come up"
        claims = request_claims(httpx.get(created["request_uri"]).text)
        assert claims["client_id"] == "x509_san_dns:127.0.0.1"
        assert (tmp_path / "verifier-dev-keys" / "verifier.key.pem").exists()
        assert oct((tmp_path / "verifier-dev-keys" / "verifier.key.pem").stat().st_mode)[-3:] == (
            "600"
        )
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    log = err.decode()
    assert f"serving http://127.0.0.1:{port} (development mode)" in log
    assert "POST /transactions" not in log  # --no-access-log


# -- registrations from the settings -----------------------------------------------------------


def _registration_setup(tmp_path: Path, client_id: str) -> tuple[Path, Path, str]:
    from honnin.registration import build_registration

    pki = pki_at(SystemClock())
    trust_file = tmp_path / "trust-list.json"
    trust_file.write_text(json.dumps(pki.trust_list_document({"Example Corp": [SLIP]})))
    now = int(SystemClock().now())
    token = build_registration(
        client_id=client_id, name="Hello Work", purpose="unemployment benefit application",
        entitlements={SLIP: [["payment_amount"]]}, key=pki.registrar.private_key,
        chain=pki.registrar.chain, issued_at=now - 60, expires_at=now + 86_400,
    )  # fmt: skip
    registration_file = tmp_path / "hello-work.registration.jwt"
    registration_file.write_text(token + "\n")
    return trust_file, registration_file, token


def test_serve_settings_carry_the_registrations_into_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from honnin.registration import verifier_info_entry
    from verifier import Query
    from verifier._cli import build_verifier

    monkeypatch.chdir(tmp_path)  # the development key is written to ./verifier-dev-keys
    trust_file, registration_file, token = _registration_setup(tmp_path, "x509_san_dns:127.0.0.1")
    settings = VerifierSettings(
        dev=True, trust_list_file=str(trust_file), registration_files=(str(registration_file),),
        store_path=str(tmp_path / "verifier.sqlite3"),
    )  # fmt: skip
    with build_verifier(settings) as agency:
        made = agency.request(
            Query.of(SLIP, "payment_amount"), purpose="unemployment benefit application"
        )
        claims = request_claims(made.request_object)
    assert verifier_info_entry(token) in claims["verifier_info"]


def test_a_registration_for_another_verifier_stops_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    trust_file, registration_file, _ = _registration_setup(tmp_path, "x509_san_dns:other.example")
    monkeypatch.setenv("HONNIN_VERIFIER_STORE_PATH", str(tmp_path / "verifier.sqlite3"))
    code, _, err = run(
        "verifier", "serve", "--dev", "--trust-list", str(trust_file),
        "--registration", str(registration_file),
    )  # fmt: skip
    assert code == 1 and err.startswith("error: policy_violation:")


def test_an_unreadable_registration_file_is_invalid_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    monkeypatch.chdir(tmp_path)
    trust_file, _, _ = _registration_setup(tmp_path, "x509_san_dns:127.0.0.1")
    monkeypatch.setenv("HONNIN_VERIFIER_STORE_PATH", str(tmp_path / "verifier.sqlite3"))
    code, _, err = run(
        "verifier", "serve", "--dev", "--trust-list", str(trust_file),
        "--registration", str(tmp_path / "missing.jwt"),
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error: invalid_settings: cannot read the registration file")
