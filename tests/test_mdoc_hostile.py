"""Hostile mdoc input: each case ends in its own typed error (HOSTILE-CASES PX-28..35, M1-M11)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import KeySigner, cose_key_from_public_key
from honnin.errors import (
    DigestMismatch,
    Expired,
    InvalidClaim,
    InvalidKeyBinding,
    InvalidSignature,
    MalformedCbor,
    MalformedCose,
    MalformedCredential,
    NotYetValid,
    TooLarge,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from honnin.jose import generate_key
from honnin.mdoc import (
    IssuerSigned,
    issue_mdoc,
    openid4vp_session_transcript,
    present,
    verify_device_response,
    verify_issuer_signed,
)
from honnin.mdoc._device_auth import device_signature
from honnin.trust import TestPki, make_test_pki

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NS = "org.iso.18013.5.1"
DOCTYPE = "org.iso.18013.5.1.mDL"
TRANSCRIPT = openid4vp_session_transcript("x509_san_dns:v.example", "nonce-1", "https://v/r")
HOLDER = generate_key()
CLAIMS = {"family_name": "Doe", "given_name": "Jane", "age_over_18": True}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(["Example DMV", "Other DMV"], now=NOW - timedelta(days=1))


def _issue(pki: TestPki, claims: dict[str, Any] = CLAIMS, **kwargs: Any) -> IssuerSigned:
    issuer = pki.issuer(kwargs.pop("issuer", "Example DMV"))
    options: dict[str, Any] = {
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=30),
        "signed": NOW,
    }
    options.update(kwargs)
    return issue_mdoc(
        kwargs.pop("doctype", DOCTYPE),
        {NS: claims},
        issuer.private_key,
        list(issuer.chain),
        HOLDER.public_key(),
        **options,
    )


def _verify(pki: TestPki, response: bytes, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "trust_anchors": [pki.root.certificate],
        "session_transcript": TRANSCRIPT,
        "now": NOW,
    }
    options.update(kwargs)
    return verify_device_response(response, **options)


def _response(pki: TestPki, **kwargs: Any) -> bytes:
    return present(_issue(pki, **kwargs), HOLDER, TRANSCRIPT)


def _edit(response: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Decode, let ``change`` edit the first Document, encode again."""
    value = cbor.decode(response)
    change(value["documents"][0])
    return cbor.encode(value)


def _item(digest_id: int, name: str, value: Any, salt: bytes | None = None) -> EncodedCbor:
    return EncodedCbor.of(
        {
            "digestID": digest_id,
            "random": salt if salt is not None else secrets.token_bytes(32),
            "elementIdentifier": name,
            "elementValue": value,
        }
    )


def _signed_response(
    pki: TestPki,
    mso_changes: dict[str, Any] | None = None,
    items: list[EncodedCbor] | None = None,
    *,
    protected: dict[int, Any] | None = None,
    unprotected: dict[int, Any] | None = None,
    payload: bytes | None = None,
    doctype: str = DOCTYPE,
) -> bytes:
    """A DeviceResponse whose issuerAuth the test document signer really signs, over an MSO
    with ``mso_changes`` applied (or over ``payload``), device-signed by the holder."""
    items = items if items is not None else [_item(1, "family_name", "Doe")]
    digests = {cbor.decode(i.content)["digestID"]: hashlib.sha256(i.tagged).digest() for i in items}
    mso: dict[str, Any] = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": {NS: digests},
        "deviceKeyInfo": {"deviceKey": cose_key_from_public_key(HOLDER)},
        "docType": DOCTYPE,
        "validityInfo": {"signed": NOW, "validFrom": NOW, "validUntil": NOW + timedelta(days=1)},
    }
    mso.update(mso_changes or {})
    issuer = pki.issuer("Example DMV")
    body = payload if payload is not None else EncodedCbor.of(mso).tagged
    prot = {1: -7} if protected is None else protected
    prot_bytes = cbor.encode(prot) if prot else b""
    tbs = b"\x84\x6aSignature1" + cbor.encode(prot_bytes) + b"\x40" + cbor.encode(body)
    signature = KeySigner(issuer.private_key).sign(tbs)
    unprot = (
        {33: issuer.certificate.public_bytes(Encoding.DER)} if unprotected is None else unprotected
    )
    document = {
        "docType": doctype,
        "issuerSigned": {
            "nameSpaces": {NS: items},
            "issuerAuth": [prot_bytes, unprot, body, signature],
        },
        "deviceSigned": device_signature(HOLDER, TRANSCRIPT, doctype),
    }
    return cbor.encode({"version": "1.0", "documents": [document], "status": 0})


