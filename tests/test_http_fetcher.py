"""``HttpxFetcher`` against a real uvicorn server on 127.0.0.1, and the OAuth error helpers."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from test_x509_support import self_signed

import honnin.http
from honnin.errors import (
    FetchError,
    HonninError,
    InvalidGrant,
    InvalidNonce,
    InvalidNotificationRequest,
    InvalidProof,
    InvalidRequest,
    InvalidToken,
    NotFound,
    ProtocolError,
    TooLarge,
)
from honnin.http import (
    HttpxFetcher,
    error_from_oauth_response,
    oauth_error_body,
    oauth_error_headers,
)
from honnin.ports import Fetcher

# -- the test server ----------------------------------------------------------------------------


async def _json(request: Request) -> Response:
    return JSONResponse({"ok": True, "accept": request.headers.get("accept")})


async def _sized(request: Request) -> Response:
    return Response(b"x" * int(request.query_params["n"]), media_type="application/octet-stream")


async def _endless(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4096):  # 64 MiB if read to the end; the fetcher stops far earlier
            yield b"y" * 16384

    return StreamingResponse(chunks(), media_type="application/octet-stream")


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    body = {"error": "invalid_grant", "error_description": "the pre-authorized code was used"}
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


async def _redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"Location": "/json"})


async def _slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return JSONResponse({})


async def _gzip(request: Request) -> Response:
    return Response(gzip.compress(b"{}" * 1000), headers={"Content-Encoding": "gzip"})


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "content_type": request.headers.get("content-type"),
            "body": body.decode(),
            "ua": request.headers.get("user-agent"),
            "length": request.headers.get("content-length"),
        },
        status_code=400,
    )


async def _headers(request: Request) -> Response:
    answer = JSONResponse(dict(request.headers))
    answer.headers.append("X-Repeated", "one")
    answer.headers.append("X-Repeated", "two")
    return answer


async def _path(request: Request) -> Response:
    return JSONResponse(
        {
            "raw_path": request.scope["raw_path"].decode("ascii"),
            "query": request.scope["query_string"].decode("ascii"),
        }
    )


async def _cookie(request: Request) -> Response:
    answer = JSONResponse({"cookie": request.headers.get("cookie")})
    answer.set_cookie("session", "tracking-id-0123456789", path="/")
    return answer


def _app() -> Starlette:
    return Starlette(
        routes=[
            Route("/cookie", _cookie),
            Route("/json", _json),
            Route("/headers", _headers),
            Route("/path/{rest:path}", _path),
            Route("/sized", _sized),
            Route("/endless", _endless),
            Route("/status/{code}", _status),
            Route("/redirect", _redirect),
            Route("/slow", _slow),
            Route("/gzip", _gzip),
            Route("/echo", _echo, methods=["POST"]),
        ]
    )


@contextlib.contextmanager
def _serving(**tls: str) -> Iterator[int]:
    """The test app under uvicorn on 127.0.0.1 (with ``tls``: uvicorn's ssl_* options)."""
    config = uvicorn.Config(
        _app(), host="127.0.0.1", port=0, log_level="error", lifespan="off", ws="none", **tls
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with _serving() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An https server whose certificate (for 127.0.0.1) no public CA signed, and its PEM."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed(
        key,
        "honnin test server",
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.BasicConstraints(ca=True, path_length=None), True),
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with _serving(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as port:
        yield f"https://127.0.0.1:{port}", cert_file


@pytest.fixture(params=["own connections", "a caller's httpx.Client"])
def fetcher(request: pytest.FixtureRequest) -> Iterator[HttpxFetcher]:
    # Both ways a fetcher sends requests: its own httpcore pool, and a client it is given.
    if request.param == "own connections":
        with HttpxFetcher(timeout=1.0) as f:
            yield f
        return
    with httpx.Client() as client, HttpxFetcher(timeout=1.0, client=client) as f:
        yield f


def _reason(exc: pytest.ExceptionInfo[FetchError]) -> str:
    return str(exc.value.reason)  # type: ignore[attr-defined]


# -- fetcher -------------------------------------------------------------------------------------


def test_public_api_is_pinned() -> None:
    assert honnin.http.__all__ == [
        "HttpResponse",
        "HttpxFetcher",
        "RateLimiter",
        "error_from_oauth_response",
        "oauth_error_body",
        "oauth_error_headers",
    ]


def test_implements_the_fetcher_port(fetcher: HttpxFetcher) -> None:
    assert isinstance(fetcher, Fetcher)


def test_fetch_json(fetcher: HttpxFetcher, base_url: str) -> None:
    resource = fetcher.fetch(f"{base_url}/json", accept="application/json", max_bytes=1024)
    assert json.loads(resource.body) == {"ok": True, "accept": "application/json"}
    assert resource.content_type == "application/json"


def test_body_at_the_limit_is_accepted(fetcher: HttpxFetcher, base_url: str) -> None:
    assert len(fetcher.fetch(f"{base_url}/sized?n=4096", max_bytes=4096).body) == 4096


def test_oversize_body_with_content_length(fetcher: HttpxFetcher, base_url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"{base_url}/sized?n=4097", max_bytes=4096)
    assert _reason(info) == "too_large" and info.value.limit == 4096  # type: ignore[attr-defined]


def test_oversize_streamed_body_is_cut_off(fetcher: HttpxFetcher, base_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"{base_url}/endless", max_bytes=100_000)
    assert _reason(info) == "too_large"
    assert time.monotonic() - started < 5  # stopped at the limit, not after 64 MiB


@pytest.mark.parametrize("code", [404, 500, 400])
def test_non_2xx_is_a_fetch_error_with_the_status(
    fetcher: HttpxFetcher, base_url: str, code: int
) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"{base_url}/status/{code}", max_bytes=1024)
    assert _reason(info) == "status" and info.value.status == code  # type: ignore[attr-defined]


def test_redirects_are_not_followed(fetcher: HttpxFetcher, base_url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"{base_url}/redirect", max_bytes=1024)
    assert info.value.status == 302  # type: ignore[attr-defined]
    response = fetcher.request("GET", f"{base_url}/redirect", max_bytes=1024)
    assert response.status == 302 and response.headers["location"] == "/json"


def test_timeout(base_url: str) -> None:
    with HttpxFetcher(timeout=0.3) as quick, pytest.raises(FetchError) as info:
        quick.fetch(f"{base_url}/slow", max_bytes=1024)
    assert _reason(info) == "timeout"
    assert isinstance(info.value.__cause__, Exception)  # raised from the httpx error


def test_a_request_can_wait_longer_than_the_fetchers_read_timeout(base_url: str) -> None:
    # A long poll (the verifier service's result): this request's read timeout only, through
    # the fetcher's own pool and through a caller's client.
    with httpx.Client() as client:
        for quick in (HttpxFetcher(timeout=0.3), HttpxFetcher(timeout=0.3, client=client)):
            with quick:
                answer = quick.request("GET", f"{base_url}/slow", max_bytes=1024, timeout=5.0)
                assert answer.status == 200
                with pytest.raises(FetchError) as info:
                    quick.request("GET", f"{base_url}/slow", max_bytes=1024)
                assert _reason(info) == "timeout"


def test_compressed_bodies_are_refused(fetcher: HttpxFetcher, base_url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"{base_url}/gzip", max_bytes=1_000_000)
    assert _reason(info) == "encoding"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_connection_refused(fetcher: HttpxFetcher) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"http://127.0.0.1:{_free_port()}/x", max_bytes=1024)
    assert _reason(info) == "connect"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://a",
        "/relative",
        "http://",
        "javascript:alert(1)",
        "http://[::1",
        "http://a:99999/x",
        "http://" + "a" * 300 + ".example/x",  # a host label IDNA cannot encode
        "http://h.example/\udc80",  # a lone surrogate has no UTF-8 form
    ],
)
def test_only_http_urls(fetcher: HttpxFetcher, url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, max_bytes=1024)
    assert _reason(info) == "invalid_url"


