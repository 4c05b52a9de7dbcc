"""Back-office offers: single offers, many from JSON or CSV, tx_code shapes, QR renderings,
and the store rules behind them (hashes only, persistence across a restart)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from honnin.credential_types import load_catalogue
from honnin.errors import MalformedInput, SchemaViolation, UnknownCredentialType
from honnin.oid4vci import parse_credential_offer_uri
from issuer import Issuer, IssuerSettings, SqliteIssuanceStore, load_settings_file
from issuer._codes import secret_hash

SLIP = load_catalogue().get("withholding-slip")
CLAIMS = SLIP.sample_claims()


@pytest.fixture(scope="module")
def employer() -> Issuer:
    return Issuer.create("Example Corp", iss="https://payroll.example.com")


def test_offer_by_value_carries_the_code_and_tx_code_shape(employer: Issuer) -> None:
    offer = employer.create_offer(
        "withholding-slip", CLAIMS, tx_code_length=8, tx_code_input_mode="text",
        tx_code_description="メールでお送りしたコードを入力してください",
    )  # fmt: skip
    assert offer.tx_code is not None and len(offer.tx_code) == 8 and offer.tx_code.isalnum()
    link = parse_credential_offer_uri(offer.uri)
    assert link.offer is not None
    assert link.offer.credential_issuer == "https://payroll.example.com"
    assert link.offer.credential_configuration_ids == ("withholding-slip.sd_jwt_vc",)
    grant = link.offer.pre_authorized_code
    assert grant is not None and grant.tx_code is not None
    assert (grant.tx_code.length, grant.tx_code.input_mode) == (8, "text")
    assert offer.tx_code not in offer.uri
    assert offer.tx_code not in repr(offer)


def test_store_keeps_hashes_not_secrets(employer: Issuer) -> None:
    offer = employer.create_offer("withholding-slip", CLAIMS)
    grant = parse_credential_offer_uri(offer.uri).offer.pre_authorized_code  # type: ignore[union-attr]
    assert grant is not None
    record = employer.store.offer(offer.offer_id)
    assert record is not None
    assert grant.pre_authorized_code not in (record.code_hash, record.tx_code_hash)
    assert offer.tx_code not in (record.code_hash, record.tx_code_hash)


def test_offer_refuses_bad_claims_and_unknown_types(employer: Issuer) -> None:
    with pytest.raises(SchemaViolation):
        employer.create_offer("withholding-slip", dict(CLAIMS, tax_year="last year"))
    with pytest.raises(UnknownCredentialType):
        employer.create_offer("passport", CLAIMS)


def test_offers_from_json_file(employer: Issuer, tmp_path: Path) -> None:
    second = dict(CLAIMS, payment_amount=6_100_000)
    path = tmp_path / "slips.json"
    path.write_text(json.dumps({"claims": [CLAIMS, second]}, ensure_ascii=False), "utf-8")
    offers = employer.create_offers_from_file(path, "withholding-slip", format="mso_mdoc")
    assert len(offers) == 2
    assert {o.configuration_id for o in offers} == {"withholding-slip.mso_mdoc"}
    stored = [employer.store.offer(o.offer_id) for o in offers]
    assert [s.claims["payment_amount"] for s in stored if s] == [5_000_000, 6_100_000]


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _csv_row(claims: dict[str, Any]) -> dict[str, str]:
    return {
        "tax_year": str(claims["tax_year"]),
        "payment_type": claims["payment_type"],
        "payer.name": claims["payer"]["name"],
        "payer.address": claims["payer"]["address"],
        "recipient.name": claims["recipient"]["name"],
        "recipient.address": claims["recipient"]["address"],
        "recipient.birth_date": claims["recipient"]["birth_date"],
        "payment_amount": str(claims["payment_amount"]),
        "income_after_employment_deduction": str(claims["income_after_employment_deduction"]),
        "total_deductions": str(claims["total_deductions"]),
        "withholding_tax": str(claims["withholding_tax"]),
        "dependent_counts": json.dumps(claims["dependent_counts"]),
        "social_insurance_premiums": str(claims["social_insurance_premiums"]),
        "dependents.0.name": claims["dependents"][0]["name"],
        "dependents.0.category": claims["dependents"][0]["category"],
        "my_number": claims["my_number"],
    }


def test_offers_from_csv_file_coerce_by_schema(employer: Issuer, tmp_path: Path) -> None:
    path = tmp_path / "slips.csv"
    path.write_text("\ufeff" + _csv([_csv_row(CLAIMS), _csv_row(CLAIMS)]), "utf-8")
    offers = employer.create_offers_from_file(path, "withholding-slip")
    assert len(offers) == 2
    record = employer.store.offer(offers[0].offer_id)
    assert record is not None
    claims = record.claims
    assert claims["payment_amount"] == 5_000_000 and claims["tax_year"] == 2023
    assert claims["payer"]["name"] == CLAIMS["payer"]["name"]
    assert claims["dependents"] == [{"name": "山田 昭子", "category": "elderly"}]
    assert claims["dependent_counts"] == CLAIMS["dependent_counts"]


def test_one_bad_row_means_no_offer_at_all(tmp_path: Path) -> None:
    issuer = Issuer.create("Careful Corp")
    bad = dict(_csv_row(CLAIMS), withholding_tax="-5")
    path = tmp_path / "slips.csv"
    path.write_text(_csv([_csv_row(CLAIMS), bad]), "utf-8")
    with pytest.raises(SchemaViolation):
        issuer.create_offers_from_file(path, "withholding-slip")
    unparsable = tmp_path / "broken.csv"
    unparsable.write_text(_csv([dict(_csv_row(CLAIMS), payment_amount="lots")]), "utf-8")
    with pytest.raises(MalformedInput):
        issuer.create_offers_from_file(unparsable, "withholding-slip")
    not_a_list = tmp_path / "one.json"
    not_a_list.write_text(json.dumps({"tax_year": 2023}), "utf-8")
    with pytest.raises(MalformedInput):
        issuer.create_offers_from_file(not_a_list, "withholding-slip")


def test_qr_renderings_decode(employer: Issuer) -> None:
    offer = employer.create_offer("withholding-slip", CLAIMS, by_reference=True)
    png = offer.qr_png(scale=4)
    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [c.text for c in decoded] == [offer.uri]
    lines = offer.qr_text().splitlines()
    assert len({len(line) for line in lines}) == 1
    svg = offer.qr_svg()
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_tx_code_counter_survives_a_restart(tmp_path: Path) -> None:
    """HOSTILE-CASES IS-27: the wrong-attempt counter is persistent."""
    path = tmp_path / "issuer.db"
    issuer = Issuer.create("Example Corp", store=path)
    offer = issuer.create_offer("withholding-slip", CLAIMS)
    grant = parse_credential_offer_uri(offer.uri).offer.pre_authorized_code  # type: ignore[union-attr]
    assert grant is not None
    code_hash = secret_hash(grant.pre_authorized_code)
    store = issuer.store
    for _ in range(3):
        store.fail_tx_code(code_hash, 5)
    issuer.close()
    reopened = SqliteIssuanceStore(path)
    assert reopened.fail_tx_code(code_hash, 5) == 4
    assert reopened.fail_tx_code(code_hash, 5) == 5
    state = reopened.code_state(code_hash)
    assert state is not None and state.void and not state.used
    assert reopened.redeem_code(code_hash, 0.0) is False


def test_settings_files_and_insecure_reasons(tmp_path: Path) -> None:
    toml = tmp_path / "issuer.toml"
    toml.write_text('[issuer]\npublic_url = "https://issuer.example"\nbatch_size = 4\n', "utf-8")
    settings = load_settings_file(toml, store_path="x.db")
    assert settings.batch_size == 4 and settings.store_path == "x.db"
    assert settings.insecure_reasons() == [
        "key_file and chain_file must name the issuer's key and chain"
    ]
    assert len(IssuerSettings().insecure_reasons()) == 3
    with pytest.raises(ValueError):
        IssuerSettings(nonce_lifetime=600)
