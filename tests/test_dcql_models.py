"""DCQL query parsing and validation (OpenID4VP 1.0 §6), including hostile queries."""

from __future__ import annotations

import copy
import doctest
import json
from typing import Any

import pytest
from vectors import load_json

import honnin.dcql
from honnin.dcql import (
    CredentialFormat,
    DcqlQuery,
    _match,
    _models,
    _paths,
    dcql_query_json,
    parse_dcql_query,
)
from honnin.errors import InvalidDcqlQuery, MalformedInput, MalformedJson, TooLarge

QUERY_FILES = [
    "simple.json",
    "simple_mdoc.json",
    "multi_credentials.json",
    "credentials_alternatives.json",
    "complex_mdoc.json",
    "claims_alternatives.json",
    "value_matching_simple.json",
]


def _pid(**extra: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": "pid",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:example:pid"]},
        "claims": [{"id": "a", "path": ["given_name"]}, {"id": "b", "path": ["family_name"]}],
    }
    query.update(extra)
    return query


def _query(*credentials: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"credentials": list(credentials), **extra}


def test_public_api_is_pinned() -> None:
    assert sorted(honnin.dcql.__all__) == [
        "AcceptedPresentation",
        "CandidateCredential",
        "CandidateMatch",
        "ClaimValue",
        "ClaimsPath",
        "ClaimsQuery",
        "CredentialFormat",
        "CredentialQuery",
        "CredentialQueryMatch",
        "CredentialQueryMeta",
        "CredentialSetMatch",
        "CredentialSetQuery",
        "DcqlFinding",
        "DcqlMatch",
        "DcqlProblem",
        "DcqlQuery",
        "PresentationCheck",
        "PresentedCredential",
        "TrustedAuthoritiesQuery",
        "TrustedAuthorityType",
        "check_claims_path",
        "check_presented",
        "claim_values",
        "dcql_query_json",
        "match_query",
        "parse_dcql_query",
        "select_claims",
        "select_mdoc_claim",
    ]


@pytest.mark.parametrize("module", [_models, _paths, _match])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", QUERY_FILES)
def test_spec_examples_parse_and_round_trip(name: str) -> None:
    raw = load_json("dcql", name)
    query = parse_dcql_query(raw)
    assert [c.id for c in query.credentials] == [c["id"] for c in raw["credentials"]]
    again = parse_dcql_query(dcql_query_json(query))
    assert again == query


def test_defaults_follow_the_spec() -> None:
    query = parse_dcql_query(load_json("dcql", "simple.json"))
    credential = query.credential("my_credential")
    assert credential.format == CredentialFormat.SD_JWT_VC
    assert credential.multiple is False  # §6.1 default
    assert credential.require_cryptographic_holder_binding is True  # §6.1 default
    sets = parse_dcql_query(load_json("dcql", "complex_mdoc.json")).credential_sets
    assert sets is not None and [s.required for s in sets] == [True, False]  # §6.2 default


def test_mdoc_intent_to_retain_and_values_are_kept() -> None:
    query = parse_dcql_query(
        _query(
            {
                "id": "mdl",
                "format": "mso_mdoc",
                "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                "claims": [
                    {"path": ["org.iso.18013.5.1", "age_over_18"], "values": [True]},
                    {"path": ["org.iso.18013.5.1", "portrait"], "intent_to_retain": False},
                ],
            }
        )
    )
    claims = query.credential("mdl").claims
    assert claims is not None
    assert claims[0].values == (True,) and claims[1].intent_to_retain is False


def test_unknown_properties_are_ignored_at_every_level() -> None:
    # §6: "Implementations MUST ignore any unknown properties."
    raw = _query(
        _pid(future={"x": 1}, meta={"vct_values": ["urn:example:pid"], "other": 1}),
        credential_sets=[{"options": [["pid"]], "purpose": "why", "later": True}],
        extension=[1, 2],
    )
    raw["credentials"][0]["claims"][0]["extra"] = "ignored"
    query = parse_dcql_query(raw)
    assert "future" not in query.credential("pid").model_dump()