def test_post_form_and_json_return_error_answers(fetcher: HttpxFetcher, base_url: str) -> None:
    response = fetcher.post_form(
        f"{base_url}/echo", {"grant_type": "x", "tx_code": "日本"}, max_bytes=4096
    )
    echoed = response.json()
    assert response.status == 400 and echoed["content_type"] == "application/x-www-form-urlencoded"
    assert echoed["body"] == "grant_type=x&tx_code=%E6%97%A5%E6%9C%AC"
    assert echoed["ua"].startswith("honnin/")
    response = fetcher.post_json(f"{base_url}/echo", {"a": "ü"}, max_bytes=4096)
    assert response.json()["body"] == '{"a":"ü"}' and response.content_type == "application/json"
    assert "ü" not in repr(response)


# -- OAuth error helpers -------------------------------------------------------------------------


def test_error_body_and_headers() -> None:
    error = InvalidProof('key proof rejected: "typ" \\ wrong — 署名', reason="typ")
    assert oauth_error_body(error) == {
        "error": "invalid_proof",
        "error_description": "key proof rejected: ?typ? ? wrong ? ??",
    }
    assert oauth_error_headers(error) == {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
    }
    headers = oauth_error_headers(InvalidToken("expired"))
    assert (
        headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="expired"'
    )


