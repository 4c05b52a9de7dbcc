"""Kept-alive HTTP/1.1 connections for ``HttpxFetcher`` over the standard library's
``http.client``.

httpx spends ~0.5 ms of CPU per request in its connection pool (httpcore + h11, measured on
loopback); a wallet's issuance and presentation make ten requests, so the fetcher sends them
over ``http.client`` connections kept alive per origin instead, with the same rules (see
``HttpxFetcher``). A connection is taken by one request at a time and given back only after
its response was read to the end; an idle connection the server has closed (or that holds
unexpected bytes) is dropped before reuse, so a request is never sent twice.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from typing import Final

__all__ = ["ConnectionPool", "Origin"]

#: (scheme, host, port) of a connection (RFC 6454 §4).
Origin = tuple[str, str, int]
_MAX_IDLE_PER_ORIGIN: Final = 8


class ConnectionPool:
    """Idle ``http.client`` connections by origin; safe to share between threads."""

    def __init__(self, *, timeout: float, connect_timeout: float) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            # The same trust as httpx's default client: certifi's roots, hostname checked.
            import httpx

            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def take(self, origin: Origin) -> http.client.HTTPConnection:
        """An idle connection to ``origin`` that is still open, or a new, unconnected one."""
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()
                if _still_open(conn):
                    return conn
                conn.close()
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=self._tls()
            )
        return http.client.HTTPConnection(host, port, timeout=self._connect_timeout)

    def connect(self, conn: http.client.HTTPConnection) -> None:
        """Open ``conn`` if needed; reads and writes then time out after ``timeout``."""
        if conn.sock is None:
            conn.connect()
            _opened(conn).settimeout(self._timeout)

    def give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        """Keep ``conn`` for the next request to ``origin`` (its response was read whole)."""
        if conn.sock is None:
            return  # the server asked to close it (Connection: close)
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < _MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _opened(conn: http.client.HTTPConnection) -> socket.socket:
    sock: socket.socket = conn.sock
    return sock


def _still_open(conn: http.client.HTTPConnection) -> bool:
    sock = conn.sock
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    try:
        # An idle HTTP/1.1 connection has nothing to read: readable means the server closed
        # it (EOF) or sent bytes no request asked for. Either way it is not reused.
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
