"""A JSON view of mdoc CBOR in the spirit of CBOR diagnostic notation (RFC 8949 §8).

Byte strings are shown as ``"h'..'"``, tags as ``{"#6.N": value}``, tag-24 content decoded
in place, COSE messages as objects with their protected header decoded, integer map keys
as their decimal text. The view is for people; it is not an encoding to read back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import cbor2

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.errors import HonninError

_COSE_MEMBERS = ("deviceSignature", "deviceMac", "issuerAuth")


def _bytes(value: bytes) -> str:
    return f"h'{value.hex()}'"


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return _bytes(key)
    return str(key)


def _embedded(content: bytes) -> Any:
    try:
        return json_view(cbor.decode(content))
    except HonninError:
        # Not CBOR after all: show the bytes rather than failing the whole view.
        return _bytes(content)


def _cose(value: object) -> Any:
    array = value.value if isinstance(value, cbor2.CBORTag) else value
    if not isinstance(array, list) or len(array) != 4 or not isinstance(array[0], bytes):
        return json_view(value)
    protected, unprotected, payload, last = array
    view: dict[str, Any] = {
        "protected": _embedded(protected) if protected else {},
        "unprotected": json_view(unprotected),
        "payload": None if payload is None else _payload(payload),
        "signature_or_tag": json_view(last),
    }
    return {f"#6.{value.tag}": view} if isinstance(value, cbor2.CBORTag) else view


def _payload(payload: object) -> Any:
    if not isinstance(payload, bytes):
        return json_view(payload)
    content = cbor.unwrap_tag24(payload)
    return {"#6.24": _embedded(content)} if content is not None else _bytes(payload)


def json_view(value: Any) -> Any:
    """``value`` (as ``honnin.cbor.decode`` returns it) as JSON-ready data."""
    if isinstance(value, EncodedCbor):
        return {"#6.24": _embedded(value.content)}
    if isinstance(value, bytes):
        return _bytes(value)
    if isinstance(value, datetime):
        return {"#6.0": value.isoformat().replace("+00:00", "Z")}
    if isinstance(value, date):
        return {"#6.1004": value.isoformat()}
    if isinstance(value, cbor2.CBORTag):
        if value.tag in (17, 18):
            return _cose(value)
        return {f"#6.{value.tag}": json_view(value.value)}
    if isinstance(value, list):
        return [json_view(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _cose(v) if k in _COSE_MEMBERS else json_view(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return "NaN"
    return value


def element_json(value: Any) -> Any:
    """A verified element value as JSON: dates as ISO text, bytes as hex."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, EncodedCbor):
        return json_view(value)
    if isinstance(value, list):
        return [element_json(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): element_json(v) for k, v in value.items()}
    return json_view(value)
