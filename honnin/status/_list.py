"""The Status List itself (draft-ietf-oauth-status-list-20 §4): a packed, zlib-compressed array.

Pure format code: bytes and objects in, bytes and objects out. Decoding inflates with a hard
output cap so a zlib bomb stops at the limit instead of exhausting memory (§11, ASVS 5.2.3).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from enum import IntEnum
from typing import Any, cast

from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import InvalidClaim, MalformedInput, StatusUnavailable, TooLarge

from ._constants import ALLOWED_BITS, MAX_COMPRESSED, MAX_INFLATED

__all__ = ["StatusList", "ZlibStrategy", "check_bits", "inflate_status_list"]

# log2 of the entries per byte: the index-to-byte shift for each bit width (§4.1 item 2).
_SHIFT = {1: 3, 2: 2, 4: 1, 8: 0}
_SCAN_BLOCK = 4096


class ZlibStrategy(IntEnum):
    """DEFLATE strategies (RFC 1951 leaves the encoder free; zlib names them).

    ``RLE`` looks only for runs, which is what a sparse status list consists of: at level 9
    it is about a hundred times faster than ``DEFAULT`` on a 2^20-entry list and within a
    few per cent of its size (``bench/bench_status.py``).
    """

    DEFAULT = zlib.Z_DEFAULT_STRATEGY
    FILTERED = zlib.Z_FILTERED
    RLE = zlib.Z_RLE


def check_bits(bits: object) -> int:
    """``bits`` as an int, if it is one of 1, 2, 4, 8 (§4.1 item 1).

    Raises:
        InvalidClaim: anything else (including ``True`` and ``2.0``).
    """
    if type(bits) is not int or bits not in ALLOWED_BITS:
        raise InvalidClaim(
            f"status list 'bits' must be 1, 2, 4 or 8, not {bits!r} (draft §4.1)",
            claim="status_list.bits",
        )
    return bits


def inflate_status_list(compressed: bytes, *, max_inflated: int = MAX_INFLATED) -> bytes:
    """Inflate a ZLIB (RFC 1950) stream, stopping at ``max_inflated`` bytes of output.

    Raises:
        TooLarge: the compressed input or its inflated output is over the limit.
        MalformedInput: not a complete ZLIB stream (bad header, bad data, truncated, trailing
            bytes, or a preset dictionary, which §4.1 has no way to convey).
    """
    if len(compressed) > MAX_COMPRESSED:
        raise TooLarge(
            f"compressed status list of {len(compressed)} bytes exceeds {MAX_COMPRESSED}",
            limit=MAX_COMPRESSED,
        )
    inflater = zlib.decompressobj(zlib.MAX_WBITS)  # ZLIB wrapper only: no gzip, no raw
    try:
        # max_length bounds the output: a bomb yields at most max_inflated + 1 bytes here.
        out = inflater.decompress(compressed, max_inflated + 1)
    except zlib.error as exc:
        raise MalformedInput(
            f"status list 'lst' is not valid ZLIB data: {exc}", what="lst"
        ) from exc
    if len(out) > max_inflated or inflater.unconsumed_tail:
        raise TooLarge(
            f"status list inflates to more than {max_inflated} bytes", limit=max_inflated
        )
    if not inflater.eof:
        raise MalformedInput("status list 'lst' is a truncated ZLIB stream", what="lst")
    if inflater.unused_data:
        raise MalformedInput("status list 'lst' has bytes after the ZLIB stream", what="lst")
    return out


class StatusList:
    """A Status List (§4): ``size`` entries of ``bits`` bits, LSB-first within each byte.

    Lookups are index arithmetic on the inflated bytes (§4.1 item 2): the status of index
    ``i`` is ``(byte[i*bits // 8] >> (i*bits % 8)) & (2**bits - 1)``.

    >>> lst = StatusList(16, bits=1)
    >>> lst.set(0, 1)
    >>> lst.get(0), lst.get(1)
    (1, 0)
    """

    __slots__ = ("_bits", "_data", "_low", "_mask", "_shift", "_size", "aggregation_uri")

    def __init__(self, size: int, bits: int = 1, *, aggregation_uri: str | None = None) -> None:
        """An all-VALID list of ``size`` entries (``ValueError`` for a bad size or width)."""
        if type(bits) is not int or bits not in ALLOWED_BITS:
            raise ValueError(f"bits must be 1, 2, 4 or 8, not {bits!r}")
        if type(size) is not int or size < 0 or (size * bits + 7) // 8 > MAX_INFLATED:
            raise ValueError(f"size must be an int in [0, {MAX_INFLATED * 8 // bits}]")
        self._init(bytearray((size * bits + 7) // 8), size, bits, aggregation_uri)

    def _init(
        self, data: bytes | bytearray, size: int, bits: int, aggregation_uri: str | None
    ) -> None:
        # Inflated lists stay immutable ``bytes`` until the first ``set`` (copy on write):
        # a verifier never pays for a copy of a list it only reads.
        self._data: bytes | bytearray = data
        self._size = size
        self._bits = bits
        self._shift = _SHIFT[bits]
        self._low = (8 // bits) - 1
        self._mask = (1 << bits) - 1
        self.aggregation_uri = aggregation_uri

    @classmethod
    def from_bytes(
        cls, data: bytes | bytearray, bits: int, *, aggregation_uri: str | None = None
    ) -> StatusList:
        """A list over already inflated bytes; it has ``len(data) * 8 // bits`` entries."""
        bits = check_bits(bits)
        if len(data) > MAX_INFLATED:
            raise TooLarge(f"status list over {MAX_INFLATED} bytes", limit=MAX_INFLATED)
        lst = cls.__new__(cls)
        lst._init(bytes(data), len(data) * 8 // bits, bits, aggregation_uri)
        return lst

    @classmethod
    def decode(
        cls,
        compressed: bytes,
        bits: int,
        *,
        max_inflated: int = MAX_INFLATED,
        aggregation_uri: str | None = None,
    ) -> StatusList:
        """Inflate a compressed list (§4.1 item 3); it has ``8 // bits`` entries per byte.

        Raises:
            InvalidClaim: ``bits`` not in {1, 2, 4, 8}.
            TooLarge: compressed or inflated size over the limits (a zlib bomb stops here).
            MalformedInput: not a complete ZLIB stream.
        """
        bits = check_bits(bits)
        data = inflate_status_list(compressed, max_inflated=max_inflated)
        lst = cls.__new__(cls)
        lst._init(data, len(data) * 8 // bits, bits, aggregation_uri)
        return lst

    @property
    def bits(self) -> int:
        """Bits per entry (1, 2, 4 or 8)."""
        return self._bits

    @property
    def size(self) -> int:
        """Number of entries; valid indices are ``0 .. size - 1`` (§4.1 item 2)."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def layout(self) -> tuple[bytes | bytearray, int, int, int, int, int]:
        """``(data, size, bits, shift, low, mask)``: entry ``i`` (``0 <= i < size``) is
        ``(data[i >> shift] >> ((i & low) * bits)) & mask`` (§4.1 item 2). For hot loops that
        cannot afford a method call per lookup; ``data`` must not be modified."""
        return self._data, self._size, self._bits, self._shift, self._low, self._mask

    def get(self, index: int) -> int:
        """The status value at ``index`` (compare with ``StatusValue``).

        Raises:
            StatusUnavailable: ``index`` is not an int inside the list (§8.3: an
                out-of-bounds index MUST be rejected).
        """
        if type(index) is not int or not 0 <= index < self._size:
            raise StatusUnavailable(
                f"status index {index!r} is outside the list of {self._size} entries (§8.3)",
                index=index if type(index) is int else repr(index),
                size=self._size,
            )
        return (self._data[index >> self._shift] >> ((index & self._low) * self._bits)) & (
            self._mask
        )

    def set(self, index: int, value: int) -> None:
        """Set the status at ``index`` (``ValueError`` for an index or value that does not fit)."""
        if type(index) is not int or not 0 <= index < self._size:
            raise ValueError(f"index {index!r} outside [0, {self._size})")
        if not isinstance(value, int) or not 0 <= value <= self._mask:
            raise ValueError(f"status {value!r} does not fit in {self._bits} bits")
        data = self._data
        if not isinstance(data, bytearray):
            data = self._data = bytearray(data)
        pos = index >> self._shift
        offset = (index & self._low) * self._bits
        data[pos] = (data[pos] & ~(self._mask << offset) & 0xFF) | (int(value) << offset)

    def non_valid(self) -> Iterator[tuple[int, int]]:
        """``(index, value)`` of every entry that is not VALID, in index order."""
        data, bits, mask, size = self._data, self._bits, self._mask, self._size
        per_byte = 8 // bits
        zero = bytes(_SCAN_BLOCK)
        for start in range(0, len(data), _SCAN_BLOCK):
            block = data[start : start + _SCAN_BLOCK]
            if block == zero[: len(block)]:
                continue  # lists are mostly VALID: skip all-zero blocks at C speed
            for offset, byte in enumerate(block):
                if not byte:
                    continue
                base = (start + offset) * per_byte
                for slot in range(per_byte):
                    value = (byte >> (slot * bits)) & mask
                    if value and base + slot < size:
                        yield base + slot, value

    def to_bytes(self) -> bytes:
        """The inflated byte array (§4.1 item 2)."""
        return bytes(self._data)

    def encode(self, level: int = 9, strategy: ZlibStrategy = ZlibStrategy.DEFAULT) -> bytes:
        """DEFLATE in the ZLIB format (§4.1 item 3); level 9 is RECOMMENDED there."""
        compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 9, int(strategy))
        return compressor.compress(self._data) + compressor.flush()

    def to_json(
        self, level: int = 9, strategy: ZlibStrategy = ZlibStrategy.DEFAULT
    ) -> dict[str, Any]:
        """The JSON Status List (§4.2): ``{"bits", "lst": base64url(zlib)}``."""
        out: dict[str, Any] = {
            "bits": self._bits,
            "lst": b64url_encode(self.encode(level, strategy)),
        }
        if self.aggregation_uri is not None:
            out["aggregation_uri"] = self.aggregation_uri
        return out

    def to_cbor(
        self, level: int = 9, strategy: ZlibStrategy = ZlibStrategy.DEFAULT
    ) -> dict[str, Any]:
        """The CBOR Status List (§4.3) as a map for ``cbor2``: ``{"bits", "lst": bstr}``."""
        out: dict[str, Any] = {"bits": self._bits, "lst": self.encode(level, strategy)}
        if self.aggregation_uri is not None:
            out["aggregation_uri"] = self.aggregation_uri
        return out

    @classmethod
    def from_json(cls, obj: object, *, max_inflated: int = MAX_INFLATED) -> StatusList:
        """Read the JSON Status List (§4.2). Unknown members are ignored ("at least").

        Raises:
            InvalidClaim: not an object, ``bits``/``lst``/``aggregation_uri`` of a wrong type.
            MalformedBase64url, MalformedInput, TooLarge: as for ``decode``.
        """
        bits, raw_lst, agg = _members(obj, str, "a base64url string")
        lst = cast(str, raw_lst)
        if len(lst) > (MAX_COMPRESSED * 4 + 2) // 3:
            raise TooLarge(f"status list 'lst' over {MAX_COMPRESSED} bytes", limit=MAX_COMPRESSED)
        raw = b64url_decode(lst, what="status_list.lst")
        return cls.decode(raw, bits, max_inflated=max_inflated, aggregation_uri=agg)

    @classmethod
    def from_cbor(cls, obj: object, *, max_inflated: int = MAX_INFLATED) -> StatusList:
        """Read the CBOR Status List (§4.3) from a decoded map (text keys, ``lst`` a bstr).

        Raises:
            InvalidClaim, MalformedInput, TooLarge: as for ``from_json``.
        """
        bits, raw_lst, agg = _members(obj, bytes, "a byte string")
        lst = cast(bytes, raw_lst)
        return cls.decode(lst, bits, max_inflated=max_inflated, aggregation_uri=agg)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._size, self._data) == (other._bits, other._size, other._data)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(size={self._size}, bits={self._bits})"


def _members(obj: object, lst_type: type, lst_kind: str) -> tuple[int, object, str | None]:
    if not isinstance(obj, Mapping):
        raise InvalidClaim(
            "'status_list' must be an object/map (draft §4.2, §4.3)", claim="status_list"
        )
    if "bits" not in obj or "lst" not in obj:
        raise InvalidClaim("'status_list' needs 'bits' and 'lst' (draft §4.2)", claim="status_list")
    bits = check_bits(obj["bits"])
    lst = obj["lst"]
    if not isinstance(lst, lst_type):
        raise InvalidClaim(f"status list 'lst' must be {lst_kind}", claim="status_list.lst")
    agg = obj.get("aggregation_uri")
    if agg is not None and not isinstance(agg, str):
        raise InvalidClaim(
            "status list 'aggregation_uri' must be a string (draft §4.2)",
            claim="status_list.aggregation_uri",
        )
    return bits, lst, agg
