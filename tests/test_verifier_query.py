"""``Query``: catalogue types and claims to DCQL (OpenID4VP 1.0 §6), combinators, raw DCQL."""

from __future__ import annotations

from typing import Any

import pytest
from test_verifier_support import catalogue_type

from honnin.dcql import parse_dcql_query
from honnin.errors import InvalidDcqlQuery, UnknownCredentialType
from verifier import Query
from verifier._query import parse_claim_name

SLIP = "withholding-slip"


def _dcql(query: Query, purpose: str | None = None) -> dict[str, Any]:
    document = query.to_dcql(purpose=purpose).to_json()
    # Every produced query parses back under the strict DCQL rules.
    assert parse_dcql_query(document).to_json() == document
    return document


def test_of_builds_an_sd_jwt_vc_query_from_the_catalogue() -> None:
    document = _dcql(Query.of(SLIP, "payment_amount", "recipient.name"))
    (credential,) = document["credentials"]
    assert credential["id"] == SLIP
    assert credential["format"] == "dc+sd-jwt"
    assert credential["meta"] == {"vct_values": [catalogue_type(SLIP).vct]}
    assert [c["path"] for c in credential["claims"]] == [["payment_amount"], ["recipient", "name"]]
    assert "credential_sets" not in document


def test_purpose_travels_in_every_credential_set() -> None:
    document = _dcql(Query.of(SLIP, "payment_amount"), purpose="benefit application")
    assert document["credential_sets"] == [
        {"options": [[SLIP]], "required": True, "purpose": "benefit application"}
    ]


def test_mdoc_claims_become_namespace_and_element() -> None:
    slip = catalogue_type(SLIP)
    namespace = slip.namespaces[0]
    document = _dcql(Query.of(SLIP, "payment_amount", "recipient.name", format="mso_mdoc"))
    (credential,) = document["credentials"]
    assert credential["meta"] == {"doctype_value": slip.doctype}
    assert [c["path"] for c in credential["claims"]] == [
        [namespace, "payment_amount"],
        [namespace, "recipient_name"],
    ]
    assert credential["id"] == f"{SLIP}-mdoc"


def test_an_object_mapped_member_by_member_asks_for_each_element() -> None:
    document = _dcql(Query.of(SLIP, "payer", format="mso_mdoc"))
    elements = [c["path"][1] for c in document["credentials"][0]["claims"]]
    assert elements == ["payer_name", "payer_address", "payer_corporate_number", "payer_phone"]


def test_and_asks_for_both_credentials() -> None:
    query = Query.of(SLIP, "payment_amount") & Query.of("resident-record")
    document = _dcql(query)
    assert [c["id"] for c in document["credentials"]] == [SLIP, "resident-record"]
    assert "credential_sets" not in document  # both plainly required


def test_or_makes_alternatives_and_optional_a_set_the_wallet_may_skip() -> None:
    either = Query.of(SLIP, "payment_amount") | Query.of(SLIP, "payment_amount", format="mso_mdoc")
    query = either & Query.of("resident-record").optional()
    document = _dcql(query)
    assert document["credential_sets"] == [
        {"options": [[SLIP], [f"{SLIP}-mdoc"]], "required": True},
        {"options": [["resident-record"]], "required": False},
    ]


def test_alternatives_of_conjunctions_expand_to_options() -> None:
    both = Query.of(SLIP, "payment_amount") & Query.of("tax-certificate")
    query = Query.any(both, Query.of("resident-record"))
    sets = _dcql(query)["credential_sets"]
    assert sets == [{"options": [[SLIP, "tax-certificate"], ["resident-record"]], "required": True}]


def test_the_same_type_twice_gets_distinct_ids() -> None:
    query = Query.all(Query.of(SLIP, "payment_amount"), Query.of(SLIP, "withholding_tax"))
    assert [c["id"] for c in _dcql(query)["credentials"]] == [SLIP, f"{SLIP}-2"]


def test_explicit_ids_and_duplicate_ids() -> None:
    query = Query.of(SLIP, "payment_amount", id="slip") & Query.of("resident-record", id="rr")
    assert [c["id"] for c in _dcql(query)["credentials"]] == ["slip", "rr"]
    twice = Query.of(SLIP, id="same") & Query.of("resident-record", id="same")
    with pytest.raises(InvalidDcqlQuery):
        twice.to_dcql()


def test_values_claim_sets_multiple_and_binding_options() -> None:
    query = Query.of(
        SLIP,
        "tax_year",
        "payment_amount",
        values={"tax_year": [2023, 2024]},
        claim_sets=[["tax_year", "payment_amount"], ["tax_year"]],
        multiple=True,
        holder_binding=False,
    )
    (credential,) = _dcql(query)["credentials"]
    assert credential["claims"] == [
        {"id": "c0", "path": ["tax_year"], "values": [2023, 2024]},
        {"id": "c1", "path": ["payment_amount"]},
    ]
    assert credential["claim_sets"] == [["c0", "c1"], ["c0"]]
    assert credential["multiple"] is True
    assert credential["require_cryptographic_holder_binding"] is False


def test_raw_dcql_is_used_as_given() -> None:
    raw = {
        "credentials": [
            {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:example:pid"]}}
        ],
        "credential_sets": [{"options": [["pid"]]}],
    }
    document = _dcql(Query.dcql(raw), purpose="why")
    assert document["credentials"][0]["meta"] == {"vct_values": ["urn:example:pid"]}
    assert document["credential_sets"][0]["purpose"] == "why"
    with pytest.raises(TypeError):
        _ = Query.dcql(raw) & Query.of(SLIP)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("payment_amount", ("payment_amount",)),
        ("recipient.name", ("recipient", "name")),
        ("dependents.0.name", ("dependents", 0, "name")),
        ("dependents.*.name", ("dependents", None, "name")),
        (("a", 1, None), ("a", 1, None)),
    ],
)
def test_claim_names_parse_to_paths(name: Any, path: tuple[Any, ...]) -> None:
    assert parse_claim_name(name) == path


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownCredentialType):
        Query.of("no-such-type", "x")


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (("no_such_claim",), {}),
        (("payment_amount",), {"format": "jwt_vc_json"}),
        (("dependents.0.name",), {"format": "mso_mdoc"}),  # inside one mdoc element
        (("payment_amount",), {"values": {"tax_year": [2023]}}),  # not requested
        (("recipient..name",), {}),
        (("",), {}),
        (("payer",), {"format": "mso_mdoc", "values": {"payer": ["x"]}}),
    ],
)
def test_invalid_claims_are_refused(args: tuple[Any, ...], options: dict[str, Any]) -> None:
    with pytest.raises(InvalidDcqlQuery):
        Query.of(SLIP, *args, **options)


def test_an_optional_part_cannot_become_an_alternative() -> None:
    with pytest.raises(TypeError):
        _ = Query.of(SLIP).optional() | Query.of("resident-record")
