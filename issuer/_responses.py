"""JSON and OAuth error responses of the issuer service.

Error bodies follow RFC 6749 §5.2 / OpenID4VCI §8.3.1: ``error`` and an
``error_description`` restricted to ASCII %x20-21 / %x23-5B / %x5D-7E. A 401 carries
``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750 §3).
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.responses import JSONResponse

from honnin.errors import HonninError

__all__ = ["error_response", "json_response"]

_NOT_ALLOWED: Final = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_MAX_DESCRIPTION: Final = 300


def error_description(message: str) -> str:
    """``message`` reduced to the characters an ``error_description`` may hold."""
    return _NOT_ALLOWED.sub("?", message)[:_MAX_DESCRIPTION]


def json_response(
    document: dict[str, Any], *, status: int = 200, cache: str = "no-store"
) -> JSONResponse:
    """A JSON response with ``Cache-Control`` (``no-store`` unless told otherwise)."""
    return JSONResponse(document, status_code=status, headers={"Cache-Control": cache})


def error_response(exc: HonninError) -> JSONResponse:
    """The OAuth-style answer for ``exc`` (its ``oauth_error`` and ``http_status``)."""
    description = error_description(exc.message)
    body: dict[str, Any] = {"error": exc.oauth_error, "error_description": description}
    attempts = exc.fields.get("attempts_left")
    if isinstance(attempts, int):
        body["attempts_left"] = attempts
    response = json_response(body, status=exc.http_status)
    if exc.http_status == 401:
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="{exc.oauth_error}", error_description="{description}"'
        )
    return response