def test_the_crafting_helper_makes_a_valid_response(pki: TestPki) -> None:
    result = _verify(pki, _signed_response(pki))
    assert result.documents[0].elements == {NS: {"family_name": "Doe"}}


# -- element tampering ---------------------------------------------------------------------------


def test_element_value_changed(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        items = document["issuerSigned"]["nameSpaces"][NS]
        decoded = cbor.decode(items[0].content)
        decoded["elementValue"] = "Mallory"
        items[0] = EncodedCbor.of(decoded)

    with pytest.raises(DigestMismatch):
        _verify(pki, _edit(_response(pki), change))


def test_one_byte_flipped_in_an_item(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        items = document["issuerSigned"]["nameSpaces"][NS]
        content = bytearray(items[0].content)
        content[-1] ^= 0x01
        items[0] = EncodedCbor(bytes(content))

    with pytest.raises(DigestMismatch):
        _verify(pki, _edit(_response(pki), change))


def test_element_from_another_credential_spliced_in(pki: TestPki) -> None:
    other = _issue(pki, {"age_over_21": True})

    def change(document: dict[str, Any]) -> None:
        document["issuerSigned"]["nameSpaces"][NS].append(other.namespaces[NS][0])

    with pytest.raises(DigestMismatch):
        _verify(pki, _edit(_response(pki), change))


def test_item_relabelled_with_another_digest_id(pki: TestPki) -> None:
    first, second = _item(1, "family_name", "Doe"), _item(2, "given_name", "Jane")
    wrong = _item(2, "family_name", "Doe", salt=cbor.decode(first.content)["random"])
    digests = {1: hashlib.sha256(wrong.tagged).digest(), 2: hashlib.sha256(second.tagged).digest()}
    response = _signed_response(pki, {"valueDigests": {NS: digests}}, [wrong, second])
    with pytest.raises(DigestMismatch):
        _verify(pki, response)


def test_namespace_without_digests(pki: TestPki) -> None:
    item = _item(1, "family_name", "Doe")
    response = _signed_response(
        pki, {"valueDigests": {"other.ns": {1: hashlib.sha256(item.tagged).digest()}}}, [item]
    )
    with pytest.raises(DigestMismatch):
        _verify(pki, response)


def test_same_element_presented_twice(pki: TestPki) -> None:
    item = _item(1, "family_name", "Doe")
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, None, [item, item]))


def test_item_with_a_short_salt(pki: TestPki) -> None:
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, None, [_item(1, "a", 1, salt=b"\x00" * 15)]))


def test_item_with_an_extra_member(pki: TestPki) -> None:
    item = EncodedCbor.of(
        {"digestID": 1, "random": b"r" * 32, "elementIdentifier": "a", "elementValue": 1, "x": 0}
    )
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, None, [item]))


# -- docType ---------------------------------------------------------------------------------


def test_document_doctype_differs_from_the_mso(pki: TestPki) -> None:
    with pytest.raises(MalformedCredential) as info:
        _verify(pki, _signed_response(pki, doctype="org.example.other"))
    assert info.value.reason == "doctype"


