"""Verifier role, in process: request, verify SD-JWT VC / mdoc / both, and hostile answers.

Presentations are built here with honnin.sdjwt / honnin.mdoc directly, from the values in
the verifier's signed request object (what a wallet would read), never with the Wallet role.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_verifier_support import (
    HOSPITAL,
    ISSUER,
    Holder,
    catalogue_type,
    encryption_jwk,
    form,
    issue_mdoc_credential,
    issue_sd_jwt_vc,
    pki_at,
    present_mdoc,
    present_sd_jwt,
    request_claims,
    response_payload,
)

from honnin.clock import FixedClock, SystemClock
from honnin.encoding import json_dumps
from honnin.errors import (
    DecryptionFailed,
    Expired,
    FetchError,
    InvalidRequest,
    NotFound,
    ReplayDetected,
    UnsupportedAlgorithm,
)
from honnin.jose.jwe import encrypt_response
from honnin.ports import FetchedResource
from honnin.sdjwt import issue_sd_jwt
from honnin.status import StatusList, StatusReference, build_status_list_jwt
from honnin.trust import TrustList, make_certificate
from verifier import Query, VerificationResult, Verifier

SLIP = "withholding-slip"
PURPOSE = "unemployment benefit application"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(int(SystemClock().now()))


@pytest.fixture
def pki(clock: FixedClock) -> Any:
    return pki_at(clock)


@pytest.fixture
def agency(pki: Any, clock: FixedClock) -> Verifier:
    return Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock)


def _slip_query() -> Query:
    return Query.of(SLIP, "payment_amount", "withholding_tax")


def _ask(agency: Verifier, query: Query | None = None) -> tuple[Any, dict[str, Any]]:
    request = agency.request(query or _slip_query(), purpose=PURPOSE, response_mode="direct_post")
    return request, request_claims(request.request_object)


def _present(
    token: str, holder: Holder, claims: dict[str, Any], clock: FixedClock, *paths: str
) -> str:
    chosen = [(p,) for p in paths or ("payment_amount",)]
    return present_sd_jwt(token, holder, chosen, claims, iat=int(clock.now()))


def _sd_jwt_answer(
    pki: Any, agency: Verifier, clock: FixedClock, **present: Any
) -> tuple[dict[str, Any], str]:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    _, claims = _ask(agency)
    paths = present.pop("paths", [("payment_amount",), ("withholding_tax",)])
    present.setdefault("iat", int(clock.now()))
    presentation = present_sd_jwt(token, holder, paths, claims, **present)
    return claims, presentation


# -- the happy paths ---------------------------------------------------------------------


def test_sd_jwt_vc_presentation_verifies_with_claims_issuer_and_trust(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock)
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
    claims, presentation = _sd_jwt_answer(pki, agency, clock)
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
    request, claims = _ask(agency, query)
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
    request, claims = _ask(agency, query)
    ids = [c.id for c in request.dcql_query.credentials]
    assert request.dcql_query.credential_sets is not None
    slip = _present(token, holder, claims, clock)
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
    request, claims = _ask(agency, query)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    first = request.dcql_query.credentials[0].id
    result = agency.verify(form({first: [presentation]}, claims["state"]))
    assert result.verified is True


def test_values_constraint_is_checked(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    _, claims = _ask(agency, Query.of(SLIP, "tax_year", values={"tax_year": [2099]}))
    presentation = present_sd_jwt(token, holder, [], claims, iat=int(clock.now()))
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is False
    assert [e.code for e in result.errors] == ["claims_missing", "required_credential_missing"]
    assert result.claims == {}


# -- whole-response failures: typed errors, nothing stored ----------------------------------


def test_unknown_state_is_not_found(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    _, presentation = _sd_jwt_answer(pki, agency, clock)
    with pytest.raises(NotFound):
        agency.verify(form({SLIP: [presentation]}, "not-a-state"))


def test_an_answered_state_is_a_replay(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock)
    first = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    with pytest.raises(ReplayDetected):
        agency.verify(form({SLIP: [presentation]}, claims["state"]))
    stored = agency.result(first.transaction_id)
    assert stored is not None and stored.to_json() == first.to_json()


def test_an_expired_transaction_cannot_be_answered(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock)
    clock.advance(agency.transaction_lifetime + 1)
    with pytest.raises(Expired):
        agency.verify(form({SLIP: [presentation]}, claims["state"]))


def test_plain_response_when_encryption_was_asked_is_refused(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    request = agency.request(_slip_query(), purpose=PURPOSE)  # direct_post.jwt by default
    claims = request_claims(request.request_object)
    presentation = present_sd_jwt(token, holder, [("payment_amount",)], claims)
    with pytest.raises(InvalidRequest) as caught:
        agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert caught.value.fields["reason"] == "encryption_required"
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


# -- per-credential failures: recorded, structured, nothing passed on -----------------------


def _rejected(agency: Verifier, claims: dict[str, Any], presentation: str) -> VerificationResult:
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is False
    assert result.claims == {} and result.credentials == {}
    assert agency.result(result.transaction_id) is not None
    return result


def test_a_replayed_vp_token_from_another_transaction_fails_on_the_nonce(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims_a, presentation = _sd_jwt_answer(pki, agency, clock)
    assert agency.verify(form({SLIP: [presentation]}, claims_a["state"])).verified
    _, claims_b = _ask(agency)
    result = _rejected(agency, claims_b, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "nonce")
    assert result.errors[0].query_id == SLIP


def test_kb_jwt_for_another_audience_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(
        pki, agency, clock, aud="x509_san_dns:other-verifier.example"
    )
    result = _rejected(agency, claims, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "aud")


def test_kb_jwt_older_than_the_transaction_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock, iat=int(clock.now()) - 3600)
    result = _rejected(agency, claims, presentation)
    assert result.errors[0].reason == "iat"


def test_missing_kb_jwt_is_rejected_when_binding_is_required(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock, with_kb=False)
    result = _rejected(agency, claims, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "missing")


def test_mdoc_over_another_transcript_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    request, claims = _ask(agency, Query.of(SLIP, "payment_amount", format="mso_mdoc"))
    namespace = catalogue_type(SLIP).namespaces[0]
    presentation = present_mdoc(
        credential, holder, {namespace: ["payment_amount"]}, claims, nonce="another-nonce"
    )
    query_id = request.dcql_query.credentials[0].id
    result = agency.verify(form({query_id: [presentation]}, claims["state"]))
    assert result.verified is False and result.claims == {}
    assert result.errors[0].code == "invalid_key_binding"


def test_a_required_credential_missing_fails_the_query(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    query = Query.of(SLIP, "payment_amount") & Query.of("resident-record")
    request, claims = _ask(agency, query)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is False and result.claims == {}
    assert [(e.code, e.query_id) for e in result.errors] == [
        ("required_credential_missing", request.dcql_query.credentials[1].id)
    ]


def test_claims_outside_the_query_are_flagged_and_never_passed_on(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(
        pki, agency, clock, paths=[("payment_amount",), ("withholding_tax",), ("my_number",)]
    )
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is True
    assert "my_number" not in result.claims
    assert all("123456789018" not in str(v) for v in result.to_json().values())
    assert [(f.query_id, f.path) for f in result.flagged] == [(SLIP, "my_number")]


def _rogue_issuer(clock: FixedClock, root_name: str) -> Any:
    """An issuer under a root the verifier does not trust, named ``root_name``."""
    start = datetime.fromtimestamp(clock.now(), tz=UTC) - timedelta(hours=1)
    end = start + timedelta(days=30)
    root = make_certificate(root_name, issuer=None, ca=True, path_length=1,
                            not_before=start, not_after=end,
                            organization="honnin test trust framework")  # fmt: skip
    leaf = make_certificate(ISSUER, issuer=root, not_before=start, not_after=end,
                            san_uris=["https://example-corp.issuer.honnin.example"])  # fmt: skip
    return leaf


@pytest.mark.parametrize(
    ("root_name", "code"),
    [
        ("rogue root CA", "untrusted_issuer"),
        # The same subject as the trusted root: the path is found, its signature fails.
        ("honnin test root CA", "invalid_signature"),
    ],
)
def test_an_untrusted_issuer_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock, root_name: str, code: str
) -> None:
    holder = Holder()
    rogue = _rogue_issuer(clock, root_name)
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), signer=rogue)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    result = _rejected(agency, claims, presentation)
    assert result.errors[0].code == code


def test_an_issuer_not_entitled_to_the_type_is_rejected(pki: Any, clock: FixedClock) -> None:
    trust = TrustList.load(
        pki.trust_list_document({ISSUER: [SLIP], HOSPITAL: ["birth-certificate"]})
    )
    agency = Verifier.create("Hello Work", trust=trust, clock=clock)
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), issuer=HOSPITAL)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    result = _rejected(agency, claims, presentation)
    assert result.errors[0].code == "issuer_not_entitled"
    # The entitled employer passes the same verifier, and the decision names the trust list.
    claims_ok, presentation_ok = _sd_jwt_answer(pki, agency, clock)
    accepted = agency.verify(form({SLIP: [presentation_ok]}, claims_ok["state"]))
    assert accepted.verified and accepted.credentials[SLIP][0].trust.entitlement == "trust_list"


def test_an_expired_credential_is_rejected(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    holder = Holder()
    issued = clock.now() - 7200
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=issued, lifetime=3600)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now()), received_at=issued
    )
    assert _rejected(agency, claims, presentation).errors[0].code == "expired"


class _Lists:
    """An in-memory Fetcher serving status list tokens."""

    def __init__(self) -> None:
        self.served: dict[str, str] = {}

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        if url not in self.served:
            raise FetchError(f"{url}: 404", status=404)
        return FetchedResource(self.served[url].encode(), "application/statuslist+jwt")


def _status_setup(pki: Any, clock: FixedClock, value: int) -> tuple[Verifier, StatusReference]:
    uri = "https://example-corp.issuer.honnin.example/status/1"
    statuses = StatusList(64, bits=2)
    statuses.set(5, value)
    issuer = pki.issuer(ISSUER)
    lists = _Lists()
    lists.served[uri] = build_status_list_jwt(
        statuses, sub=uri, key=issuer.private_key, iat=int(clock.now()),
        x5c=[c.public_bytes(_DER) for c in issuer.chain],
    )  # fmt: skip
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock, fetcher=lists)
    return agency, StatusReference(uri=uri, idx=5)


_DER = Encoding.DER


@pytest.mark.parametrize(("value", "code"), [(1, "revoked"), (2, "suspended")])
def test_a_revoked_or_suspended_credential_is_rejected(
    pki: Any, clock: FixedClock, value: int, code: str
) -> None:
    agency, reference = _status_setup(pki, clock, value)
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), status=reference)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    assert _rejected(agency, claims, presentation).errors[0].code == code


def test_a_valid_status_is_reported(pki: Any, clock: FixedClock) -> None:
    agency, reference = _status_setup(pki, clock, 0)
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), status=reference)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",), ("withholding_tax",)], claims, iat=int(clock.now())
    )
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified, result.errors
    assert result.credentials[SLIP][0].status == "valid"


def test_an_unreachable_status_list_fails_closed(pki: Any, clock: FixedClock) -> None:
    agency, _ = _status_setup(pki, clock, 0)
    holder = Holder()
    missing = StatusReference(uri="https://example-corp.issuer.honnin.example/status/9", idx=1)
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), status=missing)
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    assert _rejected(agency, claims, presentation).errors[0].code == "status_unavailable"


def test_a_wallet_error_response_is_recorded(agency: Verifier) -> None:
    _, claims = _ask(agency)
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
    _, claims = _ask(agency)
    result = agency.verify({"vp_token": vp_token, "state": claims["state"]})
    assert result.verified is False
    assert result.errors[0].code in {"malformed", "malformed_json"}


def test_an_unknown_credential_query_id_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = _sd_jwt_answer(pki, agency, clock)
    result = agency.verify(form({"other": [presentation]}, claims["state"]))
    assert result.verified is False
    assert "unknown_query_id" in [e.code for e in result.errors]


# -- direct_post.jwt: encrypted responses (OpenID4VP 1.0 §8.3) -------------------------------


def _encrypted_request(agency: Verifier, query: Query | None = None) -> tuple[Any, dict[str, Any]]:
    request = agency.request(query or _slip_query(), purpose=PURPOSE)
    return request, request_claims(request.request_object)


def _slip_presentation(pki: Any, clock: FixedClock, claims: dict[str, Any]) -> str:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    return _present(token, holder, claims, clock, "payment_amount", "withholding_tax")


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_an_encrypted_sd_jwt_vc_response_verifies(
    pki: Any, agency: Verifier, clock: FixedClock, enc: str
) -> None:
    request, claims = _encrypted_request(agency)
    presentation = _slip_presentation(pki, clock, claims)
    jwe = encrypt_response(
        response_payload({SLIP: [presentation]}, claims["state"]), encryption_jwk(claims), enc=enc
    )
    result = agency.verify({"response": jwe})
    assert result.verified is True
    assert result.transaction_id == request.transaction_id
    assert agency.store.get(request.transaction_id).encryption_jwk is None  # type: ignore[union-attr]


def test_request_advertises_a_fresh_ephemeral_encryption_key(agency: Verifier) -> None:
    keys = [encryption_jwk(_encrypted_request(agency)[1]) for _ in range(3)]
    assert len({k["x"] for k in keys}) == 3 and len({k["kid"] for k in keys}) == 3
    for key in keys:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ECDH-ES", "enc")
        assert "d" not in key
    metadata = _encrypted_request(agency)[1]["client_metadata"]
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]


def test_an_encrypted_mdoc_response_binds_the_key_thumbprint(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    query = Query.of(SLIP, "payment_amount", format="mso_mdoc")
    namespace = catalogue_type(SLIP).namespaces[0]
    for bound, verified in ((True, True), (False, False)):
        request, claims = _encrypted_request(agency, query)
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
    request, claims = _encrypted_request(agency)
    _, other = _encrypted_request(agency)
    presentation = _slip_presentation(pki, clock, claims)
    wrong = dict(encryption_jwk(other), kid=encryption_jwk(claims)["kid"])
    jwe = encrypt_response(response_payload({SLIP: [presentation]}, claims["state"]), wrong)
    with pytest.raises(DecryptionFailed):
        agency.verify({"response": jwe})
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


def test_a_jwe_with_another_transactions_state_is_refused(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    _, claims = _encrypted_request(agency)
    _, other = _encrypted_request(agency)
    presentation = _slip_presentation(pki, clock, claims)
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
    request, claims = _encrypted_request(agency)
    key = encryption_jwk(claims)
    payload = response_payload({SLIP: [_slip_presentation(pki, clock, claims)]}, claims["state"])
    jwe = _jwe_with({**header, "kid": key["kid"]}, key, payload)
    with pytest.raises(UnsupportedAlgorithm):
        agency.verify({"response": jwe})
    assert agency.store.get(request.transaction_id).status == "pending"  # type: ignore[union-attr]


def test_a_jwe_for_an_unknown_key_is_not_found(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    _, claims = _encrypted_request(agency)
    key = dict(encryption_jwk(claims), kid="unknown-kid")
    payload = response_payload({SLIP: [_slip_presentation(pki, clock, claims)]}, claims["state"])
    with pytest.raises(NotFound):
        agency.verify({"response": encrypt_response(payload, key)})


def test_a_malformed_jwe_is_refused(agency: Verifier) -> None:
    with pytest.raises(InvalidRequest):
        agency.verify({"response": "not.a.jwe"})


@pytest.mark.parametrize("typ", ["vc+sd-jwt", "JWT"])
def test_a_credential_with_another_typ_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock, typ: str
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), typ=typ)
    _, claims = _ask(agency)
    presentation = _present(token, holder, claims, clock)
    assert _rejected(agency, claims, presentation).errors[0].code == "malformed_credential"


def test_a_credential_with_a_disclosable_registered_claim_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    slip = catalogue_type(SLIP)
    body = slip.sample_claims()
    now = int(clock.now())
    payload = {"iss": pki.issuer_urls[ISSUER], "vct": slip.vct, "iat": now,
               "exp": now + 3600, **body}  # fmt: skip
    issuer = pki.issuer(ISSUER)
    token = issue_sd_jwt(
        payload,
        issuer.private_key,
        disclosable=[*slip.disclosable_paths(body), ("exp",)],  # exp must stay visible
        holder_key=holder.jwk,
        header={"typ": "dc+sd-jwt", "x5c": issuer.x5c()},
    )
    _, claims = _ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",), ("withholding_tax",), ("exp",)], claims,
        iat=now,
    )  # fmt: skip
    assert _rejected(agency, claims, presentation).errors[0].code == "invalid_disclosure"
