"""Hostile servers against the wallet over real HTTP (127.0.0.1): a verifier serving forged or
malformed request objects, and an issuer whose answers are rewritten on the way out
(HOSTILE-CASES WL-01/08/13/15/17; SECURITY-CHECKLIST P1, P8, C13, C14). Each case asserts
the exact error and that nothing was stored or sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, resign, sample

from honnin.encoding import b64url_encode, json_dumps
from honnin.errors import (
    FetchError,
    InvalidKeyBinding,
    InvalidRequest,
    InvalidSignature,
    MalformedCredential,
    UntrustedVerifier,
)
from honnin.jose import generate_key, jwk_from_public_key, parse_jws
from issuer import Issuer, IssuerSettings, create_app
from verifier import Query, Verifier
from wallet import Wallet

Message = MutableMapping[str, Any]
Mutation = Callable[[dict[str, Any], bytes], dict[str, Any]]


# -- a verifier that serves whatever the test wants -----------------------------------------


@dataclass
class EvilVerifier:
    base: str
    honest: Verifier
    employer: Issuer
    served: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)

    def jar(self) -> str:
        """A genuine signed request object whose response_uri is this server."""
        request = self.honest.request(
            Query.of(SLIP, "payment_amount"), purpose=PURPOSE, response_uri=f"{self.base}/response"
        )
        return request.request_object

    def serve(self, name: str, body: str | bytes, *, status: int = 200,
              media_type: str = "application/oauth-authz-req+jwt") -> str:  # fmt: skip
        raw = body.encode() if isinstance(body, str) else body
        self.served[name] = (status, media_type, raw)
        uri = quote(f"{self.base}/request/{name}", safe="")
        client = quote(self.honest.client_id, safe="")
        return f"openid4vp://?client_id={client}&request_uri={uri}"


@pytest.fixture(scope="module")
def evil() -> Iterator[EvilVerifier]:
    employer = Issuer.create("Example Corp")
    with bound_socket() as (sock, base):
        base = base.replace("127.0.0.1", "localhost")
        honest = Verifier.create("Hello Work", trust=[employer.certificate],
                                 client_id_host="localhost")  # fmt: skip
        server = EvilVerifier(base, honest, employer)

        async def request_object(request: Request) -> Response:
            status, media_type, body = server.served[request.path_params["name"]]
            headers = {"location": f"{base}/elsewhere"} if 300 <= status < 400 else None
            return Response(body, status_code=status, media_type=media_type, headers=headers)

        app = Starlette(routes=[Route("/request/{name}", request_object, methods=["GET", "POST"])])
        with serving(app, sock):
            yield server


@pytest.fixture
def wallet(evil: EvilVerifier, tmp_path: Path) -> Iterator[Wallet]:
    employer = evil.employer
    trust = [employer.certificate, evil.honest.certificate]
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST, trust=trust, allow_loopback_http=True) as w:
        w.accept(employer.issue(SLIP, sample(), holder=w.binding_keys(2)))
        yield w


def test_a_redirect_on_the_request_uri_is_not_followed(evil: EvilVerifier, wallet: Wallet) -> None:
    link = evil.serve("moved", b"", status=302)
    with pytest.raises(FetchError) as caught:
        wallet.consider(link)
    assert caught.value.fields["status"] == 302


def test_a_request_uri_answering_another_media_type_is_refused(
    evil: EvilVerifier, wallet: Wallet
) -> None:
    link = evil.serve("json", evil.jar(), media_type="application/json")
    with pytest.raises(InvalidRequest):
        wallet.consider(link)


def test_an_unsigned_request_by_reference_is_refused(evil: EvilVerifier, wallet: Wallet) -> None:
    claims = parse_jws(evil.jar()).unverified_claims()
    header = b64url_encode(json_dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
    link = evil.serve("unsigned", f"{header}.{b64url_encode(json_dumps(claims).encode())}.")
    with pytest.raises(UntrustedVerifier) as caught:
        wallet.consider(link)
    assert caught.value.fields["reason"] == "unsigned"


def test_a_client_id_outside_the_certificate_is_refused(evil: EvilVerifier, wallet: Wallet) -> None:
    key = evil.honest.identity.private_key
    link = evil.serve("san", resign(evil.jar(), key, client_id="x509_san_dns:localhost.evil"))
    link = link.replace(quote("x509_san_dns:localhost", safe=""),
                        quote("x509_san_dns:localhost.evil", safe=""))  # fmt: skip
    with pytest.raises(InvalidRequest) as caught:
        wallet.consider(link)
    assert caught.value.fields["reason"] == "client_id_binding"


def test_a_request_that_does_not_echo_the_wallet_nonce_is_refused(
    evil: EvilVerifier, wallet: Wallet
) -> None:
    link = evil.serve("post", evil.jar()) + "&request_uri_method=post"
    with pytest.raises(InvalidRequest, match="wallet_nonce"):
        wallet.consider(link)


def test_an_oversized_request_object_is_not_read(evil: EvilVerifier, wallet: Wallet) -> None:
    link = evil.serve("huge", b"e" * (600 * 1024))
    with pytest.raises(FetchError) as caught:
        wallet.consider(link)
    assert caught.value.fields["reason"] == "too_large"
    assert wallet.credentials()[0].copies == 2


# -- an issuer whose answers are rewritten --------------------------------------------------


class Rewriter:
    """ASGI middleware: the JSON answer of ``path`` goes through ``mutate`` (with the
    request body) before it reaches the wallet."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.path: str | None = None
        self.mutate: Mutation | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or self.mutate is None:
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        replay = iter(messages)

        async def again() -> Message:
            return next(replay, {"type": "http.disconnect"})

        # The answer is rewritten as JSON: asked for as JSON (signed metadata, §12.2.3, could
        # not be rewritten without the issuer's key).
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept"]
        scope = {**scope, "headers": [*headers, (b"accept", b"application/json")]}

        start: Message = {}
        chunks: list[bytes] = []
        mutate = self.mutate

        async def rewritten(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            document = mutate(json.loads(b"".join(chunks)), body)
            out = json.dumps(document).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(out)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": out})

        await self.app(scope, again, rewritten)

    def set(self, path: str, mutate: Mutation) -> None:
        self.path, self.mutate = path, mutate


@dataclass
class EvilIssuer:
    issuer: Issuer
    rewriter: Rewriter
    base: str


@pytest.fixture(scope="module")
def evil_issuer() -> Iterator[EvilIssuer]:
    with bound_socket() as (sock, base):
        issuer = Issuer.create("Example Corp", iss=base)
        rewriter = Rewriter(create_app(issuer, IssuerSettings(dev=True)))
        with serving(rewriter, sock):
            yield EvilIssuer(issuer, rewriter, base)
        issuer.close()


@pytest.fixture
def receiver(evil_issuer: EvilIssuer, tmp_path: Path) -> Iterator[Wallet]:
    trust = [evil_issuer.issuer.certificate]
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST, trust=trust, allow_loopback_http=True) as w:
        yield w


