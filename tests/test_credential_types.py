"""The credential type catalogue in spec/: loading, labels, schemas, SD policy, mdoc mapping."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import cbor2
import jsonschema
import pytest

from honnin.credential_types import (
    Catalogue,
    CredentialType,
    is_corporate_number,
    is_individual_number,
    load_catalogue,
    spec_directory,
)
from honnin.errors import MalformedInput, SchemaViolation, UnknownCredentialType

IDS = (
    "birth-certificate",
    "enrollment-certificate",
    "national-qualification",
    "resident-record",
    "tax-certificate",
    "withholding-slip",
)
CATALOGUE = load_catalogue()


@pytest.fixture(params=IDS)
def ctype(request: pytest.FixtureRequest) -> CredentialType:
    return CATALOGUE.get(request.param)


def _schema_paths(schema: dict[str, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    for name, sub in schema.get("properties", {}).items():
        out.append((*prefix, name))
        out += _schema_paths(sub, (*prefix, name))
    if "items" in schema:
        out.append((*prefix, None))
        out += _schema_paths(schema["items"], (*prefix, None))
    return out


# -- loading and identity ---------------------------------------------------------------------


def test_catalogue_has_the_six_types() -> None:
    assert CATALOGUE.ids == IDS
    assert len(CATALOGUE) == 6
    assert [t.id for t in CATALOGUE] == list(IDS)
    assert load_catalogue() is CATALOGUE
    assert spec_directory().name in ("spec", "_spec")


def test_lookup_by_id_vct_and_doctype(ctype: CredentialType) -> None:
    assert CATALOGUE.by_vct(ctype.vct) is ctype
    assert CATALOGUE.by_doctype(ctype.doctype) is ctype
    for name in (ctype.id, ctype.vct, ctype.doctype):
        assert CATALOGUE.find(name) is ctype
        assert CATALOGUE.resolve(name) is ctype
        assert name in CATALOGUE
    assert ctype.vct == f"https://honnin.example/vct/{ctype.id}/v1"
    assert ctype.doctype == f"example.honnin.{ctype.id.replace('-', '_')}.1"
    assert ctype.namespaces[0] == ctype.doctype
    assert repr(ctype).startswith("CredentialType(id=")


@pytest.mark.parametrize(
    ("lookup", "name"),
    [
        ("get", "withholding_slip"),
        ("by_vct", "https://honnin.example/vct/x/v1"),
        ("by_doctype", "org.iso.18013.5.1.mDL"),
        ("resolve", "nope"),
    ],
)
def test_unknown_type(lookup: str, name: str) -> None:
    with pytest.raises(UnknownCredentialType):
        getattr(CATALOGUE, lookup)(name)
    assert CATALOGUE.find(name) is None
    assert name not in CATALOGUE


def test_names_and_labels_in_both_languages(ctype: CredentialType) -> None:
    assert ctype.name("ja") != ctype.name("en")
    assert ctype.name("ja-JP") == ctype.name("ja")
    assert ctype.description("en")
    for claim in ctype.claims:
        assert set(claim.labels) == {"ja", "en"}, claim.path
        assert claim.labels["ja"] and claim.labels["en"]
        assert ctype.label(claim.path, "ja") == claim.labels["ja"]
        assert ctype.label(claim.path, "en") == claim.labels["en"]


def test_every_schema_claim_has_metadata(ctype: CredentialType) -> None:
    metadata_paths = {c.path for c in ctype.claims}
    schema_paths = set(_schema_paths(ctype.claims_schema()))
    assert schema_paths == metadata_paths


def test_label_with_concrete_index_and_unknown_path() -> None:
    slip = CATALOGUE.get("withholding-slip")
    assert slip.label(("payment_amount",)) == "支払金額"
    assert slip.label(("dependents", 0, "name"), "en") == "Name"
    with pytest.raises(SchemaViolation) as info:
        slip.label(("salary",))
    assert info.value.path == ["salary"]


def test_type_metadata_follows_sd_jwt_vc(ctype: CredentialType) -> None:
    metadata = ctype.type_metadata()
    assert metadata["vct"] == ctype.vct
    assert {d["locale"] for d in metadata["display"]} == {"ja", "en"}
    for claim in metadata["claims"]:
        assert claim["sd"] in ("always", "allowed", "never")
        assert isinstance(claim["mandatory"], bool)
    metadata["vct"] = "changed"
    assert ctype.type_metadata()["vct"] == ctype.vct


def test_vct_integrity_is_sri_of_the_metadata_file(ctype: CredentialType) -> None:
    raw = (spec_directory() / "types" / ctype.id / "type-metadata.json").read_bytes()
    expected = "sha256-" + base64.b64encode(hashlib.sha256(raw).digest()).decode()
    assert ctype.vct_integrity == expected


# -- SD policy and the My Number ---------------------------------------------------------------


def test_my_number_is_always_sd_and_explicit_only() -> None:
    slip = CATALOGUE.get("withholding-slip")
    entry = slip.claim(("my_number",))
    assert entry is not None and entry.sd == "always" and entry.explicit_request_only
    assert slip.explicit_request_only == {("my_number",)}
    assert ("my_number",) in slip.always_disclosable
    assert ("my_number",) in slip.disclosable_paths(slip.sample_claims())
    record = CATALOGUE.get("resident-record")
    assert record.explicit_request_only == {("my_number",), ("resident_code",)}
    assert slip.mdoc.element_for(("my_number",)) == ("example.honnin.my_number.1", "my_number")


def test_disclosable_paths_leave_never_claims_in_plaintext(ctype: CredentialType) -> None:
    claims = ctype.sample_claims()
    paths = ctype.disclosable_paths(claims)
    assert paths, ctype.id
    for path in paths:
        entry = ctype.claim(path)
        assert entry is not None and entry.sd != "never"
    for pattern in ctype.never_disclosable:
        assert pattern not in paths
    # Parents come before their children (issuers build recursive disclosures from this).
    for i, path in enumerate(paths):
        assert all(paths.index(path[:n]) < i for n in range(1, len(path)) if path[:n] in paths)


def test_array_elements_are_disclosable_one_by_one() -> None:
    record = CATALOGUE.get("resident-record")
    paths = record.disclosable_paths(record.sample_claims())
    assert ("household_members", 0) in paths and ("household_members", 1) in paths
    assert ("household_members", 0, "name") not in paths


def test_tax_year_is_never_sd() -> None:
    slip = CATALOGUE.get("withholding-slip")
    assert ("tax_year",) in slip.never_disclosable
    assert ("tax_year",) not in slip.disclosable_paths(slip.sample_claims())


def test_check_disclosure_policy() -> None:
    slip = CATALOGUE.get("withholding-slip")
    slip.check_disclosure(plaintext=[("tax_year",)], disclosed=[("my_number",), ("payer", "name")])
    with pytest.raises(SchemaViolation) as info:
        slip.check_disclosure(plaintext=[("my_number",)], disclosed=[])
    assert info.value.path == ["my_number"] and info.value.rule == "sd"
    with pytest.raises(SchemaViolation) as info:
        slip.check_disclosure(plaintext=[], disclosed=[("tax_year",)])
    assert info.value.path == ["tax_year"]


# -- schema validation ---------------------------------------------------------------------------


def test_every_sample_validates(ctype: CredentialType) -> None:
    sample = ctype.sample_claims()
    ctype.validate(sample)
    jsonschema.Draft202012Validator(ctype.claims_schema()).validate(sample)
    sample["extra"] = 1
    assert "extra" not in ctype.sample_claims()


def test_missing_mandatory_claim(ctype: CredentialType) -> None:
    claims = ctype.sample_claims()
    mandatory = next(c.path[0] for c in ctype.claims if len(c.path) == 1 and c.mandatory)
    del claims[mandatory]
    with pytest.raises(SchemaViolation) as info:
        ctype.validate(claims)
    assert info.value.path == [mandatory]
    assert info.value.rule == "required"
    assert info.value.credential_type == ctype.id
    ctype.validate(claims, partial=True)  # undisclosed is not missing (SD-JWT VC §5.7)


def test_wrong_type(ctype: CredentialType) -> None:
    claims = ctype.sample_claims()
    name = next(k for k, v in claims.items() if isinstance(v, str))
    claims[name] = 12345
    with pytest.raises(SchemaViolation) as info:
        ctype.validate(claims)
    assert info.value.path == [name]
    assert info.value.rule == "type"
    with pytest.raises(SchemaViolation):
        ctype.validate(claims, partial=True)


def test_unknown_claim_is_refused(ctype: CredentialType) -> None:
    claims = ctype.sample_claims() | {"favourite_colour": "blue"}
    with pytest.raises(SchemaViolation) as info:
        ctype.validate(claims)
    assert info.value.path == ["favourite_colour"]
    assert info.value.rule == "additionalProperties"


def test_nested_missing_and_unknown_claims() -> None:
    slip = CATALOGUE.get("withholding-slip")
    claims = slip.sample_claims()
    del claims["payer"]["name"]
    with pytest.raises(SchemaViolation) as info:
        slip.validate(claims)
    assert info.value.path == ["payer", "name"]
    claims = slip.sample_claims()
    claims["dependents"][0]["my_number"] = "123456789018"
    with pytest.raises(SchemaViolation) as info:
        slip.validate(claims)
    assert info.value.path == ["dependents", 0, "my_number"]


def test_bad_my_number_check_digit_is_refused_without_echoing_it() -> None:
    slip = CATALOGUE.get("withholding-slip")
    claims = slip.sample_claims() | {"my_number": "123456789012"}
    with pytest.raises(SchemaViolation) as info:
        slip.validate(claims)
    assert info.value.path == ["my_number"] and info.value.rule == "format"
    assert "123456789012" not in str(info.value)


def test_bad_corporate_number_and_impossible_date() -> None:
    slip = CATALOGUE.get("withholding-slip")
    claims = slip.sample_claims()
    claims["payer"]["corporate_number"] = "1999912345678"
    with pytest.raises(SchemaViolation) as info:
        slip.validate(claims)
    assert info.value.path == ["payer", "corporate_number"]
    claims = slip.sample_claims()
    claims["recipient"]["birth_date"] = "1990-02-30"
    with pytest.raises(SchemaViolation) as info:
        slip.validate(claims)
    assert info.value.path == ["recipient", "birth_date"]


def test_negative_amount_and_bool_for_integer() -> None:
    slip = CATALOGUE.get("withholding-slip")
    with pytest.raises(SchemaViolation) as info:
        slip.validate(slip.sample_claims() | {"payment_amount": -1})
    assert info.value.rule == "minimum"
    with pytest.raises(SchemaViolation) as info:
        slip.validate(slip.sample_claims() | {"withholding_tax": True})
    assert info.value.path == ["withholding_tax"]


def test_not_an_object() -> None:
    with pytest.raises(SchemaViolation) as info:
        CATALOGUE.get("tax-certificate").validate(["not", "claims"])
    assert info.value.path == []


def test_check_digits() -> None:
    assert is_individual_number("123456789018")
    assert not is_individual_number("123456789011")
    assert not is_individual_number("12345678901８")
    assert is_corporate_number("2999912345678")
    assert not is_corporate_number("299991234567")


def _mutations(value: Any) -> list[Any]:
    return ["", "x" * 600, -1, 0, 10**13, 1.5, True, None, [], {}, [value], {"k": value}]


def test_fast_path_never_accepts_what_jsonschema_refuses(ctype: CredentialType) -> None:
    reference = jsonschema.Draft202012Validator(
        ctype.claims_schema(), format_checker=jsonschema.FormatChecker()
    )
    sample = ctype.sample_claims()
    stack: list[tuple[Any, ...]] = [(k,) for k in sample]
    while stack:
        path = stack.pop()
        node = sample
        for step in path[:-1]:
            node = node[step]
        value = node[path[-1]]
        if isinstance(value, dict):
            stack += [(*path, k) for k in value]
        if isinstance(value, list):
            stack += [(*path, i) for i in range(len(value))]
        for mutated in _mutations(value):
            claims = copy.deepcopy(sample)
            target = claims
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = mutated
            try:
                ctype.validate(claims)
                accepted = True
            except SchemaViolation:
                accepted = False
            assert accepted == reference.is_valid(claims), (path, mutated)


# -- mdoc mapping -------------------------------------------------------------------------------


def test_mdoc_round_trip(ctype: CredentialType) -> None:
    sample = ctype.sample_claims()
    elements = ctype.to_mdoc(sample)
    assert set(elements) <= set(ctype.namespaces)
    assert ctype.from_mdoc(elements) == sample
    # Through real CBOR: dates travel as full-date (tag 1004).
    decoded = cbor2.loads(cbor2.dumps(elements))
    assert ctype.from_mdoc(decoded) == sample


def test_mdoc_dates_are_full_dates() -> None:
    slip = CATALOGUE.get("withholding-slip")
    elements = slip.to_mdoc(slip.sample_claims())
    value = elements["example.honnin.withholding_slip.1"]["recipient_birth_date"]
    assert value == date(1990, 5, 14)
    assert cbor2.dumps(value).startswith(b"\xd9\x03\xec")  # tag 1004
    record = CATALOGUE.get("resident-record")
    members = record.to_mdoc(record.sample_claims())[record.doctype]["household_members"]
    assert members[0]["birth_date"] == date(1988, 11, 2)


def test_mdoc_subset_and_lookups() -> None:
    slip = CATALOGUE.get("withholding-slip")
    ns = slip.doctype
    subset = {ns: {"payment_amount": 5000000, "payer_name": "株式会社サンプル商事"}}
    claims = slip.from_mdoc(subset)
    assert claims == {"payment_amount": 5000000, "payer": {"name": "株式会社サンプル商事"}}
    slip.validate(claims, partial=True)
    assert set(slip.mdoc_elements_for(("payer",))) == {
        (ns, "payer_name"),
        (ns, "payer_address"),
        (ns, "payer_corporate_number"),
        (ns, "payer_phone"),
    }
    assert slip.mdoc_elements_for(("dependents", 0, "name")) == [(ns, "dependents")]
    assert slip.mdoc_elements_for(("salary",)) == []
    assert slip.mdoc.path_for(ns, "payer_name") == ("payer", "name")


def test_mdoc_unknown_element() -> None:
    slip = CATALOGUE.get("withholding-slip")
    with pytest.raises(SchemaViolation) as info:
        slip.from_mdoc({slip.doctype: {"salary": 1}})
    assert info.value.rule == "mdoc_mapping"
    with pytest.raises(SchemaViolation):
        slip.from_mdoc({"org.iso.18013.5.1": {"family_name": "x"}})


def test_mdoc_value_without_json_form() -> None:
    slip = CATALOGUE.get("withholding-slip")
    with pytest.raises(SchemaViolation) as info:
        slip.from_mdoc({slip.doctype: {"remarks": b"\x00\x01"}})
    assert info.value.path == ["remarks"]
    with pytest.raises(SchemaViolation):
        slip.from_mdoc({slip.doctype: {"remarks": cbor2.CBORTag(999, "x")}})


def test_to_mdoc_refuses_unmapped_claims_and_bad_dates() -> None:
    slip = CATALOGUE.get("withholding-slip")
    with pytest.raises(SchemaViolation) as info:
        slip.to_mdoc(slip.sample_claims() | {"salary": 1})
    assert info.value.path == ["salary"]
    claims = slip.sample_claims()
    claims["recipient"]["birth_date"] = "14 May 1990"
    with pytest.raises(SchemaViolation):
        slip.to_mdoc(claims)


# -- loading hostile catalogues -----------------------------------------------------------------


def _copy_type(tmp_path: Path, type_id: str) -> Path:
    target = tmp_path / "types" / type_id
    shutil.copytree(spec_directory() / "types" / type_id, target)
    return target


def test_custom_catalogue_loads(tmp_path: Path) -> None:
    _copy_type(tmp_path, "national-qualification")
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.ids == ("national-qualification",)


def test_catalogue_with_a_missing_file(tmp_path: Path) -> None:
    folder = _copy_type(tmp_path, "national-qualification")
    (folder / "mdoc.json").unlink()
    with pytest.raises(MalformedInput):
        Catalogue.load(tmp_path)


def test_catalogue_with_a_bad_sd_value(tmp_path: Path) -> None:
    folder = _copy_type(tmp_path, "national-qualification")
    metadata = json.loads((folder / "type-metadata.json").read_text(encoding="utf-8"))
    metadata["claims"][0]["sd"] = "sometimes"
    (folder / "type-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(MalformedInput):
        Catalogue.load(tmp_path)


def test_catalogue_with_a_broken_schema(tmp_path: Path) -> None:
    folder = _copy_type(tmp_path, "national-qualification")
    (folder / "claims.schema.json").write_text('{"type": 12}', encoding="utf-8")
    with pytest.raises(MalformedInput):
        Catalogue.load(tmp_path)


def test_catalogue_with_duplicate_json_members(tmp_path: Path) -> None:
    folder = _copy_type(tmp_path, "national-qualification")
    (folder / "sample.json").write_text('{"a": 1, "a": 2}', encoding="utf-8")
    with pytest.raises(MalformedInput):
        Catalogue.load(tmp_path)


def test_public_api_is_pinned() -> None:
    import honnin.credential_types

    assert sorted(honnin.credential_types.__all__) == [
        "Catalogue",
        "ClaimMetadata",
        "ClaimPath",
        "CredentialType",
        "MdocElement",
        "MdocMapping",
        "SdPolicy",
        "is_corporate_number",
        "is_individual_number",
        "load_catalogue",
        "spec_directory",
    ]
