"""Issue -> present a subset -> verify, with a generated IACA-style PKI, for every credential
type in spec/ and for the options of the API."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import honnin.mdoc
import honnin.mdoc._issue
from honnin import cbor
from honnin.cose import CoseAlgorithm, KeySigner
from honnin.credential_types import load_catalogue
from honnin.errors import NoMatchingCredential
from honnin.jose import JwsAlgorithm, generate_key
from honnin.mdoc import (
    IssuerSigned,
    build_device_response,
    build_document,
    derive_emac_key,
    issue_mdoc,
    openid4vp_session_transcript,
    parse_issuer_signed,
    present,
    verify_device_response,
    verify_issuer_signed,
)
from honnin.status import StatusReference
from honnin.trust import TestPki, make_test_pki

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NS = "org.iso.18013.5.1"
DOCTYPE = "org.iso.18013.5.1.mDL"
TRANSCRIPT = openid4vp_session_transcript(
    "x509_san_dns:verifier.example", "n-0S6_WzA2Mj", "https://verifier.example/response"
)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(["Example DMV"], now=NOW - timedelta(days=1))


def _issue(
    pki: TestPki, holder: object, claims: dict[str, object], **kwargs: object
) -> IssuerSigned:
    issuer = pki.issuer("Example DMV")
    options: dict[str, object] = {
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=30),
        "signed": NOW,
    }
    options.update(kwargs)
    return issue_mdoc(
        DOCTYPE,
        {NS: claims},
        issuer.private_key,
        list(issuer.chain),
        holder.public_key(),  # type: ignore[attr-defined]
        **options,  # type: ignore[arg-type]
    )


CLAIMS = {f"element_{n}": f"value {n}" for n in range(20)}


def test_public_api_is_pinned() -> None:
    assert set(honnin.mdoc.__all__) == {
        "CLOCK_SKEW", "DEFAULT_DIGEST_ALGORITHMS", "MAX_DEVICE_RESPONSE_SIZE",
        "MAX_ISSUER_SIGNED_SIZE", "Document", "IssuerSigned", "IssuerSignedItem",
        "MobileSecurityObject", "SessionTranscript", "ValidityInfo", "VerifiedDeviceResponse",
        "VerifiedIssuerSigned", "VerifiedMdoc", "build_device_response", "build_document",
        "derive_emac_key", "device_authentication_bytes", "issue_mdoc",
        "openid4vp_dc_api_handover_info", "openid4vp_dc_api_session_transcript",
        "openid4vp_handover", "openid4vp_handover_info", "openid4vp_session_transcript",
        "parse_issuer_signed", "present", "verify_device_response", "verify_device_signed",
        "verify_issuer_signed",
    }  # fmt: skip


def test_issue_present_subset_verify(pki: TestPki) -> None:
    holder = generate_key()
    mdoc = _issue(pki, holder, CLAIMS)
    chosen = ["element_3", "element_17", "element_0", "element_9", "element_11"]
    response = present(mdoc.encode(), holder, TRANSCRIPT, elements={NS: chosen})
    result = verify_device_response(
        response, trust_anchors=[pki.root.certificate], session_transcript=TRANSCRIPT, now=NOW
    )
    (document,) = result.documents
    assert document.doctype == DOCTYPE
    assert document.elements == {NS: {name: CLAIMS[name] for name in chosen}}
    assert document.device_auth == "deviceSignature"
    assert document.chain.leaf == pki.issuer("Example DMV").certificate
    assert document.issuer_algorithm is CoseAlgorithm.ES256
    assert document.device_key == holder.public_key()
    # Only the chosen items travel.
    sent = cbor.decode(response)["documents"][0]["issuerSigned"]["nameSpaces"][NS]
    assert len(sent) == len(chosen)


def test_issued_items_have_fresh_salts_and_random_digest_ids(pki: TestPki) -> None:
    holder = generate_key()
    first = _issue(pki, holder, CLAIMS).unverified_items()[NS]
    second = _issue(pki, holder, CLAIMS).unverified_items()[NS]
    ids = [item.digest_id for item in first]
    assert len(set(ids)) == len(ids) == 20
    assert ids != sorted(ids) or ids != list(range(min(ids), min(ids) + 20))
    assert max(ids) > 20  # not 0..19
    assert not {item.digest_id for item in first} & {item.digest_id for item in second}
    salts = [item.random for item in first + second]
    assert all(len(s) == 32 for s in salts) and len(set(salts)) == len(salts)


def test_digest_ids_stay_unique_when_the_random_draw_collides(
    pki: TestPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.urandom
    draws: list[int] = []

    def colliding(size: int) -> bytes:
        draws.append(size)
        if len(draws) == 1:
            # Three equal IDs (the top bit is masked off), then three real salts.
            return b"\x80\x00\x12\x34" * 2 + b"\x00\x00\x12\x34" + real(size - 12)
        return real(size)

    monkeypatch.setattr(honnin.mdoc._issue.os, "urandom", colliding)
    mdoc = _issue(pki, generate_key(), {"a": 1, "b": 2, "c": 3})
    monkeypatch.undo()
    ids = [item.digest_id for item in mdoc.unverified_items()[NS]]
    assert ids[0] == 0x1234 and len(set(ids)) == 3 and len(draws) >= 3
    assert sorted(mdoc.unverified_mso().value_digests[NS]) == sorted(ids)
    verified = verify_issuer_signed(mdoc, trust_anchors=[pki.root.certificate], now=NOW)
    assert verified.elements == {NS: {"a": 1, "b": 2, "c": 3}}


def test_mso_digests_are_ordered_by_id_and_decoys_hide_the_count(pki: TestPki) -> None:
    mdoc = _issue(pki, generate_key(), {"a": 1, "b": 2}, decoys=5)
    mso = mdoc.unverified_mso()
    ids = list(mso.value_digests[NS])
    assert len(ids) == 7 and ids == sorted(ids)
    verified = verify_issuer_signed(mdoc, trust_anchors=[pki.root.certificate], now=NOW)
    assert verified.elements == {NS: {"a": 1, "b": 2}}


def test_issuer_signed_bytes_round_trip(pki: TestPki) -> None:
    mdoc = _issue(pki, generate_key(), CLAIMS)
    parsed = parse_issuer_signed(mdoc.encode())
    assert parsed.encode() == mdoc.encode()
    assert parsed.unverified_mso().doctype == DOCTYPE


def test_device_response_written_directly_equals_the_generic_encoding(pki: TestPki) -> None:
    holder = generate_key()
    mdoc = _issue(pki, holder, CLAIMS)
    documents = [
        build_document(mdoc, TRANSCRIPT, device_signer=holder, elements={NS: ["element_3"]}),
        build_document(mdoc, TRANSCRIPT, device_signer=holder, elements={NS: []}),
        build_document(mdoc, TRANSCRIPT, emac_key=b"k" * 32),
    ]
    expected = cbor.encode(
        {
            "version": "1.0",
            "documents": [document.to_cbor_value() for document in documents],
            "status": 0,
        }
    )
    assert build_device_response(documents) == expected
    for document in documents:
        assert document.encode() == cbor.encode(document.to_cbor_value())


def test_status_reference_in_the_mso(pki: TestPki) -> None:
    status = StatusReference(uri="https://status.example/lists/1", idx=4711)
    mdoc = _issue(pki, generate_key(), {"a": 1}, status=status)
    verified = verify_issuer_signed(mdoc.encode(), trust_anchors=[pki.root.certificate], now=NOW)
    assert verified.status == status
    raw_mso = cbor.decode(cbor.unwrap_tag24(mdoc.issuer_auth.payload) or b"")
    assert raw_mso["status"] == {"status_list": {"idx": 4711, "uri": status.uri}}


def test_typed_values_round_trip(pki: TestPki) -> None:
    holder = generate_key()
    claims = {
        "birth_date": datetime(1990, 5, 17, tzinfo=UTC).date(),
        "issued_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "portrait": b"\xff\xd8" * 500,
        "age_over_18": True,
        "height": 170,
        "driving_privileges": [{"vehicle_category_code": "B"}],
        "nothing": None,
    }
    mdoc = _issue(pki, holder, claims)
    response = present(mdoc, holder, TRANSCRIPT)
    result = verify_device_response(
        response, trust_anchors=[pki.root.certificate], session_transcript=TRANSCRIPT, now=NOW
    )
    assert result.documents[0].elements[NS] == claims


@pytest.mark.parametrize("alg", [JwsAlgorithm.ES384, JwsAlgorithm.ES512, JwsAlgorithm.EDDSA])
def test_device_keys_of_other_algorithms(pki: TestPki, alg: JwsAlgorithm) -> None:
    holder = generate_key(alg)
    response = present(_issue(pki, holder, {"a": 1}), holder, TRANSCRIPT)
    result = verify_device_response(
        response, trust_anchors=[pki.root.certificate], session_transcript=TRANSCRIPT, now=NOW
    )
    assert result.documents[0].device_key == holder.public_key()


def test_device_signing_through_a_signer(pki: TestPki) -> None:
    holder = generate_key()
    calls: list[bytes] = []

    class SecureStore:
        algorithm = CoseAlgorithm.ES256

        def sign(self, data: bytes) -> bytes:
            calls.append(data)
            return KeySigner(holder).sign(data)

    response = present(_issue(pki, holder, {"a": 1}), SecureStore(), TRANSCRIPT)
    verify_device_response(
        response, trust_anchors=[pki.root.certificate], session_transcript=TRANSCRIPT, now=NOW
    )
    assert len(calls) == 1


def test_device_mac_round_trip(pki: TestPki) -> None:
    holder = generate_key()
    assert isinstance(holder, ec.EllipticCurvePrivateKey)
    reader = ec.generate_private_key(ec.SECP256R1())
    mdoc = _issue(pki, holder, CLAIMS)
    emac = derive_emac_key(holder, reader.public_key(), TRANSCRIPT)
    document = build_document(mdoc, TRANSCRIPT, emac_key=emac, elements={NS: ["element_2"]})
    result = verify_device_response(
        build_device_response([document]),
        trust_anchors=[pki.root.certificate],
        session_transcript=TRANSCRIPT,
        reader_key=reader,
        now=NOW,
    )
    assert result.documents[0].device_auth == "deviceMac"
    assert result.documents[0].elements == {NS: {"element_2": "value 2"}}


def test_two_documents_in_one_response(pki: TestPki) -> None:
    first_key, second_key = generate_key(), generate_key()
    documents = [
        build_document(_issue(pki, first_key, {"a": 1}), TRANSCRIPT, device_signer=first_key),
        build_document(_issue(pki, second_key, {"b": 2}), TRANSCRIPT, device_signer=second_key),
    ]
    result = verify_device_response(
        build_device_response(documents),
        trust_anchors=[pki.root.certificate],
        session_transcript=TRANSCRIPT,
        now=NOW,
    )
    assert [d.elements[NS] for d in result.documents] == [{"a": 1}, {"b": 2}]


def test_selecting_an_absent_element(pki: TestPki) -> None:
    holder = generate_key()
    mdoc = _issue(pki, holder, {"a": 1})
    with pytest.raises(NoMatchingCredential):
        present(mdoc, holder, TRANSCRIPT, elements={NS: ["b"]})
    with pytest.raises(NoMatchingCredential):
        present(mdoc, holder, TRANSCRIPT, elements={"other.ns": ["a"]})


def test_issue_rejects_programmer_mistakes(pki: TestPki) -> None:
    holder = generate_key()
    with pytest.raises(ValueError):
        _issue(pki, holder, {"a": 1}, valid_from=NOW + timedelta(days=40))
    with pytest.raises(ValueError):
        _issue(pki, holder, {"a": 1}, digest_algorithm="MD5")
    with pytest.raises(ValueError):
        build_document(_issue(pki, holder, {"a": 1}), TRANSCRIPT)


@pytest.mark.parametrize("type_id", load_catalogue().ids)
def test_every_credential_type_round_trips(pki: TestPki, type_id: str) -> None:
    credential_type = load_catalogue().get(type_id)
    claims = credential_type.sample_claims()
    namespaces = credential_type.to_mdoc(claims)
    issuer = pki.issuer("Example DMV")
    holder = generate_key()
    mdoc = issue_mdoc(
        credential_type.doctype,
        namespaces,
        issuer.private_key,
        list(issuer.chain),
        holder.public_key(),
        valid_from=NOW,
        valid_until=NOW + timedelta(days=365),
        signed=NOW,
    )
    subset = {ns: list(elements)[:2] for ns, elements in namespaces.items()}
    response = present(mdoc.encode(), holder, TRANSCRIPT, elements=subset)
    result = verify_device_response(
        response,
        trust_anchors=[pki.root.certificate],
        session_transcript=TRANSCRIPT,
        now=NOW,
        expected_doctype=credential_type.doctype,
    )
    (document,) = result.documents
    assert document.elements == {
        ns: {name: namespaces[ns][name] for name in names} for ns, names in subset.items()
    }
    # Everything disclosed maps back to the credential type's claims.
    full = verify_issuer_signed(mdoc, trust_anchors=[pki.root.certificate], now=NOW)
    assert credential_type.from_mdoc(full.elements) == claims
