"""Processing of an issuer-signed payload with disclosures (RFC 9901 §7.1 step 3 to 5).

One pass over the payload builds the processed claims as new containers (the signed
payload and the disclosure values are left untouched), checks every digest rule and
records where each disclosure landed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from honnin.errors import InvalidDisclosure, MalformedCredential, NonUniqueDigests, TooLarge
from honnin.limits import MAX_JSON_DEPTH

from ._constants import ARRAY_DIGEST, SD_ALG, SD_DIGESTS
from ._disclosure import Decoded, Disclosure
from ._paths import ClaimPath, PathSegment

#: Where a disclosure landed: (decoded disclosure, its claim path, index of its parent or -1).
Placement = tuple[Decoded, ClaimPath, int]


def disclosures_of(found: Sequence[Placement]) -> tuple[Disclosure, ...]:
    """The public ``Disclosure`` objects of placements (built only when asked for)."""
    return tuple(Disclosure(d[0], d[1], d[2], d[3], d[4], path) for d, path, _ in found)


def _bad_digest(digest: object, seen: set[str]) -> MalformedCredential | NonUniqueDigests:
    if type(digest) is not str:
        return MalformedCredential("a digest must be a string (RFC 9901 §4.2.4)")
    # RFC 9901 §7.1 step 4: a digest may occur once only (this also stops digest cycles).
    return NonUniqueDigests(f"digest {digest!r} occurs more than once", digest=digest)


def _object_shape_error() -> InvalidDisclosure:
    # RFC 9901 §7.1 step 3.3.2.1: an object member needs a 3-element disclosure.
    return InvalidDisclosure("an array element disclosure is referenced from '_sd'", reason="shape")


def _exists_error(name: str) -> InvalidDisclosure:
    # RFC 9901 §7.1 step 3.3.2.3: a disclosure must not overwrite a claim.
    return InvalidDisclosure(
        f"disclosed claim {name!r} already exists at its level", reason="exists"
    )


_SPECIAL = frozenset({SD_DIGESTS, SD_ALG, ARRAY_DIGEST})
_STR = frozenset({str})


class _Processor:
    __slots__ = ("found", "owner", "path", "seen", "table")

    def __init__(self, table: dict[str, Decoded]) -> None:
        self.table = table
        self.seen: set[str] = set()
        self.path: list[PathSegment] = []
        self.owner = -1
        self.found: list[Placement] = []

    def _embed(self, found: Decoded, segment: PathSegment, depth: int) -> Any:
        path = self.path
        path.append(segment)
        index = len(self.found)
        self.found.append((found, tuple(path), self.owner))
        value = found[4]
        kind = type(value)
        if kind is dict or kind is list:
            outer, self.owner = self.owner, index
            value = self.object(value, depth + 1) if kind is dict else self.array(value, depth + 1)
            self.owner = outer
        path.pop()
        return value

    def object(self, obj: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"SD-JWT claims nested deeper than {MAX_JSON_DEPTH}")
        out: dict[str, Any] = {}
        digests: Any = None
        path = self.path
        for key, value in obj.items():
            if key in _SPECIAL:
                if key == SD_DIGESTS:
                    if type(value) is not list:
                        raise MalformedCredential("'_sd' must be an array of digests (§4.2.4.1)")
                    digests = value
                elif key == ARRAY_DIGEST:
                    raise MalformedCredential("'...' is only allowed in array elements (§4.2.4.2)")
                elif depth != 1:
                    raise MalformedCredential("'_sd_alg' is only allowed at the top level (§4.1.1)")
                continue
            kind = type(value)
            if kind is dict:
                path.append(key)
                out[key] = self.object(value, depth + 1)
                path.pop()
            elif kind is list:
                path.append(key)
                out[key] = self.array(value, depth + 1)
                path.pop()
            else:
                out[key] = value
        if digests is None:
            return out
        if not digests:
            return out
        try:
            unique = set(digests)
        except TypeError:  # an unhashable member: reported in order by the loop below
            unique = None
        if unique is None or len(unique) != len(digests) or not set(map(type, digests)) <= _STR:
            return self._digests_one_by_one(obj, out, digests, depth)
        # Every digest is a distinct string: set operations replace the per-digest loop.
        # The digests are added to ``seen`` in the same steps as the loop would, up to each
        # disclosed one, so that nested disclosures see exactly the same ``seen`` set and
        # the first broken rule in the loop's order is the one reported.
        seen, table = self.seen, self.table
        # Clean: no digest of this array was seen before. Until a nested disclosure adds
        # digests to ``seen`` no step can then find a repeated digest, so the steps are
        # taken only before a nested disclosure is processed, and once at the end.
        clean = seen.isdisjoint(unique)
        pos = 0
        found_list, owner = self.found, self.owner
        for digest in [*filter(table.__contains__, digests)]:
            found = table[digest]
            if not clean:
                end = digests.index(digest, pos) + 1
                chunk = digests[pos:end]
                if not seen.isdisjoint(chunk):
                    raise _bad_digest(next(d for d in chunk if d in seen), seen)
                seen.update(chunk)
                pos = end
            name = found[3]
            if name is None:
                raise _object_shape_error()
            if name in out or name in obj:
                raise _exists_error(name)
            value = found[4]
            kind = type(value)
            if kind is not dict and kind is not list:
                # A plain value: placed as _embed would, without its call and path steps.
                found_list.append((found, (*path, name), owner))
                out[name] = value
                continue
            if clean:
                end = digests.index(digest, pos) + 1
                seen.update(digests[pos:end])
                pos = end
                clean = False
            out[name] = self._embed(found, name, depth)
        if clean:  # no step taken: the whole array, whose set adds its stored hashes
            seen.update(unique)
            return out
        rest = digests[pos:]
        if not seen.isdisjoint(rest):
            raise _bad_digest(next(d for d in rest if d in seen), seen)
        seen.update(rest)
        return out

    def _digests_one_by_one(
        self, obj: dict[str, Any], out: dict[str, Any], digests: list[Any], depth: int
    ) -> dict[str, Any]:
        seen, table = self.seen, self.table
        for digest in digests:
            if type(digest) is not str or digest in seen:
                raise _bad_digest(digest, seen)
            seen.add(digest)
            found = table.get(digest)
            if found is None:
                continue  # a decoy, or a claim that is not disclosed
            name = found[3]
            if name is None:
                raise _object_shape_error()
            if name in out or name in obj:
                raise _exists_error(name)
            out[name] = self._embed(found, name, depth)
        return out

    def array(self, arr: list[Any], depth: int) -> list[Any]:
        if depth > MAX_JSON_DEPTH:
            raise TooLarge(f"SD-JWT claims nested deeper than {MAX_JSON_DEPTH}")
        out: list[Any] = []
        path = self.path
        for item in arr:
            kind = type(item)
            if kind is dict:
                if ARRAY_DIGEST in item:
                    if len(item) != 1:
                        # RFC 9901 §4.2.4.2: the placeholder has no other members.
                        raise MalformedCredential("'...' element with other members (§4.2.4.2)")
                    digest = item[ARRAY_DIGEST]
                    if type(digest) is not str or digest in self.seen:
                        raise _bad_digest(digest, self.seen)
                    self.seen.add(digest)
                    found = self.table.get(digest)
                    if found is None:
                        continue  # §7.1 step 3.4: undisclosed or decoy elements are removed
                    if found[3] is not None:
                        # RFC 9901 §7.1 step 3.4.2.1: an array element needs 2 elements.
                        raise InvalidDisclosure(
                            "an object property disclosure is referenced from '...'",
                            reason="shape",
                        )
                    out.append(self._embed(found, len(out), depth))
                    continue
                path.append(len(out))
                out.append(self.object(item, depth + 1))
                path.pop()
            elif kind is list:
                path.append(len(out))
                out.append(self.array(item, depth + 1))
                path.pop()
            else:
                out.append(item)
        return out


def process_payload(
    payload: dict[str, Any], disclosures: Sequence[Decoded]
) -> tuple[dict[str, Any], list[Placement]]:
    """Replace digests by the disclosed claims and enforce RFC 9901 §7.1 steps 3 to 5.

    Returns the processed claims and where each disclosure landed, in embedding order.

    Raises:
        InvalidDisclosure: a disclosure sent twice, of the wrong shape for where it is
            referenced, overwriting a claim, or referenced by no digest.
        NonUniqueDigests: a digest occurring more than once.
        MalformedCredential: ``_sd`` not an array of strings, a malformed ``...`` element,
            ``_sd_alg`` below the top level.
        TooLarge: the processed claims nest deeper than ``MAX_JSON_DEPTH``.
    """
    table: dict[str, Decoded] = {d[1]: d for d in disclosures}
    if len(table) != len(disclosures):
        # RFC 9901 §7.2 (holders never send a disclosure twice) and §7.1 step 5.
        raise InvalidDisclosure("the same disclosure is included twice", reason="duplicate")
    processor = _Processor(table)
    claims = processor.object(payload, 1)
    if len(processor.found) != len(table):
        # RFC 9901 §7.1 step 5: every disclosure must be referenced by a digest.
        used = {d[1] for d, _, _ in processor.found}
        orphan = next(d[1] for d in disclosures if d[1] not in used)
        raise InvalidDisclosure(
            "a disclosure is not referenced by any digest in the SD-JWT",
            reason="unreferenced",
            digest=orphan,
        )
    return claims, processor.found
