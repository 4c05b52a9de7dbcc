"""Strict CBOR (RFC 8949) for hostile input, over cbor2.

``decode`` first pre-scans the bytes (``honnin._cbor_scan``: well-formedness, definite
lengths, preferred argument encoding, depth, item count, key types, tag allow-list,
trailing bytes) without building anything, then lets cbor2's C decoder build the value with
duplicate map keys rejected (RFC 8949 §5.6). Every failure is a ``MalformedCbor`` or a
``TooLarge``; no cbor2 exception escapes.

Tags: 0 (tdate) decodes to an aware ``datetime``, 1004 (full-date) to a ``date``, 24
(encoded CBOR) to an ``EncodedCbor`` that keeps the embedded bytes exactly as received,
17/18 (COSE_Mac0/COSE_Sign1) to a ``cbor2.CBORTag``. Any other tag is rejected.

>>> decode(encode({"a": [1, b"x"]}))
{'a': [1, b'x']}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any, Final, final

import cbor2

from honnin._cbor_scan import scan
from honnin.encoding import b64url_encode
from honnin.errors import HonninError, MalformedCbor, MalformedCredential, TooLarge
from honnin.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS

__all__ = [
    "MAX_CBOR_SIZE",
    "EncodedCbor",
    "RawCbor",
    "bstr_header",
    "cbor_to_json",
    "decode",
    "decode_authenticated",
    "decode_authenticated_sequence",
    "encode",
    "head",
    "tdate",
    "unwrap_tag24",
]

#: Default cap on one CBOR input. Callers with a tighter budget (mdoc, tokens) pass their own.
MAX_CBOR_SIZE: Final = 4 * 1024 * 1024

_TDATE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@final
class EncodedCbor:
    """An embedded CBOR data item, ``#6.24(bstr .cbor T)`` (RFC 8949 §3.4.5.1).

    ``content`` is the byte string exactly as received (or as encoded); digests are taken
    over ``tagged`` (read-only by convention), the tag-24 encoding, never over a
    re-encoding of the decoded value (ISO/IEC 18013-5 §9.1.2.5). ``decode`` enforces
    preferred serialization, so ``tagged`` equals the received bytes.
    """

    __slots__ = ("content", "tagged")

    def __init__(self, content: bytes) -> None:
        if type(content) is not bytes:
            raise TypeError("EncodedCbor content must be bytes")
        self.content = content
        # The tag-24 encoding: d8 18, the byte-string head, the content. Built at once: every
        # embedded item is hashed or written out over it, so it is always needed.
        size = len(content)
        self.tagged = (
            _TAG24_HEADS[size] if size < 0x100 else b"\xd8\x18" + bstr_header(size)
        ) + content

    @classmethod
    def of(cls, value: Any) -> EncodedCbor:
        """Encode ``value`` and wrap it (the issuer / wallet side)."""
        return cls(encode(value))

    def decode(
        self,
        *,
        max_depth: int = MAX_CBOR_DEPTH,
        max_items: int = MAX_CBOR_ITEMS,
    ) -> Any:
        """Decode ``content`` strictly (see ``decode``)."""
        return decode(self.content, max_depth=max_depth, max_items=max_items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EncodedCbor) and other.content == self.content

    def __hash__(self) -> int:
        return hash((EncodedCbor, self.content))

    def __repr__(self) -> str:
        return f"EncodedCbor({len(self.content)} bytes)"


@final
class RawCbor:
    """An already-encoded CBOR data item that ``encode`` writes verbatim.

    For splicing bytes that must not be re-encoded (a received SessionTranscript, a COSE
    message built elsewhere). Only for bytes honnin produced or has decoded strictly.
    """

    __slots__ = ("encoded",)

    def __init__(self, encoded: bytes) -> None:
        if not isinstance(encoded, bytes):
            raise TypeError("RawCbor needs bytes")
        self.encoded = encoded

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawCbor) and other.encoded == self.encoded

    def __hash__(self) -> int:
        return hash((RawCbor, self.encoded))

    def __repr__(self) -> str:
        return f"RawCbor({len(self.encoded)} bytes)"


def bstr_header(length: int) -> bytes:
    """The preferred-serialization head of a byte string of ``length`` bytes (RFC 8949 §3)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x100000000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


