"""JSON and OAuth error responses of the issuer service.

Error bodies and headers come from ``honnin.http`` (RFC 6749 §5.2 / OpenID4VCI §8.3.1 body,
``Cache-Control: no-store``, ``WWW-Authenticate`` on 401 per RFC 6750 §3); the issuer adds
``attempts_left`` to a wrong ``tx_code`` answer so the wallet can warn the person.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from honnin.errors import HonninError
from honnin.http import oauth_error_body, oauth_error_headers

__all__ = ["error_response", "json_response"]


def json_response(
    document: dict[str, Any], *, status: int = 200, cache: str = "no-store"
) -> JSONResponse:
    """A JSON response with ``Cache-Control`` (``no-store`` unless told otherwise)."""
    return JSONResponse(document, status_code=status, headers={"Cache-Control": cache})


def error_response(exc: HonninError) -> JSONResponse:
    """The OAuth-style answer for ``exc`` (its ``oauth_error`` and ``http_status``)."""
    body: dict[str, Any] = dict(oauth_error_body(exc))
    attempts = exc.fields.get("attempts_left")
    if isinstance(attempts, int):
        body["attempts_left"] = attempts
    headers = oauth_error_headers(exc)
    headers.pop("Content-Type", None)  # JSONResponse sets it
    if exc.http_status == 503 and "Retry-After" not in headers:
        headers["Retry-After"] = "5"  # HOSTILE-CASES IS-42: a store outage is temporary
    return JSONResponse(body, status_code=exc.http_status, headers=headers)
