"""``honnin sd-jwt``: decode, issue, present, verify and keygen through ``honnin.cli.main``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from test_x509_support import self_signed

from honnin.cli import main
from honnin.jose import private_key_from_jwk

CLAIMS = {
    "iss": "https://issuer.example",
    "exp": 4_000_000_000,
    "sub": "alice",
    "given_name": "Alice",
    "address": {"locality": "Tokyo", "country": "JP"},
    "nationalities": ["JP", "US"],
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    paths = {
        "issuer": tmp_path / "issuer.jwk",
        "issuer_pub": tmp_path / "issuer.pub.jwk",
        "holder": tmp_path / "holder.jwk",
        "claims": tmp_path / "claims.json",
        "credential": tmp_path / "credential.txt",
        "presentation": tmp_path / "presentation.txt",
    }
    code, out, _ = run(capsys, "sd-jwt", "keygen", "--public-out", str(paths["issuer_pub"]))
    assert code == 0
    paths["issuer"].write_text(out)
    code, out, _ = run(capsys, "sd-jwt", "keygen")
    assert code == 0
    paths["holder"].write_text(out)
    paths["claims"].write_text(json.dumps(CLAIMS))
    return paths


def issue(capsys: pytest.CaptureFixture[str], files: dict[str, Path], *extra: str) -> str:
    code, out, err = run(
        capsys,
        "sd-jwt",
        "issue",
        "--key",
        str(files["issuer"]),
        "--claims",
        str(files["claims"]),
        "--holder-key",
        str(files["holder"]),
        *extra,
    )
    assert code == 0, err
    files["credential"].write_text(out)
    return out.strip()


def present(capsys: pytest.CaptureFixture[str], files: dict[str, Path], *extra: str) -> str:
    code, out, err = run(capsys, "sd-jwt", "present", str(files["credential"]), *extra)
    assert code == 0, err
    files["presentation"].write_text(out)
    return out.strip()


def test_issue_present_verify_round_trip(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name", "--sd", "/address", "--sd", "/address/locality")
    present(
        capsys,
        files,
        "--disclose",
        "/address/locality",
        "--holder-key",
        str(files["holder"]),
        "--nonce",
        "n-123",
        "--aud",
        "https://verifier.example",
    )
    code, out, err = run(
        capsys,
        "sd-jwt",
        "verify",
        str(files["presentation"]),
        "--issuer-key",
        str(files["issuer_pub"]),
        "--nonce",
        "n-123",
        "--aud",
        "https://verifier.example",
    )
    assert code == 0, err
    claims = json.loads(out)
    assert claims["address"] == {"locality": "Tokyo", "country": "JP"}
    assert "given_name" not in claims
    assert claims["cnf"]["jwk"]["kty"] == "EC"


def test_decode_says_it_did_not_verify(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name", "--sd", "/nationalities/1", "--typ", "dc+sd-jwt")
    code, out, _ = run(capsys, "sd-jwt", "decode", str(files["credential"]))
    assert code == 0
    decoded = json.loads(out)
    assert decoded["verified"] is False
    assert decoded["header"]["typ"] == "dc+sd-jwt"
    by_value = {d["value"]: d for d in decoded["disclosures"]}
    assert by_value["Alice"]["name"] == "given_name"
    assert "name" not in by_value["US"]
    assert {d["digest"] for d in decoded["disclosures"]} <= set(
        decoded["payload"]["_sd"] + [e["..."] for e in decoded["payload"]["nationalities"][1:]]
    )
    assert decoded["key_binding_jwt"] is None


def test_decode_from_stdin_with_key_binding(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    text = present(
        capsys,
        files,
        "--disclose",
        "/given_name",
        "--holder-key",
        str(files["holder"]),
        "--nonce",
        "n",
        "--aud",
        "a",
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(text + "\n"))
    code, out, _ = run(capsys, "sd-jwt", "decode", "-")
    assert code == 0
    assert json.loads(out)["key_binding_jwt"]["payload"]["nonce"] == "n"


def test_issue_in_json_serialization(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    token = issue(capsys, files, "--sd-all", "--serialization", "json-flattened")
    document = json.loads(token)
    assert len(document["header"]["disclosures"]) == 4  # sub, given_name, address, nationalities
    code, out, _ = run(capsys, "sd-jwt", "decode", str(files["credential"]))
    assert code == 0
    decoded = json.loads(out)
    assert decoded["serialization"] == "json-flattened"
    assert {"iss", "exp", "_sd", "_sd_alg", "cnf"} == set(decoded["payload"])


def test_verify_with_a_pem_public_key_and_a_certificate(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    present(capsys, files, "--disclose", "/given_name")
    key = private_key_from_jwk(json.loads(files["issuer"].read_text()))
    pem = tmp_path / "issuer.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = self_signed(key, "issuer")
    cert_file = tmp_path / "issuer.crt"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    for key_file in (pem, cert_file):
        code, out, err = run(
            capsys, "sd-jwt", "verify", str(files["presentation"]), "--issuer-key", str(key_file)
        )
        assert code == 0, err
        assert json.loads(out)["given_name"] == "Alice"


def test_verify_with_the_wrong_issuer_key(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    present(capsys, files, "--disclose", "/given_name")
    code, out, err = run(
        capsys,
        "sd-jwt",
        "verify",
        str(files["presentation"]),
        "--issuer-key",
        str(files["holder"]),
    )
    assert code == 1
    assert out == ""
    assert err.startswith("error: invalid_signature: ")


def test_verify_required_key_binding_but_stripped(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    present(capsys, files, "--disclose", "/given_name")
    code, _, err = run(
        capsys,
        "sd-jwt",
        "verify",
        str(files["presentation"]),
        "--issuer-key",
        str(files["issuer_pub"]),
        "--key-binding",
        "required",
        "--nonce",
        "n",
        "--aud",
        "a",
    )
    assert code == 1
    assert err.startswith("error: invalid_key_binding: ")


def test_verify_at_a_time_after_expiry(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files)
    present(capsys, files)
    code, _, err = run(
        capsys,
        "sd-jwt",
        "verify",
        str(files["presentation"]),
        "--issuer-key",
        str(files["issuer_pub"]),
        "--at",
        str(CLAIMS["exp"] + 3600),
    )
    assert code == 1
    assert err.startswith("error: expired: ")


def test_verify_malformed_input(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not-an-sd-jwt")
    code, _, err = run(
        capsys, "sd-jwt", "verify", str(bad), "--issuer-key", str(files["issuer_pub"])
    )
    assert code == 1
    assert err.startswith("error: malformed_credential: ")


@pytest.mark.parametrize(
    "argv",
    [
        ("issue", "--sd", "/nothing/here"),
        ("issue", "--sd", "no-leading-slash"),
    ],
)
def test_issue_usage_errors(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], argv: tuple[str, ...]
) -> None:
    code, _, err = run(
        capsys,
        "sd-jwt",
        *argv,
        "--key",
        str(files["issuer"]),
        "--claims",
        str(files["claims"]),
    )
    assert code == 2
    assert err.startswith("error: ")


def test_present_with_key_but_no_nonce(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    code, _, err = run(
        capsys,
        "sd-jwt",
        "present",
        str(files["credential"]),
        "--holder-key",
        str(files["holder"]),
    )
    assert code == 2
    assert "--nonce" in err


def test_present_a_claim_the_credential_lacks(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    issue(capsys, files, "--sd", "/given_name")
    code, _, err = run(
        capsys, "sd-jwt", "present", str(files["credential"]), "--disclose", "/email"
    )
    assert code == 1
    assert err.startswith("error: no_matching_credential: ")


def test_real_subprocess_verify(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    issue(capsys, files, "--sd", "/given_name")
    present(capsys, files, "--disclose", "/given_name")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "honnin.cli",
            "sd-jwt",
            "verify",
            str(files["presentation"]),
            "--issuer-key",
            str(files["issuer_pub"]),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["given_name"] == "Alice"
    tampered = files["presentation"].read_text().replace(".", "x", 1)
    files["presentation"].write_text(tampered)
    code, _, err = run(
        capsys,
        "sd-jwt",
        "verify",
        str(files["presentation"]),
        "--issuer-key",
        str(files["issuer_pub"]),
    )
    assert code == 1
    assert err.startswith("error: ")
