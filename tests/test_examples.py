"""Every script in examples/ runs green as a subprocess and prints its key results.

The scripts start together (one process each) and each test waits for its own, so the
whole set costs about as long as the slowest one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 180

#: What each example must print (every line must appear in its output).
EXPECTED: dict[str, list[str]] = {
    "job_change.py": [
        "Honnin Systems asks, for: year-end adjustment (年末調整)",
        "send 支払金額 / Payment amount (JPY): 5000000",
        "verified: True",
        "Payment amount (JPY): 5,000,000",
        "Income tax withheld (JPY): 93,900",
    ],
    "birth_registration.py": [
        "wallet holds Certificate of birth (mso_mdoc), 4 copies",
        "Minato City (trusted) asks for birth registration (出生届)",
        "verified: True",
        "子の名: さくら",
        "出生したところ（所在地）: 東京都港区芝公園九丁目8番7号",
    ],
    "student_discount.py": [
        "Campus Books asks, for student discount:",
        "verified: True",
        "the shop sees: {'enrollment_status': 'enrolled', 'school.name': 'ほんにん大学'}",
    ],
    "benefit_prefill.py": [
        "show this QR code: openid4vp://?client_id=x509_san_dns%3Alocalhost&request_uri=",
        "Child Allowance Office (trusted): child allowance application (児童手当)",
        "posted: 200",
        "verified: True",
        "住所: 東京都港区芝公園九丁目9番9号 ほんにんハイツ101",
    ],
    "approve_at_issuer.py": [
        "offer: authorization_code, tx_code: None",
        "the page shows: 在学証明書 / Certificate of enrollment | honnin-wallet",
        "the browser comes back to: https://wallet.example/callback with code, state and iss",
        "received 8 copies of Certificate of enrollment from ほんにん大学",
        "access token bound to the wallet's DPoP key: True",
    ],
    "payroll_batch.py": [
        "3 offers, 3 QR codes written",
        "佐藤 健 received 8 copies of Employment income withholding slip from Example Corp",
        "recipient: 佐藤 健 paid: 4200000",
    ],
    "pseudonym_login.py": [
        "the portal knows this person as ",
        "next visit, same pseudonym: True",
        "the library sees an unrelated one: True",
        "after withdrawing, the portal sees a new one: True",
        "log verified: 5 entries",
        "#4 withdrawal: x509_san_dns:portal.example (withdrawn)",
        "#5 presentation: Job-seeker portal (presented)",
    ],
    "revocation.py": [
        "before revocation: VALID (status valid)",
        "right after, list still cached: VALID (status valid)",
        "after the list is refetched: INVALID revoked: the credential is revoked",
    ],
}


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, subprocess.Popen[str]]]:
    started = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / name)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=EXAMPLES.parent,
        )
        for name in EXPECTED
    }
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_every_example_is_tested_and_short() -> None:
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(EXPECTED)
    for name in scripts:
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 120, name
        assert text.startswith('"""'), f"{name} starts with its story"
        assert f"python examples/{name}" in text, f"{name} says how to run it"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, running: dict[str, subprocess.Popen[str]]) -> None:
    out, err = running[name].communicate(timeout=TIMEOUT)
    assert running[name].returncode == 0, err
    for line in EXPECTED[name]:
        assert line in out, f"{name}: {line!r} not in\n{out}"
