"""The HTTP adapter behind the ``Fetcher`` port (CONVENTIONS 9): the one place honnin does
network I/O. Every transport failure becomes ``FetchError`` (``raise ... from exc``), with a
``reason`` a caller can act on: ``invalid_url``, ``timeout``, ``connect``, ``network``,
``too_large``, ``encoding`` or ``status``.

Requests go over kept-alive ``http.client`` connections (``_connections``) unless the caller
hands in an ``httpx.Client``, which is then used as is.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

import httpx

from honnin import __version__
from honnin.encoding import json_dumps, json_loads
from honnin.errors import FetchError
from honnin.ports import FetchedResource

from ._connections import ConnectionPool


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


def _where(url: str) -> str:
    # Messages name scheme and host only: paths and queries can carry codes and ids.
    parts = urlsplit(url)  # already parsed once by request(), so it cannot raise here
    return f"{parts.scheme}://{parts.hostname}"


class HttpxFetcher:
    """Synchronous HTTP with timeouts, a body limit enforced while streaming, http(s) only,
    no redirects followed and no content encodings accepted.

    Connections are kept alive per origin and shared safely between threads. https is
    verified against the same roots as httpx's default client. ``client``: an
    ``httpx.Client`` to send through instead (its own pool, transport and TLS settings).

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
        self._client = client
        self._pool = ConnectionPool(timeout=timeout, connect_timeout=connect_timeout or timeout)
        self._headers = {
            "accept": "*/*",
            "user-agent": user_agent,
            "accept-encoding": "identity",
        }

    def close(self) -> None:
        """Close the kept-alive connections (a client handed in is left to its owner)."""
        self._pool.close()

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
        merged = {**self._headers, **{k.lower(): v for k, v in (headers or {}).items()}}
        if self._client is not None:
            return self._send_httpx(method, url, merged, form, content, max_bytes)
        if form:
            # The same encoding as httpx: UTF-8, spaces as '+' (HTML form urlencoded).
            content = urlencode(dict(form)).encode("ascii")
            merged.setdefault("content-type", "application/x-www-form-urlencoded")
        return self._send(method, url, parts, merged, content, max_bytes)

    def _send(
        self,
        method: str,
        url: str,
        parts: SplitResult,
        headers: dict[str, str],
        content: bytes | None,
        max_bytes: int,
    ) -> HttpResponse:
        scheme, host = parts.scheme, parts.hostname or ""
        origin = (scheme, host, parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._pool.take(origin)
        try:
            try:
                self._pool.connect(conn)
            except TimeoutError as exc:
                raise FetchError(f"{_where(url)} timed out", reason="timeout") from exc
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"cannot connect to {_where(url)}", reason="connect") from exc
            try:
                conn.request(method, target, body=content, headers=headers)
            except (http.client.InvalidURL, UnicodeError, ValueError) as exc:
                raise FetchError("the URL cannot be fetched", reason="invalid_url") from exc
            response = conn.getresponse()
            answer = self._read_stdlib(url, response, max_bytes)
        except FetchError:
            conn.close()
            raise
        except TimeoutError as exc:
            conn.close()
            raise FetchError(f"{_where(url)} timed out", reason="timeout") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise FetchError(f"HTTP exchange with {_where(url)} failed", reason="network") from exc
        except BaseException:
            conn.close()
            raise
        self._pool.give_back(origin, conn)
        return answer

    @staticmethod
    def _read_stdlib(url: str, response: http.client.HTTPResponse, max_bytes: int) -> HttpResponse:
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            # Repeated fields are one comma-separated list (RFC 9110 §5.3), as httpx gives.
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        _check_head(url, headers, max_bytes)
        chunks: list[bytes] = []
        size = 0
        for chunk in _chunks(response):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(url, max_bytes)
            chunks.append(chunk)
        return HttpResponse(response.status, b"".join(chunks), headers)

    def _send_httpx(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        form: Mapping[str, str] | None,
        content: bytes | None,
        max_bytes: int,
    ) -> HttpResponse:
        assert self._client is not None
        try:
            with self._client.stream(
                method, url, headers=headers, data=dict(form) if form else None, content=content
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
        headers = {name.lower(): value for name, value in response.headers.items()}
        _check_head(url, headers, max_bytes)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(url, max_bytes)
            chunks.append(chunk)
        return HttpResponse(response.status_code, b"".join(chunks), headers)


def _check_head(url: str, headers: Mapping[str, str], max_bytes: int) -> None:
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchError(f"{_where(url)} sent a {encoding} body", reason="encoding")
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            f"{_where(url)} announced {declared} bytes; the limit is {max_bytes}",
            reason="too_large",
            limit=max_bytes,
        )


def _too_large(url: str, max_bytes: int) -> FetchError:
    # Reading stops at the limit: the rest of the body is never received.
    return FetchError(
        f"{_where(url)} sent more than {max_bytes} bytes", reason="too_large", limit=max_bytes
    )


def _chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    # read1 returns what one socket read gives (chunked transfer coding already removed).
    while chunk := response.read1(65536):
        yield chunk
    # The body was read to its end: the connection is ready for the next request.
    response.close()