def test_every_library_error_has_an_oauth_body() -> None:
    assert oauth_error_body(TooLarge("big")) == {
        "error": "invalid_request",
        "error_description": "big",
    }
    assert oauth_error_body(NotFound("no such offer"))["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"error": "invalid_grant"}, InvalidGrant),
        ('{"error": "invalid_nonce", "error_description": "fetch a new c_nonce"}', InvalidNonce),
        (b'{"error": "invalid_request"}', InvalidRequest),
        ({"error": "invalid_notification_request"}, InvalidNotificationRequest),
        ({"error": "invalid_token"}, InvalidToken),
        ({"error": "unknown_credential_identifier"}, ProtocolError),
    ],
)
def test_wire_errors_map_back_to_their_class(body: object, cls: type[HonninError]) -> None:
    error = error_from_oauth_response(400, body)  # type: ignore[arg-type]
    assert type(error) is cls and error.status == 400  # type: ignore[attr-defined]


def test_round_trip_through_the_wire() -> None:
    for original in (InvalidGrant("tx_code wrong"), InvalidProof("bad"), InvalidNonce("used")):
        back = error_from_oauth_response(
            original.http_status, json.dumps(oauth_error_body(original))
        )
        assert type(back) is type(original) and back.error_description == original.message  # type: ignore[attr-defined]


def test_unknown_code_keeps_the_code() -> None:
    error = error_from_oauth_response(400, {"error": "vp_formats_not_supported"})
    assert type(error) is ProtocolError and error.error == "vp_formats_not_supported"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (404, b"<html>not found</html>", NotFound),
        (500, b"Internal Server Error", FetchError),
        (503, None, FetchError),
        (400, b"{not json", ProtocolError),
        (400, b'{"error": 5}', ProtocolError),
        (400, b"[]", ProtocolError),
        (401, b'{"error":"a","error":"b"}', ProtocolError),
    ],
)
def test_answers_without_an_oauth_error(
    status: int, body: bytes | None, cls: type[HonninError]
) -> None:
    assert type(error_from_oauth_response(status, body)) is cls


def test_received_descriptions_are_sanitised(fetcher: HttpxFetcher, base_url: str) -> None:
    response = fetcher.request("GET", f"{base_url}/status/400", max_bytes=1024)
    error = error_from_oauth_response(response.status, response.body)
    assert (
        isinstance(error, InvalidGrant)
        and error.error_description == "the pre-authorized code was used"
    )  # type: ignore[attr-defined]
    weird = error_from_oauth_response(
        400, {"error": "invalid_grant", "error_description": 'a"\\\n' + "x" * 1000}
    )
    assert weird.error_description == "a???" + "x" * 296  # type: ignore[attr-defined]


def test_cookies_are_neither_kept_nor_sent(base_url: str) -> None:
    # A cookie would link a wallet's requests to one another (unlinkability).
    with HttpxFetcher(timeout=1.0) as fetcher:
        first = fetcher.request("GET", f"{base_url}/cookie", max_bytes=1024)
        assert "tracking-id" in first.headers["set-cookie"]
        second = fetcher.request("GET", f"{base_url}/cookie", max_bytes=1024)
    assert second.json() == {"cookie": None}


def test_nothing_is_sent_after_close(base_url: str) -> None:
    fetcher = HttpxFetcher(timeout=1.0)
    assert fetcher.request("GET", f"{base_url}/json", max_bytes=1024).status == 200
    fetcher.close()
    assert fetcher.closed
    with pytest.raises(RuntimeError, match="closed"):
        fetcher.request("GET", f"{base_url}/json", max_bytes=1024)


def test_what_is_sent(fetcher: HttpxFetcher, base_url: str) -> None:
    # Host with the port (RFC 9110 §7.2), identity only, the caller's header names in any case.
    answer = fetcher.request(
        "GET", f"{base_url}/headers", headers={"Authorization": "Bearer abc"}, max_bytes=4096
    )
    seen = answer.json()
    assert seen["host"] == base_url.removeprefix("http://")
    assert seen["accept-encoding"] == "identity" and seen["authorization"] == "Bearer abc"
    assert seen["user-agent"].startswith("honnin/") and "cookie" not in seen
    # Repeated answer fields arrive combined (RFC 9110 §5.3).
    assert answer.headers["x-repeated"] == "one, two"


