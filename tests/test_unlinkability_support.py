"""The unlinkability measure (DESIGN "Unlinkability"; issue 8): decode everything a verifier
received and find the byte strings two receptions share.

``received_leaves`` decodes a reception all the way down: SD-JWT (``~``-separated parts),
compact JWS / JWE (base64url segments, JSON headers and payloads), base64url and base64
strings, JSON, CBOR (tag 24 embedded CBOR, COSE structures, maps and arrays), down to leaves:
strings, byte strings, integers, dates. Structure is not a leaf: object member names and map
keys are vocabulary of the format or the type (public), so only values are compared.

``shared_bytes`` reports every byte string of ``min_length`` bytes (8 by default) that
occurs in a leaf of both receptions, after removing public material (the caller's list:
disclosed values, issuer certificate, ``iss``, ``vct``, status list ``uri``, type metadata)
and leaves the caller's ``is_public`` predicate accepts (for example coarsened, day-aligned
timestamps, which every credential of that day shares). Integers are compared as whole
values (two timestamps a second apart share digits, not an identifier).

The functions are reused by the role-level unlinkability tests (tests/test_unlinkability*.py)
and exercised below on their own.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

__all__ = ["Leaf", "SharedBytes", "received_leaves", "shared_bytes"]

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_B64STD = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
#: Format vocabulary every presentation of the format carries (typ values, algorithms, the
#: OpenID4VP 1.0 §5.9 client identifier prefixes in ``aud``).
FORMAT_CONSTANTS: frozenset[bytes] = frozenset(
    {
        b"dc+sd-jwt",
        b"kb+jwt",
        b"sha-256",
        b"SHA-256",
        b"ES256",
        b"ECDH-ES",
        b"A128GCM",
        b"A256GCM",
        b"x509_san_dns:",
        b"x509_hash:",
        b"redirect_uri:",
    }
)


@dataclass(frozen=True, slots=True)
class Leaf:
    """A decoded value: where it was (``path``), its bytes, and whether it is compared only
    as a whole (``atomic``: integers) or by every substring."""

    path: str
    data: bytes
    atomic: bool = False


@dataclass(frozen=True, slots=True)
class SharedBytes:
    """A byte string found in a leaf of each reception."""

    data: bytes
    first: str
    second: str

    def __str__(self) -> str:
        shown = self.data.decode("utf-8", "backslashreplace")
        return f"{shown!r} ({self.data.hex()}) at {self.first} and {self.second}"


def _b64url(text: str) -> bytes | None:
    if len(text) < 4 or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _b64std(text: str) -> bytes | None:
    if len(text) < 16 or len(text) % 4 or _B64STD.fullmatch(text) is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _json(data: bytes) -> Any:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict | list) else None


def _cbor(data: bytes) -> tuple[bool, Any]:
    """(True, item) when ``data`` is exactly one CBOR container (map, array or tag)."""
    if not data or data[0] >> 5 not in (4, 5, 6):
        return False, None
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except Exception:  # cbor2 raises many types on arbitrary bytes
        return False, None
    if stream.tell() != len(data):  # exactly one item, nothing after it
        return False, None
    # Random bytes (a digest, a salt) now and then parse as a CBOR container by chance; one
    # holding what no honnin structure holds (simple values, undefined, ...) is read as the
    # byte string it is.
    return isinstance(item, dict | list | cbor2.CBORTag) and _decodable(item), item


_LEAF_TYPES = (bool, int, float, str, bytes, dt.datetime, dt.date, type(None))


def _decodable(value: Any) -> bool:
    """Whether ``_walk`` can take ``value`` apart (only the types CBOR structures carry)."""
    if isinstance(value, Mapping):
        return all(_decodable(k) and _decodable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(map(_decodable, value))
    if isinstance(value, cbor2.CBORTag):
        return _decodable(value.value)
    return isinstance(value, _LEAF_TYPES)


def _string(text: str, path: str, public: frozenset[bytes]) -> Iterator[Leaf]:
    raw = text.encode("utf-8")
    if raw in public:
        # Public text is dropped before any decoding: a claim name that happens to be valid
        # base64url must not turn into shared "random" bytes.
        return
    if "~" in text:
        for index, part in enumerate(text.split("~")):
            if part:
                yield from _string(part, f"{path}~{index}", public)
        return
    parts = text.split(".")
    if len(parts) in (3, 5) and all(p == "" or _B64URL.fullmatch(p) for p in parts):
        for index, part in enumerate(parts):
            if part:
                yield from _bytes(_b64url(part) or part.encode(), f"{path}.{index}", public)
        return
    decoded = _b64url(text) if len(text) >= 16 else None
    if decoded is None:
        decoded = _b64std(text)
    if decoded is not None:
        structured = _json(decoded) is not None or _cbor(decoded)[0]
        yield from _bytes(decoded, f"{path}<b64>", public)
        if structured:
            return
    yield Leaf(path, raw)


def _bytes(data: bytes, path: str, public: frozenset[bytes]) -> Iterator[Leaf]:
    parsed = _json(data)
    if parsed is not None:
        yield from _walk(parsed, f"{path}<json>", public)
        return
    container, item = _cbor(data)
    if container:
        yield from _walk(item, f"{path}<cbor>", public)
        return
    yield Leaf(path, bytes(data))


def _walk(value: Any, path: str, public: frozenset[bytes]) -> Iterator[Leaf]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}/{key}", public)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", public)
    elif isinstance(value, cbor2.CBORTag):
        if value.tag == 24 and isinstance(value.value, bytes):
            yield from _bytes(value.value, f"{path}#24", public)
        else:
            yield from _walk(value.value, f"{path}#{value.tag}", public)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        yield Leaf(path, str(value).encode(), atomic=True)
    elif isinstance(value, float):
        yield Leaf(path, repr(value).encode(), atomic=True)
    elif isinstance(value, dt.datetime | dt.date):
        yield Leaf(path, value.isoformat().encode())
    elif isinstance(value, str):
        yield from _string(value, path, public)
    elif isinstance(value, bytes | bytearray | memoryview):
        yield from _bytes(bytes(value), path, public)
    else:
        raise TypeError(f"cannot decode {type(value).__name__} at {path}")


def received_leaves(received: Any, public: Iterable[bytes | str | int] = ()) -> list[Leaf]:
    """Every leaf of what a verifier received (strings, bytes, JSON, CBOR, nested); strings
    equal to ``public`` material are dropped before they are decoded further."""
    return list(_walk(received, "$", frozenset(_atoms(public))))


def _atoms(public: Iterable[bytes | str | int]) -> set[bytes]:
    out = set(FORMAT_CONSTANTS)
    for item in public:
        if isinstance(item, bytes):
            out.add(item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            out.add(str(item).encode())
        else:
            out.add(str(item).encode("utf-8"))
    return out


def _fragments(
    leaves: Iterable[Leaf], atoms: set[bytes], is_public: Callable[[Leaf], bool]
) -> list[Leaf]:
    long_atoms = sorted((a for a in atoms if len(a) >= 4), key=len, reverse=True)
    out = []
    for leaf in leaves:
        if leaf.data in atoms or is_public(leaf):
            continue
        if leaf.atomic:
            out.append(leaf)
            continue
        pieces = [leaf.data]
        for atom in long_atoms:
            # Public material inside a longer leaf (a URL with a path, a label in a sentence)
            # is cut out; what remains on either side is still compared.
            pieces = [part for piece in pieces for part in piece.split(atom)]
        out.extend(Leaf(leaf.path, piece) for piece in pieces if piece)
    return out


def shared_bytes(
    first: Any,
    second: Any,
    *,
    public: Iterable[bytes | str | int] = (),
    is_public: Callable[[Leaf], bool] = lambda leaf: False,
    min_length: int = 8,
) -> list[SharedBytes]:
    """The byte strings of at least ``min_length`` bytes that both receptions contain, once
    public material is removed (see the module docstring). Empty means: nothing in common
    but what was public or disclosed."""
    atoms = _atoms(public)
    a = _fragments(received_leaves(first, atoms), atoms, is_public)
    b = _fragments(received_leaves(second, atoms), atoms, is_public)
    windows: dict[bytes, str] = {}
    wholes: dict[bytes, str] = {}
    for leaf in a:
        if leaf.atomic:
            if len(leaf.data) >= min_length:
                wholes.setdefault(leaf.data, leaf.path)
            continue
        for i in range(len(leaf.data) - min_length + 1):
            windows.setdefault(leaf.data[i : i + min_length], leaf.path)
    found: dict[tuple[str, str], SharedBytes] = {}
    for leaf in b:
        if leaf.atomic:
            where = wholes.get(leaf.data)
            if where is not None:
                found.setdefault((where, leaf.path), SharedBytes(leaf.data, where, leaf.path))
            continue
        for i in range(len(leaf.data) - min_length + 1):
            window = leaf.data[i : i + min_length]
            where = windows.get(window)
            if where is not None:
                found.setdefault((where, leaf.path), SharedBytes(window, where, leaf.path))
    return list(found.values())


def is_day_aligned_time(leaf: Leaf) -> bool:
    """A coarsened timestamp: POSIX seconds at 00:00:00 UTC, or an ISO date-time at midnight
    UTC. Every credential issued that day carries it, so it identifies nothing."""
    text = leaf.data.decode("ascii", "replace")
    if leaf.atomic and text.isdigit() and len(text) >= 9:
        return int(text) % 86_400 == 0
    for suffix in ("T00:00:00+00:00", "T00:00:00Z"):
        if text.endswith(suffix):
            try:
                dt.date.fromisoformat(text[: -len(suffix)])
            except ValueError:
                return False
            return True
    return False


# -- the measure's own tests ------------------------------------------------------------------


def test_finds_a_shared_random_value_deep_inside() -> None:
    salt = (
        base64.urlsafe_b64encode(b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a").decode().rstrip("=")
    )
    inner = base64.urlsafe_b64encode(json.dumps(["s-" + salt, "name", "Taro"]).encode()).decode()
    first = {"vp_token": {"q": [f"xx.yy.zz~{inner}~"]}}
    second = cbor2.dumps({"a": cbor2.CBORTag(24, cbor2.dumps({"r": ("s-" + salt).encode()}))})
    shared = shared_bytes(first, second)
    assert shared and all(s.data in ("s-" + salt).encode() for s in shared)


def test_public_material_and_disclosed_values_are_not_reported() -> None:
    first = {"iss": "https://issuer.example/path", "name": "Yamada Taro", "n": 1_780_000_000}
    second = ["https://issuer.example/path", "Yamada Taro", 1_780_000_000]
    assert shared_bytes(first, second, public=["https://issuer.example/path", "Yamada Taro"])
    assert (
        shared_bytes(
            first,
            second,
            public=["https://issuer.example/path", "Yamada Taro", 1_780_000_000],
        )
        == []
    )


def test_integers_are_compared_whole() -> None:
    assert shared_bytes([1_780_000_001], [1_780_000_002]) == []
    assert len(shared_bytes([1_780_000_001], [1_780_000_001])) == 1


def test_public_material_inside_a_longer_string_is_cut_out() -> None:
    first = ["https://status.example/lists/1 abcdefgh"]
    second = ["https://status.example/lists/1 zyxwvuts"]
    assert shared_bytes(first, second, public=["https://status.example/lists/1"]) == []


def test_day_aligned_times() -> None:
    assert is_day_aligned_time(Leaf("t", b"1780012800", atomic=True))
    assert not is_day_aligned_time(Leaf("t", b"1780012801", atomic=True))
    assert is_day_aligned_time(Leaf("t", b"2026-06-01T00:00:00+00:00"))
    assert not is_day_aligned_time(Leaf("t", b"2026-06-01T00:00:01+00:00"))
    assert not is_day_aligned_time(Leaf("t", b"2026-13-01T00:00:00Z"))


def test_undecodable_values_are_a_programmer_error() -> None:
    try:
        received_leaves({"x": object()})
    except TypeError as exc:
        assert "object" in str(exc)
    else:
        raise AssertionError("an object() leaf must be refused")


def test_random_bytes_that_parse_as_cbor_by_chance_stay_bytes() -> None:
    # A 32-byte "digest" that is also a well-formed CBOR array ending in simple value 0xf0
    # (seen once in 400 mdoc copies): it is a byte string leaf, not a decoding error.
    digest = bytes([0x98, 0x1B]) + bytes(range(1, 24)) + b"\x18\x30" * 3 + b"\xf0"
    assert len(digest) == 32 and cbor2.loads(digest)[-1] == cbor2.CBORSimpleValue(16)
    leaves = received_leaves({"valueDigests": {1: digest}})
    assert leaves == [Leaf("$/valueDigests/1", digest)]
