"""The forge for the hostile mdoc tests: a test PKI, and DeviceResponses whose MSO the test
document signer really signs, with any member changed."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import KeySigner, cose_key_from_public_key
from honnin.jose import generate_key
from honnin.mdoc import (
    IssuerSigned,
    issue_mdoc,
    openid4vp_session_transcript,
    present,
    verify_device_response,
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