def test_frozen_models_cannot_be_changed() -> None:
    query = parse_dcql_query(load_json("dcql", "simple.json"))
    with pytest.raises(ValueError):
        query.credentials = ()  # type: ignore[misc]


def test_json_text_is_parsed_strictly() -> None:
    text = json.dumps(load_json("dcql", "simple.json"))
    assert parse_dcql_query(text) == parse_dcql_query(text.encode())
    with pytest.raises(MalformedJson):
        parse_dcql_query('{"credentials": [], "credentials": []}')


def test_direct_construction_with_bad_values_is_a_programmer_error() -> None:
    with pytest.raises(ValueError):
        DcqlQuery(credentials=())


# -- hostile queries: each ends in InvalidDcqlQuery (or TooLarge / MalformedJson) ----------


def test_duplicate_credential_ids() -> None:
    with pytest.raises(InvalidDcqlQuery, match="unique"):
        parse_dcql_query(_query(_pid(), _pid()))


@pytest.mark.parametrize("bad_id", ["", "pid card", "pid.1", "pïd", "a/b", "x" * 257, "ä"])
def test_bad_credential_id_characters(bad_id: str) -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(id=bad_id)))


@pytest.mark.parametrize("bad_id", ["", "a b", "a:b"])
def test_bad_claim_id_characters(bad_id: str) -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(claims=[{"id": bad_id, "path": ["x"]}])))


def test_duplicate_claim_ids() -> None:
    claims = [{"id": "a", "path": ["x"]}, {"id": "a", "path": ["y"]}]
    with pytest.raises(InvalidDcqlQuery, match="unique"):
        parse_dcql_query(_query(_pid(claims=claims)))


def test_empty_credentials() -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query({"credentials": []})


def test_missing_credentials() -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query({"credential_sets": [{"options": [["pid"]]}]})


def test_empty_claims() -> None:
    with pytest.raises(InvalidDcqlQuery, match="non-empty"):
        parse_dcql_query(_query(_pid(claims=[])))


def test_claim_sets_without_claims() -> None:
    query = _pid(claim_sets=[["a"]])
    del query["claims"]
    with pytest.raises(InvalidDcqlQuery, match="claim_sets"):
        parse_dcql_query(_query(query))


def test_claim_sets_referencing_unknown_ids() -> None:
    with pytest.raises(InvalidDcqlQuery, match="unknown claim ids"):
        parse_dcql_query(_query(_pid(claim_sets=[["a", "zz"]])))


def test_claim_sets_need_ids_on_every_claim() -> None:
    claims = [{"id": "a", "path": ["x"]}, {"path": ["y"]}]
    with pytest.raises(InvalidDcqlQuery, match="'id'"):
        parse_dcql_query(_query(_pid(claims=claims, claim_sets=[["a"]])))


@pytest.mark.parametrize("claim_sets", [[], [[]], [["a"], []]])
def test_empty_claim_sets(claim_sets: list[list[str]]) -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(claim_sets=claim_sets)))


def test_credential_sets_referencing_unknown_ids() -> None:
    with pytest.raises(InvalidDcqlQuery, match="unknown credential ids"):
        parse_dcql_query(_query(_pid(), credential_sets=[{"options": [["pid", "mdl"]]}]))


@pytest.mark.parametrize("sets", [[], [{"options": []}], [{"options": [[]]}], [{}]])
def test_empty_credential_sets_or_options(sets: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(), credential_sets=sets))


def test_required_must_be_a_boolean() -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(), credential_sets=[{"options": [["pid"]], "required": 0}]))


@pytest.mark.parametrize(
    "path",
    [[], ["a", -1], ["a", 1.0], ["a", 0.5], ["a", True], [False], ["a", {}], ["a", ["b"]], "a"],
)
def test_bad_claims_paths(path: Any) -> None:
    # §7: non-empty array of strings, nulls and non-negative integers.
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query(_query(_pid(claims=[{"path": path}])))


