"""``honnin demo``: the job change and the birth registration, end to end on loopback HTTP.

Each run starts a real issuer and verifier service (uvicorn on 127.0.0.1), a wallet with the
default Argon2id parameters, and goes through OpenID4VCI and OpenID4VP over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import honnin_demo
from honnin.cli import main
from honnin.credential_types import load_catalogue
from honnin.errors import PolicyViolation
from honnin_demo import JOB_CHANGE, Stage, withheld_claims
from verifier import Query

STEPS = [
    "setup",
    "offer",
    "wallet",
    "issuance",
    "request",
    "consent",
    "presentation",
    "form",
    "log",
]
SLIP = load_catalogue().get("withholding-slip")
REQUIRED = [
    "payment_amount",
    "withholding_tax",
    "social_insurance_premiums",
    "payer.name",
    "payer.address",
]


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["demo", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    report: dict[str, Any] = json.loads(out)
    return report


def _check_job_change(report: dict[str, Any]) -> None:
    sample = SLIP.sample_claims()
    assert report["scenario"] == "job-change"
    assert report["verified"] is True, report["errors"]
    # Exactly the requested claims, with the issued values.
    assert report["disclosed"] == {
        "payment_amount": sample["payment_amount"],
        "withholding_tax": sample["withholding_tax"],
        "social_insurance_premiums": sample["social_insurance_premiums"],
        "payer.name": sample["payer"]["name"],
        "payer.address": sample["payer"]["address"],
    }
    # The My Number was wanted but refused (the verifier's registration does not name it, so
    # the verifier itself would not ask); the unrequested claims stayed in the wallet.
    assert "my_number" in report["withheld"]
    assert report["refused"] == [{"claim": "my_number", "reason": "restricted", "by": "verifier"}]
    for unrequested in ("recipient", "dependents", "spouse", "payer.corporate_number"):
        assert unrequested in report["withheld"]
    assert not set(report["withheld"]) & set(report["disclosed"])
    assert report["always_visible"] == ["tax_year"]
    assert [s["name"] for s in report["steps"]] == STEPS
    assert report["total_ms"] == pytest.approx(sum(s["ms"] for s in report["steps"]), abs=0.5)
    assert report["total_ms"] < report["goal_ms"] == 60_000
    assert report["issuer"]["iss"].startswith("http://127.0.0.1:")
    assert report["verifier"]["client_id"] == "x509_san_dns:localhost"
    assert report["copies"] == 8
    assert report["kdf"] == "Argon2id 64 MiB, t=3, p=4"
    _check_privacy(report)


def _entry_hash(entry: dict[str, Any]) -> str:
    # spec/PROFILE.md "Transparency log": SHA-256 of the sorted, compact UTF-8 JSON body.
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_privacy(report: dict[str, Any]) -> None:
    # Once-only: one copy spent by the presentation.
    assert report["copies_left"] == 7
    # The registration the wallet verified: the registrar's, for exactly the required claims.
    registration = report["registration"]
    assert registration["status"] == "verified"
    assert registration["client_id"] == report["verifier"]["client_id"]
    assert registration["name"] == report["verifier"]["name"]
    assert registration["registrar"].endswith("CN=honnin test registrar")
    assert registration["entitled"] == {"withholding-slip": sorted(REQUIRED, key=_slip_order)}
    assert registration["purposes"] == {"en": JOB_CHANGE.purpose}
    assert registration["issued_at"] < registration["expires_at"]
    # A pairwise pseudonym: an RFC 7638 SHA-256 thumbprint (43 base64url characters).
    assert isinstance(report["pseudonym"], str) and len(report["pseudonym"]) == 43
    assert report["pseudonym"] not in report["disclosed"].values()
    # The transparency log: issuance then this presentation, chained, paths and no values.
    log = report["log"]
    assert [e["event"] for e in log] == ["issuance", "presentation"]
    previous = hashlib.sha256(b"honnin transparency log v1").hexdigest()
    for seq, entry in enumerate(log, start=1):
        assert entry["seq"] == seq and entry["prev_hash"] == previous
        assert _entry_hash(entry) == entry["entry_hash"]
        previous = entry["entry_hash"]
    assert report["log_head"] == {"count": 2, "hash": previous}
    presented = log[-1]
    assert presented["party_id"] == report["verifier"]["client_id"]
    assert presented["party_name"] == report["verifier"]["name"]
    assert presented["purpose"] == report["purpose"] and presented["outcome"] == "presented"
    assert presented["disclosed"] == [
        {"credential_type": "withholding-slip", "claims": [k.split(".") for k in REQUIRED]},
        {"credential_type": "pseudonym", "claims": [["sub"]]},
    ]
    text = json.dumps(log, ensure_ascii=False)
    for value in report["disclosed"].values():
        assert str(value) not in text


def _slip_order(key: str) -> int:
    return [".".join(map(str, c.path)) for c in SLIP.claims].index(key)


def test_demo_json_through_main(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = _run_json(capsys, "--keep", str(tmp_path))
    _check_job_change(report)
    # --keep leaves the embedded defaults behind: trust list, SQLite stores, the wallet.
    for name in ("trust/trust-list.json", "issuer.sqlite3", "verifier.sqlite3", "citizen.wallet"):
        assert (tmp_path / name).is_file(), name


def test_demo_refuses_to_reuse_a_kept_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "citizen.wallet").write_bytes(b"a previous run")
    assert main(["demo", "--json", "--keep", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not empty: --keep needs a new or empty directory" in captured.err


def test_demo_story_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--kdf", "light"]) == 0
    out = capsys.readouterr().out
    for step_number, step in enumerate(STEPS, start=1):
        assert f"\n{step_number}. {step}: " in out
    assert "transaction code, sent separately" in out
    assert "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1" in out
    assert "openid4vp://?client_id=x509_san_dns%3Alocalhost&request_uri=" in out
    assert "▄" in out  # the QR codes
    assert f"why         {JOB_CHANGE.purpose}" in out
    assert "[refused] 個人番号 / Individual Number (My Number)" in out
    assert "registered  verified (registrar C=JP,O=honnin test trust framework" in out
    assert "the request is within it" in out
    assert "支払金額 / Payment amount (JPY)" in out and "5,000,000" in out
    assert "usage policy once: the copy used is deleted with its key; 7 of 8 copies left" in out
    assert "pairwise pseudonym: " in out
    assert "to       Honnin Systems Co., Ltd. [x509_san_dns:localhost]" in out
    assert "hash chain verified: 2 entries (issuance, presentation)" in out
    assert "Argon2id 19 MiB, t=2, p=1 (lighter than the default)" in out
    assert "verified: yes" in out
    assert "the goal is 60 s: met" in out


def test_demo_birth_json(capsys: pytest.CaptureFixture[str]) -> None:
    report = _run_json(capsys, "birth", "--kdf", "light")
    sample = load_catalogue().get("birth-certificate").sample_claims()
    assert report["verified"] is True, report["errors"]
    assert (report["scenario"], report["format"]) == ("birth", "mso_mdoc")
    assert report["disclosed"]["child_given_name"] == sample["child_given_name"]
    assert report["disclosed"]["place_of_birth.address"] == sample["place_of_birth"]["address"]
    assert report["disclosed"]["birth_date"] == sample["birth_date"]
    assert len(report["disclosed"]) == 9
    for kept in ("weight_grams", "mother.birth_date", "place_of_birth.facility_name"):
        assert kept in report["withheld"]
    assert report["always_visible"] == [] and report["refused"] == []
    assert [s["name"] for s in report["steps"]] == STEPS
    assert report["registration"]["status"] == "verified" and report["pseudonym"] is None
    assert [e["event"] for e in report["log"]] == ["issuance", "presentation"]
    assert report["log"][-1]["disclosed"][0]["credential_type"] == "birth-certificate"


def test_demo_json_in_a_subprocess_without_network() -> None:
    # Proxies pointing nowhere: the demo must not need them (loopback only, trust_env off).
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead}
    script = Path(sys.executable).with_name("honnin")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "honnin.cli"]
    done = subprocess.run(
        [*command, "demo", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    _check_job_change(json.loads(done.stdout))


def test_a_registered_stage_never_asks_beyond_its_registration(tmp_path: Path) -> None:
    over_asking = Query.of("withholding-slip", *REQUIRED, "my_number")
    within = Query.of("withholding-slip", *REQUIRED) & Query.pseudonym()
    with Stage.open(JOB_CHANGE, tmp_path / "registered", register=True) as stage:
        assert stage.registration is not None
        assert stage.registration.client_id == stage.verifier.client_id
        assert stage.registration.registers_purpose(JOB_CHANGE.purpose)
        with pytest.raises(PolicyViolation) as refused:
            stage.verifier.request(over_asking, purpose=JOB_CHANGE.purpose)
        assert refused.value.fields["reason"] == "over_asking"
        with pytest.raises(PolicyViolation) as refused:
            stage.verifier.request(within, purpose="marketing")
        assert refused.value.fields["reason"] == "purpose"
        assert stage.verifier.request(within, purpose=JOB_CHANGE.purpose).uri
    # Unregistered (the journey benchmark's stage): any purpose, and the wallet refuses the
    # My Number itself.
    with Stage.open(JOB_CHANGE, tmp_path / "plain") as stage:
        assert stage.registration is None
        assert stage.verifier.request(over_asking, purpose="benchmark").uri


def test_withheld_claims_descend_into_partly_sent_objects() -> None:
    claims = {
        "iss": "https://issuer.example",  # protocol claims are not the person's data
        "cnf": {"jwk": {}},
        "payment_amount": 1,
        "payer": {"name": "x", "address": "y", "phone": "z"},
        "recipient": {"name": "a"},
        "my_number": "123456789018",
    }
    kept = withheld_claims(claims, SLIP, {"payment_amount", "payer.name"})
    # Catalogue order, partly sent objects by member.
    assert kept == ["payer.address", "payer.phone", "recipient", "my_number"]


def test_public_api() -> None:
    assert honnin_demo.__all__ == [
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
    assert sorted(honnin_demo.SCENARIOS) == ["birth", "job-change"]


def test_loopback_server_ignores_forwarded_headers_and_sends_no_banner() -> None:
    from honnin_demo import LoopbackServer

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = f"{scope['client'][0]} {scope['scheme']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with LoopbackServer() as server:
        server.start(echo)
        answer = httpx.get(server.url, headers=forged, timeout=10)
    # Nothing stands between a loopback client and the server: a forwarded header is the
    # client's own claim, not the proxy's.
    assert answer.text == "127.0.0.1 http"
    assert "server" not in answer.headers and "date" in answer.headers
