"""Disclosures (RFC 9901 §4.2): building, strict decoding and digests."""

from __future__ import annotations

import binascii
import hashlib
import json
import os
from binascii import b2a_base64
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, TypeAlias

from honnin.encoding import b64url_encode, json_from_b64url, json_from_b64url_all
from honnin.errors import InvalidDisclosure

from ._constants import FORBIDDEN_CLAIM_NAMES, SALT_BYTES, HashAlgorithm
from ._paths import ClaimPath

#: A source of salts: returns a fresh base64url salt per call (RFC 9901 §4.2.1, §9.3).
SaltSource = Callable[[], str]

#: Internal form of a decoded disclosure: (encoded, digest, salt, name or None, value).
Decoded: TypeAlias = tuple[str, str, str, str | None, Any]

_FROM_STD = bytes.maketrans(b"+/", b"-_")
_DIGEST = type(hashlib.sha256()).digest
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_LIST, _STR, _THREE = frozenset({list}), frozenset({str}), frozenset({3})
# 18 random bytes are exactly 24 base64 characters, so a batch of salts is one encoding.
_POOL_SALT_BYTES = 18
_POOL_SALT_CHARS = 24


def _not_json(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _make_encoder() -> Callable[[Any], str]:
    # json.dumps with options builds a new C encoder on every call; build one, reuse it.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C accelerator
        return json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_not_json
        ).encode
    iterencode = make(None, _not_json, encode_basestring, None, ":", ",", False, False, False)
    return lambda value: "".join(iterencode(value, 0))


#: Compact JSON (UTF-8 kept, NaN refused) with one reused encoder.
encode_json = _make_encoder()


def random_salt() -> str:
    """A fresh 128-bit salt from the OS CSPRNG (``secrets``' source), base64url (§9.3)."""
    raw = binascii.b2a_base64(os.urandom(SALT_BYTES), newline=False)
    return raw.rstrip(b"=").translate(_FROM_STD).decode("ascii")


def salt_batch(count: int) -> list[str]:
    """``count`` salts of 144 random bits from the OS CSPRNG, in one draw (RFC 9901 §9.3)."""
    raw = binascii.b2a_base64(os.urandom(_POOL_SALT_BYTES * count), newline=False)
    text = raw.translate(_FROM_STD).decode("ascii")
    return [text[i : i + _POOL_SALT_CHARS] for i in range(0, len(text), _POOL_SALT_CHARS)]