#: ``d8 18`` and the preferred byte-string head, for every content shorter than 256 bytes.
_TAG24_HEADS: Final = tuple(b"\xd8\x18" + bstr_header(size) for size in range(0x100))


def unwrap_tag24(data: bytes) -> bytes | None:
    """The content of ``data`` if it is exactly one ``#6.24(bstr)`` item, else None.

    A byte-level shortcut for payloads that are nothing but embedded CBOR (an MSO in a
    COSE_Sign1): no decoder is run, the declared length must match the input exactly.
    """
    if len(data) < 3 or data[0] != 0xD8 or data[1] != 0x18 or data[2] >> 5 != 2:
        return None
    info = data[2] & 31
    if info < 24:
        start, length = 3, info
    elif info <= 27:
        start = 3 + (1 << (info - 24))
        length = int.from_bytes(data[3:start], "big")
    else:
        return None
    if start + length != len(data):
        return None
    return data[start:]


def _tag_hook(tag: cbor2.CBORTag, immutable: bool) -> Any:
    # The pre-scan admitted only the allowed tags, each around the right major type.
    if tag.tag == 24:
        return EncodedCbor(tag.value)
    if tag.tag in (17, 18) and isinstance(tag.value, tuple):
        # cbor2 builds tagged content immutable; give COSE code the plain types back.
        return cbor2.CBORTag(tag.tag, _thaw(tag.value))
    raise MalformedCbor(f"CBOR tag {tag.tag} is not accepted here")


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, cbor2.frozendict):
        return {k: _thaw(v) for k, v in value.items()}
    return value


def _parse_tdate(text: object) -> datetime:
    """RFC 3339 §5.6 date-time, as RFC 8949 §3.4.1 requires for tag 0."""
    if not isinstance(text, str) or _TDATE.fullmatch(text) is None:
        raise MalformedCbor(f"CBOR tag 0 is not an RFC 3339 date-time: {str(text)[:40]!r}")
    try:
        # The regex admitted only RFC 3339 shapes, all of which fromisoformat reads.
        return datetime.fromisoformat(text.upper())
    except ValueError as exc:
        raise MalformedCbor(f"CBOR tag 0 is not a valid date-time: {text[:40]!r}") from exc


def _decode_tdate(text: object, immutable: bool) -> datetime:
    return _parse_tdate(text)


def _decode_full_date(text: object, immutable: bool) -> date:
    # RFC 8943 §2: tag 1004 encloses an RFC 3339 full-date, nothing else.
    if not isinstance(text, str) or _FULL_DATE.fullmatch(text) is None:
        raise MalformedCbor("CBOR tag 1004 is not an RFC 3339 full-date")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise MalformedCbor(f"CBOR tag 1004 is not a valid date: {text!r}") from exc


def _reject_tag(value: object, immutable: bool) -> None:
    raise MalformedCbor("a CBOR tag outside 0, 1004, 24, 17 and 18 is not accepted")


#: cbor2 decodes these tags itself; honnin overrides them so that only its own profile is
#: accepted (shared references 28/29 could otherwise build cycles, 258 sets, ...).
_CBOR2_BUILTIN_TAGS: Final = (1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258)
_CBOR2_BUILTIN_TAGS_HIGH: Final = (260, 261, 43000, 55799)
#: After the pre-scan only tags 0, 1004, 24, 17 and 18 remain: two callbacks suffice (cbor2
#: converts this mapping on every call, so it is kept small on the hot path).
_SEMANTIC_SCANNED: Final = {0: _decode_tdate, 1004: _decode_full_date}
#: Authenticated bytes are not pre-scanned: every other tag cbor2 knows is refused here;
#: tdate and full-date are left to cbor2's own C parsers (the signer vouches for the bytes).
_SEMANTIC_AUTHENTICATED: Final = {
    t: _reject_tag for t in _CBOR2_BUILTIN_TAGS + _CBOR2_BUILTIN_TAGS_HIGH
}


