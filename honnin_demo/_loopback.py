"""Serve an ASGI app (the issuer's or the verifier's ``create_app``) with uvicorn on a free
127.0.0.1 port, in a background thread, for the demo, the examples and the benchmarks.

The socket is bound first, so the URL is known before the app is built (an issuer's
``iss`` and a verifier's ``response_uri`` are part of what they sign). A real deployment runs
``honnin issuer serve`` / ``honnin verifier serve`` (or uvicorn directly) instead.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Final

import uvicorn

__all__ = ["LoopbackServer"]

_START_TIMEOUT: Final = 10.0
_STOP_TIMEOUT: Final = 10.0


class LoopbackServer:
    """One uvicorn server on ``127.0.0.1`` and a port picked by the system.

    ``host_name`` is the name put in ``url``: ``127.0.0.1`` by default, or ``localhost``
    when the URL must match a certificate's DNS name (an ``x509_san_dns`` verifier's
    ``response_uri``, OpenID4VP 1.0 §5.9.3). Use as a context manager::

        with LoopbackServer() as server:
            app = create_app(Issuer.create("Example Corp", iss=server.url), settings)
            server.start(app)
            ...                                   # talk to server.url
    """

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when
        # the listening socket says it is TCP (proto 6, not 0). Without it every response on
        # a kept-alive connection waits ~40 ms for a delayed ACK (Nagle's algorithm).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host_name}:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any) -> None:
        """Serve ``app`` until ``stop``; returns once the server accepts connections.

        Raises:
            RuntimeError: the server did not start within 10 seconds, or was started twice.
        """
        if self._server is not None:
            raise RuntimeError("this loopback server is already serving an app")
        # No proxy stands between a loopback client and this server: there are no
        # X-Forwarded-* headers to honour, so uvicorn's proxy-header middleware is left out.
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,  # as ``honnin ... serve``: no server banner
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                self.stop()
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.002)

    def stop(self) -> None:
        """Stop serving and release the port (safe to call more than once)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=_STOP_TIMEOUT)
        self._server = self._thread = None
        self._socket.close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "serving" if self._server is not None else "idle"
        return f"LoopbackServer({self.url!r}, {state})"
