"""SD-JWT issuance (RFC 9901 §4, §5, §6, §8): disclosures, digests, decoys, signature."""

from __future__ import annotations

import math
from binascii import b2a_base64
from collections.abc import Iterable, Mapping
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from honnin.encoding import b64url_encode
from honnin.errors import TooLarge
from honnin.jose import JwsAlgorithm, PrivateKey, PublicKey, jwk_from_public_key, sign_jws
from honnin.limits import MAX_DISCLOSURES, MAX_JSON_DEPTH

from ._constants import ARRAY_DIGEST, SD_ALG, SD_DIGESTS, HashAlgorithm
from ._disclosure import SaltSource, b64url_digests, encode_json, salt_batch
from ._paths import ClaimPath, PathSegment, as_claim_path, format_claim_path
from ._serialization import JsonSignature, Serialization, build_json


class _Mark:
    """A node of the tree of disclosable paths (``sd``: the claim here is disclosable)."""

    __slots__ = ("children", "numeric", "origins", "sd")

    def __init__(self) -> None:
        self.sd = False
        self.numeric = False  # has int children, which also name digit-only members
        self.children: dict[PathSegment, _Mark] = {}
        self.origins: tuple[_Mark, ...] = ()

    def marks(self, path: ClaimPath = ()) -> Iterable[tuple[ClaimPath, _Mark]]:
        if self.sd:
            yield path, self
        for segment, child in self.children.items():
            yield from child.marks((*path, segment))


def _merge(first: _Mark | None, second: _Mark | None) -> _Mark | None:
    if first is None or second is None:
        return first or second
    merged = _Mark()
    merged.sd = first.sd or second.sd
    merged.numeric = first.numeric or second.numeric
    merged.origins = (first, second)
    for key in first.children.keys() | second.children.keys():
        child = _merge(first.children.get(key), second.children.get(key))
        if child is not None:
            merged.children[key] = child
    return merged


