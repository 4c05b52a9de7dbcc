"""``HttpxFetcher``'s kept-alive connections (``honnin.http._connections``) against small
raw-socket servers on 127.0.0.1: reuse, a connection the server closed while idle, and
``Connection: close``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from honnin.errors import FetchError
from honnin.http import HttpxFetcher

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _Server:
    """Answers each request with ``answer``; closes a connection after ``per_connection``
    answers. Counts the connections it accepted."""

    def __init__(self, answer: bytes, per_connection: int) -> None:
        self.answer, self.per_connection = answer, per_connection
        self.accepted = 0
        self.hung_up = threading.Semaphore(0)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                for _ in range(self.per_connection):
                    if not _read_request(conn):
                        break
                    conn.sendall(self.answer)
            self.hung_up.release()

    def close(self) -> None:
        self._listener.close()


def _read_request(conn: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


@pytest.fixture
def fetcher() -> Iterator[HttpxFetcher]:
    with HttpxFetcher(timeout=2.0) as f:
        yield f


def test_requests_to_one_origin_share_a_kept_alive_connection(fetcher: HttpxFetcher) -> None:
    server = _Server(_OK, per_connection=100)
    try:
        for _ in range(5):
            assert fetcher.fetch(f"{server.url}/x", max_bytes=64).body == b"{}"
        assert server.accepted == 1
    finally:
        server.close()


def test_an_idle_connection_the_server_closed_is_not_reused(fetcher: HttpxFetcher) -> None:
    # The server answers once per connection and hangs up without saying so: the next
    # request must go over a new connection, not fail on the dead one.
    server = _Server(_OK, per_connection=1)
    try:
        for _ in range(3):
            assert fetcher.fetch(f"{server.url}/x", max_bytes=64).body == b"{}"
            assert server.hung_up.acquire(timeout=5)  # closed while the connection is idle
        assert server.accepted == 3
    finally:
        server.close()


def test_connection_close_is_honoured(fetcher: HttpxFetcher) -> None:
    answer = _OK.replace(b"Content-Length: 2", b"Connection: close\r\nContent-Length: 2")
    server = _Server(answer, per_connection=100)
    try:
        for _ in range(2):
            assert fetcher.fetch(f"{server.url}/x", max_bytes=64).body == b"{}"
        assert server.accepted == 2
    finally:
        server.close()


def test_a_connection_cut_off_at_the_limit_is_not_reused(fetcher: HttpxFetcher) -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100
    server = _Server(big, per_connection=100)
    try:
        with pytest.raises(FetchError):
            fetcher.fetch(f"{server.url}/x", max_bytes=50)
        assert len(fetcher.fetch(f"{server.url}/x", max_bytes=100).body) == 100
        assert server.accepted == 2
    finally:
        server.close()


def test_a_response_that_is_not_http_is_a_network_error(fetcher: HttpxFetcher) -> None:
    server = _Server(b"SSH-2.0-OpenSSH\r\n\r\n", per_connection=1)
    try:
        with pytest.raises(FetchError) as info:
            fetcher.fetch(f"{server.url}/x", max_bytes=64)
        assert info.value.reason == "network"  # type: ignore[attr-defined]
    finally:
        server.close()
