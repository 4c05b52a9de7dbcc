"""The compiled DCQL plan (``honnin.dcql._plan``) decides exactly as the general rules do.

``check_presented`` runs on plans: specialised selectors for plain-string pointers and set
look-ups for "is this disclosed path in the query". These properties compare them with the
general implementations (``claim_values``, OpenID4VP 1.0 §7.1.1 / §7.2.1 / §6.3, and the
``_covers`` walk) on generated credentials, pointers and disclosed paths.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honnin.dcql import (
    AcceptedPresentation,
    PresentationCheck,
    PresentedCredential,
    check_presented,
    claim_values,
    parse_dcql_query,
)
from honnin.dcql._check import _covers, _outside
from honnin.dcql._plan import plan_for

KEYS = st.sampled_from(["a", "b", "c", "0"])
COMPONENT = st.one_of(KEYS, st.none(), st.integers(min_value=0, max_value=2))
PATH = st.lists(COMPONENT, min_size=1, max_size=3).map(tuple)
STRING_PATH = st.lists(KEYS, min_size=1, max_size=3).map(tuple)
SCALAR = st.one_of(st.sampled_from(["a", "x"]), st.integers(0, 2), st.booleans(), st.none())
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=12,
)
CLAIMS = st.dictionaries(KEYS, JSON, max_size=4)
VALUES = st.none() | st.lists(st.sampled_from(["a", "x", 0, 1, True]), min_size=1, max_size=3)


def _sd_query(paths: list[tuple[Any, ...]], values: list[Any] | None) -> Any:
    claims = [{"path": list(p), **({"values": values} if values else {})} for p in paths]
    return parse_dcql_query(
        {
            "credentials": [
                {"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "claims": claims}
            ]
        }
    )


@settings(max_examples=300, deadline=None)
@given(CLAIMS, st.one_of(PATH, STRING_PATH), VALUES)
def test_json_selector_is_claim_values(claims: dict[str, Any], path: Any, values: Any) -> None:
    query = _sd_query([path], values)
    (claim,) = query.credentials[0].claims
    (compiled,) = plan_for(query).credentials["q"].claims or ()
    assert compiled.select(claims, None) == claim_values("dc+sd-jwt", claims, None, claim)


NAMESPACES = st.dictionaries(KEYS, st.one_of(st.dictionaries(KEYS, SCALAR), SCALAR), max_size=3)


@settings(max_examples=200, deadline=None)
@given(NAMESPACES, KEYS, KEYS, VALUES)
def test_mdoc_selector_is_claim_values(
    namespaces: dict[str, Any], namespace: str, element: str, values: Any
) -> None:
    claim = {"path": [namespace, element], **({"values": values} if values else {})}
    query = parse_dcql_query(
        {
            "credentials": [
                {"id": "q", "format": "mso_mdoc", "meta": {"doctype_value": "d"}, "claims": [claim]}
            ]
        }
    )
    (parsed,) = query.credentials[0].claims
    (compiled,) = plan_for(query).credentials["q"].claims or ()
    assert compiled.select(None, namespaces) == claim_values("mso_mdoc", None, namespaces, parsed)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(PATH, STRING_PATH), min_size=1, max_size=3),
    st.lists(COMPONENT, max_size=4).map(tuple),
)
def test_outside_is_not_covered(requested: list[tuple[Any, ...]], disclosed: Any) -> None:
    plan = plan_for(_sd_query(requested, None)).credentials["q"]
    assert _outside(plan, disclosed) == (not any(_covers(r, disclosed) for r in requested))


def test_booleans_in_disclosed_paths_are_compared_strictly() -> None:
    # (True,) == (1,) as tuples, but a pointer component 1 does not select a "True" key.
    plan = plan_for(_sd_query([("a", 1)], None)).credentials["q"]
    assert _outside(plan, ("a", True))
    assert not _outside(plan, ("a", 1))


def test_plans_are_reused_per_query_object() -> None:
    query = _sd_query([("a",)], None)
    assert plan_for(query) is plan_for(query)
    assert plan_for(_sd_query([("a",)], None)) is not plan_for(query)


def test_check_presented_through_the_plan() -> None:
    query = _sd_query([("a",), ("b", "c")], ["x"])
    presented = PresentedCredential(
        "dc+sd-jwt", vct="t", claims={"a": "x", "b": {"c": "x"}, "d": 1}, holder_binding=True
    )
    check = check_presented(query, {"q": [presented]})
    assert check.satisfied
    assert check.accepted["q"][0].values == {("a",): ("x",), ("b", "c"): ("x",)}
    assert check.extra_claims == {"q": (("d",),)}


FAST_INIT = [
    (PresentedCredential, {"format": "dc+sd-jwt", "vct": "t", "claims": {"a": 1}}),
    (AcceptedPresentation, {"query_id": "q", "index": 0, "claim_set": None, "values": {}}),
    (PresentationCheck, {"satisfied": True, "accepted": {}, "findings": ()}),
]


@pytest.mark.parametrize(("cls", "arguments"), FAST_INIT)
def test_hand_written_inits_match_the_dataclass_fields(cls: Any, arguments: Any) -> None:
    # These results have an __init__ that stores through the slot descriptors (speed);
    # it must take exactly the dataclass's fields, in order, with the same defaults.
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in dataclasses.fields(cls)]
    for parameter, spec in zip(parameters, dataclasses.fields(cls), strict=True):
        if spec.default is not dataclasses.MISSING:
            assert parameter.default == spec.default
        elif spec.default_factory is not dataclasses.MISSING:
            assert parameter.default is None  # None stands for a fresh default_factory()
        else:
            assert parameter.default is inspect.Parameter.empty
    built = cls(**arguments)
    for spec in dataclasses.fields(cls):
        expected = arguments.get(spec.name, spec.default)
        if spec.name not in arguments and spec.default_factory is not dataclasses.MISSING:
            expected = spec.default_factory()
        assert getattr(built, spec.name) == expected
    assert built == dataclasses.replace(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, parameters[0].name, "changed")