def _proof_keys(request: bytes) -> list[dict[str, str]]:
    proofs = json.loads(request)["proofs"]["jwt"]
    return [parse_jws(p).header["jwk"] for p in proofs]


def _receive_refused(evil: EvilIssuer, wallet: Wallet, error: type[Exception]) -> Exception:
    offer = evil.issuer.create_offer(SLIP, sample(), tx_code=False)
    with pytest.raises(error) as caught:
        wallet.receive(offer.uri, copies=2)
    assert wallet.credentials() == []
    assert wallet.vault.binding_keys() == []  # the keys made for the proofs are gone
    records = evil.issuer.store.issuances(offer.offer_id)
    if records:  # the issuer signed: it was told the wallet refused (§11)
        (record,) = records
        events = [e.event for e in evil.issuer.store.notifications(record.batch_id)]
        assert events == ["credential_failure"]
    return caught.value


def test_a_tampered_credential_is_refused(evil_issuer: EvilIssuer, receiver: Wallet) -> None:
    def tamper(answer: dict[str, Any], _: bytes) -> dict[str, Any]:
        first = answer["credentials"][0]["credential"]
        jwt, rest = first.split("~", 1)
        head, body, sig = jwt.split(".")
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        answer["credentials"][0]["credential"] = f"{head}.{body}.{flipped}~{rest}"
        return answer

    evil_issuer.rewriter.set("/credential", tamper)
    _receive_refused(evil_issuer, receiver, InvalidSignature)


def test_more_credentials_than_proofs_are_refused(
    evil_issuer: EvilIssuer, receiver: Wallet
) -> None:
    def double(answer: dict[str, Any], _: bytes) -> dict[str, Any]:
        answer["credentials"] = answer["credentials"] * 2
        return answer

    evil_issuer.rewriter.set("/credential", double)
    error = _receive_refused(evil_issuer, receiver, MalformedCredential)
    assert error.fields["reason"] == "count"  # type: ignore[attr-defined]


def test_a_credential_bound_to_a_foreign_key_is_refused(
    evil_issuer: EvilIssuer, receiver: Wallet
) -> None:
    def swap(answer: dict[str, Any], request: bytes) -> dict[str, Any]:
        foreign = [jwk_from_public_key(generate_key()) for _ in _proof_keys(request)]
        batch = evil_issuer.issuer.issue(SLIP, sample(), holder=foreign)
        answer["credentials"] = [{"credential": c} for c in batch.credentials]
        return answer

    evil_issuer.rewriter.set("/credential", swap)
    error = _receive_refused(evil_issuer, receiver, InvalidKeyBinding)
    assert error.fields["reason"] == "cnf"  # type: ignore[attr-defined]


def test_a_credential_of_another_type_is_refused(evil_issuer: EvilIssuer, receiver: Wallet) -> None:
    def other_type(answer: dict[str, Any], request: bytes) -> dict[str, Any]:
        resident = sample("resident-record")
        batch = evil_issuer.issuer.issue("resident-record", resident, holder=_proof_keys(request))
        answer["credentials"] = [{"credential": c} for c in batch.credentials]
        return answer

    evil_issuer.rewriter.set("/credential", other_type)
    error = _receive_refused(evil_issuer, receiver, MalformedCredential)
    assert error.fields["reason"] == "type"  # type: ignore[attr-defined]


def test_metadata_for_another_issuer_is_refused(evil_issuer: EvilIssuer, receiver: Wallet) -> None:
    def rename(answer: dict[str, Any], _: bytes) -> dict[str, Any]:
        answer["credential_issuer"] = "https://impostor.example"
        return answer

    evil_issuer.rewriter.set("/.well-known/openid-credential-issuer", rename)
    _receive_refused(evil_issuer, receiver, InvalidRequest)
