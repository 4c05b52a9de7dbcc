"""Status List encoding and its hostile inputs (draft-ietf-oauth-status-list-20 §4, §11)."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honnin.encoding import b64url_encode
from honnin.errors import (
    InvalidClaim,
    MalformedBase64url,
    MalformedInput,
    StatusUnavailable,
    TooLarge,
)
from honnin.limits import MAX_STATUS_LIST_COMPRESSED, MAX_STATUS_LIST_INFLATED
from honnin.status import StatusList, StatusValue, ZlibStrategy


def test_lsb_first_bit_order_section_4_1() -> None:
    lst = StatusList(16, bits=1)
    for i, value in enumerate([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]):
        lst.set(i, value)
    assert lst.to_bytes() == bytes.fromhex("b9a3")


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_set_get_every_value_every_slot(bits: int) -> None:
    per_byte = 8 // bits
    lst = StatusList(per_byte * 3, bits)
    for value in range(1 << bits):
        for i in range(lst.size):
            lst.set(i, value)
            assert lst.get(i) == value
            # Neighbours in the same byte are untouched.
            for j in range(lst.size):
                if j != i:
                    assert lst.get(j) == 0
            lst.set(i, 0)


@given(
    bits=st.sampled_from([1, 2, 4, 8]),
    data=st.data(),
    level=st.integers(0, 9),
    strategy=st.sampled_from(list(ZlibStrategy)),
)
@settings(max_examples=60, deadline=None)
def test_roundtrip_property(
    bits: int, data: st.DataObject, level: int, strategy: ZlibStrategy
) -> None:
    per_byte = 8 // bits
    values = data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=200))
    size = len(values) + (-len(values) % per_byte)
    lst = StatusList(size, bits)
    for i, v in enumerate(values):
        lst.set(i, v)
    for form in (StatusList.from_json(lst.to_json(level, strategy)),):
        assert form == lst
    assert StatusList.from_cbor(lst.to_cbor(level, strategy)) == lst
    assert dict(lst.non_valid()) == {i: v for i, v in enumerate(values) if v}


def test_decoded_list_is_copied_on_first_write() -> None:
    original = StatusList(64, 2)
    original.set(5, StatusValue.SUSPENDED)
    decoded = StatusList.decode(original.encode(), 2)
    decoded.set(6, StatusValue.INVALID)
    assert (decoded.get(5), decoded.get(6)) == (2, 1)
    assert original.get(6) == 0


def test_compression_level_is_configurable() -> None:
    lst = StatusList(1 << 16, 1)
    for i in range(0, 1 << 16, 37):
        lst.set(i, 1)
    fast, best = lst.encode(level=1), lst.encode(level=9)
    assert zlib.decompress(fast) == zlib.decompress(best) == lst.to_bytes()
    assert len(best) <= len(fast)


def test_aggregation_uri_roundtrips() -> None:
    lst = StatusList(8, 1, aggregation_uri="https://x.example/agg")
    assert StatusList.from_json(lst.to_json()).aggregation_uri == "https://x.example/agg"


# -- hostile ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [16, 17, 1 << 40, -1])
def test_index_out_of_range(index: int) -> None:
    lst = StatusList.decode(zlib.compress(b"\xb9\xa3"), 1)
    with pytest.raises(StatusUnavailable) as info:
        lst.get(index)
    assert info.value.size == 16


@pytest.mark.parametrize("index", [1.0, True, "1", None])
def test_index_of_wrong_type(index: object) -> None:
    lst = StatusList(16, 1)
    with pytest.raises(StatusUnavailable):
        lst.get(index)  # type: ignore[arg-type]


@pytest.mark.parametrize("bits", [0, 3, 5, 16, -1, True, 2.0, "1", None])
def test_bits_not_allowed(bits: object) -> None:
    with pytest.raises(InvalidClaim) as info:
        StatusList.from_json({"bits": bits, "lst": "eNrbuRgAAhcBXQ"})
    assert info.value.claim == "status_list.bits"
    with pytest.raises(InvalidClaim):
        StatusList.decode(zlib.compress(b"\x00"), bits)  # type: ignore[arg-type]


def zlib_bomb(mebibytes: int) -> bytes:
    """A valid ZLIB stream of ``mebibytes`` MiB of zeros, built without compressing it all.

    After a full flush DEFLATE restarts, so every further MiB compresses to the same bytes.
    """
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()[:-4]
    # RFC 1950 §8.2: over n zero bytes Adler-32 keeps a = 1 and sums b = n mod 65521.
    adler = (((mebibytes << 20) % 65521) << 16) | 1
    return first + repeat * (mebibytes - 1) + final_block + adler.to_bytes(4, "big")


def test_zlib_bomb_helper_is_a_valid_stream() -> None:
    assert zlib.decompress(zlib_bomb(3)) == bytes(3 << 20)


def test_zlib_bomb_stops_at_the_limit() -> None:
    # 1 GiB of zeros in about 1 MiB; inflating must stop at the 16 MiB cap.
    bomb = zlib_bomb(1024)
    assert len(bomb) < MAX_STATUS_LIST_COMPRESSED
    with pytest.raises(TooLarge) as info:
        StatusList.decode(bomb, 1)
    assert info.value.limit == MAX_STATUS_LIST_INFLATED


def test_inflated_size_limit_is_a_parameter() -> None:
    data = zlib.compress(bytes(1025))
    with pytest.raises(TooLarge):
        StatusList.decode(data, 1, max_inflated=1024)
    assert StatusList.decode(data, 1, max_inflated=1025).size == 1025 * 8


def test_list_just_over_the_inflated_limit() -> None:
    data = zlib.compress(bytes(MAX_STATUS_LIST_INFLATED + 1))
    with pytest.raises(TooLarge):
        StatusList.decode(data, 8)


def test_compressed_list_over_the_size_limit() -> None:
    huge = b"x" * (MAX_STATUS_LIST_COMPRESSED + 1)
    with pytest.raises(TooLarge):
        StatusList.decode(huge, 1)
    with pytest.raises(TooLarge):
        StatusList.from_json({"bits": 1, "lst": b64url_encode(huge)})


@pytest.mark.parametrize(
    "compressed",
    [
        b"",
        b"not zlib at all",
        zlib.compress(b"\x01\x02\x03")[:-3],  # truncated
        zlib.compress(b"\x01") + b"trailing",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x63\x00\x00\x8d\xef\x02\xd2\x01\x00\x00\x00",
        bytes.fromhex("78bb"),  # FDICT set: a preset dictionary the format cannot carry
        bytes.fromhex("78da") + b"\xff" * 8,  # invalid block type
    ],
    ids=["empty", "garbage", "truncated", "trailing", "gzip", "fdict", "bad-block"],
)
def test_malformed_compressed_data(compressed: bytes) -> None:
    with pytest.raises(MalformedInput) as info:
        StatusList.decode(compressed, 1)
    assert type(info.value) is MalformedInput


def test_lst_not_base64url() -> None:
    with pytest.raises(MalformedBase64url):
        StatusList.from_json({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="})


@pytest.mark.parametrize(
    "obj",
    [
        [],
        {"bits": 1},
        {"lst": "eNrbuRgAAhcBXQ"},
        {"bits": 1, "lst": 5},
        {"bits": 1, "lst": b"\x78\xda"},
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": 3},
    ],
)
def test_json_status_list_shape(obj: object) -> None:
    with pytest.raises(InvalidClaim):
        StatusList.from_json(obj)


def test_cbor_lst_must_be_bytes() -> None:
    with pytest.raises(InvalidClaim):
        StatusList.from_cbor({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})


@pytest.mark.parametrize("value", [-1, 2, 256])
def test_set_rejects_a_value_that_does_not_fit(value: int) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        StatusList(8, 1).set(0, value)
