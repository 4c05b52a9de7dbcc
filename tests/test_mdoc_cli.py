"""``honnin mdoc decode`` and ``honnin mdoc verify`` on the Annex D vector and generated data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from vectors import load_json, vector_path

from honnin.cli import main
from honnin.encoding import b64url_encode
from honnin.jose import generate_key, jwk_from_private_key
from honnin.mdoc import issue_mdoc, openid4vp_session_transcript, present
from honnin.trust import make_test_pki

HEX = load_json("mdoc", "iso18013-5-annex-d.json")["hex"]
IACA = str(vector_path("mdoc", "annex-d-iaca-utopia.pem"))


@pytest.fixture
def annex_d(tmp_path: Path) -> dict[str, str]:
    reader = ec.derive_private_key(int(HEX["ephemeral_reader_key_d"], 16), ec.SECP256R1())
    files = {
        "response": tmp_path / "response.hex",
        "raw": tmp_path / "response.cbor",
        "transcript": tmp_path / "transcript.hex",
        "pem": tmp_path / "reader.pem",
        "jwk": tmp_path / "reader.jwk",
    }
    files["response"].write_text(HEX["device_response"] + "\n")
    files["raw"].write_bytes(bytes.fromhex(HEX["device_response"]))
    files["transcript"].write_text(HEX["session_transcript_bytes"])
    files["pem"].write_bytes(
        reader.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files["jwk"].write_text(json.dumps(jwk_from_private_key(reader)))
    return {name: str(path) for name, path in files.items()}


def test_decode_shows_tag_24_content(
    annex_d: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mdoc", "decode", annex_d["response"]]) == 0
    view = json.loads(capsys.readouterr().out)
    document = view["documents"][0]
    item = document["issuerSigned"]["nameSpaces"]["org.iso.18013.5.1"][0]["#6.24"]
    assert item["elementIdentifier"] == "family_name"
    assert item["random"].startswith("h'")
    issuer_auth = document["issuerSigned"]["issuerAuth"]
    assert issuer_auth["protected"] == {"1": -7}
    assert issuer_auth["payload"]["#6.24"]["docType"] == "org.iso.18013.5.1.mDL"
    assert issuer_auth["payload"]["#6.24"]["validityInfo"]["validUntil"] == {
        "#6.0": "2021-10-01T13:30:02Z"
    }


def test_decode_raw_cbor(annex_d: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mdoc", "decode", annex_d["raw"]]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "1.0"


@pytest.mark.parametrize("key", ["pem", "jwk"])
def test_verify_annex_d(
    annex_d: dict[str, str], key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "mdoc", "verify", annex_d["response"], "--trust-anchor", IACA,
        "--at", "2021-03-01T00:00:00Z", "--session-transcript", annex_d["transcript"],
        "--reader-key", annex_d[key],
    ]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    (document,) = out["documents"]
    assert document["deviceAuth"] == "deviceMac"
    assert document["trustAnchor"] == "C=US,CN=utopia iaca"
    elements = document["elements"]["org.iso.18013.5.1"]
    assert elements["family_name"] == "Doe"
    assert elements["issue_date"] == "2019-10-20"


def test_verify_annex_d_today_fails_as_expired(
    annex_d: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "mdoc", "verify", annex_d["raw"], "--trust-anchor", IACA,
        "--session-transcript", annex_d["transcript"], "--reader-key", annex_d["pem"],
    ]  # fmt: skip
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("error: expired: ")


def test_verify_without_a_transcript(
    annex_d: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mdoc", "verify", annex_d["response"], "--trust-anchor", IACA]) == 2
    assert "--session-transcript" in capsys.readouterr().err


def test_verify_tampered_input(
    tmp_path: Path, annex_d: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.hex"
    bad.write_text(HEX["device_response"][:-10])
    argv = [
        "mdoc", "verify", str(bad), "--trust-anchor", IACA, "--at", "2021-03-01T00:00:00Z",
        "--session-transcript", annex_d["transcript"],
    ]  # fmt: skip
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("error: malformed_cbor: ")


def test_verify_generated_issuer_signed_and_device_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    pki = make_test_pki(["Example DMV"])
    issuer = pki.issuer("Example DMV")
    holder = generate_key()
    mdoc = issue_mdoc(
        "org.example.doc", {"org.example": {"name": "Alice", "photo": b"\x01\x02"}},
        issuer.private_key, list(issuer.chain), holder.public_key(),
        valid_from=now, valid_until=now + timedelta(days=1), signed=now,
    )  # fmt: skip
    anchor = tmp_path / "root.pem"
    anchor.write_bytes(pki.root.certificate.public_bytes(serialization.Encoding.PEM))
    credential = tmp_path / "credential.b64"
    credential.write_text(b64url_encode(mdoc.encode()))
    assert main(["mdoc", "verify", str(credential), "--trust-anchor", str(anchor)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"][0]["elements"] == {"org.example": {"name": "Alice", "photo": "0102"}}
    transcript = openid4vp_session_transcript("x509_san_dns:v.example", "n", "https://v/r")
    response = tmp_path / "response.cbor"
    response.write_bytes(present(mdoc, holder, transcript, elements={"org.example": ["name"]}))
    transcript_file = tmp_path / "transcript.hex"
    transcript_file.write_text(transcript.tagged.hex())
    argv = [
        "mdoc", "verify", str(response), "--trust-anchor", str(anchor),
        "--session-transcript", str(transcript_file), "--doctype", "org.example.doc",
    ]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"][0]["elements"] == {"org.example": {"name": "Alice"}}
    assert out["documents"][0]["deviceAuth"] == "deviceSignature"
