"""Hostile mdoc input (1/2): tampered elements, docType, device authentication, validity and
trust; each case ends in its own typed error (HOSTILE-CASES M1-M8, VS-33)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from test_mdoc_forgery import (
    HOLDER,
    NOW,
    NS,
    TRANSCRIPT,
    _edit,
    _issue,
    _item,
    _response,
    _signed_response,
    _verify,
    pki,
)

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.errors import (
    DigestMismatch,
    Expired,
    InvalidClaim,
    InvalidKeyBinding,
    InvalidSignature,
    MalformedCose,
    MalformedCredential,
    NotYetValid,
    UntrustedIssuer,
)
from honnin.jose import generate_key
from honnin.mdoc import openid4vp_session_transcript, present
from honnin.trust import TestPki, make_test_pki

__all__ = ["pki"]  # the module-scoped fixture, shared


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
