"""SD-JWT issuance (RFC 9901 §4, §5, §6, §8): disclosures, digests, decoys, signature."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from honnin.encoding import b64url_encode
from honnin.errors import TooLarge
from honnin.jose import JwsAlgorithm, PrivateKey, PublicKey, jwk_from_public_key, sign_jws
from honnin.limits import MAX_DISCLOSURES, MAX_JSON_DEPTH

from ._constants import ARRAY_DIGEST, SD_ALG, SD_DIGESTS, HashAlgorithm
from ._disclosure import SaltPool, SaltSource, encode_disclosure, encode_json
from ._paths import ClaimPath, PathSegment, as_claim_path, format_claim_path
from ._serialization import JsonSignature, Serialization, build_compact, build_json


class _Mark:
    """A node of the tree of disclosable paths; ``used`` records that it matched a claim."""

    __slots__ = ("children", "origins", "sd", "used")

    def __init__(self) -> None:
        self.sd = False
        self.used = False
        self.children: dict[PathSegment, _Mark] = {}
        self.origins: tuple[_Mark, ...] = ()

    def hit(self) -> None:
        self.used = True
        for origin in self.origins:
            origin.hit()

    def unused(self, path: list[PathSegment]) -> ClaimPath | None:
        if self.sd and not self.used:
            return tuple(path)
        for segment, child in self.children.items():
            path.append(segment)
            found = child.unused(path)
            path.pop()
            if found is not None:
                return found
        return None


def _merge(first: _Mark | None, second: _Mark | None) -> _Mark | None:
    if first is None or second is None:
        return first or second
    merged = _Mark()
    merged.sd = first.sd or second.sd
    merged.origins = (first, second)
    for key in first.children.keys() | second.children.keys():
        child = _merge(first.children.get(key), second.children.get(key))
        if child is not None:
            merged.children[key] = child
    return merged


def _member_mark(mark: _Mark, key: str) -> _Mark | None:
    # A JSON pointer segment "18" parses as the index 18; on an object it names member "18".
    found = mark.children.get(key)
    if key.isdigit() and (key == "0" or key[0] != "0"):
        found = _merge(found, mark.children.get(int(key)))
    return found


class _Builder:
    __slots__ = ("decoys", "disclosures", "new_hash", "salt")

    def __init__(self, hash_alg: HashAlgorithm, salt: SaltSource, decoys: int) -> None:
        self.new_hash = hash_alg.new
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[str] = []

    def disclose(self, name: str | None, value: Any) -> str:
        encoded = encode_disclosure(self.salt(), name, value)
        self.disclosures.append(encoded)
        return b64url_encode(self.new_hash(encoded.encode("ascii")).digest())

    def decoy(self) -> str:
        # RFC 9901 §4.2.5: a decoy digest is a hash over fresh random data.
        return b64url_encode(self.new_hash(self.salt().encode("ascii")).digest())

    def build(self, value: Any, mark: _Mark | None, depth: int) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is dict:
            return self.build_object(value, mark, depth + 1)
        if kind is list:
            return self.build_array(value, mark, depth + 1)
        if kind is float:
            if not math.isfinite(value):
                raise ValueError("claim values must be JSON: NaN and infinities are not")
            return value
        raise TypeError(f"claim values must be JSON, not {kind.__name__}")

    def build_object(self, obj: dict[Any, Any], mark: _Mark | None, depth: int) -> dict[str, Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
        out: dict[str, Any] = {}
        digests: list[str] = []
        for key, value in obj.items():
            if type(key) is not str:
                raise TypeError(f"claim names must be strings, not {type(key).__name__}")
            if key in _RESERVED:
                raise ValueError(f"claim name {key!r} is reserved by RFC 9901 §4.1")
            child = None if mark is None else _member_mark(mark, key)
            built = self.build(value, child, depth)
            if child is not None and child.sd:
                child.hit()
                digests.append(self.disclose(key, built))
            else:
                out[key] = built
        if digests:
            if self.decoys:
                digests.extend(self.decoy() for _ in range(self.decoys))
            # RFC 9901 §4.2.4.1: sorting hides the original order of the claims.
            digests.sort()
            out[SD_DIGESTS] = digests
        return out

    def build_array(self, arr: list[Any], mark: _Mark | None, depth: int) -> list[Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"claims nested deeper than {MAX_JSON_DEPTH}")
        if mark is None:
            return [self.build(item, None, depth) for item in arr]
        every = mark.children.get(None)
        if every is not None:
            every.hit()  # "every element" matches an empty array too
        out: list[Any] = []
        for index, item in enumerate(arr):
            child = _merge(mark.children.get(index), every)
            built = self.build(item, child, depth)
            if child is not None and child.sd:
                child.hit()
                # RFC 9901 §4.2.4.2: an array element is replaced by {"...": digest}.
                out.append({ARRAY_DIGEST: self.disclose(None, built)})
            else:
                out.append(built)
        return out


_RESERVED = frozenset({SD_DIGESTS, ARRAY_DIGEST, SD_ALG})


def _holder_jwk(holder_key: PublicKey | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(holder_key, Mapping):
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
    if not isinstance(claims, Mapping):
        raise TypeError("claims must be a mapping")
    if decoys < 0:
        raise ValueError("decoys must be >= 0")
    root = _Mark()
    for raw in disclosable:
        path = as_claim_path(raw)
        if not path:
            raise ValueError("the whole payload cannot be selectively disclosable")
        node = root
        for segment in path:
            node = node.children.setdefault(segment, _Mark())
        node.sd = True
    builder = _Builder(hash_alg, salt_source or SaltPool(), decoys)
    payload = builder.build_object(dict(claims), root, 1)
    missing = root.unused([])
    if missing is not None:
        raise ValueError(f"no claim at {format_claim_path(missing)} to make disclosable")
    if len(builder.disclosures) > MAX_DISCLOSURES:
        raise TooLarge(f"more than {MAX_DISCLOSURES} disclosures", limit=MAX_DISCLOSURES)
    payload[SD_ALG] = hash_alg.value
    if holder_key is not None:
        if "cnf" in payload:
            raise ValueError("claims already have 'cnf'; pass the holder key only once")
        payload["cnf"] = {"jwk": _holder_jwk(holder_key)}
    jws = sign_jws(encode_json(payload).encode("utf-8"), issuer_key, header=header, alg=alg)
    if serialization is Serialization.COMPACT:
        return build_compact(jws, builder.disclosures)
    protected, body, signature = jws.split(".")
    return build_json(
        serialization, body, [JsonSignature(protected, signature, {})], builder.disclosures
    )
