"""The trust list: loading, entitlements, restricted claims, serialisation, hostile documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from honnin.errors import (
    IssuerNotEntitled,
    MalformedInput,
    MalformedJson,
    TooLarge,
    UntrustedIssuer,
)
from honnin.trust import (
    TestPki,
    TrustList,
    certificate_sha256,
    certificates_to_pem,
    make_certificate,
    make_test_pki,
    validate_chain,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENTITLEMENTS = {
    "Example Corp": ["withholding-slip"],
    "Sakura Hospital": ["birth-certificate"],
}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(["Example Corp", "Sakura Hospital"], now=NOW)


@pytest.fixture(scope="module")
def trust(pki: TestPki) -> TrustList:
    return TrustList.load(pki.trust_list_document(ENTITLEMENTS))


def test_entitled_issuer_passes(pki: TestPki, trust: TrustList) -> None:
    verified = trust.validate_issuer(pki.issuer("Example Corp").chain, "withholding-slip", at=NOW)
    assert verified.leaf == pki.issuer("Example Corp").certificate
    assert "withholding-slip" in trust.entitled_types(verified)


def test_issuer_not_entitled_to_the_type(pki: TestPki, trust: TrustList) -> None:
    verified = validate_chain(pki.issuer("Example Corp").chain, trust.anchors, at=NOW)
    with pytest.raises(IssuerNotEntitled) as info:
        trust.check_entitlement(verified, "birth-certificate")
    assert info.value.credential_type == "birth-certificate"


def test_hospital_entitled_to_birth_certificate_only(pki: TestPki, trust: TrustList) -> None:
    chain = pki.issuer("Sakura Hospital").chain
    trust.validate_issuer(chain, "birth-certificate", at=NOW)
    with pytest.raises(IssuerNotEntitled):
        trust.validate_issuer(chain, "withholding-slip", at=NOW)


def test_entitlement_by_id_matches_vct_and_doctype(pki: TestPki, trust: TrustList) -> None:
    verified = validate_chain(pki.issuer("Example Corp").chain, trust.anchors, at=NOW)
    trust.check_entitlement(verified, "https://honnin.example/vct/withholding-slip/v1")
    trust.check_entitlement(verified, "example.honnin.withholding_slip.1")
    with pytest.raises(IssuerNotEntitled):
        trust.check_entitlement(verified, "https://honnin.example/vct/birth-certificate/v1")


def test_entitlement_written_as_vct(pki: TestPki) -> None:
    trust = TrustList.load(
        pki.trust_list_document(
            {"Example Corp": ["https://honnin.example/vct/withholding-slip/v1"]}
        )
    )
    verified = validate_chain(pki.issuer("Example Corp").chain, trust.anchors, at=NOW)
    trust.check_entitlement(verified, "withholding-slip")


def test_trusted_but_unlisted_issuer_is_not_entitled(pki: TestPki) -> None:
    unlisted = make_certificate(
        "Unlisted Corp",
        issuer=pki.root,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
    )
    trust = TrustList.load(pki.trust_list_document(ENTITLEMENTS))
    with pytest.raises(IssuerNotEntitled):
        trust.validate_issuer(unlisted.chain, "withholding-slip", at=NOW)


def test_entitlement_through_an_issuing_ca_subject(pki: TestPki) -> None:
    ca = make_certificate(
        "Medical Association CA",
        issuer=pki.root,
        ca=True,
        path_length=0,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=300),
    )
    clinic = make_certificate(
        "Momo Clinic",
        issuer=ca,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
    )
    document = pki.trust_list_document({})
    document["issuers"] = [
        {
            "name": "Medical Association",
            "subject": ca.certificate.subject.rfc4514_string(),
            "credential_types": ["birth-certificate"],
        }
    ]
    trust = TrustList.load(document)
    verified = trust.validate_issuer(clinic.chain, "birth-certificate", at=NOW)
    assert len(verified.path) == 3
    with pytest.raises(IssuerNotEntitled):
        trust.check_entitlement(verified, "withholding-slip")


def test_entitlement_by_iss_url(pki: TestPki) -> None:
    document = pki.trust_list_document({})
    document["issuers"] = [
        {
            "name": "Example Corp",
            "iss": ["https://example-corp.issuer.honnin.example"],
            "credential_types": ["withholding-slip"],
        }
    ]
    trust = TrustList.load(document)
    trust.validate_issuer(pki.issuer("Example Corp").chain, "withholding-slip", at=NOW)


def test_untrusted_chain_is_refused_before_entitlement(trust: TrustList) -> None:
    stranger = make_certificate(
        "Example Corp",
        issuer=None,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
    )
    with pytest.raises(UntrustedIssuer):
        trust.validate_issuer(stranger.chain, "withholding-slip", at=NOW)


def test_empty_trust_list_trusts_nothing(pki: TestPki) -> None:
    trust = TrustList.load({"version": 1, "name": "empty"})
    with pytest.raises(UntrustedIssuer):
        trust.validate_issuer(pki.issuer("Example Corp").chain, "withholding-slip", at=NOW)


def test_verifier_and_registrar_anchors(pki: TestPki, trust: TrustList) -> None:
    assert trust.verifier_anchors == (pki.access_ca.certificate,)
    assert trust.registrar_anchors == (pki.registrar.certificate,)
    validate_chain(pki.verifier.chain, trust.verifier_anchors, at=NOW)
    validate_chain([pki.registrar.certificate], trust.registrar_anchors, at=NOW)


def test_restricted_claims(pki: TestPki) -> None:
    document = pki.trust_list_document(ENTITLEMENTS)
    document["restricted_claims"].append(
        {"path": ["child", "address"], "credential_types": ["birth-certificate"], "reason": "x"}
    )
    trust = TrustList.load(document)
    assert ("my_number",) in trust.restricted_claims("withholding-slip")
    assert ("child", "address") not in trust.restricted_claims("withholding-slip")
    assert ("child", "address") in trust.restricted_claims("birth-certificate")


def test_json_round_trip(trust: TrustList) -> None:
    again = TrustList.load(json.loads(trust.to_json()))
    assert again.to_dict() == trust.to_dict()
    assert again.anchors == trust.anchors
    assert repr(again).startswith("TrustList(name='honnin test trust framework'")


def test_load_from_file_and_bytes(tmp_path: Path, trust: TrustList) -> None:
    path = tmp_path / "trust-list.json"
    path.write_text(trust.to_json(), encoding="utf-8")
    assert TrustList.load(path).to_dict() == trust.to_dict()
    assert TrustList.load(str(path)).to_dict() == trust.to_dict()
    assert TrustList.load(path.read_bytes()).to_dict() == trust.to_dict()


def test_pki_write(tmp_path: Path, pki: TestPki) -> None:
    written = pki.write(tmp_path / "pki", ENTITLEMENTS)
    trust = TrustList.load(written["trust-list"])
    assert trust.anchors == (pki.root.certificate,)
    assert written["issuer-example-corp.key.pem"].stat().st_mode & 0o777 == 0o600
    jwk = json.loads(written["issuer-example-corp.jwk.json"].read_text())
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and "d" in jwk
    assert certificate_sha256(pki.issuer("Example Corp").certificate) in (
        trust.issuers[0].certificate_sha256
    )


# -- hostile documents ----------------------------------------------------------------------------


def _document(pki: TestPki) -> dict[str, Any]:
    return pki.trust_list_document(ENTITLEMENTS)


def test_unknown_top_level_member(pki: TestPki) -> None:
    document = _document(pki) | {"issuer": []}
    with pytest.raises(MalformedInput) as info:
        TrustList.load(document)
    assert info.value.field == "document"


def test_wrong_version(pki: TestPki) -> None:
    with pytest.raises(MalformedInput) as info:
        TrustList.load(_document(pki) | {"version": 2})
    assert info.value.field == "version"


def test_issuer_without_identifier(pki: TestPki) -> None:
    document = _document(pki)
    document["issuers"] = [{"name": "x", "credential_types": ["withholding-slip"]}]
    with pytest.raises(MalformedInput) as info:
        TrustList.load(document)
    assert info.value.field == "issuers[0]"


def test_issuer_without_types(pki: TestPki) -> None:
    document = _document(pki)
    document["issuers"][0]["credential_types"] = []
    with pytest.raises(MalformedInput):
        TrustList.load(document)


def test_bad_fingerprint(pki: TestPki) -> None:
    document = _document(pki)
    document["issuers"][0]["certificate_sha256"] = ["AB:CD"]
    with pytest.raises(MalformedInput):
        TrustList.load(document)


def test_bad_subject_name(pki: TestPki) -> None:
    document = _document(pki)
    document["issuers"][0]["subject"] = "not a name"
    with pytest.raises(MalformedInput):
        TrustList.load(document)


def test_bad_anchor_pem(pki: TestPki) -> None:
    document = _document(pki)
    document["anchors"][0]["certificate"] = (
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"
    )
    with pytest.raises(MalformedInput):
        TrustList.load(document)


def test_bad_restricted_path(pki: TestPki) -> None:
    document = _document(pki)
    document["restricted_claims"] = [{"path": [-1]}]
    with pytest.raises(MalformedInput):
        TrustList.load(document)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"version": 1, "version": 1}', encoding="utf-8")
    with pytest.raises(MalformedJson):
        TrustList.load(path)


def test_too_large(tmp_path: Path) -> None:
    with pytest.raises(TooLarge):
        TrustList.load(b" " * (4 * 1024 * 1024 + 1))


def test_anchor_pem_bundle_adds_every_certificate(pki: TestPki) -> None:
    document = _document(pki)
    document["anchors"][0]["certificate"] = certificates_to_pem(
        [pki.root.certificate, pki.access_ca.certificate]
    )
    assert len(TrustList.load(document).anchors) == 2
