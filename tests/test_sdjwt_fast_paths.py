"""The set-based processing of ``_sd`` arrays against the digest-by-digest loop it replaces.

``honnin.sdjwt._process`` handles an ``_sd`` array of distinct string digests with set
operations, and adds its digests to the seen set only where a nested disclosure could
observe it. For any payload and disclosures, valid or broken in several ways at once, the
outcome (the processed claims, or the class of the first error) must be the loop's.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honnin.errors import HonninError, MalformedCredential, TooLarge
from honnin.jose import generate_key, sign_jws
from honnin.sdjwt import _process, issue_sd_jwt
from honnin.sdjwt._constants import HashAlgorithm
from honnin.sdjwt._disclosure import decode_all, encode_disclosure
from honnin.sdjwt._process import process_payload
from honnin.sdjwt._serialization import split_sd_jwt

_NAMES = ("a", "b", "c")


def _disclosure(salt: str, name: str | None, value: Any) -> str:
    return encode_disclosure(salt, name, value)


def _decoded(texts: list[str]) -> list[Any]:
    return decode_all(tuple(texts), HashAlgorithm.SHA256)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    # Leaves: object properties with scalar values, one array element (wrong shape in _sd).
    texts = [_disclosure(f"s{i}", draw(st.sampled_from(_NAMES)), i) for i in range(4)]
    texts.append(_disclosure("arr", None, 7))
    leaves = [d[1] for d in _decoded(texts)]
    decoys = ["decoy-1", "decoy-2"]
    # A nested disclosure whose value has its own _sd (drawn from the same digests).
    inner = draw(st.lists(st.sampled_from(leaves + decoys), max_size=3))
    nested = _disclosure("n", draw(st.sampled_from((*_NAMES, "d"))), {"_sd": inner, "k": 1})
    texts.append(nested)
    digests = [d[1] for d in _decoded(texts)]
    top = draw(st.lists(st.sampled_from(digests + decoys), max_size=7))
    payload: dict[str, Any] = {"_sd": top}
    if draw(st.booleans()):
        payload["a"] = "plain"  # a disclosure of "a" would overwrite it
    if draw(st.booleans()):
        payload["o"] = {"_sd": draw(st.lists(st.sampled_from(digests + decoys), max_size=3))}
    presented = draw(st.lists(st.sampled_from(texts), max_size=len(texts), unique=True))
    return payload, presented


def _outcome(payload: dict[str, Any], texts: list[str]) -> Any:
    try:
        claims, placements = process_payload(payload, _decoded(texts))
    except HonninError as exc:
        return type(exc)
    return claims, [(d[1], path, owner) for d, path, owner in placements]


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_set_based_processing_agrees_with_the_loop(
    case: tuple[dict[str, Any], list[str]],
) -> None:
    payload, texts = case
    fast = _outcome(payload, texts)
    with pytest.MonkeyPatch.context() as patch:
        # No type passes the "all digests are strings" screen: every array takes the loop.
        patch.setattr(_process, "_STR", frozenset())
        assert _outcome(payload, texts) == fast


def test_a_digest_repeated_after_a_nested_disclosure_is_found_before_a_shape_error() -> None:
    leaf = _disclosure("s", "x", 1)
    element = _disclosure("e", None, 2)
    leaf_digest, element_digest = (d[1] for d in _decoded([leaf, element]))
    nested = _disclosure("n", "d", {"_sd": [leaf_digest]})
    nested_digest = _decoded([nested])[0][1]
    # The nested disclosure adds leaf_digest to the seen digests; the top level repeats
    # it before referencing an array element disclosure from '_sd' (a shape error).
    payload = {"_sd": [nested_digest, leaf_digest, element_digest]}
    expected = _outcome(payload, [nested, leaf, element])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_process, "_STR", frozenset())
        assert _outcome(payload, [nested, leaf, element]) == expected
    assert expected.__name__ == "NonUniqueDigests"


@pytest.mark.parametrize(("count", "too_many"), [(2000, False), (2001, True), (5000, True)])
def test_the_disclosure_limit_with_the_bounded_split(count: int, too_many: bool) -> None:
    text = sign_jws({}, generate_key()) + "~" + "WyJhIiwiYiJd~" * count
    if too_many:
        with pytest.raises(TooLarge):
            split_sd_jwt(text)
    else:
        assert len(split_sd_jwt(text).disclosures) == count


def test_text_without_a_separator_is_not_an_sd_jwt() -> None:
    with pytest.raises(MalformedCredential, match="no '~'"):
        split_sd_jwt("a.b.c")


@pytest.mark.parametrize("impostor", [True, 1.0])
def test_compiled_path_cache_does_not_take_an_equal_but_ill_typed_segment(impostor: object) -> None:
    # True == 1 == 1.0 and they hash alike: a path refused when fresh stays refused after
    # the same path with the int segment was compiled and cached.
    key = generate_key()
    issue_sd_jwt({"a": [1, 2]}, key, disclosable=[("a", 1)])
    with pytest.raises(TypeError):
        issue_sd_jwt({"a": [1, 2]}, key, disclosable=[("a", impostor)])  # type: ignore[list-item]
