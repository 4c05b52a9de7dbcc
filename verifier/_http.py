"""HTTP plumbing of the verifier service: bounded bodies, strict forms, error answers.

Error answers follow HOSTILE-CASES G2: ``application/json`` with ``{"error": <OAuth code>}``
plus a description, ``Cache-Control: no-store``, never a stack trace, token or claim value.
A client fault is never a 5xx (G1); a store failure is 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from honnin.errors import HonninError, InvalidRequest, TooLarge
from honnin.http import oauth_error_body, oauth_error_headers

__all__ = ["NO_STORE", "error_response", "json_response", "read_body", "read_form"]

NO_STORE: Final = {"Cache-Control": "no-store"}
FORM: Final = "application/x-www-form-urlencoded"
_MAX_FIELDS: Final = 16


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response that is never cached."""
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def error_response(
    exc: HonninError, *, status: int | None = None, extra: Mapping[str, Any] | None = None
) -> Response:
    """The OAuth-style JSON error for ``exc`` (RFC 6749 §5.2 shape; G2)."""
    code = status or exc.http_status
    body: dict[str, Any] = {**oauth_error_body(exc), "code": exc.code, **(extra or {})}
    headers = dict(oauth_error_headers(exc))
    headers.pop("Content-Type", None)
    if code == 503:
        headers["Retry-After"] = "5"
    return json_response(body, code, headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with ``TooLarge`` (413) as soon as it passes ``limit`` bytes
    (HOSTILE-CASES VS-31: before any parsing or crypto)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body over {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """A strict ``application/x-www-form-urlencoded`` body (UTF-8, OpenID4VP 1.0 §8.2).

    Raises:
        TooLarge: over ``limit`` bytes.
        InvalidRequest: another content type, bad encoding, too many or repeated fields.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM:
        raise InvalidRequest(f"expected {FORM}", reason="content_type")
    body = await read_body(request, limit)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=_MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("the form body is not valid UTF-8 form encoding") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            # VS-31: a repeated vp_token / state could make two checks see different values.
            raise InvalidRequest(f"form field {name!r} is repeated", reason="duplicate_field")
        fields[name] = value
    return fields
