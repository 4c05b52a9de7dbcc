"""URL rules shared by the OAuth-based protocols (RFC 8414 §3, OpenID4VCI §12.2.2)."""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from honnin.errors import InvalidRequest, TooLarge


@functools.lru_cache(maxsize=64)  # ipaddress parses in Python; the same hosts come back
def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_url(url: str, *, what: str = "URL") -> SplitResult:
    """``urllib.parse.urlsplit`` for untrusted text: its ``ValueError`` (a bad IPv6 host,
    a bad port) becomes ``InvalidRequest``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises for non-numeric ports
    except ValueError as exc:
        raise InvalidRequest(f"{what} is not a valid URL") from exc
    return parts


#: What ``str.isspace`` calls whitespace (the same set), found in C rather than a loop.
_WHITESPACE = re.compile(r"\s")


def split_link(text: str, *, what: str) -> SplitResult:
    """``split_url`` for a scanned or clicked link (an offer, a request): it needs a scheme,
    and whitespace anywhere in it means it is not one link.

    Raises:
        InvalidRequest: not a valid URL, no scheme, or whitespace in it.
    """
    parts = split_url(text, what=what)
    if not parts.scheme or _WHITESPACE.search(text) is not None:
        raise InvalidRequest(f"{what} has no scheme or contains whitespace")
    return parts


def require_https(url: str, *, what: str = "URL", allow_loopback_http: bool = False) -> str:
    """Return ``url`` if it is an absolute https URL (or, when allowed, http on loopback).

    OpenID4VCI §4.1 (``credential_offer_uri``), §12.2.1 (issuer identifier), §12.2.4
    (endpoints) and OpenID4VP §5.10 all require https. Loopback http exists for tests and
    local development only and must be switched on by name.

    Raises:
        InvalidRequest: any other scheme, no host, or credentials in the URL.
    """
    parts = split_url(url, what=what)
    host = parts.hostname  # each SplitResult property parses the netloc again
    if not host or "@" in parts.netloc:  # "@" separates user info (RFC 3986 §3.2.1)
        raise InvalidRequest(f"{what} must be an absolute URL with a host and no user info")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback_http and is_loopback_host(host):
        return url
    raise InvalidRequest(f"{what} must use https", scheme=parts.scheme)


def well_known_url(identifier: str, suffix: str) -> str:
    """Insert ``/.well-known/<suffix>`` between host and path (RFC 8414 §3.1, OpenID4VCI
    §12.2.2): ``https://a.example/tenant`` → ``https://a.example/.well-known/x/tenant``."""
    parts = split_url(identifier, what="identifier")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", "", ""))


def parse_form(body: bytes | str, *, max_size: int, max_fields: int = 64) -> dict[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body strictly.

    UTF-8 only (OpenID4VP §8.2, RFC 6749 App. B), no repeated parameter (RFC 6749 §3.1:
    "Request and response parameters MUST NOT be included more than once").

    Raises:
        TooLarge: over ``max_size`` bytes or ``max_fields`` parameters.
        InvalidRequest: bad UTF-8, bad percent-encoding, or a repeated parameter.
    """
    if len(body) > max_size:
        raise TooLarge(f"form body of {len(body)} bytes exceeds {max_size}", limit=max_size)
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequest("form body is not UTF-8") from exc
    else:
        text = body
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError as exc:
        raise InvalidRequest("form parameter is not UTF-8 after percent-decoding") from exc
    except ValueError as exc:
        if "Max number of fields" in str(exc):
            raise TooLarge(f"more than {max_fields} form parameters", limit=max_fields) from exc
        raise InvalidRequest("malformed form body") from exc
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidRequest(f"form parameter {name!r} is repeated (RFC 6749 §3.1)")
        out[name] = value
    return out
