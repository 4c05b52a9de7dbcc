"""Verifier role, in process: request and verify SD-JWT VC / mdoc / both; responses that
cannot be attributed to an open transaction (typed errors, nothing stored).

Presentations are built here with honnin.sdjwt / honnin.mdoc directly, from the values in
the verifier's signed request object (what a wallet would read), never with the Wallet role.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_verifier_support import (
    ISSUER,
    PURPOSE,
    SLIP,
    Holder,
    agency,
    ask,
    catalogue_type,
    clock,
    form,
    issue_mdoc_credential,
    issue_sd_jwt_vc,
    pki,
    present_mdoc,
    present_sd_jwt,
    present_slip,
    request_claims,
    sd_jwt_answer,
    slip_query,
)

from honnin.clock import FixedClock
from honnin.errors import (
    Expired,
    InvalidRequest,
    NotFound,
    ReplayDetected,
)
from verifier import Query, VerificationResult, Verifier

__all__ = ["agency", "clock", "pki"]  # shared fixtures from test_verifier_support

# -- the happy paths ---------------------------------------------------------------------


def test_sd_jwt_vc_presentation_verifies_with_claims_issuer_and_trust(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock)
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is True
    assert result.errors == ()
    assert dict(result.claims) == {"payment_amount": 5_000_000, "withholding_tax": 93_900}
    assert result["payment_amount"] == 5_000_000
    credential = result.credentials[SLIP][0]
    assert credential.issuer == pki.issuer_urls[ISSUER]
    assert credential.issuer_name == ISSUER
    assert credential.trust.entitlement == "anchor"
    assert "honnin test root CA" in credential.trust.anchor_subject
    assert credential.holder_binding is True
    assert credential.status == "none"
    assert result.form(labels="ja") == [("支払金額", 5_000_000), ("源泉徴収税額", 93_900)]
    assert result.form(labels="en")[0][0] == catalogue_type(SLIP).label(("payment_amount",), "en")


def test_result_is_stored_and_reads_back_identically(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock)
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    stored = agency.result(result.transaction_id)
    assert stored is not None
    assert stored.to_json() == result.to_json()
    assert VerificationResult.from_json(result.to_json()).claims == result.claims
    assert stored.form() == result.form()


def test_mdoc_presentation_verifies_over_the_openid4vp_transcript(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    query = Query.of(SLIP, "payment_amount", "recipient.name", format="mso_mdoc")
    request, claims = ask(agency, query)
    namespace = catalogue_type(SLIP).namespaces[0]
    elements = {namespace: ["payment_amount", "recipient_name"]}
    presentation = present_mdoc(credential, holder, elements, claims)
    query_id = request.dcql_query.credentials[0].id
    result = agency.verify(form({query_id: [presentation]}, claims["state"]))
    assert result.verified is True, result.errors
    assert dict(result.claims) == {"payment_amount": 5_000_000, "recipient.name": "山田 花子"}
    assert result.credentials[query_id][0].format == "mso_mdoc"
    assert result.credentials[query_id][0].issuer_name == ISSUER


def test_a_query_needing_both_formats_verifies_with_credential_sets(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    birth = issue_mdoc_credential(pki, "birth-certificate", holder, now=clock.now())
    birth_type = catalogue_type("birth-certificate")
    first_claim = birth_type.mdoc.elements[0]
    (namespace, element), path = first_claim
    query = Query.of(SLIP, "payment_amount") & Query.of(
        "birth-certificate", ".".join(map(str, path)), format="mso_mdoc"
    )
    request, claims = ask(agency, query)
    ids = [c.id for c in request.dcql_query.credentials]
    assert request.dcql_query.credential_sets is not None
    slip = present_slip(token, holder, claims, clock)
    mdoc = present_mdoc(birth, holder, {namespace: [element]}, claims)
    result = agency.verify(form({ids[0]: [slip], ids[1]: [mdoc]}, claims["state"]))
    assert result.verified is True, result.errors
    assert set(result.credentials) == set(ids)
    assert result["payment_amount"] == 5_000_000


def test_alternatives_accept_either_credential(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    query = Query.of(SLIP, "payment_amount") | Query.of(SLIP, "payment_amount", format="mso_mdoc")
    request, claims = ask(agency, query)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    first = request.dcql_query.credentials[0].id
    result = agency.verify(form({first: [presentation]}, claims["state"]))
    assert result.verified is True


def test_values_constraint_is_checked(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    _, claims = ask(agency, Query.of(SLIP, "tax_year", values={"tax_year": [2099]}))
    presentation = present_sd_jwt(token, holder, [], claims, iat=int(clock.now()))
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is False
    assert [e.code for e in result.errors] == ["claims_missing", "required_credential_missing"]
    assert result.claims == {}


# -- whole-response failures: typed errors, nothing stored ----------------------------------


def test_unknown_state_is_not_found(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    _, presentation = sd_jwt_answer(pki, agency, clock)
    with pytest.raises(NotFound):
        agency.verify(form({SLIP: [presentation]}, "not-a-state"))


def test_an_answered_state_is_a_replay(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock)
    first = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    with pytest.raises(ReplayDetected):
        agency.verify(form({SLIP: [presentation]}, claims["state"]))
    stored = agency.result(first.transaction_id)
    assert stored is not None and stored.to_json() == first.to_json()


def test_an_expired_transaction_cannot_be_answered(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock)
    clock.advance(agency.transaction_lifetime + 1)
    with pytest.raises(Expired):
        agency.verify(form({SLIP: [presentation]}, claims["state"]))


def test_plain_response_when_encryption_was_asked_is_refused(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    request = agency.request(slip_query(), purpose=PURPOSE)  # direct_post.jwt by default
    claims = request_claims(request.request_object)
    presentation = present_sd_jwt(token, holder, [("payment_amount",)], claims)
    with pytest.raises(InvalidRequest) as caught:
        agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert caught.value.fields["reason"] == "encryption_required"
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


def test_a_wallet_error_response_is_recorded(agency: Verifier) -> None:
    _, claims = ask(agency)
    result = agency.verify(
        {"error": "access_denied", "error_description": "refused", "state": claims["state"]}
    )
    assert result.verified is False and result.wallet_error == "access_denied"
    with pytest.raises(ReplayDetected):
        agency.verify({"error": "access_denied", "state": claims["state"]})


@pytest.mark.parametrize(
    "vp_token", ["[]", "{}", '{"withholding-slip": "not-a-list"}', '{"withholding-slip": []}', "{"]
)
def test_a_malformed_vp_token_is_rejected(agency: Verifier, vp_token: str) -> None:
    _, claims = ask(agency)
    result = agency.verify({"vp_token": vp_token, "state": claims["state"]})
    assert result.verified is False
    assert result.errors[0].code in {"malformed", "malformed_json"}


def test_an_unknown_credential_query_id_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock)
    result = agency.verify(form({"other": [presentation]}, claims["state"]))
    assert result.verified is False
    assert "unknown_query_id" in [e.code for e in result.errors]