def test_values_must_be_non_empty_scalars() -> None:
    for values in ([], [1.5], [None], [{"a": 1}]):
        with pytest.raises(InvalidDcqlQuery):
            parse_dcql_query(_query(_pid(claims=[{"path": ["x"], "values": values}])))


def test_sd_jwt_query_needs_vct_values() -> None:
    for meta in ({}, {"vct_values": []}, {"doctype_value": "x"}):
        with pytest.raises(InvalidDcqlQuery, match="vct_values"):
            parse_dcql_query(_query(_pid(meta=meta)))


def test_mdoc_query_needs_doctype_value() -> None:
    query = {"id": "m", "format": "mso_mdoc", "meta": {"vct_values": ["x"]}}
    with pytest.raises(InvalidDcqlQuery, match="doctype_value"):
        parse_dcql_query(_query(query))


def test_meta_is_required() -> None:
    query = _pid()
    del query["meta"]
    with pytest.raises(InvalidDcqlQuery, match="meta"):
        parse_dcql_query(_query(query))


@pytest.mark.parametrize("path", [["org.iso.18013.5.1"], ["ns", "a", "b"], ["ns", 0], ["ns", None]])
def test_mdoc_paths_are_namespace_and_element(path: list[Any]) -> None:
    query = {"id": "m", "format": "mso_mdoc", "meta": {"doctype_value": "d"}}
    query["claims"] = [{"path": path}]
    with pytest.raises(InvalidDcqlQuery, match="namespace"):
        parse_dcql_query(_query(query))


def test_bad_trusted_authorities() -> None:
    for authorities in ([], [{"type": "aki", "values": []}], [{"type": "aki", "values": ["a+b="]}]):
        with pytest.raises(InvalidDcqlQuery):
            parse_dcql_query(_query(_pid(trusted_authorities=authorities)))


def test_wrong_json_types_everywhere() -> None:
    base = load_json("dcql", "complex_mdoc.json")
    mutations = [
        ("credentials", "not an array"),
        ("credential_sets", {"options": []}),
    ]
    for key, value in mutations:
        bad = copy.deepcopy(base)
        bad[key] = value
        with pytest.raises(InvalidDcqlQuery):
            parse_dcql_query(bad)
    bad = copy.deepcopy(base)
    bad["credentials"][0]["multiple"] = "yes"
    with pytest.raises(InvalidDcqlQuery, match=r"credentials\.0\.multiple"):
        parse_dcql_query(bad)


def test_not_an_object() -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_dcql_query("[1, 2]")


def test_too_many_credential_queries_is_cut_off() -> None:
    many = [_pid(id=f"q{i}") for i in range(10_000)]
    with pytest.raises(TooLarge):
        parse_dcql_query(_query(*many))


def test_too_many_claims_is_cut_off() -> None:
    claims = [{"path": [f"c{i}"]} for i in range(1_000)]
    with pytest.raises(TooLarge):
        parse_dcql_query(_query(_pid(claims=claims)))


def test_overlong_path_is_cut_off() -> None:
    with pytest.raises(TooLarge):
        parse_dcql_query(_query(_pid(claims=[{"path": ["a"] * 33}])))


def test_over_deep_json_is_rejected_without_recursion_error() -> None:
    deep = '{"credentials": [' + '{"a": [' * 1500 + "]}" * 1500 + "]}"
    with pytest.raises(MalformedJson):
        parse_dcql_query(deep)


def test_errors_are_malformed_input_and_answer_invalid_request() -> None:
    with pytest.raises(MalformedInput) as info:
        parse_dcql_query(_query(_pid(), _pid()))
    assert info.value.oauth_error == "invalid_request"
    assert info.value.code == "invalid_dcql_query"
