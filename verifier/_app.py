"""The OpenID4VP 1.0 verifier service: ``create_app(verifier, settings)`` (Starlette, ASGI).

Endpoints (HOSTILE-CASES §2.2 for the behaviour on hostile input):

* ``POST /transactions`` (back office, bearer token): a transaction from a DCQL query or a
  catalogue type + claims, and a purpose, optionally ``transaction_data`` (a list of JSON
  objects, OpenID4VP 1.0 §5.1); answers its id, the ``openid4vp://`` URI and QR links.
* ``GET|POST /request/{id}``: the signed request object, ``application/oauth-authz-req+jwt``,
  served again until answered or expired (D2); POST takes ``wallet_metadata`` /
  ``wallet_nonce`` (§5.10). Unknown ids: 404 with an empty body (VS-02).
* ``POST /response``: ``direct_post`` / ``direct_post.jwt`` (§8.2, §8.3), at most
  ``max_body`` bytes (413). A response that fails verification is answered 4xx with the
  per-credential errors (D3); a verified one 200 with the same-device ``redirect_uri``.
* ``GET /transactions/{id}/result`` (back office): the typed result as JSON; ``?wait=N``
  long-polls; same-device transactions need the ``response_code`` of the redirect (§13.3).
* ``GET /transactions/{id}/qr.png`` / ``qr.svg`` (back office): the QR code of the URI.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from honnin.encoding import json_loads
from honnin.errors import HonninError, InvalidClient, InvalidRequest, NotFound
from honnin.limits import MAX_TOKEN_BODY
from honnin.qr import QrCode

from ._http import error_response, json_response, read_body, read_form
from ._query import Query
from ._receive import Outcome
from ._request import authorization_uri
from ._settings import VerifierSettings
from ._status import FetchOffTheLoop, no_status_fetch
from ._store import MemoryTransactionStore, TransactionStatus
from ._verifier import Verifier

__all__ = ["create_app"]

REQUEST_MEDIA_TYPE: Final = "application/oauth-authz-req+jwt"
_MAX_TRANSACTION_BODY: Final = 256 * 1024
#: HOSTILE-CASES D10: ``wallet_metadata`` is at most 64 KiB.
_MAX_REQUEST_POST: Final = 64 * 1024 + MAX_TOKEN_BODY
_POLL_INTERVAL: Final = 0.25


class TransactionBody(BaseModel):
    """``POST /transactions``: ``dcql_query`` or ``credential_type`` (+ ``claims``), and/or
    ``pseudonym`` (the wallet's pairwise pseudonym for this verifier, spec/PROFILE.md
    "Pairwise pseudonyms"; alone, it is a sign-in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: str = Field(min_length=1, max_length=2000)
    dcql_query: dict[str, Any] | None = None
    credential_type: str | None = None
    claims: list[str] = Field(default_factory=list, max_length=256)
    format: str | None = None
    response_mode: Literal["direct_post", "direct_post.jwt"] | None = None
    redirect_uri: str | None = Field(default=None, max_length=2048)
    request_uri_method: Literal["get", "post"] | None = None
    pseudonym: bool = False
    #: OpenID4VP 1.0 §5.1: transaction data objects, encoded by the verifier.
    transaction_data: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=16)

    def query(self) -> Query:
        if self.dcql_query is not None and self.credential_type is not None:
            raise InvalidRequest("give one of dcql_query or credential_type, not both")
        if self.dcql_query is not None:
            if self.pseudonym:
                # A raw DCQL query is used as given: it names its own credentials.
                raise InvalidRequest("with dcql_query, ask for the pseudonym in the query")
            return Query.dcql(self.dcql_query)
        if self.credential_type is None:
            if not self.pseudonym:
                raise InvalidRequest("give dcql_query, credential_type or pseudonym")
            return Query.pseudonym()
        query = Query.of(self.credential_type, *self.claims, format=self.format)
        return query & Query.pseudonym() if self.pseudonym else query


