"""The wallet invocation link: ``openid4vp://?client_id=...&request_uri=...`` (OpenID4VP 1.0
§5.1, §5.7, §9, §13.1.2; RFC 9101 §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from honnin.errors import InvalidRequest, TooLarge
from honnin.oauth import require_https, split_link

from ._constants import OPENID4VP_SCHEME, RequestUriMethod

#: A link must fit in a QR code or URL; far larger input is refused before parsing.
MAX_LINK_LENGTH = 64 * 1024


@dataclass(frozen=True, slots=True)
class AuthorizationRequestLink:
    """What an invocation link carries.

    ``request_uri`` (with ``request_uri_method``): the request object is fetched from there.
    ``request``: a request object passed by value. Neither: an unsigned request whose
    parameters are all in ``parameters`` (pass them to ``parse_authorization_request``).
    """

    client_id: str
    request_uri: str | None = None
    request_uri_method: RequestUriMethod | None = None
    request: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


def build_authorization_request_uri(
    *,
    client_id: str,
    request_uri: str,
    request_uri_method: RequestUriMethod | None = None,
    base: str = f"{OPENID4VP_SCHEME}://",
) -> str:
    """The cross-device link for a request by reference (§5.7; JAR RFC 9101 §5.2).

    >>> build_authorization_request_uri(client_id="x509_san_dns:v.example",
    ...     request_uri="https://v.example/r/1")
    'openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv.example%2Fr%2F1'
    """
    params = {"client_id": client_id, "request_uri": request_uri}
    if request_uri_method is not None:
        params["request_uri_method"] = RequestUriMethod(request_uri_method).value
    separator = "&" if "?" in base else "?"
    return base + separator + urlencode(params, quote_via=quote, safe="")


def parse_authorization_request_uri(
    text: str, *, allow_loopback_http: bool = False
) -> AuthorizationRequestLink:
    """Parse a scanned or clicked invocation link (any scheme: ``openid4vp://``, ``haip://``
    or an https universal link).

    Raises:
        InvalidRequest: no ``client_id``; a repeated parameter; both ``request`` and
            ``request_uri``; ``request_uri`` not https (http on loopback only when
            ``allow_loopback_http``); ``request_uri_method`` not ``get``/``post``, or
            without ``request_uri`` (§5.1, §8.5 ``invalid_request_uri_method``).
        TooLarge: a link over 64 KiB.
    """
    text = text.strip()
    if len(text) > MAX_LINK_LENGTH:
        raise TooLarge("authorization request link too long", limit=MAX_LINK_LENGTH)
    parts = split_link(text, what="authorization request link")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("malformed authorization request link query") from exc
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidRequest(f"'{name}' appears more than once (RFC 6749 §3.1)")
        params[name] = value
    client_id = params.get("client_id")
    if not client_id:
        raise InvalidRequest("the link has no client_id (RFC 9101 §5)")
    request_uri = params.get("request_uri")
    request = params.get("request")
    if request_uri is not None and request is not None:
        raise InvalidRequest("request and request_uri are mutually exclusive (RFC 9101 §5)")
    method_text = params.get("request_uri_method")
    method: RequestUriMethod | None = None
    if method_text is not None:
        if request_uri is None:
            raise InvalidRequest("request_uri_method without request_uri (§5.1)")
        try:
            method = RequestUriMethod(method_text)
        except ValueError as exc:
            raise InvalidRequest(
                "request_uri_method must be 'get' or 'post' (§5.1)",
                error="invalid_request_uri_method",
            ) from exc
    if request_uri is not None:
        require_https(request_uri, what="request_uri", allow_loopback_http=allow_loopback_http)
    return AuthorizationRequestLink(client_id, request_uri, method, request, params)
