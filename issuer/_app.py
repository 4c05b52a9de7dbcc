"""The OpenID4VCI issuer service as an ASGI app (Starlette), served by uvicorn.

Every client mistake is answered with OAuth-style JSON (RFC 6749 §5.2; OpenID4VCI 1.0
§8.3.1, §9.3, §11.3) and the status its ``HonninError`` names; only a genuine bug becomes
``server_error`` 500, logged with its traceback. Responses that carry or concern secrets
are ``Cache-Control: no-store`` (OpenID4VCI §7.2, RFC 6749 §5.1; HOSTILE-CASES IS-01).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final

from cryptography import x509
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from honnin.errors import (
    HonninError,
    InvalidCredentialRequest,
    InvalidNotificationRequest,
    InvalidRequest,
    MalformedInput,
    NotFound,
    TooLarge,
)
from honnin.http import RateLimiter
from honnin.jose import sign_jws
from honnin.limits import MAX_TOKEN_BODY
from honnin.oauth import ATTEST_JWT_CLIENT_AUTH, parse_form
from honnin.oid4vci import SIGNED_METADATA_TYP
from honnin.status import TokenForm
from honnin.trust import load_certificates

from ._approval_page import approval_error_page, approval_page
from ._authorization import AuthorizationDesk
from ._client_auth import ClientGate
from ._codes import secret_hash
from ._credential_desk import CredentialDesk, Reply
from ._dpop import Presented
from ._grants import GrantDesk
from ._issuer import Issuer
from ._metadata import Endpoints, build_metadata
from ._offers import open_sealed_offer
from ._responses import error_response, json_response
from ._revocation_desk import RevocationDesk
from ._settings import IssuerSettings
from ._wal import SyncGroup

__all__ = ["create_app"]

log = logging.getLogger("issuer")

#: A body this much over the limit is not drained before the 413 (the connection closes).
_DRAIN_LIMIT: Final = 16 * 1024 * 1024
_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"
#: The approval pages: never cached, never framed (clickjacking), no scripts or resources.
_PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[Request], Awaitable[Response]]


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused beyond ``limit`` bytes (HOSTILE-CASES IS-34) before it is parsed."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > _DRAIN_LIMIT):
        raise TooLarge(f"request body over {limit} bytes", limit=limit)
    body = bytearray()
    over = False
    async for chunk in request.stream():
        if over or len(body) + len(chunk) > limit:
            # Keep reading (to a bound) so the client sees the 413 rather than a reset.
            over = True
            if len(body) + len(chunk) > _DRAIN_LIMIT:
                break
            continue
        body += chunk
    if over:
        raise TooLarge(f"request body over {limit} bytes", limit=limit)
    return bytes(body)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _route(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "?"


def _endpoint(
    work: Callable[[Request], Awaitable[Response]],
    *,
    malformed: type[HonninError] = InvalidRequest,
) -> Handler:
    """Wrap a handler: map ``HonninError`` to its OAuth answer, a bug to 500."""

    async def handle(request: Request) -> Response:
        try:
            if request.scope["query_string"] and "access_token" in request.query_params:
                # FAPI 2.0 / HOSTILE-CASES IS-21: never accept a token in the query string.
                raise InvalidRequest("access tokens are not accepted in the query string")
            return await work(request)
        except TooLarge as exc:
            return error_response(exc)
        except MalformedInput as exc:
            return error_response(malformed(exc.message))
        except HonninError as exc:
            # The route template, never the path: an offer reference in it is a secret.
            log.info("%s %s: %s", request.method, _route(request), exc.code)
            return error_response(exc)
        except Exception:
            log.exception("bug while serving %s %s", request.method, _route(request))
            return JSONResponse(
                {"error": "server_error", "error_description": "internal error"},
                status_code=500,
                headers={"Cache-Control": "no-store"},
            )

    return handle


def _wallet_providers(files: Sequence[str]) -> list[x509.Certificate]:
    anchors: list[x509.Certificate] = []
    for name in files:
        try:
            anchors += load_certificates(Path(name).read_bytes())
        except (OSError, HonninError) as exc:
            # A settings mistake, reported as one (honnin issuer serve: insecure_settings).
            raise ValueError(f"wallet_provider_anchor_files: cannot read {name}: {exc}") from exc
    return anchors


def create_app(
    issuer: Issuer,
    settings: IssuerSettings | None = None,
    *,
    wallet_providers: Sequence[x509.Certificate] | None = None,
) -> Starlette:
    """The issuer's OpenID4VCI service as an ASGI app.

    ``settings.public_url`` must equal the issuer's ``iss`` (the Credential Issuer
    Identifier, OpenID4VCI §12.2.1) when set. Serve it with uvicorn, or
    ``honnin issuer serve``::

        app = create_app(Issuer.create("Example Corp", iss="https://issuer.example"))
        uvicorn.run(app, host="127.0.0.1", port=8080)

    ``wallet_providers`` are the anchors of the wallet providers whose attestations it
    takes (attestation-based client authentication, OpenID4VCI App. E); by default those of
    ``settings.wallet_provider_anchor_files``.

    Raises:
        ValueError: ``public_url`` differs from ``issuer.iss``, client attestation is
            required with no wallet provider to trust, or a wallet provider anchor file
            cannot be read as PEM certificates.
    """
    settings = settings or IssuerSettings()
    if settings.public_url and settings.public_url.rstrip("/") != issuer.iss.rstrip("/"):
        raise ValueError(
            f"settings.public_url {settings.public_url!r} is not the issuer's iss {issuer.iss!r}"
        )
    endpoints = Endpoints.of(issuer.iss)
    if wallet_providers is None:
        wallet_providers = _wallet_providers(settings.wallet_provider_anchor_files)
    clients = ClientGate(
        issuer.clock,
        issuer=issuer.iss,
        anchors=wallet_providers,
        required=settings.client_attestation_required,
        skew=settings.clock_skew,
    )
    methods: tuple[str, ...] = ("none",)
    if clients.enabled:
        # A public client stays possible unless an attestation is required.
        methods = (
            (ATTEST_JWT_CLIENT_AUTH,) if clients.required else ("none", ATTEST_JWT_CLIENT_AUTH)
        )
    metadata = build_metadata(
        issuer.identity, issuer.types, batch_size=settings.batch_size, client_auth_methods=methods
    )
    authorizations = AuthorizationDesk(issuer.store, issuer.clock, issuer=issuer.iss)
    grants = GrantDesk(issuer.store, settings, issuer.clock, endpoints.url("token"), authorizations)
    desk = CredentialDesk(issuer, settings, metadata, grants, issuer.clock)
    revocations = RevocationDesk(issuer, settings, issuer.clock)
    token_limit = RateLimiter(settings.token_requests_per_minute)
    par_url = endpoints.url("par")

    def static(document: dict[str, object]) -> Handler:
        # The metadata documents never change while the app runs: encoded once, not on every
        # request (the credential issuer metadata is over 16 kB of JSON).
        body = JSONResponse(document).body
        headers = {"Cache-Control": "public, max-age=300"}

        async def serve(request: Request) -> Response:
            return Response(body, media_type="application/json", headers=headers)

        return _endpoint(serve)

    def issuer_metadata(document: dict[str, object]) -> Handler:
        # §12.2.2-12.2.3: JSON always; signed metadata (a JWT with the issuer's chain in x5c)
        # to a wallet whose Accept header asks for application/jwt. Signed once, like the
        # JSON is encoded once: the metadata does not change while the app runs.
        body = JSONResponse(document).body
        signed = sign_jws(
            {**document, "sub": issuer.iss, "iat": int(issuer.clock.now())},
            issuer.identity.key,
            header={"typ": SIGNED_METADATA_TYP, "x5c": issuer.identity.x5c()},
        ).encode("ascii")
        headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept"}

        async def serve(request: Request) -> Response:
            if "application/jwt" in request.headers.get("accept", ""):
                return Response(signed, media_type="application/jwt", headers=headers)
            return Response(body, media_type="application/json", headers=headers)

        return _endpoint(serve)

    async def offer(request: Request) -> Response:
        ref = request.path_params["ref"]
        # One indexed read, on the event loop like the other short store calls (a thread
        # pool hop cost more than the read).
        found = issuer.store.sealed_offer(secret_hash(ref))
        if found is None or found[1] <= issuer.clock.now():
            raise NotFound("no such credential offer (unknown, used or expired)")
        return json_response(open_sealed_offer(found[0], ref))

    async def token(request: Request) -> Response:
        # IS-30: before anything is read or looked up, so a flood costs one dict update.
        token_limit.take(request.client.host if request.client is not None else "")
        if _media_type(request) != _FORM:
            raise InvalidRequest(f"the token request must be {_FORM} (RFC 6749 §4.1.3)")
        body = await _read_body(request, MAX_TOKEN_BODY)
        headers = request.headers
        answer = json_response(
            grants.token(
                body,
                tuple(headers.getlist("dpop")),
                authenticate=lambda client_id: clients.check(headers, client_id),
            )
        )
        return _with_dpop_nonce(answer)

    def _with_dpop_nonce(response: Response) -> Response:
        # RFC 9449 §8.2: a fresh nonce on every answer, so a wallet rarely needs a retry.
        nonce = grants.dpop.nonce()
        if nonce is not None:
            response.headers["DPoP-Nonce"] = nonce
        return response

    async def par(request: Request) -> Response:
        # RFC 9126 §2: a form, answered 201 with the request_uri; the same budget per client
        # address as the token endpoint (both are where a flood would land).
        token_limit.take(request.client.host if request.client is not None else "")
        if _media_type(request) != _FORM:
            raise InvalidRequest(f"the pushed request must be {_FORM} (RFC 9126 §2.1)")
        form = parse_form(await _read_body(request, MAX_TOKEN_BODY), max_size=MAX_TOKEN_BODY)
        # The wallet attestation (OpenID4VCI App. E) is for the client_id the request names.
        clients.check(request.headers, form.get("client_id"))
        # RFC 9449 §10.1: a DPoP proof at the pushed request binds the code to its key.
        dpop = Presented(None, tuple(request.headers.getlist("dpop")), "POST", par_url)
        proof = grants.dpop.check(dpop)
        pushed = authorizations.push(form, proof_jkt=proof.jkt if proof is not None else None)
        return _with_dpop_nonce(json_response(pushed, status=201))

    async def authorize(request: Request) -> Response:
        # Errors here are pages, never redirects: the redirect URI of an unknown or foreign
        # request_uri is not to be trusted (RFC 6749 §4.1.2.1).
        try:
            if request.method == "POST":
                if _media_type(request) != _FORM:
                    raise InvalidRequest(f"the decision must be {_FORM}")
                target = authorizations.decide(await _read_body(request, 4096))
                return RedirectResponse(target, status_code=303, headers=_PAGE_HEADERS)
            query = request.query_params
            found, token = authorizations.pending(query.get("client_id"), query.get("request_uri"))
        except HonninError as exc:
            return HTMLResponse(
                approval_error_page(exc.message), status_code=exc.http_status,
                headers=_PAGE_HEADERS,
            )  # fmt: skip
        credential_type = issuer.credential_type(found.offer.credential_type)
        page = approval_page(issuer.identity.name, credential_type, found, token)
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    async def nonce(request: Request) -> Response:
        return json_response(grants.nonce())

    syncs = SyncGroup(issuer.sync)

    def posted(
        run: Callable[[Presented, bytes], Reply],
        wrong_type: type[HonninError],
        name: str,
        *,
        durable: bool = False,
    ) -> Callable[[Request], Awaitable[Response]]:
        # RFC 9449 §4.3 step 9: proofs name the URL this service publishes for the endpoint.
        url = endpoints.url(name)

        async def serve(request: Request) -> Response:
            if _media_type(request) != _JSON:
                # HOSTILE-CASES IS-33: JSON only, never text/plain or multipart.
                raise wrong_type(f"the request body must be {_JSON}")
            body = await _read_body(request, settings.max_body)
            # On the event loop, in arrival order: the work is CPU (proof checks, signing)
            # and short store transactions with no fsync on this path (status indices come
            # from a synced reserve, issuer._store). A thread pool measured 1.4 ms more CPU
            # per credential request (GIL hand-offs between up to 40 threads) and put
            # requests out of order, which widened the latency tail under load.
            headers = request.headers
            presented = Presented(
                headers.get("authorization"), tuple(headers.getlist("dpop")), "POST", url
            )
            status, document = run(presented, body)
            if durable:
                # No credential leaves before its record and status binding are synced;
                # one fsync serves every answer waiting (group commit, issuer._wal).
                await syncs.durable()
            if document is None:
                answer = Response(status_code=status, headers={"Cache-Control": "no-store"})
            else:
                answer = json_response(document, status=status)
            return _with_dpop_nonce(answer)

        return serve

    async def status_list(request: Request) -> Response:
        form = (
            TokenForm.CWT
            if "statuslist+cwt" in request.headers.get("accept", "")
            else TokenForm.JWT
        )
        published = await run_in_threadpool(
            issuer.status.publish, request.path_params["list_id"], form
        )
        return Response(
            published.body,
            media_type=published.media_type,
            headers={"Cache-Control": "public, max-age=60"},
        )

    async def status_lists(request: Request) -> Response:
        # draft §9.3: the aggregation of every list, for relying parties that prefetch.
        document = await run_in_threadpool(issuer.status.aggregation)
        return json_response(document, cache="public, max-age=60")

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        error = (
            NotFound("no such endpoint") if status == 404 else InvalidRequest("method not allowed")
        )
        response = error_response(error)
        response.status_code = status
        return response

    # The routes share no path, so their order is only the order Starlette tries them in:
    # the busiest first (every wallet's credential and nonce requests).
    routes = [
        Route(
            endpoints.path("credential"),
            _endpoint(
                posted(desk.credential, InvalidCredentialRequest, "credential", durable=True),
                malformed=InvalidCredentialRequest,
            ),
            methods=["POST"],
        ),
        Route(endpoints.path("nonce"), _endpoint(nonce), methods=["POST"]),
        Route(
            endpoints.well_known("openid-credential-issuer"),
            issuer_metadata(metadata.credential_issuer),
        ),
        Route(
            endpoints.well_known("oauth-authorization-server"),
            static(metadata.authorization_server),
        ),
        Route(endpoints.well_known("jwt-vc-issuer"), static(metadata.jwt_vc_issuer)),
        Route(endpoints.path("offers/{ref}"), _endpoint(offer)),
        Route(endpoints.path("token"), _endpoint(token), methods=["POST"]),
        Route(endpoints.path("par"), _endpoint(par), methods=["POST"]),
        Route(endpoints.path("authorize"), authorize, methods=["GET", "POST"]),
        Route(
            endpoints.path("deferred_credential"),
            _endpoint(
                posted(
                    desk.deferred, InvalidCredentialRequest, "deferred_credential", durable=True
                ),
                malformed=InvalidCredentialRequest,
            ),
            methods=["POST"],
        ),
        Route(
            endpoints.path("notification"),
            _endpoint(
                posted(desk.notification, InvalidNotificationRequest, "notification"),
                malformed=InvalidNotificationRequest,
            ),
            methods=["POST"],
        ),
        Route(endpoints.path("status/{list_id}"), _endpoint(status_list)),
        Route(endpoints.path("status"), _endpoint(status_lists)),
        # Holder-initiated revocation (spec/PROFILE.md), authenticated by a copy's key.
        Route(
            endpoints.path("revocation"),
            _endpoint(posted(revocations.revoke, InvalidRequest, "revocation")),
            methods=["POST"],
        ),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    app.state.issuer = issuer
    app.state.settings = settings
    return app