class _Service:
    def __init__(self, verifier: Verifier, settings: VerifierSettings) -> None:
        self.verifier = verifier
        self.settings = settings
        self.answered: dict[str, asyncio.Event] = {}
        # Verification is CPU work under the GIL: a few threads at a time keep responses in
        # arrival order instead of 40 threads convoying on the GIL (long p99 tails).
        self.workers = anyio.CapacityLimiter(settings.verify_concurrency)

    # -- back office -------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        token = self.settings.api_token
        if token is None and self.settings.dev:
            return
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value() if token else ''}"
        if token is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidClient("a valid bearer token is required", reason="token")

    async def create_transaction(self, request: Request) -> Response:
        self.authorize(request)
        raw = await read_body(request, _MAX_TRANSACTION_BODY)
        try:
            body = TransactionBody.model_validate(json_loads(raw))
        except ValidationError as exc:
            raise InvalidRequest(f"invalid transaction: {exc.errors()[0]['msg']}") from exc
        if body.redirect_uri is not None and not (
            self.settings.dev or body.redirect_uri.startswith("https://")
        ):
            raise InvalidRequest("redirect_uri must be https")
        query = body.query()
        # On the event loop, like the other short store steps here (result): a P-256 key,
        # one ES256 signature and one insert (no fsync: the store syncs NORMAL). A pool
        # thread would add two GIL hand-offs to each request on the journey's path.
        presentation = self.verifier.request(
            query,
            purpose=body.purpose,
            response_mode=body.response_mode or self.settings.response_mode,
            response_uri=self.settings.response_uri,
            request_uri_base=f"{self.settings.base_url}/request",
            request_uri_method=body.request_uri_method,
            redirect_uri=body.redirect_uri,
            lifetime=self.settings.transaction_lifetime,
            transaction_data=body.transaction_data,
        )
        base = f"{self.settings.base_url}/transactions/{presentation.transaction_id}"
        return json_response(
            {
                "transaction_id": presentation.transaction_id,
                "client_id": presentation.client_id,
                "request_uri": presentation.request_uri,
                "uri": presentation.uri,
                "qr_png": f"{base}/qr.png",
                "qr_svg": f"{base}/qr.svg",
                "result": f"{base}/result",
                "expires_at": presentation.expires_at,
            },
            201,
        )

    async def qr(self, request: Request) -> Response:
        self.authorize(request)
        transaction_id = request.path_params["transaction_id"]
        kind = request.path_params["kind"]
        found = await run_in_threadpool(self.verifier.store.get, transaction_id)
        if found is None or kind not in ("png", "svg"):
            raise NotFound("no such transaction")
        uri = authorization_uri(
            found.client_id,
            request_uri=f"{self.settings.base_url}/request/{found.request_id}",
            request_uri_method=found.request_uri_method,
        )
        # Encoding costs ~0.1 s of CPU (mask selection): off the event loop.
        code = await run_in_threadpool(QrCode.encode, uri)
        if kind == "png":
            return Response(code.png(), media_type="image/png", headers=_PRIVATE)
        return Response(code.svg(), media_type="image/svg+xml", headers=_PRIVATE)

    async def result(self, request: Request) -> Response:
        self.authorize(request)
        transaction_id = request.path_params["transaction_id"]
        wait = _seconds(request.query_params.get("wait"), self.settings.long_poll_max)
        transaction = self.verifier.store.get(transaction_id)  # one indexed read
        if transaction is None:
            raise NotFound("no such transaction")
        deadline = asyncio.get_running_loop().time() + wait
        while transaction.status is TransactionStatus.PENDING:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                event = self.answered.get(transaction_id)
                if event is not None and not event.is_set():
                    self.answered.pop(transaction_id, None)
                return json_response({"status": "pending", "transaction_id": transaction_id}, 202)
            event = self.answered.setdefault(transaction_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, _POLL_INTERVAL * 4))
            transaction = self.verifier.store.get(transaction_id)  # as above: on the loop
            if transaction is None:
                raise NotFound("no such transaction")
        self.answered.pop(transaction_id, None)
        if transaction.redirect_uri is not None:
            code = request.query_params.get("response_code", "")
            redeemed = await run_in_threadpool(self.verifier.store.redeem, transaction_id, code)
            if not redeemed:
                # §13.3 / VS-30: only the session that followed the redirect reads the result,
                # once; a wrong, missing or already used response_code is refused.
                raise InvalidRequest("response_code missing, wrong or used", reason="response_code")
        result = self.verifier.result_of(transaction)  # the row read above: no second read
        assert result is not None
        return json_response({"status": transaction.status.value, **result.to_json()})

    # -- wallet ------------------------------------------------------------------------------

    async def request_object(self, request: Request) -> Response:
        request_id = request.path_params["request_id"]
        wallet_nonce = None
        if request.method == "POST":
            form = await read_form(request, _MAX_REQUEST_POST)
            _check_wallet_metadata(form.get("wallet_metadata"))
            wallet_nonce = form.get("wallet_nonce")
        try:
            # One indexed read (and one signature with a wallet_nonce): on the event loop.
            jar = self.verifier.request_object(request_id, wallet_nonce=wallet_nonce)
        except NotFound:
            return Response(status_code=404, headers=_PRIVATE)
        return Response(jar, media_type=REQUEST_MEDIA_TYPE, headers=_PRIVATE)

    async def _verify(self, form: dict[str, str]) -> Outcome:
        if self.verifier.verifies_on_loop:
            # On the event loop, in arrival order: verification is CPU work under the GIL,
            # and a pool thread costs two hand-offs per response. A status list that has to
            # be fetched (network I/O) sends the response to a worker thread instead.
            try:
                with no_status_fetch():
                    return self.verifier.receive(form)
            except FetchOffTheLoop:
                pass
        return await anyio.to_thread.run_sync(self.verifier.receive, form, limiter=self.workers)

    async def response(self, request: Request) -> Response:
        form = await read_form(request, self.settings.max_body)
        try:
            outcome = await self._verify(form)
        except NotFound as exc:
            # VS-05: an unknown state is a client error like any other (400, not 404).
            return error_response(exc, status=400)
        event = self.answered.get(outcome.transaction.id)
        if event is not None:
            event.set()
        result = outcome.result
        redirect = {"redirect_uri": outcome.redirect_uri} if outcome.redirect_uri else {}
        if result.verified or result.wallet_error is not None:
            # §8.2: a processed response, or a processed error response, is answered 200.
            return json_response(redirect)
        # HOSTILE-CASES D3: a response that does not verify is answered 4xx, naming why.
        first = result.errors[0] if result.errors else None
        body = {
            "error": "invalid_request",
            "error_description": first.message if first else "the response did not verify",
            "errors": [e.to_json() for e in result.errors],
        }
        return json_response(body, 400)


