"""``honnin trust init / show / verify-chain`` and the trust list JSON Schema in spec/."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from honnin.cli import main
from honnin.credential_types import spec_directory
from honnin.trust import TrustList, load_certificates


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    code = main(
        [
            "trust",
            "init",
            str(directory),
            "--issuer",
            "Example Corp",
            "--types",
            "withholding-slip",
            "--issuer",
            "さくら病院",
            "--types",
            "birth-certificate",
        ]
    )
    assert code == 0
    return directory


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out
    value = json.loads(out)
    assert isinstance(value, dict)
    return value


def test_init_writes_pki_and_a_schema_valid_trust_list(pki_dir: Path) -> None:
    names = {p.name for p in pki_dir.iterdir()}
    for label in ("root", "access-ca", "verifier", "registrar", "issuer-example-corp", "issuer-2"):
        assert {f"{label}.pem", f"{label}.key.pem", f"{label}.jwk.json"} <= names
    document = json.loads((pki_dir / "trust-list.json").read_text(encoding="utf-8"))
    schema = json.loads((spec_directory() / "trust-list.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    trust = TrustList.load(pki_dir / "trust-list.json")
    assert [e.credential_types for e in trust.issuers] == [
        ("withholding-slip",),
        ("birth-certificate",),
    ]
    assert json.loads((pki_dir / "issuer-2.jwk.json").read_text())["crv"] == "P-256"


def test_init_without_types_entitles_every_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trust", "init", str(tmp_path)]) == 0
    summary = _json(capsys)
    assert summary["issuers"] == {
        "honnin test issuer": {
            "iss": "https://honnin-test-issuer.issuer.honnin.example",
            "credential_types": [
                "birth-certificate",
                "enrollment-certificate",
                "national-qualification",
                "resident-record",
                "tax-certificate",
                "withholding-slip",
            ],
        }
    }


def test_show(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["trust", "show", str(pki_dir / "trust-list.json")]) == 0
    shown = _json(capsys)
    assert shown["name"] == "honnin test trust framework"
    anchors = shown["anchors"]
    assert isinstance(anchors, list) and anchors[0]["subject"].endswith("CN=honnin test root CA")
    assert shown["restricted_claims"] == [
        {"path": ["my_number"], "reason": "My Number Act §19: statutory procedures only"},
        {"path": ["resident_code"], "reason": "Basic Resident Registers Act §30-42: limited use"},
    ]


def test_verify_chain_with_entitlement(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(
        [
            "trust",
            "verify-chain",
            str(pki_dir / "issuer-example-corp.pem"),
            "--trust-list",
            str(pki_dir / "trust-list.json"),
            "--type",
            "withholding-slip",
        ]
    )
    assert code == 0
    result = _json(capsys)
    assert result["valid"] is True
    assert result["entitled_types"] == ["withholding-slip"]
    assert len(result["path"]) == 2  # type: ignore[arg-type]


def test_verify_chain_not_entitled(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(
        [
            "trust",
            "verify-chain",
            str(pki_dir / "issuer-example-corp.pem"),
            "--trust-list",
            str(pki_dir / "trust-list.json"),
            "--type",
            "birth-certificate",
        ]
    )
    assert code == 1
    assert capsys.readouterr().err.startswith("error: issuer_not_entitled: ")


def test_verify_chain_not_yet_valid(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "trust",
            "verify-chain",
            str(pki_dir / "issuer-2.pem"),
            "--trust-list",
            str(pki_dir / "trust-list.json"),
            "--at",
            "2000-01-01T00:00:00Z",
        ]
    )
    assert code == 1
    assert capsys.readouterr().err.startswith("error: not_yet_valid: ")


def test_verify_chain_of_the_verifier(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trust_list = str(pki_dir / "trust-list.json")
    capsys.readouterr()
    assert (
        main(
            [
                "trust",
                "verify-chain",
                str(pki_dir / "verifier.pem"),
                "--trust-list",
                trust_list,
                "--verifier",
            ]
        )
        == 0
    )
    assert _json(capsys)["anchor"] == "C=JP,O=honnin test trust framework,CN=honnin test access CA"
    assert (
        main(["trust", "verify-chain", str(pki_dir / "verifier.pem"), "--trust-list", trust_list])
        == 1
    )
    assert capsys.readouterr().err.startswith("error: untrusted_issuer: ")


def test_verify_chain_bad_at(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "trust",
            "verify-chain",
            str(pki_dir / "issuer-2.pem"),
            "--trust-list",
            str(pki_dir / "trust-list.json"),
            "--at",
            "yesterday",
        ]
    )
    assert code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_verify_chain_malformed_pem(
    pki_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    code = main(
        ["trust", "verify-chain", str(bad), "--trust-list", str(pki_dir / "trust-list.json")]
    )
    assert code == 1
    assert capsys.readouterr().err.startswith("error: malformed: ")


def test_init_types_count_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "trust",
            "init",
            str(tmp_path),
            "--issuer",
            "A",
            "--issuer",
            "B",
            "--types",
            "withholding-slip",
        ]
    )
    assert code == 2
    assert "--types" in capsys.readouterr().err


def test_init_unknown_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["trust", "init", str(tmp_path), "--issuer", "A", "--types", "passport"])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: unknown_credential_type: ")


def test_written_chain_loads_leaf_first(pki_dir: Path) -> None:
    chain = load_certificates((pki_dir / "verifier.pem").read_bytes())
    assert chain[0].subject.rfc4514_string().endswith("CN=honnin test verifier")