@dataclass(frozen=True, slots=True)
class UnverifiedDisclosure:
    """A decoded disclosure whose digest has not been matched against a verified JWT.

    ``name`` is ``None`` for an array element disclosure (RFC 9901 §4.2.2).
    """

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A disclosure referenced by the verified issuer JWT, with the claim path it fills.

    ``path`` locates the disclosed value in the processed payload (array indices count the
    elements present after processing); ``name`` is ``None`` for an array element.
    ``value`` is the value as disclosed (it may still hold nested digests).
    """

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any
    path: ClaimPath


def digest_of(encoded: str, hash_alg: HashAlgorithm) -> str:
    """base64url(hash(ASCII(disclosure))) over the string as received (RFC 9901 §4.2.3)."""
    return b64url_encode(hash_alg.new(encoded.encode("ascii")).digest())


def encode_disclosure(salt: str, name: str | None, value: Any) -> str:
    """The base64url disclosure of an object property (``name``) or array element (``None``).

    Raises:
        ValueError: the value is not JSON (NaN, infinities, non-string keys, other types).
    """
    if type(value) is str and name is not None:
        text = f"[{encode_basestring(salt)},{encode_basestring(name)},{encode_basestring(value)}]"
    else:
        try:
            text = encode_json([salt, value] if name is None else [salt, name, value])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"claim value is not JSON: {exc}") from exc
    return b64url_encode(text.encode("utf-8"))


def decode_disclosure(encoded: str, hash_alg: HashAlgorithm) -> UnverifiedDisclosure:
    """Decode one disclosure strictly and compute its digest (RFC 9901 §4.2, §7.1 step 3).

    Raises:
        MalformedBase64url / MalformedJson: not strict base64url, or not strict JSON.
        InvalidDisclosure: empty, not a 2- or 3-element array, a non-string salt or
            name, or the name ``_sd`` / ``...``.
    """
    return UnverifiedDisclosure(*decode_all((encoded,), hash_alg)[0])


def decode_all(encoded: tuple[str, ...], hash_alg: HashAlgorithm) -> list[Decoded]:
    """Decode disclosures into the internal tuple form (see ``decode_disclosure``)."""
    values = None if "" in encoded else json_from_b64url_all(encoded)
    if values is None:
        # An empty, malformed or unusual (whitespace, escapes) disclosure: one by one,
        # so that the first problem in order is the one reported.
        return _decode_each(encoded, hash_alg)
    # RFC 9901 §4.2.3: each digest is over the ASCII text as received (the texts decoded
    # as base64url above, so they are ASCII). map() over C callables: no bytecode per text.
    digests = b64url_digests([*map(_DIGEST, map(hash_alg.new, map(str.encode, encoded)))])
    if (
        set(map(type, values)) <= _LIST
        and set(map(len, values)) <= _THREE
        and set(map(type, map(_FIRST, values))) <= _STR
        and set(map(type, names := [*map(_SECOND, values)])) <= _STR
        and FORBIDDEN_CLAIM_NAMES.isdisjoint(names)
    ):
        # The common case, object properties only (RFC 9901 §4.2.1), each rule checked for
        # all disclosures at once and the tuples built by zip(); anything else takes the
        # loop below, which reports the first broken rule in order.
        return [
            *zip(encoded, digests, map(_FIRST, values), names, map(_THIRD, values), strict=True)
        ]
    out: list[Decoded] = []
    append = out.append
    for text, digest, items in zip(encoded, digests, values, strict=True):
        if type(items) is not list or not 2 <= len(items) <= 3:
            raise _shape_error()
        salt = items[0]
        if type(salt) is not str:
            raise _salt_error()
        if len(items) == 2:
            append((text, digest, salt, None, items[1]))
            continue
        name = items[1]
        if type(name) is not str or name in FORBIDDEN_CLAIM_NAMES:
            raise _name_error(name)
        append((text, digest, salt, name, items[2]))
    return out


def b64url_digests(digests: list[bytes]) -> list[str]:
    """base64url without padding of equally long digests, in one encoder call.

    Each digest is followed by the zero bytes that round it up to a multiple of three:
    its base64 then starts with exactly its unpadded base64url (RFC 4648 §3.5: the unused
    bits of the last character are zero either way) and ends on a group boundary.
    """
    if not digests:
        return []
    size = len(digests[0])
    fill = b"\0" * (-size % 3)
    text = b2a_base64(fill.join(digests) + fill, newline=False).translate(_FROM_STD).decode("ascii")
    step, keep = (size + len(fill)) // 3 * 4, (4 * size + 2) // 3
    return [text[i : i + keep] for i in range(0, len(text), step)]


def _decode_each(encoded: tuple[str, ...], hash_alg: HashAlgorithm) -> list[Decoded]:
    new_hash = hash_alg.new
    out: list[Decoded] = []
    append = out.append
    for text in encoded:
        if not text:
            raise InvalidDisclosure("empty disclosure ('~~') (RFC 9901 §4)", reason="empty")
        # Strict decoders: bad base64url or JSON raise MalformedBase64url / MalformedJson.
        items = json_from_b64url(text, what="disclosure")
        if type(items) is not list or not 2 <= len(items) <= 3:
            raise _shape_error()
        salt = items[0]
        if type(salt) is not str:
            raise _salt_error()
        # RFC 9901 §4.2.3: the digest is over the base64url text as received, never re-encoded.
        digest = b64url_encode(new_hash(text.encode("ascii")).digest())
        if len(items) == 2:
            append((text, digest, salt, None, items[1]))
            continue
        name = items[1]
        if type(name) is not str or name in FORBIDDEN_CLAIM_NAMES:
            raise _name_error(name)
        append((text, digest, salt, name, items[2]))
    return out


def _shape_error() -> InvalidDisclosure:
    # RFC 9901 §4.2.1/§4.2.2: [salt, name, value] or [salt, value], nothing else.
    return InvalidDisclosure("a disclosure is a JSON array of 2 or 3 elements", reason="shape")


def _salt_error() -> InvalidDisclosure:
    return InvalidDisclosure("disclosure salt must be a string (§4.2.1)", reason="salt")


def _name_error(name: object) -> InvalidDisclosure:
    if type(name) is not str:
        return InvalidDisclosure("disclosure claim name must be a string", reason="name")
    # RFC 9901 §7.1 step 3.3.2.2: the names _sd and ... would smuggle digests.
    return InvalidDisclosure(f"disclosure claim name {name!r} is forbidden", reason="name")