def decode(
    data: bytes,
    *,
    max_size: int = MAX_CBOR_SIZE,
    max_depth: int = MAX_CBOR_DEPTH,
    max_items: int = MAX_CBOR_ITEMS,
) -> Any:
    """Decode exactly one CBOR data item from hostile ``data`` (RFC 8949, strict profile).

    Rejected: input over ``max_size``; truncated input or trailing bytes; indefinite lengths
    (ISO/IEC 18013-5 §8.1); non-preferred argument encodings (RFC 8949 §4.2.1); nesting
    deeper than ``max_depth`` or more than ``max_items`` items; duplicate map keys (RFC 8949
    §5.6); map keys other than integers and strings; tags other than 0, 1004, 24, 17, 18,
    and those around the wrong type; simple values other than false/true/null; invalid UTF-8.

    Raises:
        MalformedCbor: any of the above except the limits.
        TooLarge: ``max_size``, ``max_depth`` or ``max_items`` exceeded.
    """
    if not isinstance(data, bytes):
        raise TypeError("CBOR input must be bytes")
    if len(data) > max_size:
        raise TooLarge(f"CBOR input of {len(data)} bytes is over {max_size}", limit=max_size)
    # Without a date tag the only tags left are 24, 17 and 18, which cbor2 has no decoder of
    # its own for: the tag hook alone handles them, and cbor2 skips a mapping lookup per tag.
    dates = scan(data, max_depth=max_depth, max_items=max_items)
    return _build(data, max_depth, _SEMANTIC_SCANNED if dates else None)


def decode_authenticated(
    data: bytes,
    *,
    max_size: int = MAX_CBOR_SIZE,
    max_depth: int = MAX_CBOR_DEPTH,
) -> Any:
    """Decode CBOR whose integrity a signature or digest has already established.

    For bytes a verified issuer signed (an MSO, a CWT payload) or whose digest matched a
    signed one (an IssuerSignedItem): it skips ``decode``'s pure-Python pre-scan and keeps
    cbor2's own checks (definite lengths, depth, duplicate keys, truncation) plus trailing
    bytes and the tag profile. Map key types and preferred serialization are not enforced
    here: a signer that breaks them is trusted, not hostile. Never use it on unverified bytes.

    Raises:
        MalformedCbor / TooLarge: as ``decode``.
    """
    if not isinstance(data, bytes):
        raise TypeError("CBOR input must be bytes")
    if len(data) > max_size:
        raise TooLarge(f"CBOR input of {len(data)} bytes is over {max_size}", limit=max_size)
    stream = BytesIO(data)
    try:
        value = cbor2.CBORDecoder(
            stream,
            tag_hook=_tag_hook,
            semantic_decoders=_SEMANTIC_AUTHENTICATED,
            max_depth=max_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        ).decode()
    except cbor2.CBORDecodeError as exc:
        raise _wrap(exc) from exc
    # cbor2 reads ahead from a seekable stream and seeks back to the end of the item it
    # decoded (tests/test_cose_cbor.py pins this): the position tells whether bytes remain,
    # without provoking an end-of-stream exception on every call.
    if stream.tell() != len(data):
        raise MalformedCbor("trailing bytes after the CBOR data item")
    return value


