from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from honnin.encoding import b64url_decode, b64url_encode, json_from_b64url, json_loads
from honnin.errors import MalformedBase64url, MalformedJson, TooLarge


@given(st.binary(max_size=200))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "bad",
    ["YQ==", "YQ=", "a+b/", "ab cd", "ab\ncd", "ab!c", "A", "YR", "YWJ", "Zm9v_"],
)
def test_b64url_rejects_non_strict_input(bad: str) -> None:
    # padding, std alphabet, whitespace, foreign characters, length 1 mod 4, trailing bits
    with pytest.raises(MalformedBase64url):
        b64url_decode(bad)


# Long texts take the SIMD decoder (pybase64); the same strictness must hold there.
_LONG = "QUJD" * 300  # 1,200 characters of "ABC..." base64url


@given(st.binary(min_size=600, max_size=3000))
def test_b64url_round_trip_long(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data
    assert b64url_decode(text.encode("ascii")) == data


@pytest.mark.parametrize(
    "bad",
    [
        _LONG + "YQ==",  # padding
        _LONG + "YQ=",
        _LONG[:600] + "a+b/" + _LONG[600:],  # standard alphabet in the middle
        _LONG[:600] + "ab cd" + _LONG[600:],  # whitespace
        _LONG[:600] + "\n" + _LONG[600:],
        _LONG[:600] + "ab!c" + _LONG[600:],  # a foreign character
        _LONG[:600] + "abé" + _LONG[600:],  # not ASCII
        _LONG + "A",  # length 1 mod 4
        _LONG + "YR",  # non-zero trailing bits
        _LONG + "YWJ",
        _LONG[:600] + "=" + _LONG[600:],  # '=' inside
    ],
)
def test_b64url_long_rejects_non_strict_input(bad: str) -> None:
    with pytest.raises(MalformedBase64url):
        b64url_decode(bad)


def test_json_from_b64url_long_is_strict() -> None:
    text = b64url_encode(b'{"lst":"' + b"x" * 2000 + b'"}')
    assert json_from_b64url(text, what="payload") == {"lst": "x" * 2000}
    with pytest.raises(MalformedBase64url):
        json_from_b64url(text[:900] + "+" + text[901:], what="payload")
    with pytest.raises(MalformedBase64url):
        json_from_b64url(text[:900] + "\x00" + text[901:], what="payload")


def test_json_rejects_duplicate_names() -> None:
    with pytest.raises(MalformedJson, match="duplicate member name 'alg'"):
        json_loads('{"alg":"ES256","alg":"none"}')


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a":-Infinity}'])
def test_json_rejects_non_finite_numbers(text: str) -> None:
    with pytest.raises(MalformedJson):
        json_loads(text)


def test_json_depth_limit_is_32() -> None:
    json_loads("[" * 32 + "]" * 32)
    with pytest.raises(MalformedJson, match="deeper than 32"):
        json_loads("[" * 33 + "]" * 33)


def test_json_very_deep_nesting_is_malformed_not_recursion_error() -> None:
    with pytest.raises(MalformedJson):
        json_loads("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf{}", b'{"a":"\xff"}', b'{"a":"\\ud800"}', b'{"\\udc00":1}', b"1" * 5000],
)
def test_json_rejects_bom_bad_utf8_lone_surrogates_and_huge_ints(data: bytes) -> None:
    with pytest.raises(MalformedJson):
        json_loads(data)


def test_json_size_limit() -> None:
    with pytest.raises(TooLarge):
        json_loads(b"[" + b"1," * 100 + b"1]", max_size=100)


def test_json_str_with_a_raw_lone_surrogate_is_malformed() -> None:
    with pytest.raises(MalformedJson, match="lone surrogate"):
        json_loads('{"a":"' + chr(0xD800) + '"}')


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 0


def test_json_depth_limit_counts_objects_and_arrays_alike() -> None:
    at_limit = '{"a":' * 16 + "[" * 16 + "]" * 16 + "}" * 16
    json_loads(at_limit)
    with pytest.raises(MalformedJson, match="deeper than 32"):
        json_loads('{"a":' * 17 + "[" * 16 + "]" * 16 + "}" * 17)


def test_json_many_shallow_containers_pass_the_depth_check() -> None:
    # 2,000 brackets but depth 3: the bracket-count screen lets it through to the walk.
    wide = json_loads("[" + ",".join('{"k":[1,2]}' for _ in range(1000)) + "]")
    assert len(wide) == 1000 and wide[999] == {"k": [1, 2]}


def test_json_one_deep_branch_in_a_wide_document_is_found() -> None:
    deep = "[" * 33 + "]" * 33
    text = '{"wide":[' + ",".join(["{}"] * 500) + '],"deep":' + deep + "}"
    with pytest.raises(MalformedJson, match="deeper than 32"):
        json_loads(text)


json_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=40,
)


@given(value=json_values, limit=st.integers(min_value=1, max_value=12))
def test_json_depth_check_agrees_with_a_recursive_depth(value: object, limit: int) -> None:
    text = json.dumps(value)
    if _reference_depth(value) > limit:
        with pytest.raises(MalformedJson, match=f"deeper than {limit}"):
            json_loads(text, max_depth=limit)
    else:
        assert json_loads(text, max_depth=limit) == value
