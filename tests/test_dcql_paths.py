"""Claims path pointer processing (OpenID4VP 1.0 §7.1.1, §7.2.1, §7.3 examples)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectors import load_json

from honnin.dcql import check_claims_path, select_claims, select_mdoc_claim
from honnin.errors import ClaimsPathError, InvalidDcqlQuery

VECTORS = load_json("dcql", "claims-path-pointer-examples.json")
CREDENTIAL = VECTORS["credential"]

#: The vector file says only "error" for its derived cases; which error is ours to decide:
#: a malformed pointer is InvalidDcqlQuery, a pointer that selects nothing ClaimsPathError.
DERIVED_ERRORS: dict[str, tuple[type[Exception], str | None]] = {
    "['name', 0]": (ClaimsPathError, "type_mismatch"),
    "['degrees', 7]": (ClaimsPathError, "not_found"),
    "['address', 'country']": (ClaimsPathError, "not_found"),
    "['degrees', None, 'grade']": (ClaimsPathError, "not_found"),
    "['degrees', -1]": (InvalidDcqlQuery, None),
    "['address', True]": (InvalidDcqlQuery, None),
    "[]": (InvalidDcqlQuery, None),
}


@pytest.mark.parametrize("case", VECTORS["quoted_in_spec"], ids=lambda c: str(c["path"]))
def test_spec_quoted_selections(case: dict[str, Any]) -> None:
    assert select_claims(CREDENTIAL, case["path"]) == case["expected_selection"]


@pytest.mark.parametrize(
    "case", VECTORS["derived_from_rules_not_quoted"], ids=lambda c: str(c["path"])
)
def test_derived_cases(case: dict[str, Any]) -> None:
    if case["expected_selection"] != "error":
        assert select_claims(CREDENTIAL, case["path"]) == case["expected_selection"]
        return
    error, reason = DERIVED_ERRORS[str(case["path"])]
    with pytest.raises(error) as info:
        select_claims(CREDENTIAL, case["path"])
    if reason is not None:
        assert info.value.reason == reason  # type: ignore[attr-defined]
        assert info.value.path == case["path"]  # type: ignore[attr-defined]


def test_every_derived_error_case_is_classified() -> None:
    errors = [
        c for c in VECTORS["derived_from_rules_not_quoted"] if c["expected_selection"] == "error"
    ]
    assert sorted(str(c["path"]) for c in errors) == sorted(DERIVED_ERRORS)


def test_null_over_a_non_array_is_a_type_mismatch() -> None:
    with pytest.raises(ClaimsPathError) as info:
        select_claims(CREDENTIAL, ["address", None])
    assert info.value.reason == "type_mismatch"  # type: ignore[attr-defined]


def test_key_on_an_array_is_a_type_mismatch() -> None:
    with pytest.raises(ClaimsPathError, match="object"):
        select_claims(CREDENTIAL, ["nationalities", "first"])


def test_a_string_is_not_an_array() -> None:
    # Python strings are sequences; JSON strings are not arrays.
    with pytest.raises(ClaimsPathError):
        select_claims({"name": "Arthur"}, ["name", None])


def test_partial_misses_drop_out_of_the_selection() -> None:
    credential = {"d": [{"t": 1}, {"u": 2}, {"t": 3}], "n": [[1, 2], [3]]}
    assert select_claims(credential, ["d", None, "t"]) == [1, 3]
    assert select_claims(credential, ["n", None, 1]) == [2]


def test_mixed_types_in_a_selection_abort() -> None:
    with pytest.raises(ClaimsPathError):
        select_claims({"d": [{"t": 1}, 5]}, ["d", None, "t"])


@pytest.mark.parametrize("bad", [[1.0], [-3], [True], [None, {}], ["a", b"b"], []])
def test_malformed_pointer_components(bad: list[Any]) -> None:
    with pytest.raises(InvalidDcqlQuery):
        check_claims_path(bad)


def test_over_long_pointer_is_rejected() -> None:
    with pytest.raises(InvalidDcqlQuery, match="longer"):
        select_claims({}, ["a"] * 40)


def test_mdoc_pointer() -> None:
    namespaces = {"org.iso.18013.5.1": {"given_name": "Erika", "age_over_18": True}}
    assert select_mdoc_claim(namespaces, ["org.iso.18013.5.1", "given_name"]) == "Erika"
    with pytest.raises(ClaimsPathError):
        select_mdoc_claim(namespaces, ["org.iso.18013.5.1", "family_name"])
    with pytest.raises(ClaimsPathError):
        select_mdoc_claim(namespaces, ["org.iso.18013.5.1.aamva", "given_name"])
    for bad in (["org.iso.18013.5.1"], ["ns", "a", "b"], ["ns", 0]):
        with pytest.raises(InvalidDcqlQuery):
            select_mdoc_claim(namespaces, bad)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=20,
)
_component = st.none() | st.integers(min_value=0, max_value=3) | st.text(max_size=2)


@given(
    st.dictionaries(st.text(max_size=2), _json, max_size=4),
    st.lists(_component, min_size=1, max_size=5),
)
def test_selection_either_succeeds_or_raises_a_typed_error(
    credential: dict[str, Any], path: list[Any]
) -> None:
    try:
        selected = select_claims(credential, path)
    except ClaimsPathError as exc:
        assert exc.reason in ("type_mismatch", "not_found")  # type: ignore[attr-defined]
    else:
        assert selected


@given(st.dictionaries(st.text(max_size=4), _json, min_size=1, max_size=4))
def test_single_key_paths_select_the_value(credential: dict[str, Any]) -> None:
    for key, value in credential.items():
        assert select_claims(credential, [key]) == [value]
