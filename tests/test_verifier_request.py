"""Presentation requests: the signed request object a wallet receives (OpenID4VP 1.0 §5),
checked with the wallet-side ``honnin.oid4vp`` parser so both ends agree on the wire."""

from __future__ import annotations

import hashlib
import io
import math
from collections import Counter
from typing import Any

import pytest
import zxingcpp
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from test_verifier_support import (
    Holder,
    issue_sd_jwt_vc,
    pki_at,
    present_sd_jwt,
    request_claims,
)

from honnin.clock import FixedClock, SystemClock
from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import InvalidRequest, NotFound
from honnin.oid4vp import (
    AuthorizationResponse,
    VpErrorResponse,
    parse_authorization_request_uri,
    parse_unverified_request_object,
    verify_request_object_signature,
)
from honnin.trust import TestPki
from verifier import Query, Verifier

SLIP = "withholding-slip"


@pytest.fixture
def pki() -> TestPki:
    return pki_at(SystemClock())


def _request(agency: Verifier, **options: Any) -> Any:
    return agency.request(Query.of(SLIP, "payment_amount"), purpose="benefit", **options)


def test_the_request_object_passes_the_wallet_side_checks(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    request = _request(agency)
    unverified = parse_unverified_request_object(request.request_object, client_id=agency.client_id)
    signed = verify_request_object_signature(unverified)  # response_uri host = SAN DNS
    assert signed.client_id.raw == "x509_san_dns:verifier.honnin.example"
    assert signed.leaf == agency.identity.certificate
    assert signed.request.response_mode == "direct_post.jwt"
    assert signed.request.client_metadata is not None
    assert signed.request.client_metadata.enc_values == ("A128GCM", "A256GCM")
    header = unverified.jws.header
    assert (header["alg"], header["typ"]) == ("ES256", "oauth-authz-req+jwt")
    # HAIP §5: the x5c chain leaves out the trust anchor (here the test access CA).
    assert len(header["x5c"]) == 1 and agency.certificate != agency.identity.certificate


def test_x509_hash_client_id_is_the_leaf_digest(pki: TestPki) -> None:
    agency = Verifier.create(
        "Hello Work", trust=[pki.root.certificate], client_id_prefix="x509_hash"
    )
    der = agency.identity.certificate.public_bytes(Encoding.DER)
    assert agency.client_id == "x509_hash:" + b64url_encode(hashlib.sha256(der).digest())
    request = _request(agency)
    signed = verify_request_object_signature(
        parse_unverified_request_object(request.request_object)
    )
    assert signed.client_id.raw == agency.client_id


def test_purpose_and_name_reach_the_wallet(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    claims = request_claims(_request(agency).request_object)
    assert claims["dcql_query"]["credential_sets"][0]["purpose"] == "benefit"
    assert claims["client_metadata"]["client_name"] == "Hello Work"
    assert claims["verifier_info"] == [
        {"format": "honnin_purpose", "data": {"name": "Hello Work", "purpose": "benefit"}}
    ]


def _entropy_bits(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) * len(value)


def test_every_request_has_fresh_nonce_state_and_key(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    seen: dict[str, set[str]] = {"nonce": set(), "state": set(), "x": set()}
    for _ in range(200):
        claims = request_claims(_request(agency).request_object)
        key = claims["client_metadata"]["jwks"]["keys"][0]
        for name, value in (("nonce", claims["nonce"]), ("state", claims["state"]),
                            ("x", key["x"])):  # fmt: skip
            assert value not in seen[name]
            seen[name].add(value)
        # VS-01 / conformance: ≥ 16 characters and well over 96 bits of entropy.
        assert len(b64url_decode(claims["nonce"])) == 32
        assert _entropy_bits(claims["nonce"]) > 96


def test_uri_by_value_and_by_reference(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    by_value = _request(agency)
    link = parse_authorization_request_uri(by_value.uri)
    assert link.request == by_value.request_object and link.client_id == agency.client_id
    by_reference = _request(
        agency, request_uri_base="https://verifier.honnin.example/request",
        request_uri_method="post",
    )  # fmt: skip
    link = parse_authorization_request_uri(by_reference.uri)
    assert link.request_uri == by_reference.request_uri
    assert link.request_uri_method == "post"
    png = Image.open(io.BytesIO(by_reference.qr_png()))
    assert [r.text for r in zxingcpp.read_barcodes(png, formats=zxingcpp.BarcodeFormat.QRCode)] == [
        by_reference.uri
    ]
    assert by_reference.qr_svg().startswith("<svg")
    assert "█" in by_reference.qr_text()


def test_the_request_object_is_served_until_answered_or_expired(pki: TestPki) -> None:
    clock = FixedClock(SystemClock().now())
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock)
    request = _request(agency, request_uri_base="https://verifier.honnin.example/request")
    request_id = request.request_uri.rsplit("/", 1)[1]
    assert agency.request_object(request_id) == request.request_object
    again = agency.request_object(request_id, wallet_nonce="wn-1")
    assert request_claims(again)["wallet_nonce"] == "wn-1"
    assert parse_unverified_request_object(again, wallet_nonce="wn-1")
    with pytest.raises(NotFound):
        agency.request_object("unknown")
    clock.advance(agency.transaction_lifetime)
    with pytest.raises(NotFound):
        agency.request_object(request_id)


def test_verify_accepts_the_oid4vp_message_objects(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=SystemClock().now())
    request = _request(agency, response_mode="direct_post")
    claims = request_claims(request.request_object)
    presentation = present_sd_jwt(token, holder, [("payment_amount",)], claims)
    response = AuthorizationResponse(vp_token={SLIP: (presentation,)}, state=claims["state"])
    assert agency.verify(response).claims == {"payment_amount": 5_000_000}
    refused = _request(agency, response_mode="direct_post")
    state = request_claims(refused.request_object)["state"]
    result = agency.verify(VpErrorResponse(error="access_denied", state=state))
    assert result.wallet_error == "access_denied" and not result.verified


@pytest.mark.parametrize(
    "options",
    [{"response_mode": "fragment"}, {"purpose": " "}],
)
def test_bad_request_options_are_programmer_errors(pki: TestPki, options: Any) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    arguments = {"purpose": "benefit", **options}
    with pytest.raises(ValueError):
        agency.request(Query.of(SLIP), **arguments)


def test_something_that_is_no_response_is_refused(pki: TestPki) -> None:
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    with pytest.raises(InvalidRequest):
        agency.verify(object())


def test_public_api_is_pinned() -> None:
    import verifier

    assert verifier.__all__ == [
        "ClaimSpec",
        "CreatedTransaction",
        "CredentialError",
        "FlaggedClaim",
        "MemoryTransactionStore",
        "Outcome",
        "PresentationRequest",
        "Query",
        "SqliteTransactionStore",
        "Transaction",
        "TransactionStatus",
        "TransactionStore",
        "TrustDecision",
        "VerificationResult",
        "VerifiedCredential",
        "Verifier",
        "VerifierClient",
        "VerifierSettings",
        "create_app",
    ]
    for name in verifier.__all__:
        assert getattr(verifier, name).__doc__, name
