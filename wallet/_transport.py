"""The wallet's HTTP exchanges: https only (http on loopback when the wallet allows it for
development), bounded bodies, no redirects followed (OpenID4VP §14.8; HOSTILE-CASES WL-13),
and OAuth error answers turned into their ``HonninError`` (``honnin.http``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from honnin.errors import FetchError, MalformedInput
from honnin.http import HttpResponse, HttpxFetcher, error_from_oauth_response
from honnin.oauth import require_https

from ._dpop import DpopKey

__all__ = ["Transport"]

T = TypeVar("T")


class Transport:
    """HTTP for one wallet, over a lazily created ``HttpxFetcher``."""

    def __init__(self, fetcher: HttpxFetcher | None, *, allow_loopback_http: bool) -> None:
        self._fetcher = fetcher
        self._own = fetcher is None
        self._pool: ThreadPoolExecutor | None = None
        self._finishing: set[Future[Any]] = set()
        self.allow_loopback_http = allow_loopback_http

    @property
    def fetcher(self) -> HttpxFetcher:
        """The fetcher (made on first use)."""
        if self._fetcher is None:
            self._fetcher = HttpxFetcher(timeout=30)
        return self._fetcher

    def ahead(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work(*args)`` (requests whose answer is needed later) on a thread kept for
        the wallet's life (at most four, made as needed): starting a thread per request would
        cost about as much as the overlap saves on loopback. Four, so that a request left
        hanging by one server (until its timeout) does not hold up the next exchange."""
        if self._pool is None:
            self.fetcher  # noqa: B018 - made here, never by two threads at once
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="honnin-wallet")
        return self._pool.submit(work, *args)

    def behind(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Like ``ahead``, for a request nothing waits for but that must still go out:
        ``close`` lets it finish (at most its timeout) instead of dropping it."""
        future = self.ahead(work, *args)
        self._finishing.add(future)
        future.add_done_callback(self._finishing.discard)
        return future

    def close(self) -> None:
        """Close the fetcher if this transport made it. Requests started ``behind`` are
        waited for; requests started ``ahead`` and not yet sent are dropped; one already on
        its way (an exchange refused early leaves some) is waited for, at most its timeout,
        so that its connection is closed with the others rather than left open."""
        if self._finishing:
            wait(list(self._finishing))
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._own and self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None

    def check(self, url: str, what: str) -> str:
        """``url`` if it may be used (https, or loopback http in development).

        Raises:
            InvalidRequest: another scheme or host.
        """
        return require_https(url, what=what, allow_loopback_http=self.allow_loopback_http)

    def _answer(self, response: HttpResponse, ok: tuple[int, ...]) -> HttpResponse:
        if response.status in ok:
            return response
        if 300 <= response.status < 400:
            raise FetchError(
                f"HTTP {response.status}: redirects are not followed",
                reason="redirect",
                status=response.status,
            )
        raise error_from_oauth_response(response.status, response.body)

    @staticmethod
    def json(response: HttpResponse, max_bytes: int) -> Any:
        """The answer's body as strict JSON.

        Raises:
            FetchError: not JSON (``reason="encoding"``).
        """
        try:
            return response.json(max_size=max_bytes)
        except MalformedInput as exc:
            raise FetchError(f"the answer is not JSON: {exc.message}", reason="encoding") from exc

    def get_json(self, url: str, *, what: str, max_bytes: int) -> Any:
        """GET ``url`` and parse its JSON answer (2xx only).

        Raises:
            FetchError: transport failure, redirect, not JSON; the OAuth error otherwise.
        """
        answer = self.get_document(url, accept="application/json", what=what, max_bytes=max_bytes)
        return self.json(answer, max_bytes)

    def get_document(self, url: str, *, accept: str, what: str, max_bytes: int) -> HttpResponse:
        """GET ``url`` with ``accept``; its 200 answer, whatever its media type.

        Raises:
            FetchError: transport failure, redirect; the OAuth error otherwise.
        """
        self.check(url, what)
        response = self.fetcher.request("GET", url, headers={"accept": accept}, max_bytes=max_bytes)
        return self._answer(response, (200,))

    def _post(
        self,
        send: Callable[[Mapping[str, str] | None], HttpResponse],
        url: str,
        token: str | None,
        dpop: DpopKey | None,
        client_auth: Callable[[], dict[str, str]] | None = None,
    ) -> HttpResponse:
        def headers() -> dict[str, str] | None:
            # Each send signs its own proofs: a retry never repeats a jti.
            made = dict(client_auth()) if client_auth is not None else {}
            if dpop is not None:
                made.update(dpop.headers("POST", url, token))
            elif token is not None:
                made["authorization"] = f"Bearer {token}"
            return made or None

        response = send(headers())
        if (
            dpop is not None
            and dpop.learn(response)
            and response.status in (400, 401)
            and _asks_nonce(response)
        ):
            # RFC 9449 §8 / §9: the server wants its nonce in the proof; once, with it.
            response = send(headers())
            dpop.learn(response)
        return response

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        what: str,
        max_bytes: int,
        dpop: DpopKey | None = None,
        client_auth: Callable[[], dict[str, str]] | None = None,
    ) -> HttpResponse:
        """POST a form (with a DPoP proof from ``dpop``, and the headers ``client_auth``
        makes for each request); 2xx answers are returned, errors raised as their
        ``HonninError``."""
        self.check(url, what)

        def send(headers: Mapping[str, str] | None) -> HttpResponse:
            return self.fetcher.post_form(url, form, headers=headers, max_bytes=max_bytes)

        answer = self._post(send, url, None, dpop, client_auth)
        return self._answer(answer, (200, 201, 202, 204))

    def post_json(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        what: str,
        max_bytes: int,
        token: str | None = None,
        dpop: DpopKey | None = None,
    ) -> tuple[int, Any]:
        """POST JSON with an access ``token``: a bearer token, or a DPoP-bound one sent with
        a proof from ``dpop`` (RFC 9449 §7.1). The status and the JSON answer (or None).

        Raises:
            HonninError: the endpoint's OAuth error (``invalid_proof``, ``invalid_nonce``, ...).
        """
        self.check(url, what)

        def send(headers: Mapping[str, str] | None) -> HttpResponse:
            return self.fetcher.post_json(url, body, headers=headers, max_bytes=max_bytes)

        answer = self._answer(self._post(send, url, token, dpop), (200, 201, 202, 204))
        if not answer.body:
            return answer.status, None
        return answer.status, self.json(answer, max_bytes)

    def get(self, url: str, *, what: str, max_bytes: int) -> HttpResponse:
        """GET ``url`` whatever it answers (for following a redirect_uri)."""
        self.check(url, what)
        return self.fetcher.request("GET", url, max_bytes=max_bytes)


def _asks_nonce(response: HttpResponse) -> bool:
    """An answer whose OAuth error is ``use_dpop_nonce`` (RFC 9449 §8 body, §9 challenge)."""
    if "use_dpop_nonce" in response.headers.get("www-authenticate", ""):
        return True
    try:
        data = response.json(max_size=65536)
    except MalformedInput:
        return False
    return isinstance(data, dict) and data.get("error") == "use_dpop_nonce"
