"""Strict CBOR decoding (honnin.cbor): round trips and every hostile shape, each a typed error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vectors import load_json

from honnin import cbor
from honnin.cbor import EncodedCbor, RawCbor, decode, decode_authenticated, encode
from honnin.errors import MalformedCbor, TooLarge

# -- round trips -----------------------------------------------------------------------------

_scalars = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False)
    | st.dates()
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))
)
_keys = (
    st.integers(min_value=-(2**63), max_value=2**63) | st.text(max_size=10) | st.binary(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(_keys, children, max_size=5)
        | children.map(EncodedCbor.of)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_round_trip(value: object) -> None:
    data = encode(value)
    assert decode(data) == value
    assert decode_authenticated(data) == value


@settings(max_examples=100, deadline=None)
@given(_values)
def test_encoding_is_stable_through_decode(value: object) -> None:
    data = encode(value)
    assert encode(decode(data)) == data


def test_annex_d_device_response_decodes_and_re_encodes_identically() -> None:
    raw = bytes.fromhex(load_json("mdoc", "iso18013-5-annex-d.json")["hex"]["device_response"])
    value = decode(raw)
    assert encode(value) == raw
    items = value["documents"][0]["issuerSigned"]["nameSpaces"]["org.iso.18013.5.1"]
    assert all(isinstance(item, EncodedCbor) for item in items)
    # The tag-24 encoding is the received bytes, so digests are taken over them.
    assert all(item.tagged in raw for item in items)


def test_tdate_and_full_date() -> None:
    assert decode(bytes.fromhex("c074323032302d31302d30315431333a33303a30325a")) == datetime(
        2020, 10, 1, 13, 30, 2, tzinfo=UTC
    )
    assert decode(bytes.fromhex("d903ec6a323032302d31302d3031")) == date(2020, 10, 1)


def test_raw_cbor_is_spliced_verbatim() -> None:
    assert encode([1, RawCbor(b"\x82\x01\x02")]) == b"\x82\x01\x82\x01\x02"


# -- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hex_data",
    [
        "9f01ff",  # indefinite array
        "bf616101ff",  # indefinite map
        "5f4101ff",  # indefinite byte string
        "7f6161ff",  # indefinite text string
        "ff",  # a break where an item was expected
    ],
)
def test_indefinite_lengths_rejected(hex_data: str) -> None:
    with pytest.raises(MalformedCbor, match="definite"):
        decode(bytes.fromhex(hex_data))


def test_two_hundred_thousand_nested_indefinite_text_strings() -> None:
    with pytest.raises(MalformedCbor):
        decode(b"\x7f" * 200_000)


def test_indefinite_rejected_in_authenticated_path() -> None:
    with pytest.raises(MalformedCbor):
        decode_authenticated(bytes.fromhex("9f01ff"))


def test_depth_32_accepted_33_rejected() -> None:
    assert decode(b"\x81" * 32 + b"\x00") is not None
    with pytest.raises(TooLarge):
        decode(b"\x81" * 33 + b"\x00")


def test_empty_containers_count_for_depth() -> None:
    with pytest.raises(TooLarge):
        decode(b"\x81" * 32 + b"\x80")


def test_nested_10000_deep() -> None:
    with pytest.raises(TooLarge):
        decode(b"\x81" * 10_000 + b"\x00")
    with pytest.raises(TooLarge):
        decode_authenticated(b"\x81" * 10_000 + b"\x00")


def test_item_count_limit() -> None:
    data = b"\x99\x03\xe8" + b"\x00" * 1000  # array of 1000 zeros: 1001 items
    assert len(decode(data)) == 1000
    with pytest.raises(TooLarge):
        decode(data, max_items=1000)


def test_input_over_size_limit() -> None:
    big = encode(b"\x00" * 70_000)
    with pytest.raises(TooLarge):
        decode(big, max_size=65_536)
    with pytest.raises(TooLarge):
        decode_authenticated(big, max_size=65_536)


def test_bstr_declaring_2_pow_32_with_10_bytes() -> None:
    data = b"\x5b" + (2**32).to_bytes(8, "big") + b"x" * 10
    with pytest.raises(MalformedCbor, match="truncated"):
        decode(data)
    with pytest.raises(MalformedCbor):
        decode_authenticated(data)


def test_array_declaring_2_pow_32_items_with_10_bytes() -> None:
    with pytest.raises(MalformedCbor, match="truncated"):
        decode(b"\x9b" + (2**32).to_bytes(8, "big") + b"\x00" * 10)


@pytest.mark.parametrize(
    ("hex_data", "what"),
    [
        ("a2616101616102", "text keys"),
        ("a201010102", "int keys"),
        ("a2416101416102", "byte keys"),
    ],
)
def test_duplicate_map_keys(hex_data: str, what: str) -> None:
    with pytest.raises(MalformedCbor, match=r"[Dd]uplicate"):
        decode(bytes.fromhex(hex_data))
    with pytest.raises(MalformedCbor, match=r"[Dd]uplicate"):
        decode_authenticated(bytes.fromhex(hex_data))


def test_duplicate_doctype_key() -> None:
    data = b"\xa2" + encode("docType") + encode("a") + encode("docType") + encode("b")
    with pytest.raises(MalformedCbor):
        decode(data)


@pytest.mark.parametrize(
    "hex_data",
    [
        "c24101",  # bignum
        "d9d9f701",  # self-described CBOR (55799)
        "d81c8100",  # shared value (28)
        "d8190000",  # string reference (25)
        "d9999901",  # unassigned tag
        "c11a5f000000",  # epoch date-time (1): not in ISO 18013-5's profile
        "d901028100",  # set (258)
    ],
)
def test_unknown_tags_rejected(hex_data: str) -> None:
    with pytest.raises(MalformedCbor):
        decode(bytes.fromhex(hex_data))


@pytest.mark.parametrize("hex_data", ["c24101", "d9d9f701", "d81c8100", "d9999901", "c11a5f000000"])
def test_unknown_tags_rejected_in_authenticated_path(hex_data: str) -> None:
    with pytest.raises(MalformedCbor):
        decode_authenticated(bytes.fromhex(hex_data))


@pytest.mark.parametrize(
    "hex_data",
    [
        "d81801",  # tag 24 around an integer
        "d8186161",  # tag 24 around a text string
        "c001",  # tag 0 around an integer
        "d903ec01",  # tag 1004 around an integer
        "d24101",  # tag 18 around a byte string
    ],
)
def test_allowed_tags_around_the_wrong_type(hex_data: str) -> None:
    with pytest.raises(MalformedCbor, match="must enclose"):
        decode(bytes.fromhex(hex_data))


@pytest.mark.parametrize(
    "text", ["2020-10-01", "2020-10-01T13:30:02", "2020-13-01T00:00:00Z", "yesterday"]
)
def test_bad_tdate(text: str) -> None:
    with pytest.raises(MalformedCbor):
        decode(b"\xc0" + encode(text))


@pytest.mark.parametrize("text", ["20201001", "2020-02-30", "2021-W01-1"])
def test_bad_full_date(text: str) -> None:
    with pytest.raises(MalformedCbor):
        decode(b"\xd9\x03\xec" + encode(text))


def test_trailing_bytes() -> None:
    with pytest.raises(MalformedCbor, match="trailing"):
        decode(b"\x00\x00")
    with pytest.raises(MalformedCbor, match="trailing"):
        decode_authenticated(b"\x00\x00")


def test_every_truncation_prefix() -> None:
    data = encode({"a": [1, b"xyz", EncodedCbor.of({"b": "c"})], 7: -300, "d": 1.5})
    for end in range(len(data)):
        with pytest.raises(MalformedCbor):
            decode(data[:end])
        with pytest.raises(MalformedCbor):
            decode_authenticated(data[:end])


@pytest.mark.parametrize("hex_data", ["1800", "190017", "1a000000ff", "5800", "780100"])
def test_non_preferred_argument_encoding(hex_data: str) -> None:
    data = bytes.fromhex(hex_data)
    if hex_data == "780100":
        data += b"a"
    with pytest.raises(MalformedCbor, match="preferred"):
        decode(data)


@pytest.mark.parametrize("hex_data", ["f7", "f0", "f820", "1c", "5d", "fc"])
def test_simple_values_and_reserved_information(hex_data: str) -> None:
    with pytest.raises(MalformedCbor):
        decode(bytes.fromhex(hex_data))


@pytest.mark.parametrize(
    "key_hex", ["8100", "a0", "f5", "f93c00", "c074323032302d31302d30315431333a33303a30325a"]
)
def test_map_keys_must_be_integers_or_strings(key_hex: str) -> None:
    with pytest.raises(MalformedCbor, match="key"):
        decode(b"\xa1" + bytes.fromhex(key_hex) + b"\x00")


def test_invalid_utf8() -> None:
    with pytest.raises(MalformedCbor):
        decode(bytes.fromhex("62c328"))


def test_not_bytes_is_a_programmer_error() -> None:
    with pytest.raises(TypeError):
        decode("00")  # type: ignore[arg-type]


def test_encode_refuses_naive_datetime() -> None:
    with pytest.raises(TypeError):
        encode(datetime(2020, 1, 1))


def test_tdate_normalises_to_utc_seconds() -> None:
    assert cbor.tdate(datetime(2020, 1, 1, 9, 0, 0, 5, tzinfo=UTC)) == datetime(
        2020, 1, 1, 9, tzinfo=UTC
    )


def test_encoded_cbor_decodes_its_content_strictly() -> None:
    item = EncodedCbor(b"\xa2\x61a\x01\x61a\x02")
    with pytest.raises(MalformedCbor):
        item.decode()
    assert repr(EncodedCbor(b"\x00")) == "EncodedCbor(1 bytes)"


@pytest.mark.parametrize("with_date", [False, True])
def test_tagged_cose_content_is_plain_with_and_without_date_tags(with_date: bool) -> None:
    # Without a date tag the decoder runs with no semantic decoders (honnin._cbor_scan
    # reports it); the tag hook alone must still give COSE code plain lists and maps.
    sign1 = cbor2.CBORTag(18, [b"\xa1\x01\x26", {33: b"der"}, b"payload", b"sig"])
    value: dict[str, object] = {"m": sign1, "e": EncodedCbor(b"\xa0")}
    if with_date:
        value["d"] = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    decoded = decode(encode(value))
    assert decoded == value
    assert type(decoded["m"].value) is list and type(decoded["m"].value[1]) is dict
    assert type(decoded["e"]) is EncodedCbor


def test_a_bad_tdate_is_refused_next_to_other_tags() -> None:
    data = encode({"e": EncodedCbor(b"\xa0"), "d": cbor2.CBORTag(0, "2026-01-02 03:04:05")})
    with pytest.raises(MalformedCbor, match="RFC 3339"):
        decode(data)
