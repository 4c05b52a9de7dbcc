"""Verifier-side check of presented credentials against a DCQL query (OpenID4VP §6.4, §8.6)."""

from __future__ import annotations

from typing import Any

from vectors import load_json

from honnin.dcql import DcqlProblem, PresentedCredential, check_presented, parse_dcql_query

PID_VCT = "https://credentials.example.com/identity_credential"


def _query(name: str) -> Any:
    return parse_dcql_query(load_json("dcql", name))


def _sd(
    disclosed: dict[str, Any], *, vct: str = PID_VCT, bound: bool = True
) -> PresentedCredential:
    claims = {"iss": "https://issuer.example", "vct": vct, "cnf": {"jwk": {}}, **disclosed}
    return PresentedCredential("dc+sd-jwt", vct=vct, claims=claims, holder_binding=bound)


SIMPLE_OK = _sd(
    {"family_name": "Doe", "given_name": "John", "address": {"street_address": "1 A St"}}
)


def _problems(check: Any) -> list[tuple[str, DcqlProblem]]:
    return [(f.query_id, f.problem) for f in check.findings]


def test_simple_satisfied_and_only_requested_values_passed_on() -> None:
    check = check_presented(_query("simple.json"), {"my_credential": [SIMPLE_OK]})
    assert check.satisfied and check.findings == () and check.extra_claims == {}
    (accepted,) = check.accepted["my_credential"]
    assert accepted.values == {
        ("family_name",): ("Doe",),
        ("given_name",): ("John",),
        ("address", "street_address"): ("1 A St",),
    }


def test_claims_outside_the_query_are_flagged_and_not_passed_on() -> None:
    over = _sd(
        {
            "family_name": "Doe",
            "given_name": "John",
            "address": {"street_address": "1 A St", "locality": "X"},
            "birthdate": "1940-01-01",
        }
    )
    check = check_presented(_query("simple.json"), {"my_credential": [over]})
    assert check.satisfied  # extra claims are ignored, not fatal
    assert check.extra_claims == {"my_credential": (("birthdate",),)}
    assert ("birthdate",) not in check.accepted["my_credential"][0].values


def test_precise_disclosed_paths_flag_nested_extras() -> None:
    claims = {
        "family_name": "D",
        "given_name": "J",
        "address": {"street_address": "S", "locality": "L"},
    }
    presented = PresentedCredential(
        "dc+sd-jwt",
        vct=PID_VCT,
        claims={"vct": PID_VCT, **claims},
        disclosed=(
            ("family_name",),
            ("given_name",),
            ("address", "street_address"),
            ("address", "locality"),
        ),
        holder_binding=True,
    )
    check = check_presented(_query("simple.json"), {"my_credential": [presented]})
    assert check.satisfied and check.extra_claims == {"my_credential": (("address", "locality"),)}


def test_required_claim_missing() -> None:
    partial = _sd({"family_name": "Doe", "given_name": "John"})
    check = check_presented(_query("simple.json"), {"my_credential": [partial]})
    assert not check.satisfied
    assert _problems(check) == [
        ("my_credential", DcqlProblem.CLAIMS_MISSING),
        ("my_credential", DcqlProblem.REQUIRED_CREDENTIAL_MISSING),
    ]
    assert "street_address" in check.findings[0].detail


def test_value_mismatch_does_not_satisfy() -> None:
    query = _query("value_matching_simple.json")
    base = {"family_name": "Doe", "given_name": "J", "address": {"street_address": "S"}}
    good = _sd({**base, "postal_code": "90211"})
    assert check_presented(query, {"my_credential": [good]}).satisfied
    bad = _sd({**base, "postal_code": "12345"})
    check = check_presented(query, {"my_credential": [bad]})
    assert not check.satisfied and check.findings[0].problem is DcqlProblem.CLAIMS_MISSING


def test_wrong_vct_and_wrong_format() -> None:
    check = check_presented(
        _query("simple.json"),
        {"my_credential": [_sd(dict(SIMPLE_OK.claims or {}), vct="urn:other")]},
    )
    assert _problems(check)[0] == ("my_credential", DcqlProblem.TYPE_MISMATCH)
    mdoc = PresentedCredential("mso_mdoc", doctype="x", namespaces={}, holder_binding=True)
    check = check_presented(_query("simple.json"), {"my_credential": [mdoc]})
    assert _problems(check)[0] == ("my_credential", DcqlProblem.FORMAT_MISMATCH)
    assert not check.satisfied