def _build(data: bytes, max_depth: int, semantic: Mapping[int, Callable[..., Any]] | None) -> Any:
    try:
        return cbor2.loads(
            data,
            tag_hook=_tag_hook,
            semantic_decoders=semantic,
            max_depth=max_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except cbor2.CBORDecodeError as exc:
        raise _wrap(exc) from exc


def _wrap(exc: cbor2.CBORDecodeError) -> HonninError:
    cause = exc.__cause__
    if isinstance(cause, HonninError):
        return cause
    if "maximum container nesting depth" in str(exc):
        return TooLarge(f"CBOR nested too deep: {exc}")
    return MalformedCbor(f"invalid CBOR: {exc}")


def _encode_tag24(encoder: Any, value: EncodedCbor) -> None:
    encoder.encode(cbor2.CBORTag(24, value.content))


def _encode_raw(encoder: Any, value: RawCbor) -> None:
    encoder.write(value.encoded)


_ENCODERS: Final[dict[type, Callable[[Any, Any], None]]] = {
    EncodedCbor: _encode_tag24,
    RawCbor: _encode_raw,
}


def head(major: int, argument: int) -> bytes:
    """The preferred-serialization head of a data item (RFC 8949 §3, §4.2.1): major type
    0-7 and its argument (a length, a count, a tag number or an unsigned value)."""
    top = major << 5
    if argument < 24:
        return bytes((top | argument,))
    if argument < 0x100:
        return bytes((top | 24, argument))
    if argument < 0x10000:
        return bytes((top | 25,)) + argument.to_bytes(2, "big")
    if argument < 0x100000000:
        return bytes((top | 26,)) + argument.to_bytes(4, "big")
    return bytes((top | 27,)) + argument.to_bytes(8, "big")


def decode_authenticated_sequence(
    contents: Sequence[bytes], *, max_depth: int = MAX_CBOR_DEPTH
) -> list[Any]:
    """Decode several authenticated data items (e.g. IssuerSignedItems whose digests matched)
    in one decoder call: they are read as the elements of one array.

    Each content must be one complete item; the concatenation must be consumed exactly. As
    with ``decode_authenticated``, only for bytes whose integrity is already established.

    Raises:
        MalformedCbor / TooLarge: as ``decode_authenticated``, or a count mismatch.
    """
    joined = head(4, len(contents)) + b"".join(contents)
    values = decode_authenticated(joined, max_size=len(joined), max_depth=max_depth + 1)
    if not isinstance(values, list) or len(values) != len(contents):  # pragma: no cover
        raise MalformedCbor("the embedded items do not decode one by one")
    return values


def encode(value: Any) -> bytes:
    """Encode ``value`` as CBOR with preferred argument encoding (RFC 8949 §4.2.1).

    Maps keep their insertion order; ``datetime`` becomes tag 0 (aware datetimes only),
    ``date`` tag 1004, ``EncodedCbor`` tag 24.

    Raises:
        TypeError: ``value`` holds something CBOR cannot carry (a programmer error).
    """
    try:
        # Most values need no hook; cbor2 is faster without the encoder mapping.
        return cbor2.dumps(value)
    except cbor2.CBOREncodeError:
        pass
    try:
        return cbor2.dumps(value, encoders=_ENCODERS)
    except cbor2.CBOREncodeError as exc:
        raise TypeError(f"cannot encode as CBOR: {exc}") from exc


def tdate(moment: datetime) -> datetime:
    """``moment`` as ISO/IEC 18013-5 wants a tdate: UTC, whole seconds (§9.1.2.4)."""
    if moment.tzinfo is None:
        raise TypeError("tdate needs an aware datetime")
    if moment.tzinfo is UTC and not moment.microsecond:
        return moment
    return moment.astimezone(UTC).replace(microsecond=0)


def cbor_to_json(value: Any) -> Any:
    """A decoded CBOR value as JSON (RFC 8949 §6.1, as OpenID4VP §6.3 asks for matching):
    byte strings as base64url, dates and date-times as ISO 8601 text.

    Raises:
        MalformedCredential: a value with no JSON form.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes):
        return b64url_encode(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [cbor_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): cbor_to_json(v) for k, v in value.items()}
    raise MalformedCredential(f"a data element of type {type(value).__name__} has no JSON form")
