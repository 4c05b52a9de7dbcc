"""HTTP for honnin: the httpx ``Fetcher`` adapter, OAuth error JSON helpers and the
services' per-client ``RateLimiter``.

The only package of ``honnin`` that does network I/O (import-linter contract "Protocol
messages do no I/O"); everything else receives a ``honnin.ports.Fetcher``.
"""

from ._fetcher import HttpResponse, HttpxFetcher
from ._oauth_errors import error_from_oauth_response, oauth_error_body, oauth_error_headers
from ._rate import RateLimiter

__all__ = [
    "HttpResponse",
    "HttpxFetcher",
    "RateLimiter",
    "error_from_oauth_response",
    "oauth_error_body",
    "oauth_error_headers",
]