_PRIVATE: Final = {"Cache-Control": "no-store"}


def _seconds(value: str | None, limit: int) -> float:
    if value is None:
        return 0.0
    try:
        seconds = float(value)
    except ValueError as exc:
        raise InvalidRequest("'wait' must be a number of seconds") from exc
    if not 0 <= seconds < 1e6:
        raise InvalidRequest("'wait' must be a non-negative number of seconds")
    return min(seconds, float(limit))


def _check_wallet_metadata(raw: str | None) -> None:
    """VS-04: ``wallet_metadata`` must be a JSON object (§5.10); its content is advisory."""
    if raw is None:
        return
    metadata = json_loads(raw, max_size=64 * 1024)
    if not isinstance(metadata, dict):
        raise InvalidRequest("wallet_metadata must be a JSON object (OpenID4VP §5.10)")
    formats = metadata.get("vp_formats_supported")
    if formats is not None and not isinstance(formats, dict):
        raise InvalidRequest("wallet_metadata.vp_formats_supported must be an object")
    algs = metadata.get("request_object_signing_alg_values_supported")
    if algs is not None and (not isinstance(algs, list) or "ES256" not in algs):
        # VS-04: this verifier signs request objects with ES256 only (HAIP §4).
        raise InvalidRequest(
            "the wallet does not accept ES256 request objects", reason="request_object_alg"
        )


def create_app(verifier: Verifier, settings: VerifierSettings | None = None) -> Starlette:
    """The verifier service for ``verifier`` (serve it with uvicorn).

    Raises:
        ValueError: ``settings`` are unfit for production and ``dev`` is not set.

    >>> app = create_app(Verifier.create("Hello Work", trust=[anchor]),
    ...                  VerifierSettings(dev=True))
    """
    settings = settings or VerifierSettings()
    if not settings.dev:
        problems = settings.service_problems() + _host_problems(verifier, settings)
        if isinstance(verifier.store, MemoryTransactionStore):
            problems.append("a durable store is required (SqliteTransactionStore)")
        if problems:
            raise ValueError("insecure verifier settings: " + "; ".join(problems))
    service = _Service(verifier, settings)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except HonninError as exc:
                return error_response(exc)

        return endpoint

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_housekeeping(verifier, settings))
        try:
            yield
        finally:
            task.cancel()

    routes = [
        Route("/transactions", guarded(service.create_transaction), methods=["POST"]),
        Route("/transactions/{transaction_id}/result", guarded(service.result), methods=["GET"]),
        Route("/transactions/{transaction_id}/qr.{kind:str}", guarded(service.qr), methods=["GET"]),
        Route("/request/{request_id}", guarded(service.request_object), methods=["GET", "POST"]),
        Route("/response", guarded(service.response), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _host_problems(verifier: Verifier, settings: VerifierSettings) -> list[str]:
    if not verifier.client_id.startswith("x509_san_dns:"):
        return []
    host = verifier.client_id.split(":", 1)[1]
    if (urlsplit(settings.base_url).hostname or "") != host:
        # OpenID4VP 1.0 §5.9.3: the response_uri FQDN must match the x509_san_dns name.
        return [f"public_url host must be {host!r} for client_id {verifier.client_id}"]
    return []


async def _housekeeping(verifier: Verifier, settings: VerifierSettings) -> None:
    while True:
        await asyncio.sleep(60)
        cutoff = verifier.clock.now() - settings.result_retention
        with contextlib.suppress(HonninError):
            await run_in_threadpool(verifier.store.purge, cutoff)
