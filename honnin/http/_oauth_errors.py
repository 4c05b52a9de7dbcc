"""OAuth error responses in both directions (RFC 6749 §5.2, RFC 6750 §3, OpenID4VCI §8.3.1,
OpenID4VP §8.5): a ``HonninError`` to a JSON body, and a received body back to the class."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from honnin import errors
from honnin.encoding import json_loads
from honnin.errors import (
    FetchError,
    HonninError,
    MalformedInput,
    NotFound,
    ProtocolError,
    RateLimited,
)

#: RFC 6749 §5.2 / OpenID4VCI §8.3.1.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
_NOT_ALLOWED = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_MAX_DESCRIPTION = 300
_MAX_ERROR_BODY = 64 * 1024


def _canonical_classes() -> dict[str, type[HonninError]]:
    # The class that *is* an OAuth error names its own code (InvalidGrant: invalid_grant);
    # classes that merely answer with one (NotFound → invalid_request) are not reverse
    # targets. New subclasses in honnin.errors are picked up automatically.
    table: dict[str, type[HonninError]] = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, HonninError) and cls.code == cls.oauth_error:
            table.setdefault(cls.oauth_error, cls)
    return table


_BY_CODE = _canonical_classes()


def _describe(text: str) -> str:
    return _NOT_ALLOWED.sub("?", text)[:_MAX_DESCRIPTION]


def oauth_error_body(exc: HonninError) -> dict[str, str]:
    """``{"error": ..., "error_description": ...}`` for ``exc`` (RFC 6749 §5.2).

    The description is the error's message, reduced to the ASCII subset the specs allow.
    Messages never carry secrets or claim values (``honnin.errors``), so nothing else is
    filtered. Send it with ``oauth_error_headers`` and ``exc.http_status``.
    """
    return {"error": exc.oauth_error, "error_description": _describe(exc.message)}


_DPOP_ERRORS = frozenset({"invalid_dpop_proof", "use_dpop_nonce"})


def oauth_error_headers(exc: HonninError) -> dict[str, str]:
    """Headers for an error response: JSON, never cached (OpenID4VCI §7.2, HOSTILE-CASES
    G2), and ``WWW-Authenticate`` for 401s (RFC 6750 §3): a ``DPoP`` challenge with the
    accepted algorithms for DPoP errors and DPoP-bound tokens (RFC 9449 §7.1). A
    ``use_dpop_nonce`` answer carries the nonce to use in ``DPoP-Nonce`` (RFC 9449 §8, §9).
    """
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if exc.http_status == 401:
        description = _describe(exc.message)
        if exc.oauth_error in _DPOP_ERRORS or exc.fields.get("dpop") is True:
            headers["WWW-Authenticate"] = (
                f'DPoP error="{exc.oauth_error}", error_description="{description}", algs="ES256"'
            )
        else:
            headers["WWW-Authenticate"] = (
                f'Bearer error="{exc.oauth_error}", error_description="{description}"'
            )
    retry_after = exc.fields.get("retry_after")
    if type(retry_after) is int and retry_after >= 0:
        headers["Retry-After"] = str(retry_after)  # RFC 9110 §10.2.3, with 429 and 503
    nonce = exc.fields.get("dpop_nonce")
    if isinstance(nonce, str) and nonce.isascii() and nonce.isprintable():
        headers["DPoP-Nonce"] = nonce
    return headers


def error_from_oauth_response(
    status: int, body: bytes | str | Mapping[str, Any] | None
) -> HonninError:
    """The ``HonninError`` for an error answer from an OAuth / OpenID4VC endpoint.

    A known ``error`` code maps to its class (``invalid_grant`` → ``InvalidGrant``,
    ``invalid_proof`` → ``InvalidProof``, ...); an unknown one to ``ProtocolError``. The
    wire code, description and status are in ``fields`` (``error``, ``error_description``,
    ``status``). Without an OAuth error body: 404 → ``NotFound``, 5xx → ``FetchError``,
    anything else → ``ProtocolError``.
    """
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json_loads(body, max_size=_MAX_ERROR_BODY)
        except MalformedInput:
            data = None
    code = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(code, str) and code:
        raw_description = data.get("error_description") if isinstance(data, Mapping) else None
        description = _describe(raw_description) if isinstance(raw_description, str) else None
        # RFC 6585 §4: a 429 is a rate limit whatever error code the body names.
        cls = RateLimited if status == 429 else _BY_CODE.get(code, ProtocolError)
        message = f"{code}: {description}" if description else f"{code} (HTTP {status})"
        return cls(message, error=code, error_description=description, status=status)
    if status == 404:
        return NotFound("HTTP 404 without an OAuth error body", status=status)
    if status == 429:
        return RateLimited("HTTP 429: too many requests", status=status)
    if status >= 500:
        return FetchError(f"server error HTTP {status}", reason="status", status=status)
    return ProtocolError(f"HTTP {status} without an OAuth error body", status=status)
