"""Well-formedness pre-scan of CBOR bytes (RFC 8949 §3, Appendix C) before anything is built.

The scan walks the encoded bytes once, without creating a single Python object for the data
items, and rejects what a hostile sender could use against the decoder or the verifier:
indefinite lengths, reserved additional-information values, non-preferred argument
encodings, declared lengths beyond the remaining input, nesting and item-count limits, map
keys other than integers and strings, tags outside a small allow-list (and allowed tags
around the wrong type), simple values other than false/true/null, and trailing bytes.

It does not look inside byte strings: a tag-24 payload is scanned again when it is decoded.
"""

from __future__ import annotations

from typing import Final

from honnin.errors import MalformedCbor, TooLarge

# Kinds of initial byte (RFC 8949 §3.1 major types, with the invalid ones split out).
_INT: Final = 0  # major types 0 and 1
_STR: Final = 1  # major types 2 and 3
_ARRAY: Final = 2
_MAP: Final = 3
_TAG: Final = 4
_SIMPLE: Final = 5  # false, true, null
_FLOAT: Final = 6  # half, single, double
_INDEFINITE: Final = 7
_RESERVED: Final = 8
_OTHER_SIMPLE: Final = 9


def _tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    kinds: list[int] = []
    sizes: list[int] = []
    for initial in range(256):
        major, info = initial >> 5, initial & 31
        sizes.append({24: 1, 25: 2, 26: 4, 27: 8}.get(info, 0))
        if info == 31:
            kinds.append(_INDEFINITE)
        elif info >= 28:
            kinds.append(_RESERVED)
        elif major <= 1:
            kinds.append(_INT)
        elif major <= 3:
            kinds.append(_STR)
        elif major == 4:
            kinds.append(_ARRAY)
        elif major == 5:
            kinds.append(_MAP)
        elif major == 6:
            kinds.append(_TAG)
        elif info in (20, 21, 22):
            kinds.append(_SIMPLE)
        elif info in (25, 26, 27):
            kinds.append(_FLOAT)
        else:
            # RFC 8949 §3.3: unassigned simple values, undefined and the two-byte form.
            kinds.append(_OTHER_SIMPLE)
    return tuple(kinds), tuple(sizes)


_KINDS, _SIZES = _tables()

#: Smallest argument that needs 1, 2, 4 or 8 extra bytes (RFC 8949 §4.2.1 preferred
#: serialization: "the argument ... is encoded in the shortest form").
_SHORTEST: Final[dict[int, int]] = {1: 24, 2: 256, 4: 65536, 8: 1 << 32}

#: Tags honnin accepts, and the major type each must enclose.
#: 0 tdate (RFC 8949 §3.4.1) and 1004 full-date (RFC 8943) enclose a text string, as ISO/IEC
#: 18013-5 §7.2.1 uses them; 24 encoded CBOR (RFC 8949 §3.4.5.1) encloses a byte string;
#: 17 COSE_Mac0 and 18 COSE_Sign1 (RFC 9052 §2) enclose an array.
ALLOWED_TAGS: Final[dict[int, int]] = {0: 3, 1004: 3, 24: 2, 17: 4, 18: 4}

_MAJOR_NAMES: Final = ("uint", "nint", "bstr", "tstr", "array", "map", "tag", "simple")


