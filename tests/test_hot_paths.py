"""The shortcuts taken on hot paths accept and reject exactly what the general paths do.

Each shortcut (batched disclosure decoding, batched digest encoding, the fused tag-24 step
of the CBOR pre-scan, the stream position as trailing-bytes check, the one-join ``_sd``
array of an issued payload, the kept hash state of ``sd_hash``, the MSO written member by
member) is checked against the plain computation it replaces, including on hostile input.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from honnin.cbor import decode, decode_authenticated, encode
from honnin.encoding import b64url_decode, b64url_encode, json_from_b64url, json_from_b64url_all
from honnin.errors import HonninError, MalformedCbor
from honnin.jose import generate_key, jwk_from_public_key
from honnin.limits import MAX_JSON_DEPTH
from honnin.mdoc import MobileSecurityObject, ValidityInfo
from honnin.sdjwt import KeyBinding, SdJwt, issue_sd_jwt, verify_sd_jwt
from honnin.sdjwt._disclosure import b64url_digests
from honnin.status import StatusReference

# -- CBOR ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 100, 4000, 4095, 4096, 4097, 9000, 70_000])
def test_decode_authenticated_rejects_trailing_bytes_around_the_read_ahead(size: int) -> None:
    # cbor2 reads ahead 4096 bytes from a stream: the trailing-bytes check must not be
    # fooled by where the stream stands after the read-ahead.
    data = encode([b"\x01" * size, 7])
    assert decode_authenticated(data) == [b"\x01" * size, 7]
    for trailing in (b"\x00", b"\x01" * 5000):
        with pytest.raises(MalformedCbor, match="trailing"):
            decode_authenticated(data + trailing)


@pytest.mark.parametrize(
    ("hex_data", "message"),
    [
        ("d818580500010203 04", "non-preferred"),  # length 5 in a one-byte argument
        ("d8185900", "cut off"),  # tag 24, byte string head cut off
        ("d8184501", "truncated"),  # tag 24, byte string runs past the end
        ("d8185f4100ff", "indefinite"),  # tag 24 around an indefinite byte string
        ("d8185c", "reserved"),  # tag 24 around a reserved additional information
        ("d8186161", "must enclose a bstr"),  # tag 24 around a text string
        ("82d81841a0", "truncated"),  # the array still expects an item
        ("d81841a000", "trailing"),
    ],
)
def test_scan_of_tag_24_items(hex_data: str, message: str) -> None:
    with pytest.raises(MalformedCbor, match=message):
        decode(bytes.fromhex(hex_data.replace(" ", "")))


def test_scan_of_tag_24_items_in_a_map_value_and_an_array() -> None:
    value = {"a": [decode(bytes.fromhex("d81841a0")), 1], 2: decode(bytes.fromhex("d81840"))}
    assert decode(encode(value)) == value


# -- strict JSON from base64url, many at once --------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)
_texts = st.one_of(
    _json.map(lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
    _json.map(json.dumps),  # spaces and \\u escapes
    _json.map(lambda v: " " + json.dumps(v)),
    st.text(max_size=12),  # mostly not JSON
).map(lambda text: b64url_encode(text.encode("utf-8", "surrogatepass")))
_hostile = st.one_of(_texts, st.text(max_size=12), st.just(""), st.just("W10="))


def _each(texts: list[str]) -> list[Any] | type[HonninError]:
    try:
        return [json_from_b64url(text, what="t") for text in texts]
    except HonninError:
        return HonninError


@settings(max_examples=400, deadline=None)
@given(st.lists(_hostile, max_size=4))
def test_json_from_b64url_all_agrees_with_one_by_one(texts: list[str]) -> None:
    batched = json_from_b64url_all(texts)
    if batched is not None:
        assert batched == _each(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_json, max_size=3), max_size=4))
# Found by hypothesis in CI: one text with more openers than the depth limit.
@example(
    values=[
        [
            {"": [[[], [], []]], "00": [], "0": {"": [], "0": []}},
            {"": [[], [[], [], []]], "00": [], "0": [[], []]},
            {"": [[], [[], [], []]], "00": [], "0": [[], []]},
        ]
    ]
)
def test_json_from_b64url_all_takes_compact_arrays(values: list[list[Any]]) -> None:
    dumped = [json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in values]
    texts = [b64url_encode(text.encode()) for text in dumped]
    batched = json_from_b64url_all(texts)
    if all(text.count("[") + text.count("{") <= MAX_JSON_DEPTH for text in dumped):
        assert batched == values
    else:
        # More openers in one text than the depth limit: it may nest too deep, and the batch
        # leaves the decision to the strict path (None) rather than walking it.
        assert batched in (None, values)


@pytest.mark.parametrize(
    "text",
    [
        "W10=",  # padding
        "",  # nothing
        "Ww",  # "[": truncated JSON
        "W10!",  # a character outside the alphabet
        "77u_W10",  # a byte order mark before "[]"
        "IFtd",  # " []": leading whitespace (valid JSON, left to json_from_b64url)
        "WyJcdWQ4MDAiXQ",  # a lone surrogate escape
        "WzEsMV0g",  # "[1,1] ": trailing whitespace
        "eyJhIjoxLCJhIjoyfQ",  # a duplicate member name
    ],
)
def test_json_from_b64url_all_leaves_irregular_texts_to_the_strict_path(text: str) -> None:
    assert json_from_b64url_all(["W10", text]) is None


@pytest.mark.parametrize("name", ["sha256", "sha384", "sha512"])
@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_digests_encoded_in_one_call(name: str, count: int) -> None:
    digests = [hashlib.new(name, bytes([i])).digest() for i in range(count)]
    assert b64url_digests(digests) == [b64url_encode(d) for d in digests]


# -- SD-JWT ------------------------------------------------------------------------------------

ISSUER = generate_key()
HOLDER = generate_key()


def _payload(token: str) -> dict[str, Any]:
    payload = json.loads(b64url_decode(token.split("~")[0].split(".")[1]))
    assert isinstance(payload, dict)
    return payload


def test_issued_sd_array_beside_a_claim_that_spells_it() -> None:
    claims = {"note": '"_sd":0', "_sd_like": {"x": '{"_sd":0}'}, "age": 42, "name": "Ann"}
    token = issue_sd_jwt(claims, ISSUER, disclosable=["/age", "/name"])
    payload = _payload(token)
    assert payload["note"] == '"_sd":0'
    assert payload["_sd_like"] == {"x": '{"_sd":0}'}
    assert len(payload["_sd"]) == 2 and all(type(d) is str for d in payload["_sd"])
    verified = verify_sd_jwt(token, ISSUER.public_key(), key_binding=KeyBinding.FORBIDDEN)
    assert verified.claims == claims


def test_issued_payload_with_decoys_and_nested_digests() -> None:
    claims = {"address": {"street": "1 Main St", "city": "Anytown"}, "age": 42}
    token = issue_sd_jwt(
        claims, ISSUER, disclosable=["/address", "/address/city", "/age"], decoys=3
    )
    payload = _payload(token)
    assert len(payload["_sd"]) == 2 + 3 and payload["_sd"] == sorted(payload["_sd"])
    verified = verify_sd_jwt(token, ISSUER.public_key(), key_binding=KeyBinding.FORBIDDEN)
    assert verified.claims == claims


def test_sd_hash_from_the_kept_hash_state_for_every_selection() -> None:
    claims = {"a": 1, "b": "two", "c": {"d": [3]}}
    token = issue_sd_jwt(
        claims,
        ISSUER,
        disclosable=["/a", "/b", "/c"],
        holder_key=jwk_from_public_key(HOLDER),
    )
    stored = SdJwt.parse(token)
    for paths in ([], ["/a"], ["/b", "/c"], ["/a", "/b", "/c"], ["/c"]):
        presentation = stored.present(paths, holder_key=HOLDER, nonce="n", aud="https://v")
        issuer_part = presentation.rsplit("~", 1)[0] + "~"
        verified = verify_sd_jwt(
            presentation,
            ISSUER.public_key(),
            key_binding=KeyBinding.REQUIRED,
            nonce="n",
            aud="https://v",
        )
        assert verified.key_binding is not None
        expected = b64url_encode(hashlib.sha256(issuer_part.encode()).digest())
        assert verified.key_binding.claims["sd_hash"] == expected


# -- mdoc --------------------------------------------------------------------------------------

_moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(timezone(timedelta(hours=9))),
)


@settings(max_examples=300, deadline=None)
@given(_moments, _moments, _moments, st.none() | _moments, st.booleans())
def test_mso_written_directly_equals_the_generic_encoding(
    signed: datetime,
    valid_from: datetime,
    valid_until: datetime,
    expected_update: datetime | None,
    with_status: bool,
) -> None:
    validity = ValidityInfo(signed, valid_from, valid_until, expected_update)
    assert validity.encode() == encode(validity.to_cbor_value())
    mso = MobileSecurityObject(
        digest_algorithm="SHA-256",
        value_digests={"ns.b": {7: b"\x01" * 32, 2: b"\x02" * 32}, "ns.a": {}},
        device_key={1: 2, -1: 1, -2: b"\x03" * 32, -3: b"\x04" * 32},
        doctype="org.example.doc",
        validity=validity,
        status=StatusReference("https://status.example/1", 9) if with_status else None,
    )
    assert mso.encode() == encode(mso.to_cbor_value())