class _Builder:
    __slots__ = ("decoys", "disclosures", "hits", "new_hash", "plain_salts", "salts", "source")

    def __init__(
        self, hash_alg: HashAlgorithm, source: SaltSource | None, decoys: int, expected: int
    ) -> None:
        self.new_hash = hash_alg.new
        # Random salts are drawn in one batch and are base64url: they need no JSON escaping.
        self.source = source
        self.plain_salts = source is None
        self.salts: list[str] = salt_batch(expected) if source is None and expected else []
        self.decoys = decoys
        self.disclosures: list[bytes] = []
        self.hits: set[_Mark] = set()

    def hit(self, mark: _Mark) -> None:
        if mark.origins:
            for origin in mark.origins:
                self.hit(origin)
        elif mark.sd:
            self.hits.add(mark)

    def salt(self) -> str:
        if self.source is not None:
            return self.source()
        if not self.salts:
            self.salts = salt_batch(16)  # more than expected: "every element" paths
        return self.salts.pop()

    def disclose(self, name: str | None, value: Any) -> bytes:
        """Add the disclosure of ``name``/``value`` (§4.2.1, §4.2.2); return its raw digest
        (base64url-encoded by the caller, for a whole object at once)."""
        salts = self.salts
        salt = salts.pop() if salts else self.salt()
        salt_json = f'"{salt}"' if self.plain_salts else encode_basestring(salt)
        kind = type(value)
        if kind is str:
            value_json = encode_basestring(value)
        elif kind is int:
            value_json = int.__repr__(value)
        else:
            value_json = encode_json(value)  # built values are already checked to be JSON
        if name is None:
            text = f"[{salt_json},{value_json}]"
        else:
            text = f"[{salt_json},{encode_basestring(name)},{value_json}]"
        # base64url without padding (RFC 7515 §2), kept as bytes until the final join; this
        # loop runs once per claim, so it spells out what b64url_encode does.
        encoded = b2a_base64(text.encode("utf-8"), newline=False).translate(_URLSAFE).rstrip(b"=")
        self.disclosures.append(encoded)
        return self.new_hash(encoded).digest()  # §4.2.3: over the ASCII disclosure

    def decoy(self) -> bytes:
        # RFC 9901 §4.2.5: a decoy digest is a hash over fresh random data.
        return self.new_hash(self.salt().encode("utf-8")).digest()

    def check(self, value: Any, depth: int) -> None:
        """Check a plain (not disclosable anywhere below) value is JSON; it is used as is."""
        kind = type(value)
        if kind is dict:
            if depth >= MAX_JSON_DEPTH:
                raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(f"claim names must be strings, not {type(key).__name__}")
                if key in _RESERVED:
                    raise ValueError(f"claim name {key!r} is reserved by RFC 9901 §4.1")
                if type(item) not in _SCALARS:
                    self.check(item, depth + 1)
        elif kind is list:
            if depth >= MAX_JSON_DEPTH:
                raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
            for item in value:
                if type(item) not in _SCALARS:
                    self.check(item, depth + 1)
        elif kind is float:
            if not math.isfinite(value):
                raise ValueError("claim values must be JSON: NaN and infinities are not")
        elif value is not None and kind not in _SCALARS:
            raise TypeError(f"claim values must be JSON, not {kind.__name__}")

    def build(self, value: Any, mark: _Mark, depth: int) -> Any:
        kind = type(value)
        if kind is dict:
            return self.build_object(value, mark, depth + 1)
        if kind is list:
            return self.build_array(value, mark, depth + 1)
        self.check(value, depth)
        return value

    def build_object(self, obj: dict[Any, Any], mark: _Mark, depth: int) -> dict[str, Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
        out: dict[str, Any] = {}
        digests: list[bytes] = []
        children = mark.children
        numeric = mark.numeric
        hits = self.hits
        for key, value in obj.items():
            if type(key) is not str:
                raise TypeError(f"claim names must be strings, not {type(key).__name__}")
            if key in _RESERVED:
                raise ValueError(f"claim name {key!r} is reserved by RFC 9901 §4.1")
            child = children.get(key)
            if numeric and key.isdigit() and (key == "0" or key[0] != "0"):
                # A JSON pointer segment "18" parses as index 18; here it names member "18".
                child = _merge(child, children.get(int(key)))
            if child is None:
                if type(value) not in _SCALARS:
                    self.check(value, depth)
                out[key] = value
                continue
            if child.children:
                value = self.build(value, child, depth)
            elif type(value) not in _SCALARS:
                self.check(value, depth)
            if child.sd:
                if child.origins:
                    self.hit(child)
                else:
                    hits.add(child)
                digests.append(self.disclose(key, value))
            else:
                out[key] = value
        if digests:
            if self.decoys:
                digests.extend(self.decoy() for _ in range(self.decoys))
            encoded = b64url_digests(digests)
            # RFC 9901 §4.2.4.1: sorting hides the original order of the claims.
            encoded.sort()
            out[SD_DIGESTS] = encoded
        return out

    def build_array(self, arr: list[Any], mark: _Mark, depth: int) -> list[Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
        every = mark.children.get(None)
        if every is not None:
            for _, found in every.marks():  # "every element" also matches an empty array
                self.hit(found)
        out: list[Any] = []
        for index, item in enumerate(arr):
            child = _merge(mark.children.get(index), every)
            if child is None:
                if type(item) not in _SCALARS:
                    self.check(item, depth)
                out.append(item)
                continue
            built = self.build(item, child, depth) if child.children else item
            if not child.children and type(item) not in _SCALARS:
                self.check(item, depth)
            if child.sd:
                self.hit(child)
                # RFC 9901 §4.2.4.2: an array element is replaced by {"...": digest}.
                out.append({ARRAY_DIGEST: b64url_encode(self.disclose(None, built))})
            else:
                out.append(built)
        return out


#: Types that are JSON as they are (floats are checked for NaN and infinities).
_SCALARS = frozenset({str, int, bool, type(None)})
_RESERVED = frozenset({SD_DIGESTS, ARRAY_DIGEST, SD_ALG})
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _compile(paths: tuple[ClaimPath | str, ...]) -> tuple[_Mark, int]:
    """The tree of disclosable paths and how many distinct claims it marks."""
    root = _Mark()
    marked = 0
    for raw in paths:
        path = as_claim_path(raw)
        if not path:
            raise ValueError("the whole payload cannot be selectively disclosable")
        node = root
        for segment in path:
            if type(segment) is int:
                node.numeric = True
            node = node.children.setdefault(segment, _Mark())
        marked += not node.sd
        node.sd = True
    return root, marked


def _payload_json(payload: dict[str, Any]) -> str:
    """``encode_json(payload)``, with the top-level ``_sd`` array written by one join.

    The JSON encoder escapes each digest on its own, the largest part of encoding a payload
    with many disclosable claims; digests are base64url and need no escaping. The array is
    encoded as a 0 and put in afterwards: ``"_sd":0`` occurs nowhere else in the text (a
    string holding it has its quotes escaped, and no claim is named ``_sd``).
    """
    digests = payload.get(SD_DIGESTS)
    if not digests:
        return encode_json(payload)
    payload[SD_DIGESTS] = 0
    try:
        text = encode_json(payload)
    finally:
        payload[SD_DIGESTS] = digests
    return text.replace('"_sd":0', '"_sd":["' + '","'.join(digests) + '"]', 1)


# An issuer signs many credentials of one type with the same disclosable paths; the tree is
# never changed after it is built, so it is compiled once (as ``re`` caches its patterns).
_compiled = lru_cache(maxsize=128)(_compile)
#: Segments of these exact types are equal only to equal segments (True == 1 and 1.0 == 1
#: would let a path that as_claim_path refuses hit the tree compiled for another).
_EXACT_SEGMENTS = frozenset({str, int, type(None)})


def _cacheable(paths: tuple[ClaimPath | str, ...]) -> bool:
    """Whether ``paths`` can key the cache: JSON pointers, or tuples of exact segments."""
    for path in paths:
        kind = type(path)
        if kind is str:
            continue
        if kind is not tuple:
            return False
        for segment in path:
            if type(segment) not in _EXACT_SEGMENTS:
                return False
    return True


def _holder_jwk(holder_key: PublicKey | Mapping[str, Any]) -> dict[str, Any]:
    if type(holder_key) is dict or isinstance(holder_key, Mapping):
        if "d" in holder_key:
            raise ValueError("the holder key for 'cnf' must be public (it has 'd')")
        return dict(holder_key)
    return dict(jwk_from_public_key(holder_key))


def issue_sd_jwt(
    claims: Mapping[str, Any],
    issuer_key: PrivateKey,
    *,
    disclosable: Iterable[ClaimPath | str] = (),
    holder_key: PublicKey | Mapping[str, Any] | None = None,
    decoys: int = 0,
    hash_alg: HashAlgorithm = HashAlgorithm.SHA256,
    header: Mapping[str, Any] | None = None,
    alg: JwsAlgorithm | None = None,
    serialization: Serialization = Serialization.COMPACT,
    salt_source: SaltSource | None = None,
) -> str:
    """Issue an SD-JWT over ``claims`` (RFC 9901 §4, §5), signed with ``issuer_key``.

    ``disclosable`` names the claims to make selectively disclosable, as claim paths or
    JSON pointers: an object member (``"/address"``), an array element
    (``"/nationalities/0"``, ``("nationalities", None)`` for all elements) or a nested
    claim inside another disclosable one (recursive disclosures, §4.2.6). Each object
    with disclosable claims also gets ``decoys`` decoy digests (§4.2.5). ``holder_key``
    (a public key or public JWK) becomes ``cnf.jwk`` (RFC 7800). ``header`` adds JOSE
    header members (``typ``, ``kid``, ``x5c``). ``salt_source`` exists for reproducible
    tests; by default every salt has 144 bits from the OS CSPRNG (§9.3).

    >>> from honnin.jose import generate_key
    >>> token = issue_sd_jwt({"sub": "alice", "age": 42}, generate_key(), disclosable=["/age"])
    >>> token.endswith("~")
    True

    Raises:
        ValueError / TypeError: claims that are not JSON, reserved names, paths with no claim.
        TooLarge: claims nested deeper than ``MAX_JSON_DEPTH`` or too many disclosures.
    """
    if type(claims) is not dict and not isinstance(claims, Mapping):
        raise TypeError("claims must be a mapping")
    if decoys < 0:
        raise ValueError("decoys must be >= 0")
    paths = tuple(disclosable)
    if _cacheable(paths):
        root, marked = _compiled(paths)
    else:
        root, marked = _compile(paths)
    builder = _Builder(hash_alg, salt_source, decoys, marked + decoys)
    payload = builder.build_object(dict(claims), root, 1)
    if len(builder.hits) != marked:
        missing = next(path for path, mark in root.marks() if mark not in builder.hits)
        raise ValueError(f"no claim at {format_claim_path(missing)} to make disclosable")
    if len(builder.disclosures) > MAX_DISCLOSURES:
        raise TooLarge(f"more than {MAX_DISCLOSURES} disclosures", limit=MAX_DISCLOSURES)
    payload[SD_ALG] = hash_alg.value
    if holder_key is not None:
        if "cnf" in payload:
            raise ValueError("claims already have 'cnf'; pass the holder key only once")
        payload["cnf"] = {"jwk": _holder_jwk(holder_key)}
    jws = sign_jws(_payload_json(payload).encode("utf-8"), issuer_key, header=header, alg=alg)
    if serialization is Serialization.COMPACT:
        if not builder.disclosures:
            return jws + "~"
        return f"{jws}~{b'~'.join(builder.disclosures).decode('ascii')}~"
    disclosures = [d.decode("ascii") for d in builder.disclosures]
    protected, body, signature = jws.split(".")
    return build_json(serialization, body, [JsonSignature(protected, signature, {})], disclosures)