def scan(data: bytes, *, max_depth: int, max_items: int) -> bool:
    """Check that ``data`` is exactly one well-formed data item under honnin's profile.

    Returns whether the item holds a date tag (0 or 1004): the decoder then needs honnin's
    strict date parsers; without one it can run with no semantic decoders at all (which
    cbor2 consults on every tag, at a cost of about a microsecond each).

    Raises:
        MalformedCbor: not well-formed, truncated, trailing bytes, or outside the profile.
        TooLarge: deeper than ``max_depth`` or more than ``max_items`` data items.
    """
    n = len(data)
    kinds = _KINDS
    sizes = _SIZES
    shortest = _SHORTEST
    from_bytes = int.from_bytes
    stack: list[tuple[int, bool]] = []
    push = stack.append
    remaining = 1
    in_map = False
    items = 0
    pos = 0
    dates = False
    # Reading past the end raises IndexError, turned into the truncation error below: one
    # exception handler instead of a bounds check per data item.
    try:
        while True:
            while remaining:
                initial = data[pos]
                pos += 1
                kind = kinds[initial]
                if in_map and not remaining & 1 and kind > _STR:
                    raise MalformedCbor(
                        f"CBOR map key at byte {pos - 1} is a {_MAJOR_NAMES[initial >> 5]};"
                        " only integers and strings are accepted as keys"
                    )
                size = sizes[initial]
                if size:
                    end = pos + size
                    if end > n:
                        raise MalformedCbor(
                            f"truncated CBOR: argument at byte {pos - 1} is cut off"
                        )
                    arg = from_bytes(data[pos:end], "big")
                    pos = end
                    if arg < shortest[size] and kind != _FLOAT:
                        raise MalformedCbor(
                            f"non-preferred CBOR argument encoding at byte {pos - size - 1}"
                            " (RFC 8949 §4.2.1; ISO/IEC 18013-5 §8.1)"
                        )
                else:
                    arg = initial & 31
                items += 1
                if kind == _STR:
                    # Bounds are checked when the container closes (or the next item is read).
                    pos += arg
                    remaining -= 1
                elif kind == _INT:
                    remaining -= 1
                elif kind in (_ARRAY, _MAP):
                    remaining -= 1
                    if len(stack) >= max_depth:
                        raise TooLarge(f"CBOR nested deeper than {max_depth}", limit=max_depth)
                    if arg:
                        if kind == _MAP:
                            arg *= 2
                        if arg > n - pos:
                            raise MalformedCbor(
                                f"truncated CBOR: a container declares {arg} items,"
                                f" only {max(n - pos, 0)} bytes remain"
                            )
                        push((remaining, in_map))
                        remaining = arg
                        in_map = kind == _MAP
                elif kind == _TAG:
                    required = ALLOWED_TAGS.get(arg)
                    if required is None:
                        raise MalformedCbor(f"CBOR tag {arg} is not accepted here")
                    if pos >= n:
                        raise MalformedCbor("truncated CBOR: a tag without its content")
                    initial = data[pos]
                    if initial >> 5 != required:
                        raise MalformedCbor(
                            f"CBOR tag {arg} must enclose a {_MAJOR_NAMES[required]},"
                            f" not a {_MAJOR_NAMES[initial >> 5]}"
                        )
                    if arg == 0 or arg == 1004:
                        dates = True
                    elif arg == 24 and initial < 0x5C:
                        # The usual tag-24 item (embedded CBOR, e.g. an IssuerSignedItem):
                        # its byte string head is read here, with the same checks as below.
                        pos += 1
                        size = sizes[initial]
                        if size:
                            end = pos + size
                            if end > n:
                                raise MalformedCbor(
                                    f"truncated CBOR: argument at byte {pos - 1} is cut off"
                                )
                            arg = from_bytes(data[pos:end], "big")
                            pos = end
                            if arg < shortest[size]:
                                raise MalformedCbor(
                                    f"non-preferred CBOR argument encoding at byte {pos - size - 1}"
                                    " (RFC 8949 §4.2.1; ISO/IEC 18013-5 §8.1)"
                                )
                        else:
                            arg = initial & 31
                        items += 1
                        pos += arg
                        remaining -= 1
                elif kind in (_SIMPLE, _FLOAT):
                    remaining -= 1
                elif kind == _INDEFINITE:
                    raise MalformedCbor(
                        f"indefinite-length or break byte 0x{initial:02x} at byte {pos - 1}:"
                        " definite lengths are required (ISO/IEC 18013-5 §8.1)"
                    )
                elif kind == _RESERVED:
                    raise MalformedCbor(f"reserved CBOR additional information at byte {pos - 1}")
                else:
                    raise MalformedCbor(
                        f"CBOR simple value 0x{initial:02x} at byte {pos - 1} is not accepted"
                        " (only false, true and null)"
                    )
            if pos > n:
                raise MalformedCbor(f"truncated CBOR: a string runs {pos - n} bytes past the end")
            if not stack:
                break
            remaining, in_map = stack.pop()
    except IndexError:
        raise MalformedCbor(f"truncated CBOR: input ends at byte {n} inside a data item") from None
    if pos != n:
        raise MalformedCbor(f"{n - pos} trailing bytes after the CBOR data item")
    if items > max_items:
        raise TooLarge(f"CBOR input has {items} data items, over {max_items}", limit=max_items)
    return dates
