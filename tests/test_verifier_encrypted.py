"""Verifier role, in process: ``direct_post.jwt`` responses (OpenID4VP 1.0 §8.3; HAIP §5)."""

from __future__ import annotations

from typing import Any

import pytest
from test_verifier_support import (
    SLIP,
    Holder,
    agency,
    catalogue_type,
    clock,
    encrypted_request,
    encryption_jwk,
    issue_mdoc_credential,
    pki,
    present_mdoc,
    response_payload,
    slip_presentation,
)

from honnin.clock import FixedClock
from honnin.encoding import json_dumps
from honnin.errors import (
    DecryptionFailed,
    InvalidRequest,
    NotFound,
    UnsupportedAlgorithm,
)
from honnin.jose.jwe import encrypt_response
from verifier import Query, Verifier

__all__ = ["agency", "clock", "pki"]  # shared fixtures from test_verifier_support


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_an_encrypted_sd_jwt_vc_response_verifies(
    pki: Any, agency: Verifier, clock: FixedClock, enc: str
) -> None:
    request, claims = encrypted_request(agency)
    presentation = slip_presentation(pki, clock, claims)
    jwe = encrypt_response(
        response_payload({SLIP: [presentation]}, claims["state"]), encryption_jwk(claims), enc=enc
    )
    result = agency.verify({"response": jwe})
    assert result.verified is True
    assert result.transaction_id == request.transaction_id
    assert agency.store.get(request.transaction_id).encryption_jwk is None  # type: ignore[union-attr]


def test_request_advertises_a_fresh_ephemeral_encryption_key(agency: Verifier) -> None:
    keys = [encryption_jwk(encrypted_request(agency)[1]) for _ in range(3)]
    assert len({k["x"] for k in keys}) == 3 and len({k["kid"] for k in keys}) == 3
    for key in keys:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ECDH-ES", "enc")
        assert "d" not in key
    metadata = encrypted_request(agency)[1]["client_metadata"]
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]


def test_an_encrypted_mdoc_response_binds_the_key_thumbprint(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    query = Query.of(SLIP, "payment_amount", format="mso_mdoc")
    namespace = catalogue_type(SLIP).namespaces[0]
    for bound, verified in ((True, True), (False, False)):
        request, claims = encrypted_request(agency, query)
        key = encryption_jwk(claims)
        presentation = present_mdoc(
            credential, holder, {namespace: ["payment_amount"]}, claims,
            encrypted_to=key if bound else None,
        )  # fmt: skip
        query_id = request.dcql_query.credentials[0].id
        jwe = encrypt_response(response_payload({query_id: [presentation]}, claims["state"]), key)
        result = agency.verify({"response": jwe})
        # A transcript without the thumbprint means the response was re-encrypted (B.2.6.1).
        assert result.verified is verified
        if not verified:
            assert result.errors[0].code == "invalid_key_binding"


def test_a_jwe_to_another_key_does_not_decrypt(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    request, claims = encrypted_request(agency)
    _, other = encrypted_request(agency)
    presentation = slip_presentation(pki, clock, claims)
    wrong = dict(encryption_jwk(other), kid=encryption_jwk(claims)["kid"])
    jwe = encrypt_response(response_payload({SLIP: [presentation]}, claims["state"]), wrong)
    with pytest.raises(DecryptionFailed):
        agency.verify({"response": jwe})
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


def test_a_jwe_with_another_transactions_state_is_refused(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    _, claims = encrypted_request(agency)
    _, other = encrypted_request(agency)
    presentation = slip_presentation(pki, clock, claims)
    jwe = encrypt_response(
        response_payload({SLIP: [presentation]}, claims["state"]), encryption_jwk(other)
    )
    with pytest.raises(InvalidRequest) as caught:
        agency.verify({"response": jwe})
    assert caught.value.fields["reason"] == "state"


def _jwe_with(header: dict[str, Any], key: dict[str, Any], payload: dict[str, Any]) -> str:
    from jwcrypto import jwe as jwcrypto_jwe
    from jwcrypto import jwk as jwcrypto_jwk

    public = jwcrypto_jwk.JWK(**{k: key[k] for k in ("kty", "crv", "x", "y")})
    token = jwcrypto_jwe.JWE(
        json_dumps(payload).encode(), protected=json_dumps(header), recipient=public
    )
    return str(token.serialize(compact=True))


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "ECDH-ES+A128KW", "enc": "A128GCM"},
        {"alg": "ECDH-ES", "enc": "A192GCM"},
        {"alg": "ECDH-ES", "enc": "A128CBC-HS256"},
    ],
)
def test_a_jwe_with_an_algorithm_not_advertised_is_refused(
    pki: Any, agency: Verifier, clock: FixedClock, header: dict[str, Any]
) -> None:
    request, claims = encrypted_request(agency)
    key = encryption_jwk(claims)
    payload = response_payload({SLIP: [slip_presentation(pki, clock, claims)]}, claims["state"])
    jwe = _jwe_with({**header, "kid": key["kid"]}, key, payload)
    with pytest.raises(UnsupportedAlgorithm):
        agency.verify({"response": jwe})
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


def test_a_jwe_for_an_unknown_key_is_not_found(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    _, claims = encrypted_request(agency)
    key = dict(encryption_jwk(claims), kid="unknown-kid")
    payload = response_payload({SLIP: [slip_presentation(pki, clock, claims)]}, claims["state"])
    with pytest.raises(NotFound):
        agency.verify({"response": encrypt_response(payload, key)})


def test_a_malformed_jwe_is_refused(agency: Verifier) -> None:
    with pytest.raises(InvalidRequest):
        agency.verify({"response": "not.a.jwe"})