@pytest.mark.parametrize(
    ("written", "raw_path", "query"),
    [
        ("/path/plain-ASCII_~.%41?a=1&b=%20#fragment", "/path/plain-ASCII_~.%41", "a=1&b=%20"),
        ("/path/a b/ü?q=日本", "/path/a%20b/%C3%BC", "q=%E6%97%A5%E6%9C%AC"),
    ],
)
def test_the_target_is_sent_percent_encoded(
    fetcher: HttpxFetcher, base_url: str, written: str, raw_path: str, query: str
) -> None:
    # RFC 3986 §2.1: what is not plain ASCII goes percent-encoded; a fragment is not sent.
    seen = fetcher.request("GET", f"{base_url}{written}", max_bytes=1024).json()
    assert seen == {"raw_path": raw_path, "query": query}


def test_empty_post_says_so(fetcher: HttpxFetcher, base_url: str) -> None:
    echoed = fetcher.request("POST", f"{base_url}/echo", max_bytes=4096).json()
    assert echoed["body"] == "" and echoed["length"] == "0"


def test_header_value_outside_ascii_is_refused(fetcher: HttpxFetcher, base_url: str) -> None:
    # An access token is the issuer's string; one outside ASCII cannot go in a header.
    with pytest.raises(FetchError) as info:
        fetcher.request(
            "GET", f"{base_url}/json", headers={"authorization": "Bearer tökén"}, max_bytes=1024
        )
    assert _reason(info) == "invalid_header"


def test_a_header_value_with_a_line_break_is_not_sent(fetcher: HttpxFetcher, base_url: str) -> None:
    # An access token with CR LF must not add a header of its own (RFC 9110 §5.5).
    with pytest.raises(FetchError) as info:
        fetcher.request(
            "GET",
            f"{base_url}/headers",
            headers={"authorization": "Bearer abc\r\nX-Injected: 1"},
            max_bytes=1024,
        )
    assert _reason(info) == "network"


def test_a_callers_host_or_length_header_is_not_sent_twice(base_url: str) -> None:
    with HttpxFetcher(timeout=1.0) as fetcher:
        seen = fetcher.request(
            "GET", f"{base_url}/headers", headers={"Host": "elsewhere.example"}, max_bytes=4096
        ).json()
        assert seen["host"] == base_url.removeprefix("http://")
        echoed = fetcher.request(
            "POST", f"{base_url}/echo", headers={"Content-Length": "99"}, content=b"ab",
            max_bytes=4096,
        ).json()  # fmt: skip
    assert echoed["body"] == "ab" and echoed["length"] == "2"


def test_https_to_a_certificate_no_trusted_ca_signed_is_refused(
    tls_server: tuple[str, Path],
) -> None:
    # TLS server authentication is on (the CA bundle httpx uses): a man in the middle with
    # a certificate of its own gets no request.
    url, _ = tls_server
    with HttpxFetcher(timeout=2.0) as fetcher, pytest.raises(FetchError) as info:
        fetcher.fetch(f"{url}/json", max_bytes=1024)
    assert _reason(info) == "connect"
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value.__cause__)


def test_https_on_own_connections_checks_the_host_name(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the test certificate trusted, the fetcher's own connections speak TLS, and a
    # certificate for 127.0.0.1 does not pass for "localhost" (RFC 6125 host name check).
    url, certificate = tls_server
    trusting = ssl.create_default_context(cafile=str(certificate))
    monkeypatch.setattr(httpx, "create_ssl_context", lambda **_: trusting)
    with HttpxFetcher(timeout=2.0) as fetcher:
        assert fetcher.fetch(f"{url}/json", max_bytes=1024).content_type == "application/json"
        with pytest.raises(FetchError) as info:
            fetcher.fetch(f"{url.replace('127.0.0.1', 'localhost')}/json", max_bytes=1024)
    assert _reason(info) == "connect"
    assert "match" in str(info.value.__cause__) or "mismatch" in str(info.value.__cause__)


def test_https_through_a_client_that_trusts_the_server(tls_server: tuple[str, Path]) -> None:
    url, certificate = tls_server
    trusting = ssl.create_default_context(cafile=str(certificate))
    with httpx.Client(verify=trusting) as client, HttpxFetcher(client=client) as fetcher:
        resource = fetcher.fetch(f"{url}/json", accept="application/json", max_bytes=1024)
    assert json.loads(resource.body) == {"ok": True, "accept": "application/json"}


def test_a_given_client_does_not_follow_redirects_or_wait_longer(base_url: str) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        with HttpxFetcher(timeout=0.3, client=client) as fetcher:
            assert fetcher.request("GET", f"{base_url}/redirect", max_bytes=1024).status == 302
            with pytest.raises(FetchError) as info:
                fetcher.fetch(f"{base_url}/slow", max_bytes=1024)
        assert _reason(info) == "timeout"
        assert client.get(f"{base_url}/json").status_code == 200  # still the caller's to use
