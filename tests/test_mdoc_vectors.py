"""ISO/IEC 18013-5 Annex D and the OpenID4VP 1.0 Appendix B.2.6 transcripts, byte for byte."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from vectors import load_json, vector_path

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import (
    CoseAlgorithm,
    certificates_of,
    parse_sign1,
    public_key_from_cose_key,
    verify_sign1,
)
from honnin.errors import (
    Expired,
    InvalidKeyBinding,
    InvalidSignature,
    MalformedCbor,
    UntrustedIssuer,
)
from honnin.mdoc import (
    SessionTranscript,
    derive_emac_key,
    device_authentication_bytes,
    openid4vp_dc_api_handover_info,
    openid4vp_dc_api_session_transcript,
    openid4vp_handover,
    openid4vp_handover_info,
    openid4vp_session_transcript,
    verify_device_response,
)

ANNEX_D = load_json("mdoc", "iso18013-5-annex-d.json")
HEX = ANNEX_D["hex"]
EXPECTED = ANNEX_D["expected"]
INSIDE_VALIDITY = datetime(2021, 3, 1, tzinfo=UTC)
DEVICE_RESPONSE = bytes.fromhex(HEX["device_response"])
TRANSCRIPT = SessionTranscript.from_bytes(bytes.fromhex(HEX["session_transcript_bytes"]))
READER_KEY = ec.derive_private_key(int(HEX["ephemeral_reader_key_d"], 16), ec.SECP256R1())
IACA = x509.load_pem_x509_certificate(vector_path("mdoc", "annex-d-iaca-utopia.pem").read_bytes())


def _verify(**overrides: Any) -> Any:
    options: dict[str, Any] = {
        "trust_anchors": [IACA],
        "session_transcript": TRANSCRIPT,
        "reader_key": READER_KEY,
        "now": INSIDE_VALIDITY,
    }
    options.update(overrides)
    return verify_device_response(DEVICE_RESPONSE, **options)


def test_annex_d_verifies_inside_its_validity() -> None:
    result = _verify()
    (document,) = result.documents
    assert document.doctype == "org.iso.18013.5.1.mDL"
    assert document.device_auth == "deviceMac"
    assert document.chain.anchor == IACA
    assert document.chain.leaf.subject.rfc4514_string() == "C=US,CN=utopia ds"
    elements = document.elements["org.iso.18013.5.1"]
    disclosed = EXPECTED["issuer_signed_items_disclosed"]
    assert list(elements) == [item["elementIdentifier"] for item in disclosed]
    assert elements["family_name"] == "Doe"
    assert elements["document_number"] == "123456789"
    assert elements["issue_date"].isoformat() == "2019-10-20"
    assert len(elements["portrait"]) == 1042
    assert elements["portrait"] == bytes.fromhex(HEX["device_response_portrait_data"])
    assert elements["driving_privileges"][1]["vehicle_category_code"] == "B"
    assert document.validity.valid_until == datetime(2021, 10, 1, 13, 30, 2, tzinfo=UTC)
    assert document.digest_algorithm == "SHA-256"


def test_annex_d_is_expired_today() -> None:
    with pytest.raises(Expired):
        _verify(now=None)


def test_annex_d_after_ds_but_before_mso_expiry_is_expired() -> None:
    # The DS certificate ends 2021-10-01T00:00Z, the MSO 13:30 the same day.
    with pytest.raises(Expired):
        _verify(now=datetime(2021, 10, 1, 6, tzinfo=UTC))


def test_annex_d_with_another_anchor_is_untrusted() -> None:
    reader_root = x509.load_pem_x509_certificate(
        vector_path("mdoc", "annex-d-reader-root.pem").read_bytes()
    )
    with pytest.raises(UntrustedIssuer):
        _verify(trust_anchors=[reader_root])


def test_annex_d_without_the_reader_key() -> None:
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(reader_key=None)
    assert info.value.reason == "missing"


def test_annex_d_with_another_reader_key() -> None:
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(reader_key=ec.generate_private_key(ec.SECP256R1()))
    assert info.value.reason == "signature"


def test_annex_d_over_another_transcript() -> None:
    other = openid4vp_session_transcript("x509_san_dns:example.com", "n", "https://e.example/r")
    with pytest.raises(InvalidKeyBinding):
        _verify(session_transcript=other)


def test_annex_d_digests_over_the_received_items() -> None:
    document = cbor.decode(DEVICE_RESPONSE)["documents"][0]
    items = document["issuerSigned"]["nameSpaces"]["org.iso.18013.5.1"]
    for item, expected in zip(items, EXPECTED["issuer_signed_items_disclosed"], strict=True):
        assert hashlib.sha256(item.tagged).hexdigest() == expected["digest_sha256_of_tag24_item"]


def test_annex_d_device_authentication_bytes_and_emac_key() -> None:
    document = cbor.decode(DEVICE_RESPONSE)["documents"][0]
    namespaces = document["deviceSigned"]["nameSpaces"]
    built = device_authentication_bytes(TRANSCRIPT, document["docType"], namespaces)
    assert built.hex() == EXPECTED["device_auth"]["device_authentication_bytes_hex"]
    mso = cbor.decode(bytes.fromhex(EXPECTED["mso"]["mso_bytes_hex"]))
    device_key = public_key_from_cose_key(mso["deviceKeyInfo"]["deviceKey"])
    assert isinstance(device_key, ec.EllipticCurvePublicKey)
    assert (
        derive_emac_key(READER_KEY, device_key, TRANSCRIPT).hex()
        == (EXPECTED["device_auth"]["emac_key_hex"])
    )
    # The mdoc side derives the same key from its static device key and the reader's.
    device_private = ec.derive_private_key(int(HEX["static_device_key_d"], 16), ec.SECP256R1())
    assert derive_emac_key(device_private, READER_KEY.public_key(), TRANSCRIPT) == (
        derive_emac_key(READER_KEY, device_key, TRANSCRIPT)
    )


def test_annex_d_session_transcript_round_trips() -> None:
    assert TRANSCRIPT.tagged.hex() == HEX["session_transcript_bytes"]
    assert SessionTranscript.from_bytes(TRANSCRIPT.encoded) == TRANSCRIPT


def test_every_truncation_prefix_of_annex_d_is_malformed_cbor() -> None:
    for end in range(len(DEVICE_RESPONSE)):
        with pytest.raises(MalformedCbor):
            _verify_prefix(DEVICE_RESPONSE[:end])


def _verify_prefix(data: bytes) -> None:
    verify_device_response(
        data,
        trust_anchors=[IACA],
        session_transcript=TRANSCRIPT,
        reader_key=READER_KEY,
        now=INSIDE_VALIDITY,
    )


# -- OpenID4VP 1.0 Appendix B.2.6 --------------------------------------------------------------

TRANSCRIPTS = load_json("mdoc", "openid4vp-session-transcript.json")
THUMBPRINT = bytes.fromhex(TRANSCRIPTS["jwk_thumbprint_sha256_hex"])


def test_openid4vp_redirect_handover_byte_for_byte() -> None:
    case = TRANSCRIPTS["redirect_invocation"]
    inputs = case["inputs"]
    args = (inputs["client_id"], inputs["nonce"], inputs["response_uri"])
    assert (
        openid4vp_handover_info(*args, jwk_thumbprint=THUMBPRINT).hex()
        == (case["OpenID4VPHandoverInfo_hex"])
    )
    assert (
        cbor.encode(openid4vp_handover(*args, jwk_thumbprint=THUMBPRINT)).hex()
        == (case["OpenID4VPHandover_hex"])
    )
    transcript = openid4vp_session_transcript(*args, jwk_thumbprint=THUMBPRINT)
    assert transcript.encoded.hex() == case["SessionTranscript_hex"]


def test_openid4vp_thumbprint_from_the_encryption_jwk() -> None:
    case = TRANSCRIPTS["redirect_invocation"]
    inputs = case["inputs"]
    transcript = openid4vp_session_transcript(
        inputs["client_id"],
        inputs["nonce"],
        inputs["response_uri"],
        encryption_jwk=TRANSCRIPTS["encryption_jwk"],
    )
    assert transcript.encoded.hex() == case["SessionTranscript_hex"]


def test_openid4vp_dc_api_handover_byte_for_byte() -> None:
    case = TRANSCRIPTS["dc_api_invocation"]
    inputs = case["inputs"]
    info = openid4vp_dc_api_handover_info(
        inputs["origin"], inputs["nonce"], jwk_thumbprint=THUMBPRINT
    )
    assert info.hex() == case["OpenID4VPDCAPIHandoverInfo_hex"]
    transcript = openid4vp_dc_api_session_transcript(
        inputs["origin"], inputs["nonce"], jwk_thumbprint=THUMBPRINT
    )
    assert transcript.encoded.hex() == case["SessionTranscript_hex"]
    assert (
        cbor.encode(cbor.decode(transcript.encoded)[2]).hex()
        == (case["OpenID4VPDCAPIHandover_hex"])
    )


def test_unencrypted_response_has_a_null_thumbprint() -> None:
    info = cbor.decode(openid4vp_handover_info("x509_san_dns:a.example", "n", "https://a/r"))
    assert info == ["x509_san_dns:a.example", "n", None, "https://a/r"]


def test_both_thumbprint_forms_is_a_programmer_error() -> None:
    with pytest.raises(ValueError):
        openid4vp_session_transcript(
            "c", "n", "r", jwk_thumbprint=THUMBPRINT, encryption_jwk=TRANSCRIPTS["encryption_jwk"]
        )


# -- the rest of Annex D: reader authentication and engagement structures ---------------------


def test_annex_d_reader_auth_verifies_with_the_reader_certificate() -> None:
    message = parse_sign1(bytes.fromhex(HEX["reader_auth"]), require_tag=False)
    (reader,) = certificates_of(message)
    expected = x509.load_pem_x509_certificate(
        vector_path("mdoc", "annex-d-reader.pem").read_bytes()
    )
    assert reader == expected
    # ISO/IEC 18013-5 §9.1.4: ReaderAuthenticationBytes = #6.24(bstr .cbor
    # ["ReaderAuthentication", SessionTranscript, ItemsRequestBytes]), detached.
    items_request = EncodedCbor(bytes.fromhex(HEX["items_request"]))
    inner = (
        b"\x83" + cbor.encode("ReaderAuthentication") + TRANSCRIPT.encoded + items_request.tagged
    )
    verified = verify_sign1(
        message,
        reader.public_key(),
        detached_payload=EncodedCbor(inner).tagged,  # type: ignore[arg-type]
    )
    assert verified.alg is CoseAlgorithm.ES256
    with pytest.raises(InvalidSignature):
        verify_sign1(message, reader.public_key(), detached_payload=EncodedCbor(b"\xa0").tagged)  # type: ignore[arg-type]


def test_annex_d_device_request_and_engagement_decode_strictly() -> None:
    request = cbor.decode(bytes.fromhex(HEX["device_request"]))
    items = request["docRequests"][0]["itemsRequest"]
    assert items.content == bytes.fromhex(HEX["items_request"])
    assert items.decode()["docType"] == "org.iso.18013.5.1.mDL"
    engagement = cbor.decode(bytes.fromhex(HEX["device_engagement"]))
    assert engagement[0] == "1.0"
    e_device_key = cbor.decode(bytes.fromhex(HEX["e_device_key_bytes"]))
    assert engagement[1][1] == e_device_key
    key = public_key_from_cose_key(e_device_key.decode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.public_numbers().x == int(HEX["ephemeral_device_key_x"], 16)
    assert key.public_numbers().y == int(HEX["ephemeral_device_key_y"], 16)


def test_annex_d_document_signer_is_the_x5chain_certificate() -> None:
    document = cbor.decode(DEVICE_RESPONSE)["documents"][0]
    message = parse_sign1(document["issuerSigned"]["issuerAuth"], require_tag=False)
    pem = vector_path("mdoc", "annex-d-document-signer-utopia-ds.pem").read_bytes()
    assert certificates_of(message) == [x509.load_pem_x509_certificate(pem)]
    assert message.x5chain[0] == bytes.fromhex(HEX["ds_cert"])
