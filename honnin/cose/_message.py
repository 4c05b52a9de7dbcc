"""What COSE_Sign1 and COSE_Mac0 share (RFC 9052 §3, §4.2, §6.2): the four-element array,
the two header buckets and their checks, detached payloads and ``x5chain`` (RFC 9360 §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import cbor2

from honnin import cbor
from honnin.errors import MalformedCose
from honnin.limits import MAX_JWS_HEADER

from ._algorithms import ALG, CONTENT_TYPE, CRIT, KID, X5CHAIN

Label = int | str
Headers = Mapping[Label, Any]

_EMPTY: Final[Mapping[Label, Any]] = MappingProxyType({})


def encode_protected(headers: Mapping[Label, Any]) -> bytes:
    """The protected bucket: a zero-length bstr when empty (RFC 9052 §3), else the map."""
    return cbor.encode(dict(headers)) if headers else b""


def decode_protected(raw: bytes) -> Mapping[Label, Any]:
    """Decode the protected bucket strictly; it must be a map or empty (RFC 9052 §3).

    The result is read-only and cached by its bytes: most messages share a few headers.
    """
    if not raw:
        return _EMPTY
    if len(raw) > MAX_JWS_HEADER:
        raise MalformedCose(f"protected header over {MAX_JWS_HEADER} bytes")
    cached = _header_cache.get(raw)
    if cached is not None:
        return cached
    headers = cbor.decode(raw, max_size=MAX_JWS_HEADER)
    if not isinstance(headers, dict):
        raise MalformedCose("the protected header is not a map (RFC 9052 §3)")
    frozen = MappingProxyType(headers)
    if len(raw) <= _CACHED_HEADER_SIZE and all(
        isinstance(v, int | str | bytes) for v in headers.values()
    ):
        # Only flat headers are shared: nothing in them can be mutated by a caller.
        if len(_header_cache) >= _HEADER_CACHE_ENTRIES:
            _header_cache.clear()
        _header_cache[raw] = frozen
    return frozen


_CACHED_HEADER_SIZE: Final = 256
_HEADER_CACHE_ENTRIES: Final = 512
_header_cache: dict[bytes, Mapping[Label, Any]] = {}


def split_message(
    obj: object, tag: int, name: str, require_tag: bool | None
) -> tuple[bytes, Mapping[Label, Any], dict[Label, Any], bytes | None, bytes]:
    """The parts of a decoded COSE_Sign1 / COSE_Mac0 array, type-checked (RFC 9052 §4.2, §6.2).

    ``require_tag``: True demands the COSE tag (e.g. a Status List CWT, draft-ietf-oauth-
    status-list §5.2), False forbids it (e.g. ``issuerAuth``, ISO/IEC 18013-5 §9.1.2.4),
    None accepts both.
    """
    tagged = isinstance(obj, cbor2.CBORTag)
    if tagged:
        assert isinstance(obj, cbor2.CBORTag)
        if obj.tag != tag:
            raise MalformedCose(f"CBOR tag {obj.tag} where {name} (tag {tag}) was expected")
        obj = obj.value
    if require_tag is True and not tagged:
        raise MalformedCose(f"{name} must be tagged {tag} here")
    if require_tag is False and tagged:
        raise MalformedCose(f"{name} must be untagged here")
    if not isinstance(obj, list) or len(obj) != 4:
        raise MalformedCose(f"{name} must be an array of four elements (RFC 9052)")
    protected_raw, unprotected, payload, last = obj
    if not isinstance(protected_raw, bytes):
        raise MalformedCose(f"{name} protected header must be a byte string")
    if not isinstance(unprotected, dict):
        raise MalformedCose(f"{name} unprotected header must be a map")
    if payload is not None and not isinstance(payload, bytes):
        raise MalformedCose(f"{name} payload must be a byte string or nil")
    if not isinstance(last, bytes):
        raise MalformedCose(f"{name} signature or tag must be a byte string")
    protected = decode_protected(protected_raw)
    check_headers(protected, unprotected)
    return protected_raw, protected, unprotected, payload, last


def check_headers(protected: Headers, unprotected: Headers) -> None:
    """RFC 9052 §3 and §3.1 rules on the two buckets."""
    for label in protected:
        if type(label) is not int and type(label) is not str:
            raise MalformedCose(f"header label {label!r} is neither int nor text")
    for label in unprotected:
        if type(label) is not int and type(label) is not str:
            raise MalformedCose(f"header label {label!r} is neither int nor text")
        if label in protected:
            # RFC 9052 §3: a label MUST NOT occur in both buckets.
            raise MalformedCose(f"header label {label!r} is in both buckets")
    if CRIT in unprotected:
        raise MalformedCose("'crit' must be in the protected header (RFC 9052 §3.1)")
    alg = protected.get(ALG)
    if alg is not None and type(alg) is not int and type(alg) is not str:
        raise MalformedCose("'alg' must be an integer or text (RFC 9052 §3.1)")
    for bucket in (protected, unprotected):
        kid = bucket.get(KID)
        if kid is not None and type(kid) is not bytes:
            raise MalformedCose("'kid' must be a byte string (RFC 9052 §3.1)")
        content_type = bucket.get(CONTENT_TYPE)
        if content_type is not None and type(content_type) not in (int, str):
            raise MalformedCose("'content type' must be uint or text (RFC 9052 §3.1)")


def check_crit(protected: Headers, understood: frozenset[Label]) -> None:
    """Every label in 'crit' must be understood by the caller (RFC 9052 §3.1)."""
    if CRIT not in protected:
        return
    crit = protected[CRIT]
    if not isinstance(crit, list) or not crit:
        raise MalformedCose("'crit' must be a non-empty array of labels (RFC 9052 §3.1)")
    unknown = [label for label in crit if label not in understood]
    if unknown:
        raise MalformedCose(f"critical header parameters not understood: {unknown!r}")


def x5chain(protected: Headers, unprotected: Headers) -> tuple[bytes, ...]:
    """The DER certificates of ``x5chain`` (label 33), leaf first, or () when absent.

    RFC 9360 §2: a single certificate is a bstr, several are an array of bstr.
    """
    value = protected.get(X5CHAIN, unprotected.get(X5CHAIN))
    if value is None:
        return ()
    if isinstance(value, bytes):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(c, bytes) for c in value):
        return tuple(value)
    raise MalformedCose("x5chain must be a bstr or a non-empty array of bstr (RFC 9360 §2)")


def to_be_signed(
    context: bytes, protected_raw: bytes, external_aad: bytes, payload: bytes
) -> bytes:
    """``[context, body_protected, external_aad, payload]`` (RFC 9052 §4.4, §6.3), encoded.

    Built by concatenation: three byte strings behind a fixed prefix need no encoder.
    """
    return b"".join(
        (
            context,
            cbor.bstr_header(len(protected_raw)),
            protected_raw,
            cbor.bstr_header(len(external_aad)),
            external_aad,
            cbor.bstr_header(len(payload)),
            payload,
        )
    )


def resolve_payload(attached: bytes | None, detached: bytes | None, name: str) -> bytes:
    """The payload to verify: attached or detached, never both and never neither (RFC 9052 §2)."""
    if attached is None:
        if detached is None:
            raise MalformedCose(f"{name} has a detached payload and none was supplied")
        return detached
    if detached is not None:
        raise MalformedCose(f"{name} carries a payload where a detached one was expected")
    return attached
