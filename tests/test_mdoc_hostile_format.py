"""Hostile mdoc input (2/2): algorithms, CBOR and structure; each case ends in its own typed
error (HOSTILE-CASES PX-28..35, M10, M11)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_mdoc_forgery import (
    DOCTYPE,
    HOLDER,
    NOW,
    NS,
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
from honnin.cose import cose_key_from_public_key
from honnin.errors import (
    DigestMismatch,
    MalformedCbor,
    MalformedCredential,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.mdoc import parse_issuer_signed, verify_issuer_signed
from honnin.trust import TestPki

__all__ = ["pki"]  # the module-scoped fixture, shared


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


def test_too_many_documents(pki: TestPki) -> None:
    value = cbor.decode(_response(pki))
    value["documents"] = value["documents"] * 3
    with pytest.raises(TooLarge):
        _verify(pki, cbor.encode(value), max_documents=2)


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


def test_unverified_mso_of_a_received_credential_is_decoded_strictly(pki: TestPki) -> None:
    # A wallet reads the MSO's docType before it has verified the issuer's signature, so
    # that read must reject what the strict profile rejects: here one non-preferred length.
    mdoc = _issue(pki)
    value = cbor.decode(mdoc.encode())
    payload = value["issuerAuth"][2]
    content = cbor.unwrap_tag24(payload)
    assert content is not None and content[0] == 0xA6  # a map of 6 pairs, preferred form
    sloppy = b"\xb8\x06" + content[1:]  # the same map with a one-byte length argument
    value["issuerAuth"][2] = EncodedCbor(sloppy).tagged
    hostile = parse_issuer_signed(cbor.encode(value))
    with pytest.raises(MalformedCbor):
        hostile.unverified_mso()
    assert mdoc.unverified_mso().doctype == DOCTYPE
