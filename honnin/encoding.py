"""Strict base64url and JSON, the two encodings every JOSE-based format stands on.

The standard library is lenient where the specs are not: ``urlsafe_b64decode`` skips
foreign characters and accepts padding, and ``json.loads`` keeps the last of duplicate
names, accepts ``NaN`` and recurses until ``RecursionError``. These functions reject all of
that with a typed ``MalformedInput`` subclass.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

import pybase64

from honnin.errors import HonninError, MalformedBase64url, MalformedJson, TooLarge
from honnin.limits import MAX_JSON_DEPTH

__all__ = [
    "b64url_decode",
    "b64url_encode",
    "json_dumps",
    "json_from_b64url",
    "json_from_b64url_all",
    "json_loads",
]

_TO_STD = bytes.maketrans(b"-_", b"+/")
_FROM_STD = bytes.maketrans(b"+/", b"-_")
# RFC 4648 §3.5: the unused bits of the last character must be zero ("canonical" encoding).
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_LAST_CHAR_OK = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i % 16 == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i % 4 == 0),
}
# Indexed by len(text) % 4 (1 never gets here: it is an impossible length).
_PADDING = (b"", b"===", b"==", b"=")
_A2B = binascii.a2b_base64
# Above this many characters the SIMD codec of pybase64 is several times faster than
# binascii (a 27 kB Status List Token: 5 µs against 80 µs); below it binascii's smaller
# per-call cost wins (a 60-character disclosure).
_LARGE = 512
# Decoding: pybase64 called with positional arguments costs less per call than binascii
# needs for its translate and padding steps from about 64 characters up (a JWS signature,
# a KB-JWT payload, most disclosures; measured).
_LARGE_DECODE = 64
_URL_ALTCHARS = b"-_"
_PADDING_STR = ("", "===", "==", "=")


def _a2b_large(text: str, rem: int) -> bytes:
    # validate=True rejects every character outside the alphabet and any misplaced '=';
    # the callers have already screened '+', '/' and '=' (which altchars would let in) and
    # checked the length and the trailing bits.
    return _PYB64_DECODE(text + _PADDING_STR[rem], _URL_ALTCHARS, True)  # validate=True


_PYB64_DECODE = pybase64.b64decode


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    if len(data) > _LARGE:
        return pybase64.b64encode(data, altchars=_URL_ALTCHARS).rstrip(b"=").decode()
    return binascii.b2a_base64(data, newline=False).translate(_FROM_STD).rstrip(b"=").decode()


def b64url_decode(text: str | bytes, *, what: str = "value") -> bytes:
    """Decode strict base64url: RFC 4648 §5 alphabet, no padding, canonical trailing bits.

    Raises:
        MalformedBase64url: anything else, naming ``what`` in the message.
    """
    if type(text) is not str:
        if not isinstance(text, bytes):
            raise TypeError("base64url input must be str or bytes")
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedBase64url(f"{what}: not ASCII", what=what) from exc
    # '+', '/' and '=' are valid for a2b_base64 after translation, so they are screened
    # first; strict_mode then rejects every other character outside the alphabet.
    if "+" in text or "/" in text or "=" in text:
        raise _outside_alphabet(what)
    rem = len(text) & 3
    if rem and (rem == 1 or text[-1] not in _LAST_CHAR_OK[rem]):
        raise _bad_length_or_bits(what, rem)
    try:
        if len(text) > _LARGE_DECODE:
            return _a2b_large(text, rem)
        return _A2B(text.encode("ascii").translate(_TO_STD) + _PADDING[rem], strict_mode=True)
    except (ValueError, UnicodeEncodeError) as exc:
        # binascii.Error is a ValueError; pybase64 raises ValueError for non-ASCII text.
        raise _outside_alphabet(what) from exc


def _outside_alphabet(what: str) -> MalformedBase64url:
    return MalformedBase64url(
        f"{what}: characters outside the base64url alphabet (RFC 4648 §5, no padding)",
        what=what,
    )


def _bad_length_or_bits(what: str, rem: int) -> MalformedBase64url:
    if rem == 1:
        return MalformedBase64url(f"{what}: impossible base64url length", what=what)
    return MalformedBase64url(f"{what}: non-zero trailing bits", what=what)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        # RFC 8259 §4 leaves duplicates undefined; RFC 7515 §4 requires rejecting them.
        raise MalformedJson(f"duplicate member name {dup!r}", member=dup)
    return obj


def _no_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not JSON (RFC 8259 §6)")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_WS = " \t\n\r"  # RFC 8259 §2 insignificant whitespace
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _check_depth_and_strings(value: Any, max_depth: int, check_strings: bool) -> None:
    if not check_strings:
        if (type(value) is dict or type(value) is list) and _nests_deeper(value, max_depth):
            raise MalformedJson(f"JSON nested deeper than {max_depth}", max_depth=max_depth)
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                raise MalformedJson(f"JSON nested deeper than {max_depth}", max_depth=max_depth)
            if check_strings:
                for k in node:
                    _check_utf8(k)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            if depth > max_depth:
                raise MalformedJson(f"JSON nested deeper than {max_depth}", max_depth=max_depth)
            stack.extend((v, depth + 1) for v in node)
        elif check_strings and isinstance(node, str):
            _check_utf8(node)


def _nests_deeper(container: dict[str, Any] | list[Any], max_depth: int) -> bool:
    """Whether a container (depth 1) holds a container deeper than ``max_depth``.

    Level by level: one comprehension per depth keeps only the child containers, so the
    loop runs in C over the scalars that make up most of a document.
    """
    level: list[Any] = [container]
    depth = 1
    while True:
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return False
        depth += 1
        if depth > max_depth:
            return True


def _check_utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedJson("lone surrogate in a JSON string (RFC 8259 §8.2)") from exc


def json_loads(
    data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, max_size: int | None = None
) -> Any:
    """Parse strict JSON: UTF-8, no duplicate names, no NaN/Infinity, bounded depth.

    Raises:
        MalformedJson: on any violation.
        TooLarge: when ``max_size`` is given and exceeded.
    """
    if max_size is not None and len(data) > max_size:
        raise TooLarge(f"JSON text of {len(data)} bytes exceeds {max_size}", limit=max_size)
    if isinstance(data, bytes):
        return _parse(_utf8(data), max_depth)
    if data.startswith("\ufeff"):
        raise MalformedJson("JSON text must not start with a byte order mark (RFC 8259 §8.1)")
    # A str may already hold a raw lone surrogate (bytes input cannot: it was UTF-8 decoded).
    _check_utf8(data)
    return _parse(data, max_depth)


def json_from_b64url(text: str, *, what: str) -> Any:
    """Strict base64url, then strict JSON (``b64url_decode`` then ``json_loads``): one JWS
    header or payload, or one SD-JWT disclosure, with a single call on the hot path.

    Raises:
        MalformedBase64url / MalformedJson: as those two functions.
    """
    if type(text) is not str:
        return json_loads(b64url_decode(text, what=what))
    if "+" in text or "/" in text or "=" in text:
        raise _outside_alphabet(what)
    rem = len(text) & 3
    if rem and (rem == 1 or text[-1] not in _LAST_CHAR_OK[rem]):
        raise _bad_length_or_bits(what, rem)
    try:
        if len(text) > _LARGE_DECODE:
            raw = _a2b_large(text, rem)
        else:
            raw = _A2B(text.encode("ascii").translate(_TO_STD) + _PADDING[rem], strict_mode=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise _outside_alphabet(what) from exc
    return _parse(_utf8(raw), MAX_JSON_DEPTH)


def json_from_b64url_all(texts: Sequence[str]) -> list[Any] | None:
    """``json_from_b64url`` of every text when all of them are plain, else None.

    Plain: base64url that decodes, UTF-8 JSON that starts at the text's first byte and
    ends at its last, under the depth limit, without lone surrogates. It
    accepts exactly what ``json_from_b64url`` accepts and returns the same values; on
    None (anything else, including every malformed text) the caller decodes the texts
    one by one with ``json_from_b64url``, which raises the precise error.

    The decoded texts are joined into one string and the JSON scanner is started at each
    text's offset: a value that ends exactly where its text ends was read from that text
    alone (a value running into the next text, or stopping short of its own end, sends
    the whole batch to the strict path). This decodes UTF-8 and screens escapes and depth
    once for the batch instead of once per text.
    """
    try:
        joined = "".join(texts)
    except TypeError:
        return None
    if "+" in joined or "/" in joined or "=" in joined:
        return None
    raws: list[bytes] = []
    append = raws.append
    last_ok, padding, decode = _LAST_CHAR_OK, _PADDING_STR, pybase64.b64decode
    try:
        for text in texts:
            rem = len(text) & 3
            if rem and (rem == 1 or text[-1] not in last_ok[rem]):
                return None
            # validate=True: only the alphabet with the '-' '_' altchars and final padding
            # ('+', '/' and '=' were screened above); non-ASCII text raises ValueError.
            append(decode(text + padding[rem], _URL_ALTCHARS, True))
        raw = b"".join(raws)
        pieces: Sequence[bytes | str] = raws
        if raw.isascii():
            json_text = raw.decode("ascii")
        else:
            decoded = [piece.decode("utf-8") for piece in raws]  # each text is UTF-8 alone
            json_text = "".join(decoded)
            pieces = decoded
        values: list[Any] = []
        add, scan, pos = values.append, _SCAN, 0
        # A text starting with anything but a value (whitespace, a byte order mark) stops
        # the scanner with StopIteration.
        for length in map(len, pieces):
            value, end = scan(json_text, pos)
            pos += length
            if end != pos:
                return None  # trailing or leading whitespace, or a value across texts
            add(value)
    except (ValueError, StopIteration, RecursionError, HonninError):
        # binascii.Error, UnicodeError and JSON errors are ValueErrors; a duplicate name
        # raises MalformedJson from the pairs hook.
        return None
    # The screens of _parse, once for the batch: without a \\uD escape anywhere there is
    # no lone surrogate, and a text with few openers cannot nest too deep.
    if "\\u" in json_text and ("\\ud" in json_text or "\\uD" in json_text):
        try:  # as _parse checks one value (the list adds one level)
            _check_depth_and_strings(values, MAX_JSON_DEPTH + 1, True)
        except MalformedJson:
            return None
    elif (openers := json_text.count("[") + json_text.count("{")) > MAX_JSON_DEPTH and (
        # Each text holding an array or object has an opener of its own: when all do, no
        # text has more than the others leave over (the common case of many disclosures).
        not set(map(type, values)) <= _CONTAINERS or openers - len(values) + 1 > MAX_JSON_DEPTH
    ):
        pos = 0
        for length in map(len, pieces):
            end = pos + length
            if json_text.count("[", pos, end) + json_text.count("{", pos, end) > MAX_JSON_DEPTH:
                return None  # possibly too deep: the strict path decides
            pos = end
    return values


_CONTAINERS = frozenset({list, dict})


def _utf8(data: bytes) -> str:
    if data[:3] == b"\xef\xbb\xbf":
        raise MalformedJson("JSON text must not start with a byte order mark (RFC 8259 §8.1)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJson("JSON text is not UTF-8 (RFC 8259 §8.1)") from exc


def _parse(text: str, max_depth: int) -> Any:
    # The C scanner is called directly: JSONDecoder.decode adds two regex passes and two
    # Python frames per call, a measurable share of verifying a small disclosure.
    if text[:1] in _JSON_WS:
        text = text.lstrip(_JSON_WS)
    try:
        value, end = _SCAN(text, 0)
    except MalformedJson:
        raise
    except StopIteration as exc:
        raise MalformedJson(f"not valid JSON: no value at position {exc.value}") from exc
    except RecursionError as exc:
        # The C scanner gives up on very deep nesting before our own depth check can run.
        raise MalformedJson(f"JSON nested deeper than {max_depth}", max_depth=max_depth) from exc
    except ValueError as exc:
        raise MalformedJson(f"not valid JSON: {exc}") from exc
    if end != len(text) and text[end:].strip(_JSON_WS):
        raise MalformedJson(f"not valid JSON: extra data at position {end}")
    # Cheap screens first: fewer openers than the limit cannot nest deeper than it, and
    # without a \\uD escape there can be no lone surrogate (most texts have no escape).
    check_strings = "\\u" in text and ("\\ud" in text or "\\uD" in text)
    if check_strings or text.count("[") + text.count("{") > max_depth:
        _check_depth_and_strings(value, max_depth, check_strings)
    return value


def json_dumps(value: Any) -> str:
    """Compact JSON with UTF-8 characters kept as they are (what JOSE payloads use)."""
    return _ENCODE(value)
