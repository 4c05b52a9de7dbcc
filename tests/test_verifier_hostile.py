"""Verifier role, in process: presentations that fail a check. Each ends in a recorded,
rejected result with a structured per-credential error, and nothing passed on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_verifier_support import (
    HOSPITAL,
    ISSUER,
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
    rejected,
    sd_jwt_answer,
)

from honnin.clock import FixedClock
from honnin.errors import (
    FetchError,
)
from honnin.ports import FetchedResource
from honnin.sdjwt import issue_sd_jwt
from honnin.status import StatusList, StatusReference, build_status_list_jwt
from honnin.trust import TrustList, make_certificate
from verifier import Query, Verifier

__all__ = ["agency", "clock", "pki"]  # shared fixtures from test_verifier_support


def test_a_replayed_vp_token_from_another_transaction_fails_on_the_nonce(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims_a, presentation = sd_jwt_answer(pki, agency, clock)
    assert agency.verify(form({SLIP: [presentation]}, claims_a["state"])).verified
    _, claims_b = ask(agency)
    result = rejected(agency, claims_b, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "nonce")
    assert result.errors[0].query_id == SLIP


def test_kb_jwt_for_another_audience_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(
        pki, agency, clock, aud="x509_san_dns:other-verifier.example"
    )
    result = rejected(agency, claims, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "aud")


def test_kb_jwt_older_than_the_transaction_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock, iat=int(clock.now()) - 3600)
    result = rejected(agency, claims, presentation)
    assert result.errors[0].reason == "iat"


def test_missing_kb_jwt_is_rejected_when_binding_is_required(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    claims, presentation = sd_jwt_answer(pki, agency, clock, with_kb=False)
    result = rejected(agency, claims, presentation)
    assert (result.errors[0].code, result.errors[0].reason) == ("invalid_key_binding", "missing")


def test_mdoc_over_another_transcript_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock
) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    request, claims = ask(agency, Query.of(SLIP, "payment_amount", format="mso_mdoc"))
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
    request, claims = ask(agency, query)
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
    claims, presentation = sd_jwt_answer(
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
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    result = rejected(agency, claims, presentation)
    assert result.errors[0].code == code


def test_an_issuer_not_entitled_to_the_type_is_rejected(pki: Any, clock: FixedClock) -> None:
    trust = TrustList.load(
        pki.trust_list_document({ISSUER: [SLIP], HOSPITAL: ["birth-certificate"]})
    )
    agency = Verifier.create("Hello Work", trust=trust, clock=clock)
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), issuer=HOSPITAL)
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    result = rejected(agency, claims, presentation)
    assert result.errors[0].code == "issuer_not_entitled"
    # The entitled employer passes the same verifier, and the decision names the trust list.
    claims_ok, presentation_ok = sd_jwt_answer(pki, agency, clock)
    accepted = agency.verify(form({SLIP: [presentation_ok]}, claims_ok["state"]))
    assert accepted.verified and accepted.credentials[SLIP][0].trust.entitlement == "trust_list"


def test_an_expired_credential_is_rejected(pki: Any, agency: Verifier, clock: FixedClock) -> None:
    holder = Holder()
    issued = clock.now() - 7200
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=issued, lifetime=3600)
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now()), received_at=issued
    )
    assert rejected(agency, claims, presentation).errors[0].code == "expired"


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
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    assert rejected(agency, claims, presentation).errors[0].code == code


def test_a_valid_status_is_reported(pki: Any, clock: FixedClock) -> None:
    agency, reference = _status_setup(pki, clock, 0)
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), status=reference)
    _, claims = ask(agency)
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
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    assert rejected(agency, claims, presentation).errors[0].code == "status_unavailable"


@pytest.mark.parametrize("typ", ["vc+sd-jwt", "JWT"])
def test_a_credential_with_another_typ_is_rejected(
    pki: Any, agency: Verifier, clock: FixedClock, typ: str
) -> None:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now(), typ=typ)
    _, claims = ask(agency)
    presentation = present_slip(token, holder, claims, clock)
    assert rejected(agency, claims, presentation).errors[0].code == "malformed_credential"


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
    _, claims = ask(agency)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",), ("withholding_tax",), ("exp",)], claims,
        iat=now,
    )  # fmt: skip
    assert rejected(agency, claims, presentation).errors[0].code == "invalid_disclosure"
