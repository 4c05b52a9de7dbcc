"""The httpx adapter behind the ``Fetcher`` port (CONVENTIONS 9): the one place honnin does
network I/O. Every httpx failure becomes ``FetchError`` (``raise ... from exc``), with a
``reason`` a caller can act on: ``invalid_url``, ``timeout``, ``connect``, ``network``,
``invalid_header``, ``too_large``, ``encoding`` or ``status``.

Requests go through httpx's own transport layer, ``httpcore``, with httpx's URL handling and
TLS defaults: ``httpx.Client``'s further layers (URL merging, auth, redirects, cookies, event
hooks) do nothing this fetcher needs, and cost a third of a request's instructions on
loopback (``python -m bench.instructions --requests``). A caller's own ``httpx.Client`` (a
proxy, client certificates) is used as given instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

import httpcore
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
    what is held in memory, not what is received. No cookie jar exists: a cookie set by an
    issuer or a verifier and sent back would make two presentations of different copies
    linkable (ISO/IEC 23220-1 unlinkability; RFC 6265 §5.3 lets a user agent ignore
    ``Set-Cookie``). With ``client``, requests go through that client: its proxy,
    certificates and cookie jar apply, and this fetcher's timeouts, body limit and
    refusals still hold.

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
        self._pool: httpcore.ConnectionPool | None = None
        if client is None:
            # What httpx.Client(trust_env=False) would give its transport: the same CA
            # bundle (certifi), HTTP/1.1, and httpx's default pool limits.
            self._pool = httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(trust_env=False),
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=5.0,
            )
        connect = connect_timeout or timeout
        self._timeout = httpx.Timeout(timeout, connect=connect)
        self._timeouts = self._timeout.as_dict()  # httpcore's form of the same timeouts
        self._headers = {"user-agent": user_agent, "accept-encoding": "identity", "accept": "*/*"}
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has run: no request is sent after it."""
        return self._closed

    def close(self) -> None:
        """Close the connections this fetcher opened (a caller's ``client`` stays open)."""
        self._closed = True
        if self._pool is not None:
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
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send a request and read the whole response, at most ``max_bytes`` of body.
        ``timeout`` replaces the fetcher's read timeout for this request (a long poll).

        Non-2xx answers are returned, not raised: OAuth endpoints put their errors there.

        Raises:
            FetchError: a URL that is not http(s), a transport failure, a timeout, a body
                over ``max_bytes``, or a content encoding.
        """
        try:
            parts = urlsplit(url)
            port = parts.port  # parsing the port raises for non-numeric ports
        except ValueError as exc:
            raise FetchError("not a valid URL", reason="invalid_url") from exc
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError("only absolute http(s) URLs are fetched", reason="invalid_url")
        if self._closed:
            # httpcore would open a new connection, left for no one to close.
            raise RuntimeError("the fetcher is closed")
        merged = dict(self._headers)
        merged.update((name.lower(), value) for name, value in (headers or {}).items())
        body = content
        if form:
            body = urlencode(dict(form)).encode("ascii")
            merged["content-type"] = "application/x-www-form-urlencoded"
        try:
            encoded = [
                (name.encode("ascii"), value.encode("ascii")) for name, value in merged.items()
            ]
        except UnicodeEncodeError as exc:
            # A header value from an answer (an access token) that is not ASCII: RFC 9110 §5.5
            # allows only visible ASCII in what this fetcher sends.
            raise FetchError("a request header is not ASCII", reason="invalid_header") from exc
        limits, core_limits = self._timeout, self._timeouts
        if timeout is not None:
            base = self._timeout
            limits = httpx.Timeout(
                connect=base.connect, read=timeout, write=base.write, pool=base.pool
            )
            core_limits = limits.as_dict()
        try:
            if self._pool is None:
                assert self._client is not None
                return self._through_client(
                    self._client, limits, method, url, merged, body, max_bytes
                )
            target, authority = _core_url(url, parts, host, port)
            return self._through_pool(
                self._pool, method, url, target, authority, encoded, body, max_bytes, core_limits
            )
        except FetchError:
            raise
        except (httpx.TimeoutException, httpcore.TimeoutException) as exc:
            raise FetchError(f"{_where(url)} timed out", reason="timeout") from exc
        except (httpx.ConnectError, httpcore.ConnectError) as exc:
            raise FetchError(f"cannot connect to {_where(url)}", reason="connect") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol) as exc:
            raise FetchError("the URL cannot be fetched", reason="invalid_url") from exc
        except UnicodeError as exc:
            # The headers are ASCII by now: a host label IDNA cannot encode (over 63
            # characters, empty) or a path character with no UTF-8 form (a lone surrogate).
            raise FetchError("the URL cannot be encoded", reason="invalid_url") from exc
        except (
            httpx.HTTPError,
            httpx.StreamError,
            httpcore.NetworkError,
            httpcore.ProtocolError,
        ) as exc:
            raise FetchError(f"HTTP exchange with {_where(url)} failed", reason="network") from exc

    def _through_pool(
        self,
        pool: httpcore.ConnectionPool,
        method: str,
        url: str,
        target: httpcore.URL,
        authority: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        max_bytes: int,
        limits: dict[str, float | None],
    ) -> HttpResponse:
        # httpcore sends no header it is not given: Host (RFC 9110 §7.2) and Content-Length
        # (RFC 9112 §6.2, a POST's body) are added here, as httpx.Client adds them.
        sent = [(b"host", authority)]
        sent += [(name, value) for name, value in headers if name not in _SET_HERE]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            sent.append((b"content-length", str(len(body or b"")).encode("ascii")))
        with pool.stream(
            method,
            target,
            headers=sent,
            content=body,
            extensions={"timeout": limits},
        ) as answer:
            received: dict[str, str] = {}
            for raw_name, raw_value in answer.headers:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                # RFC 9110 §5.3: repeated fields combine into one comma-separated value.
                received[name] = f"{received[name]}, {value}" if name in received else value
            chunks = answer.iter_stream()
            assert not isinstance(chunks, bytes)
            return _collect(url, answer.status, received, chunks, max_bytes)

    @staticmethod
    def _through_client(
        client: httpx.Client,
        timeout: httpx.Timeout,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        max_bytes: int,
    ) -> HttpResponse:
        with client.stream(
            method, url, headers=headers, content=body, timeout=timeout, follow_redirects=False
        ) as answer:
            received = {name.lower(): value for name, value in answer.headers.items()}
            return _collect(url, answer.status_code, received, answer.iter_raw(), max_bytes)


# Headers the fetcher derives from the request itself; a caller's copy would be a second one.
_SET_HERE = frozenset({b"host", b"content-length", b"transfer-encoding"})

# RFC 3986 §2.2-2.3: reserved and unreserved characters, and "%" of a percent-encoding.
_PLAIN_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _core_url(
    url: str, parts: SplitResult, host: str, port: int | None
) -> tuple[httpcore.URL, bytes]:
    """httpcore's URL for ``url`` (split and checked by ``request``) and the Host header's
    value."""
    if _PLAIN_URL.fullmatch(url) and "@" not in parts.netloc:
        # Nothing to encode: the parts are sent as written (the common case, and cheap).
        path = parts.path or "/"
        target = f"{path}?{parts.query}" if parts.query else path
        core = httpcore.URL(
            scheme=parts.scheme.encode("ascii"),
            host=host.encode("ascii"),
            port=port,
            target=target.encode("ascii"),
        )
        return core, parts.netloc.encode("ascii")
    # Anything else as httpx.Client sends it: IDNA host, percent-encoded path and query.
    full = httpx.URL(url)
    core = httpcore.URL(
        scheme=full.raw_scheme, host=full.raw_host, port=full.port, target=full.raw_path
    )
    return core, full.netloc


def _collect(
    url: str, status: int, headers: dict[str, str], chunks: Iterator[bytes], max_bytes: int
) -> HttpResponse:
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
    received: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            # Stop reading at the limit: the rest of the body is never received.
            raise FetchError(
                f"{_where(url)} sent more than {max_bytes} bytes",
                reason="too_large",
                limit=max_bytes,
            )
        received.append(chunk)
    return HttpResponse(status, b"".join(received), headers)
