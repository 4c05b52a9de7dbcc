"""Verifier registrations: build, verify, verifier_info, and the request check (excess and
restricted claims)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from honnin.errors import (
    Expired,
    InvalidClaim,
    MalformedInput,
    MalformedJws,
    NotYetValid,
    PolicyViolation,
    UnknownCredentialType,
    UnsupportedAlgorithm,
    UntrustedVerifier,
)
from honnin.jose import sign_jws
from honnin.oid4vp import VerifierInfo
from honnin.registration import (
    REGISTRATION_TYP,
    VERIFIER_INFO_FORMAT,
    VerifiedRegistration,
    build_registration,
    check_request,
    registration_from_verifier_info,
    restricted_paths,
    verifier_info_entry,
    verify_registration,
)
from honnin.trust import TestPki, TrustList, make_certificate, make_test_pki

NOW_DT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW = int(NOW_DT.timestamp())
CLIENT_ID = "x509_san_dns:verifier.honnin.example"
PURPOSE = "unemployment benefit application"
SLIP_NS = "example.honnin.withholding_slip.1"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(["Example Corp"], now=NOW_DT)


@pytest.fixture(scope="module")
def trust(pki: TestPki) -> TrustList:
    return TrustList.load(pki.trust_list_document({"Example Corp": ["withholding-slip"]}))


def _token(pki: TestPki, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "name": "Hello Work",
        "purpose": {"en": PURPOSE, "ja": "失業給付の申請"},
        "entitlements": {
            "withholding-slip": [
                ["payment_amount"],
                ["withholding_tax"],
                ["payer"],
                ["dependents", None, "name"],
            ]
        },
        "key": pki.registrar.private_key,
        "chain": pki.registrar.chain,
        "issued_at": NOW - 3600,
        "expires_at": NOW + 90 * 86400,
    }
    args.update(overrides)
    return build_registration(**args)


@pytest.fixture(scope="module")
def registration(pki: TestPki, trust: TrustList) -> VerifiedRegistration:
    return verify_registration(
        _token(pki), registrar_anchors=trust.registrar_anchors, client_id=CLIENT_ID, now=NOW
    )


def _signed(pki: TestPki, payload: dict[str, Any], **header: Any) -> str:
    hdr = {"typ": REGISTRATION_TYP, "x5c": pki.registrar.x5c(), **header}
    return sign_jws(payload, pki.registrar.private_key, header=hdr)


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "sub": CLIENT_ID,
        "name": "Hello Work",
        "purpose": [{"lang": "en", "value": PURPOSE}],
        "credentials": [
            {
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["https://honnin.example/vct/withholding-slip/v1"]},
                "claim": [{"path": ["payment_amount"]}],
            }
        ],
        "iat": NOW - 60,
        "exp": NOW + 86400,
    }
    payload.update(overrides)
    return payload


def _verify(token: str, trust: TrustList, **kw: Any) -> VerifiedRegistration:
    args: dict[str, Any] = {
        "registrar_anchors": trust.registrar_anchors,
        "client_id": CLIENT_ID,
        "now": NOW,
    }
    args.update(kw)
    return verify_registration(token, **args)


# -- round trip -------------------------------------------------------------------------------


def test_round_trip(registration: VerifiedRegistration, pki: TestPki) -> None:
    assert registration.client_id == CLIENT_ID
    assert registration.name == "Hello Work"
    assert registration.purpose("en") == PURPOSE
    assert registration.purpose("ja-JP") == "失業給付の申請"
    assert registration.purpose("fr") == PURPOSE  # the first registered one
    assert registration.registers_purpose("失業給付の申請")
    assert registration.registers_purpose("  unemployment  benefit application ")
    assert not registration.registers_purpose("marketing")
    assert registration.registrar == pki.registrar.certificate.subject.rfc4514_string()
    assert registration.issued_at == NOW - 3600
    assert registration.expires_at == NOW + 90 * 86400
    assert registration.chain.leaf == pki.registrar.certificate
    paths = registration.entitlements["withholding-slip"]
    assert ("payment_amount",) in paths and ("dependents", None, "name") in paths
    # The mdoc entry maps back to JSON paths: members of the flattened payer object.
    assert ("payer", "name") in paths and ("payer", "address") in paths
    assert "token" not in repr(registration) and registration.token.count(".") == 2


def test_entitled_follows_catalogue_names_and_paths(registration: VerifiedRegistration) -> None:
    for name in ("withholding-slip", "https://honnin.example/vct/withholding-slip/v1", SLIP_NS):
        assert registration.entitled(name, ["payment_amount"])
    assert registration.entitled("withholding-slip", ["payer", "name"])  # parent covers member
    assert registration.entitled("withholding-slip", ["dependents", 1, "name"])
    assert not registration.entitled("withholding-slip", ["dependents", None])
    assert not registration.entitled("withholding-slip", ["recipient", "name"])
    assert not registration.entitled("tax-certificate", ["total_income"])


def test_sd_jwt_only_registration(pki: TestPki, trust: TrustList) -> None:
    token = _token(pki, formats=("dc+sd-jwt",), purpose=PURPOSE, lang="en")
    verified = _verify(token, trust)
    assert verified.purposes == {"en": PURPOSE}
    assert verified.entitlements["withholding-slip"] == {
        ("payment_amount",),
        ("withholding_tax",),
        ("payer",),
        ("dependents", None, "name"),
    }


def test_mdoc_only_registration_maps_elements_back(pki: TestPki, trust: TrustList) -> None:
    token = _token(pki, formats=("mso_mdoc",))
    paths = _verify(token, trust).entitlements["withholding-slip"]
    # A member of an array element has no exact mdoc form: it entitles nothing in mdoc.
    assert ("dependents",) not in paths and ("dependents", None, "name") not in paths
    assert ("payment_amount",) in paths and ("payer", "phone") in paths


def test_build_refuses_nonsense(pki: TestPki) -> None:
    with pytest.raises(UnknownCredentialType):
        _token(pki, entitlements={"passport": [["number"]]})
    with pytest.raises(InvalidClaim):
        _token(pki, entitlements={"withholding-slip": [[]]})
    with pytest.raises(ValueError, match="12 months"):
        _token(pki, expires_at=NOW + 400 * 86400)
    with pytest.raises(ValueError, match="purpose"):
        _token(pki, purpose=" ")
    with pytest.raises(ValueError, match="at least one"):
        _token(pki, entitlements={})


def test_unknown_format_entries_entitle_nothing(pki: TestPki, trust: TrustList) -> None:
    other = {"format": "ldp_vc", "meta": {}, "claim": [{"path": ["x"]}]}
    payload = _payload()
    payload["credentials"].append(other)
    verified = _verify(_signed(pki, payload), trust)
    assert set(verified.entitlements) == {"withholding-slip"}


def test_types_outside_the_catalogue_keep_their_names(pki: TestPki, trust: TrustList) -> None:
    entries = [
        {
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://pid.example/pid"]},
            "claim": [{"path": ["age_over_18"]}],
        },
        {
            "format": "mso_mdoc",
            "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
            "claim": [{"path": ["org.iso.18013.5.1", "age_over_18"]}],
        },
    ]
    verified = _verify(_signed(pki, _payload(credentials=entries)), trust)
    assert verified.entitlements["https://pid.example/pid"] == {("age_over_18",)}
    assert verified.entitlements["org.iso.18013.5.1.mDL"] == {("org.iso.18013.5.1", "age_over_18")}


# -- verifier_info ----------------------------------------------------------------------------


def test_verifier_info_round_trip(pki: TestPki) -> None:
    token = _token(pki)
    entry = verifier_info_entry(token)
    assert entry == {"format": VERIFIER_INFO_FORMAT, "data": token}
    purpose = {"format": "honnin_purpose", "data": {"name": "x", "purpose": "y"}}
    assert registration_from_verifier_info([purpose, entry]) == token
    model = VerifierInfo.model_validate(entry)
    assert registration_from_verifier_info([model]) == token
    assert registration_from_verifier_info([purpose]) is None
    assert registration_from_verifier_info(None) is None


def test_verifier_info_with_two_registrations(pki: TestPki) -> None:
    entry = verifier_info_entry(_token(pki))
    with pytest.raises(MalformedInput):
        registration_from_verifier_info([entry, entry])


def test_verifier_info_with_an_object_as_data() -> None:
    with pytest.raises(MalformedInput):
        registration_from_verifier_info([{"format": VERIFIER_INFO_FORMAT, "data": {"a": 1}}])


# -- the request check ------------------------------------------------------------------------


def test_request_within_the_registration_is_allowed(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    check = check_request(
        registration,
        {
            "withholding-slip": [
                ["payment_amount"],
                ["payer", "name"],
                ["dependents", 0, "name"],
            ]
        },
        trust.restricted_claims,
        purpose=PURPOSE,
    )
    assert check.allowed and check.registered and check.purpose_registered is True
    assert not check.excess and not check.restricted and not check.unregistered_types


def test_over_asking_lists_exactly_the_excess_claims(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    requested: dict[str, list[list[str | int | None]]] = {
        "withholding-slip": [
            ["payment_amount"],
            ["recipient", "name"],
            ["dependents", None],
            ["withholding_tax"],
            ["recipient", "address"],
        ]
    }
    check = check_request(registration, requested, trust.restricted_claims)
    assert not check.allowed
    assert dict(check.excess) == {
        "withholding-slip": (("recipient", "name"), ("dependents", None), ("recipient", "address"))
    }
    assert not check.restricted
    assert check.refused("withholding-slip") == {
        ("recipient", "name"),
        ("dependents", None),
        ("recipient", "address"),
    }
    assert check.refused("tax-certificate") == frozenset()


def test_unregistered_type_is_all_excess(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    check = check_request(
        registration, {"tax-certificate": [["total_income"]]}, trust.restricted_claims
    )
    assert check.unregistered_types == ("tax-certificate",)
    assert dict(check.excess) == {"tax-certificate": (("total_income",),)}


def test_my_number_without_registration_for_it_is_restricted(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    check = check_request(
        registration,
        {"withholding-slip": [["payment_amount"], ["my_number"]]},
        trust.restricted_claims,
    )
    assert dict(check.restricted) == {"withholding-slip": (("my_number",),)}
    assert not check.excess  # listed once, as restricted
    assert not check.allowed


def test_my_number_in_mdoc_form_is_restricted_and_reported_as_asked(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    check = check_request(
        registration,
        {SLIP_NS: [[SLIP_NS, "payer_name"], ["example.honnin.my_number.1", "my_number"]]},
        trust.restricted_claims,
    )
    assert dict(check.restricted) == {SLIP_NS: (("example.honnin.my_number.1", "my_number"),)}
    assert not check.excess


def test_my_number_is_refused_without_any_registration(trust: TrustList) -> None:
    check = check_request(
        None, {"withholding-slip": [["payment_amount"], ["my_number"]]}, trust.restricted_claims
    )
    assert not check.registered and check.purpose_registered is None
    assert not check.excess and not check.unregistered_types
    assert dict(check.restricted) == {"withholding-slip": (("my_number",),)}


def test_my_number_needs_no_trust_list_to_be_restricted() -> None:
    check = check_request(None, {"withholding-slip": [["my_number"]]})
    assert dict(check.restricted) == {"withholding-slip": (("my_number",),)}
    assert restricted_paths("withholding-slip") == {("my_number",)}


def test_verifier_registered_for_my_number_may_ask_for_it(pki: TestPki, trust: TrustList) -> None:
    token = _token(
        pki,
        purpose="year-end tax adjustment",
        entitlements={"withholding-slip": [["my_number"], ["payment_amount"]]},
    )
    registration = _verify(token, trust)
    check = check_request(
        registration,
        {
            SLIP_NS: [["example.honnin.my_number.1", "my_number"]],
            "withholding-slip": [["my_number"]],
        },
        trust.restricted_claims,
        purpose="year-end tax adjustment",
    )
    assert check.allowed


def test_a_parent_entitlement_does_not_release_a_restricted_claim(
    pki: TestPki, trust: TrustList
) -> None:
    # resident_code is restricted by the trust list; "household_members" is not its parent,
    # but a registration for a restricted claim's parent must still name the claim itself.
    restricted = {"resident-record": [("household_members", None, "name")]}
    token = _token(pki, entitlements={"resident-record": [["household_members"]]})
    registration = _verify(token, trust)
    check = check_request(registration, {"resident-record": [["household_members"]]}, restricted)
    assert dict(check.restricted) == {"resident-record": (("household_members",),)}


def test_restricted_claims_from_the_trust_list(trust: TrustList) -> None:
    assert restricted_paths("resident-record", trust.restricted_claims) == {
        ("my_number",),
        ("resident_code",),
    }
    assert restricted_paths(
        "https://honnin.example/vct/withholding-slip/v1", {"withholding-slip": [("payer",)]}
    ) == {("my_number",), ("payer",)}
    assert restricted_paths(
        "https://other.example/vct", {"https://other.example/vct": [("x",)]}
    ) == {("x",)}


def test_another_purpose_is_not_allowed(
    registration: VerifiedRegistration, trust: TrustList
) -> None:
    check = check_request(
        registration,
        {"withholding-slip": [["payment_amount"]]},
        trust.restricted_claims,
        purpose="marketing newsletter",
    )
    assert check.purpose_registered is False and not check.allowed
    assert not check.excess


def test_malformed_requested_path(registration: VerifiedRegistration) -> None:
    with pytest.raises(InvalidClaim):
        check_request(registration, {"withholding-slip": [["a", -1]]})


# -- hostile registrations --------------------------------------------------------------------


def test_forged_registration_self_signed(pki: TestPki, trust: TrustList) -> None:
    rogue = make_certificate(
        "honnin test registrar",
        issuer=None,
        not_before=NOW_DT - timedelta(days=1),
        not_after=NOW_DT + timedelta(days=30),
        organization="honnin test trust framework",
    )
    token = _token(pki, key=rogue.private_key, chain=rogue.chain)
    with pytest.raises(UntrustedVerifier) as info:
        _verify(token, trust)
    assert info.value.fields["reason"] == "registrar"


def test_forged_registration_under_the_genuine_certificate(pki: TestPki, trust: TrustList) -> None:
    token = sign_jws(
        _payload(),
        pki.verifier.private_key,
        header={"typ": REGISTRATION_TYP, "x5c": pki.registrar.x5c()},
    )
    with pytest.raises(UntrustedVerifier) as info:
        _verify(token, trust)
    assert info.value.fields["reason"] == "signature"


def test_registration_with_an_edited_payload(pki: TestPki, trust: TrustList) -> None:
    genuine = _token(pki).split(".")
    wider = _signed(pki, _payload(credentials=[]))  # any other payload of the registrar
    token = ".".join([genuine[0], wider.split(".")[1], genuine[2]])
    with pytest.raises(UntrustedVerifier) as info:
        _verify(token, trust)
    assert info.value.fields["reason"] == "signature"


def test_expired_registration(pki: TestPki, trust: TrustList) -> None:
    token = _token(pki, issued_at=NOW - 10 * 86400, expires_at=NOW - 1)
    with pytest.raises(Expired):
        _verify(token, trust)


def test_registration_from_the_future(pki: TestPki, trust: TrustList) -> None:
    token = _token(pki, issued_at=NOW + 3600, expires_at=NOW + 7200)
    with pytest.raises(NotYetValid):
        _verify(token, trust)


def test_expired_registrar_certificate(pki: TestPki, trust: TrustList) -> None:
    later = NOW_DT + timedelta(days=4000)
    token = _token(
        pki, issued_at=int(later.timestamp()) - 60, expires_at=int(later.timestamp()) + 60
    )
    with pytest.raises(Expired):
        _verify(token, trust, now=later)


def test_registration_for_another_verifier(pki: TestPki, trust: TrustList) -> None:
    token = _token(pki, client_id="x509_san_dns:other.example")
    with pytest.raises(PolicyViolation) as info:
        _verify(token, trust)
    assert info.value.fields["reason"] == "client_id"


def test_registration_with_another_prefix_is_for_another_verifier(
    pki: TestPki, trust: TrustList
) -> None:
    token = _token(pki, client_id="verifier.honnin.example")
    with pytest.raises(PolicyViolation):
        _verify(token, trust)


def test_no_registrar_anchors_trusts_nothing(pki: TestPki, trust: TrustList) -> None:
    with pytest.raises(UntrustedVerifier) as info:
        _verify(_token(pki), trust, registrar_anchors=[])
    assert info.value.fields["reason"] == "no_registrars"


def test_registration_signed_by_an_issuer_anchor_is_not_a_registration(
    pki: TestPki, trust: TrustList
) -> None:
    issuer = pki.issuer("Example Corp")
    token = _token(pki, key=issuer.private_key, chain=issuer.chain)
    with pytest.raises(UntrustedVerifier):
        _verify(token, trust)


def test_registration_without_x5c(pki: TestPki, trust: TrustList) -> None:
    token = sign_jws(_payload(), pki.registrar.private_key, header={"typ": REGISTRATION_TYP})
    with pytest.raises(UntrustedVerifier) as info:
        _verify(token, trust)
    assert info.value.fields["reason"] == "no_x5c"


@pytest.mark.parametrize("typ", [None, "JWT", "oauth-authz-req+jwt", "application/json"])
def test_registration_with_another_typ(pki: TestPki, trust: TrustList, typ: str | None) -> None:
    token = _signed(pki, _payload(), typ=typ)
    with pytest.raises(MalformedJws):
        _verify(token, trust)


def test_registration_with_alg_none(pki: TestPki, trust: TrustList) -> None:
    header, payload, _ = _token(pki).split(".")
    from honnin.encoding import b64url_decode, b64url_encode, json_dumps, json_loads

    hdr = json_loads(b64url_decode(header)) | {"alg": "none"}
    token = f"{b64url_encode(json_dumps(hdr).encode())}.{payload}.c2ln"
    with pytest.raises(UnsupportedAlgorithm):
        _verify(token, trust)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("iat", "yesterday"),
        ("exp", True),
        ("exp", NOW + 400 * 86400),
        ("name", ""),
        ("name", "x" * 3000),
        ("purpose", []),
        ("purpose", [{"lang": "en"}]),
        ("purpose", "unemployment"),
        ("credentials", []),
        ("credentials", [1]),
        ("credentials", [{"format": "dc+sd-jwt", "meta": {}, "claim": [{"path": ["a"]}]}]),
        ("credentials", [{"format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}, "claim": []}]),
        (
            "credentials",
            [{"format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}, "claim": [{"path": []}]}],
        ),
        (
            "credentials",
            [{"format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}, "claim": [{"path": [True]}]}],
        ),
        (
            "credentials",
            [
                {
                    "format": "mso_mdoc",
                    "meta": {"doctype_value": SLIP_NS},
                    "claim": [{"path": ["x"]}],
                }
            ],
        ),
        ("credentials", [{"format": "mso_mdoc", "meta": {}, "claim": [{"path": ["a", "b"]}]}]),
        (
            "credentials",
            [
                {
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["v"]},
                    "claim": [{"path": ["a"], "x": 1}],
                }
            ],
        ),
    ],
)
def test_malformed_registration_members(
    pki: TestPki, trust: TrustList, member: str, value: Any
) -> None:
    token = _signed(pki, _payload(**{member: value}))
    with pytest.raises(InvalidClaim):
        _verify(token, trust)


def test_registration_without_sub(pki: TestPki, trust: TrustList) -> None:
    payload = _payload()
    del payload["sub"]
    with pytest.raises(PolicyViolation):
        _verify(_signed(pki, payload), trust)


def test_deeply_nested_registration_is_refused(pki: TestPki, trust: TrustList) -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    token = _signed(pki, _payload(name=deep))
    with pytest.raises(MalformedInput):
        _verify(token, trust)


def test_naive_datetime_is_a_programmer_error(pki: TestPki, trust: TrustList) -> None:
    with pytest.raises(TypeError):
        _verify(_token(pki), trust, now=datetime(2026, 6, 1))