def test_document_doctype_changed_after_signing(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        document["docType"] = "org.example.other"

    with pytest.raises(MalformedCredential):
        _verify(pki, _edit(_response(pki), change))


def test_unexpected_doctype(pki: TestPki) -> None:
    with pytest.raises(InvalidClaim):
        _verify(pki, _response(pki), expected_doctype="org.example.other")


# -- device authentication ---------------------------------------------------------------------


def test_device_signature_by_another_key(pki: TestPki) -> None:
    response = present(_issue(pki), generate_key(), TRANSCRIPT)
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(pki, response)
    assert info.value.reason == "signature"


def test_device_signature_over_another_transcript(pki: TestPki) -> None:
    other = openid4vp_session_transcript("x509_san_dns:v.example", "nonce-2", "https://v/r")
    response = present(_issue(pki), HOLDER, other)
    with pytest.raises(InvalidKeyBinding):
        _verify(pki, response)


def test_device_signature_for_another_client(pki: TestPki) -> None:
    other = openid4vp_session_transcript("x509_san_dns:evil.example", "nonce-1", "https://v/r")
    with pytest.raises(InvalidKeyBinding):
        _verify(pki, present(_issue(pki), HOLDER, other))


def test_device_signature_with_an_attached_payload(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        document["deviceSigned"]["deviceAuth"]["deviceSignature"][2] = b"payload"

    with pytest.raises(MalformedCose):
        _verify(pki, _edit(_response(pki), change))


def test_device_auth_missing(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        document["deviceSigned"]["deviceAuth"] = {}

    with pytest.raises(InvalidKeyBinding) as info:
        _verify(pki, _edit(_response(pki), change))
    assert info.value.reason == "missing"


def test_device_mac_without_a_reader_key(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        auth = document["deviceSigned"]["deviceAuth"]
        protected, unprotected, _, _ = auth.pop("deviceSignature")
        auth["deviceMac"] = [cbor.encode({1: 5}), unprotected, None, b"t" * 32]
        del protected

    with pytest.raises(InvalidKeyBinding):
        _verify(pki, _edit(_response(pki), change))


def test_device_signed_elements_are_refused(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        document["deviceSigned"]["nameSpaces"] = EncodedCbor.of({NS: {"extra": 1}})

    with pytest.raises(MalformedCredential):
        _verify(pki, _edit(_response(pki), change))


# -- validity and trust ----------------------------------------------------------------------


def test_expired_validity_info(pki: TestPki) -> None:
    response = _response(
        pki, valid_from=NOW - timedelta(days=20), valid_until=NOW - timedelta(days=10),
        signed=NOW - timedelta(hours=20),
    )  # fmt: skip
    with pytest.raises(Expired):
        _verify(pki, response)


def test_not_yet_valid_validity_info(pki: TestPki) -> None:
    response = _response(
        pki, valid_from=NOW + timedelta(days=2), valid_until=NOW + timedelta(days=9)
    )
    with pytest.raises(NotYetValid):
        _verify(pki, response)


def test_valid_from_after_valid_until(pki: TestPki) -> None:
    validity = {"signed": NOW, "validFrom": NOW + timedelta(days=2), "validUntil": NOW}
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, {"validityInfo": validity}))


def test_signed_before_the_document_signer_was_valid(pki: TestPki) -> None:
    validity = {
        "signed": NOW - timedelta(days=400),
        "validFrom": NOW - timedelta(days=1),
        "validUntil": NOW + timedelta(days=1),
    }
    with pytest.raises(NotYetValid):
        _verify(pki, _signed_response(pki, {"validityInfo": validity}))


def test_validity_that_is_not_a_tdate(pki: TestPki) -> None:
    validity = {"signed": "2026-11-26", "validFrom": NOW, "validUntil": NOW}
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, {"validityInfo": validity}))


def test_untrusted_chain(pki: TestPki) -> None:
    with pytest.raises(UntrustedIssuer):
        _verify(pki, _response(pki), trust_anchors=[pki.access_ca.certificate])


def test_chain_from_an_impostor_root_with_the_same_name(pki: TestPki) -> None:
    impostor = make_test_pki(["Example DMV"], now=NOW - timedelta(days=1))
    with pytest.raises(InvalidSignature):
        _verify(pki, _response(impostor))


def test_no_trust_anchors(pki: TestPki) -> None:
    with pytest.raises(UntrustedIssuer):
        _verify(pki, _response(pki), trust_anchors=[])


def test_issuer_auth_without_x5chain(pki: TestPki) -> None:
    with pytest.raises(MalformedCose):
        _verify(pki, _signed_response(pki, unprotected={}))


def test_issuer_auth_signed_by_another_key(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        other = _issue(pki, issuer="Other DMV").issuer_auth
        document["issuerSigned"]["issuerAuth"][3] = other.signature

    with pytest.raises(InvalidSignature):
        _verify(pki, _edit(_response(pki), change))


# -- algorithms ------------------------------------------------------------------------------


def test_alg_only_in_the_unprotected_header(pki: TestPki) -> None:
    issuer = pki.issuer("Example DMV")
    response = _signed_response(
        pki, protected={}, unprotected={1: -7, 33: issuer.certificate.public_bytes(Encoding.DER)}
    )
    with pytest.raises(UnsupportedAlgorithm):
        _verify(pki, response)


def test_alg_does_not_match_the_document_signer_key(pki: TestPki) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        _verify(pki, _signed_response(pki, protected={1: -35}))


def test_alg_outside_the_allow_list(pki: TestPki) -> None:
    from honnin.cose import CoseAlgorithm

    with pytest.raises(UnsupportedAlgorithm):
        _verify(pki, _response(pki), allowed=frozenset({CoseAlgorithm.EDDSA}))


def test_digest_algorithm_not_allowed(pki: TestPki) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        _verify(pki, _response(pki), digest_algorithms=frozenset({"SHA-512"}))
    with pytest.raises(UnsupportedAlgorithm):
        _verify(pki, _signed_response(pki, {"digestAlgorithm": "MD5"}))


# -- CBOR and structure ----------------------------------------------------------------------


def test_missing_tag_24_around_an_item(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        items = document["issuerSigned"]["nameSpaces"][NS]
        items[0] = items[0].content

    with pytest.raises(MalformedCredential):
        _verify(pki, _edit(_response(pki), change))


def test_missing_tag_24_around_the_mso(pki: TestPki) -> None:
    mso_plain = cbor.encode({"version": "1.0"})
    with pytest.raises(MalformedCredential):
        _verify(pki, _signed_response(pki, payload=mso_plain))


def test_missing_tag_24_around_device_namespaces(pki: TestPki) -> None:
    def change(document: dict[str, Any]) -> None:
        document["deviceSigned"]["nameSpaces"] = {}

    with pytest.raises(MalformedCredential):
        _verify(pki, _edit(_response(pki), change))


def test_tag_24_around_a_non_bstr(pki: TestPki) -> None:
    response = _response(pki)
    index = response.index(b"\xd8\x18")
    hostile = response[:index] + b"\xd8\x18\x01" + response[index + 2 :]
    with pytest.raises(MalformedCbor):
        _verify(pki, hostile)


def test_indefinite_length_items(pki: TestPki) -> None:
    response = _response(pki)
    assert response[0] == 0xA3
    hostile = b"\xbf" + response[1:] + b"\xff"  # the top-level map made indefinite
    with pytest.raises(MalformedCbor):
        _verify(pki, hostile)


def test_unknown_tag(pki: TestPki) -> None:
    hostile = _edit(_response(pki), lambda d: d.update(errors=cbor2.CBORTag(99, 1)))
    with pytest.raises(MalformedCbor):
        _verify(pki, hostile)


def test_duplicate_doctype_keys(pki: TestPki) -> None:
    response = _response(pki)
    doc_start = response.index(b"\xa3\x67docType")
    dup = b"\xa4\x67docType" + cbor.encode("x") + response[doc_start + 1 :]
    with pytest.raises(MalformedCbor):
        _verify(pki, response[:doc_start] + dup)


def test_duplicate_digest_ids_in_the_mso(pki: TestPki) -> None:
    item = _item(1, "family_name", "Doe")
    digest = hashlib.sha256(item.tagged).digest()
    digests = b"\xa2" + (cbor.encode(1) + cbor.encode(digest)) * 2
    mso = (
        b"\xa6" + cbor.encode("version") + cbor.encode("1.0")
        + cbor.encode("digestAlgorithm") + cbor.encode("SHA-256")
        + cbor.encode("valueDigests") + b"\xa1" + cbor.encode(NS) + digests
        + cbor.encode("deviceKeyInfo")
        + cbor.encode({"deviceKey": cose_key_from_public_key(HOLDER)})
        + cbor.encode("docType") + cbor.encode(DOCTYPE)
        + cbor.encode("validityInfo")
        + cbor.encode({"signed": NOW, "validFrom": NOW, "validUntil": NOW + timedelta(days=1)})
    )  # fmt: skip
    with pytest.raises(MalformedCbor):
        _verify(pki, _signed_response(pki, payload=EncodedCbor(mso).tagged, items=[item]))


def test_nested_deeper_than_32(pki: TestPki) -> None:
    deep: Any = 0
    for _ in range(40):
        deep = [deep]
    value = cbor.decode(_response(pki))
    value["documentErrors"] = [deep]
    with pytest.raises(TooLarge):
        _verify(pki, cbor.encode(value))


def test_byte_string_over_the_size_limit(pki: TestPki) -> None:
    response = _response(pki, claims={"portrait": b"\x00" * (1024 * 1024)})
    with pytest.raises(TooLarge):
        _verify(pki, response)


def test_bstr_declaring_2_pow_32_bytes(pki: TestPki) -> None:
    response = _response(pki)
    hostile = response[:-40] + b"\x5b" + (2**32).to_bytes(8, "big") + b"x" * 10
    with pytest.raises(MalformedCbor):
        _verify(pki, hostile)


def test_device_response_status_not_ok(pki: TestPki) -> None:
    value = cbor.decode(_response(pki))
    value["status"] = 10
    with pytest.raises(MalformedCredential):
        _verify(pki, cbor.encode(value))


def test_device_response_without_documents(pki: TestPki) -> None:
    with pytest.raises(MalformedCredential):
        _verify(pki, cbor.encode({"version": "1.0", "documents": [], "status": 0}))


def test_every_truncation_prefix(pki: TestPki) -> None:
    response = _response(pki)
    for end in range(len(response)):
        with pytest.raises(MalformedCbor):
            _verify(pki, response[:end])


def test_issuer_signed_alone_is_checked_the_same_way(pki: TestPki) -> None:
    mdoc = _issue(pki)
    tampered = cbor.decode(mdoc.encode())
    tampered["nameSpaces"][NS][0] = _item(99, "family_name", "Mallory")
    with pytest.raises(DigestMismatch):
        verify_issuer_signed(cbor.encode(tampered), trust_anchors=[pki.root.certificate], now=NOW)