def test_missing_holder_binding() -> None:
    unbound = _sd(dict(SIMPLE_OK.claims or {}), bound=False)
    check = check_presented(_query("simple.json"), {"my_credential": [unbound]})
    assert not check.satisfied
    assert _problems(check)[0] == ("my_credential", DcqlProblem.HOLDER_BINDING_MISSING)


def test_vp_token_shape_errors_reject_the_token() -> None:
    query = _query("simple.json")
    for presented, problem in [
        ({"my_credential": []}, DcqlProblem.EMPTY_ENTRY),
        ({"my_credential": [SIMPLE_OK, SIMPLE_OK]}, DcqlProblem.TOO_MANY_PRESENTATIONS),
        ({"my_credential": [SIMPLE_OK], "other": [SIMPLE_OK]}, DcqlProblem.UNKNOWN_QUERY_ID),
    ]:
        check = check_presented(query, presented)
        assert not check.satisfied
        assert problem in [f.problem for f in check.findings]


def test_multiple_allows_several_presentations() -> None:
    raw = load_json("dcql", "simple.json")
    raw["credentials"][0]["multiple"] = True
    check = check_presented(parse_dcql_query(raw), {"my_credential": [SIMPLE_OK, SIMPLE_OK]})
    assert check.satisfied and len(check.accepted["my_credential"]) == 2


def _mdoc(doctype: str, ns: str, **elements: Any) -> PresentedCredential:
    return PresentedCredential(
        "mso_mdoc", doctype=doctype, namespaces={ns: elements}, holder_binding=True
    )


ID_ELEMENTS = {"given_name": "E", "family_name": "M", "portrait": "AA"}


def test_credential_sets_required_and_optional() -> None:
    query = _query("complex_mdoc.json")
    mdl_id = _mdoc("org.iso.18013.5.1.mDL", "org.iso.18013.5.1", **ID_ELEMENTS)
    assert check_presented(query, {"mdl-id": [mdl_id]}).satisfied  # the address set is optional
    photo_id = _mdoc("org.iso.23220.photoid.1", "org.iso.18013.5.1", **ID_ELEMENTS)
    assert check_presented(query, {"photo_card-id": [photo_id]}).satisfied
    addr = _mdoc(
        "org.iso.18013.5.1.mDL", "org.iso.18013.5.1", resident_address="A", resident_country="JP"
    )
    check = check_presented(query, {"mdl-address": [addr]})
    assert not check.satisfied
    assert _problems(check) == [("mdl-id", DcqlProblem.REQUIRED_CREDENTIAL_MISSING)]


def test_a_discarded_presentation_does_not_count() -> None:
    query = _query("complex_mdoc.json")
    wrong_doctype = _mdoc("org.example.other", "org.iso.18013.5.1", **ID_ELEMENTS)
    check = check_presented(query, {"mdl-id": [wrong_doctype]})
    assert not check.satisfied and "mdl-id" not in check.accepted


def test_mdoc_extra_elements_are_flagged() -> None:
    query = _query("simple_mdoc.json")
    presented = PresentedCredential(
        "mso_mdoc",
        doctype="org.iso.7367.1.mVRC",
        namespaces={
            "org.iso.7367.1": {"vehicle_holder": "J"},
            "org.iso.18013.5.1": {"given_name": "J", "birth_date": "1971-09-01"},
        },
        holder_binding=True,
    )
    check = check_presented(query, {"my_credential": [presented]})
    assert check.satisfied
    assert check.extra_claims == {"my_credential": (("org.iso.18013.5.1", "birth_date"),)}


def test_claim_sets_any_satisfied_option_is_accepted() -> None:
    query = _query("claims_alternatives.json")
    presented = _sd({"family_name": "D", "postal_code": "1", "date_of_birth": "1940-01-01"})
    check = check_presented(query, {"pid": [presented]})
    assert check.satisfied and check.accepted["pid"][0].claim_set == ("a", "b", "e")


def test_no_claims_requested_flags_every_disclosure() -> None:
    query = parse_dcql_query(
        {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]}}]}
    )
    check = check_presented(query, {"q": [_sd({"given_name": "J"})]})
    assert check.satisfied and check.extra_claims == {"q": (("given_name",),)}
    assert check.accepted["q"][0].values == {}


def test_nothing_presented() -> None:
    check = check_presented(_query("multi_credentials.json"), {})
    assert not check.satisfied
    assert {f.query_id for f in check.findings} == {"pid", "mdl"}


def test_reprs_hide_values() -> None:
    check = check_presented(_query("simple.json"), {"my_credential": [SIMPLE_OK]})
    assert "John" not in repr(check) and "John" not in repr(SIMPLE_OK)
