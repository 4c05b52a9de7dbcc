"""The httpx adapter behind the ``Fetcher`` port (CONVENTIONS 9): the one place honnin does
network I/O. Every httpx failure becomes ``FetchError`` (``raise ... from exc``), with a
``reason`` a caller can act on: ``invalid_url``, ``timeout``, ``connect``, ``network``,
``too_large``, ``encoding`` or ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import urlsplit

import httpx

from honnin import __version__
from honnin.encoding import json_dumps, json_loads
from honnin.errors import FetchError
from honnin.ports import FetchedResource


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete HTTP response: status, headers (lower-case names) and the body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``application/json``)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, *, max_size: int | None = None) -> Any:
        """The body as strict JSON (``honnin.encoding.json_loads``)."""
        return json_loads(self.body, max_size=max_size)

    def __repr__(self) -> str:  # bodies may hold credentials or tokens
        return f"HttpResponse(status={self.status}, bytes={len(self.body)})"


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing and sends nothing.

    A cookie set by an issuer or a verifier and sent back on the next request would tie
    that request to the earlier one: two presentations of different copies to the same
    verifier would be linkable through it (ISO/IEC 23220-1 unlinkability; DESIGN
    "Unlinkability"). No protocol here uses cookies, and RFC 6265 §5.3 lets a user agent
    ignore ``Set-Cookie`` entirely.
    """

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


class _NoCookieStore(httpx.Cookies):
    """httpx's cookie store over ``_NoCookies``, skipping the per-response work.

    ``httpx.Client`` hands every response to its store, which builds urllib request and
    response adapters before the jar can decline the cookies: about a tenth of the client's
    own time per request here, for nothing, since nothing is kept.
    """

    def __init__(self) -> None:
        super().__init__(_NoCookies())

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _CookielessClient(httpx.Client):
    """An ``httpx.Client`` whose cookie store is always ``_NoCookieStore``."""

    _no_cookies = _NoCookieStore()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("this client keeps no cookies")


def _where(url: str) -> str:
    # Messages name scheme and host only: paths and queries can carry codes and ids.
    parts = urlsplit(url)  # already parsed once by request(), so it cannot raise here
    return f"{parts.scheme}://{parts.hostname}"


class HttpxFetcher:
    """Synchronous HTTP over httpx with timeouts, a body limit enforced while streaming,
    http(s) only, no redirects followed, no content encodings accepted, and no cookies
    kept or sent (they would link one request to the next).

    Redirects are not followed because OpenID4VP §14.8 forbids it and it keeps requests on
    the host the caller checked; compressed bodies are refused so that ``max_bytes`` bounds
    what is held in memory, not what is received.

    >>> with HttpxFetcher(timeout=5) as fetcher:  # doctest: +SKIP
    ...     fetcher.fetch("https://issuer.example/.well-known/jwt-vc-issuer", max_bytes=65536)
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        client: httpx.Client | None = None,
        user_agent: str = f"honnin/{__version__}",
    ) -> None:
        self._own_client = client is None
        self._client = client or _CookielessClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout or timeout),
            follow_redirects=False,
            trust_env=False,
        )
        self._headers = {"user-agent": user_agent, "accept-encoding": "identity"}

    def close(self) -> None:
        """Close the underlying client (when this fetcher created it)."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> HttpxFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the Fetcher port ---------------------------------------------------------------------

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        """GET ``url``; any status but 2xx is a ``FetchError`` (``reason="status"``).

        Raises:
            FetchError: see the module docstring for the reasons.
        """
        headers = {"accept": accept} if accept else None
        response = self.request("GET", url, headers=headers, max_bytes=max_bytes)
        if not 200 <= response.status < 300:
            raise FetchError(
                f"{_where(url)} answered HTTP {response.status}",
                reason="status",
                status=response.status,
            )
        return FetchedResource(response.body, response.headers.get("content-type", ""))

    # -- requests whose error answers the caller reads --------------------------------------

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
    ) -> HttpResponse:
        """POST an ``application/x-www-form-urlencoded`` body (UTF-8); any status returned."""
        return self.request("POST", url, headers=headers, form=form, max_bytes=max_bytes)

    def post_json(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
    ) -> HttpResponse:
        """POST an ``application/json`` body; any status returned."""
        content = json_dumps(dict(body)).encode()
        merged = {"content-type": "application/json", **(headers or {})}
        return self.request("POST", url, headers=merged, content=content, max_bytes=max_bytes)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int,
    ) -> HttpResponse:
        """Send a request and read the whole response, at most ``max_bytes`` of body.

        Non-2xx answers are returned, not raised: OAuth endpoints put their errors there.

        Raises:
            FetchError: a URL that is not http(s), a transport failure, a timeout, a body
                over ``max_bytes``, or a content encoding.
        """
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - parsing the port raises for non-numeric ports
        except ValueError as exc:
            raise FetchError("not a valid URL", reason="invalid_url") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("only absolute http(s) URLs are fetched", reason="invalid_url")
        merged = {**self._headers, **(headers or {})}
        try:
            with self._client.stream(
                method, url, headers=merged, data=dict(form) if form else None, content=content
            ) as response:
                return self._read(url, response, max_bytes)
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError(f"{_where(url)} timed out", reason="timeout") from exc
        except httpx.ConnectError as exc:
            raise FetchError(f"cannot connect to {_where(url)}", reason="connect") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError("the URL cannot be fetched", reason="invalid_url") from exc
        except (httpx.HTTPError, httpx.StreamError) as exc:
            raise FetchError(f"HTTP exchange with {_where(url)} failed", reason="network") from exc

    @staticmethod
    def _read(url: str, response: httpx.Response, max_bytes: int) -> HttpResponse:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(f"{_where(url)} sent a {encoding} body", reason="encoding")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(
                f"{_where(url)} announced {declared} bytes; the limit is {max_bytes}",
                reason="too_large",
                limit=max_bytes,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > max_bytes:
                # Stop reading at the limit: the rest of the body is never received.
                raise FetchError(
                    f"{_where(url)} sent more than {max_bytes} bytes",
                    reason="too_large",
                    limit=max_bytes,
                )
            chunks.append(chunk)
        headers = {name.lower(): value for name, value in response.headers.items()}
        return HttpResponse(response.status_code, b"".join(chunks), headers)
