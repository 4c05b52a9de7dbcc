"""The command line's redirect receiver for the authorization code flow: a one-shot HTTP
listener on a loopback port (RFC 8252 §7.3, the native-app pattern), so the person's
browser can hand the authorization response back to ``honnin wallet receive``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from honnin.errors import FetchError

__all__ = ["LoopbackRedirect"]

_PATH: Final = "/callback"
_DONE: Final = (
    b'<!doctype html><html><head><meta charset="utf-8"><title>honnin wallet</title></head>'
    b"<body><p>\xe5\x8f\x97\xe3\x81\x91\xe5\x8f\x96\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x97\xe3"
    b"\x81\x9f / Received. You can close this window.</p></body></html>"
)


class LoopbackRedirect:
    """Listens on ``127.0.0.1`` (a free port) for one request to ``/callback``; ``uri`` is
    the redirect URI to register, ``wait`` returns the URL the browser came back to."""

    def __init__(self) -> None:
        received: list[str] = []
        arrived = threading.Event()

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != _PATH or arrived.is_set():
                    self.send_error(404)
                    return
                received.append(self.path)
                arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(_DONE)

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._received = received
        self._arrived = arrived
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.uri = f"http://127.0.0.1:{self._server.server_address[1]}{_PATH}"

    def wait(self, timeout: float) -> str:
        """The full URL of the redirect (waits at most ``timeout`` seconds).

        Raises:
            FetchError: nothing arrived in time.
        """
        if not self._arrived.wait(timeout):
            raise FetchError(
                f"the browser did not come back within {timeout:g} s", reason="timeout"
            )
        return self.uri.removesuffix(_PATH) + self._received[0]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackRedirect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
