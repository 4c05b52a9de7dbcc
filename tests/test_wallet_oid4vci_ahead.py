"""The wallet's OpenID4VCI requests that go out together (``OfferClient.receive``): the
issuer's key document and its authorization server's metadata while the issuer metadata is
fetched, the first ``c_nonce`` while the token is; and the cases where the guess is wrong or
the answer is refused. Against a real issuer service on 127.0.0.1, behind a recording ASGI
middleware that can hold, rewrite or refuse one answer."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import FAST, PIN, sample

from honnin.encoding import b64url_encode, json_dumps
from honnin.errors import (
    InvalidRequest,
    InvalidSignature,
    MalformedInput,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from honnin.jose import generate_key, sign_jws
from honnin.oid4vci import (
    PRE_AUTHORIZED_CODE_GRANT,
    SIGNED_METADATA_TYP,
    parse_credential_offer_uri,
)
from issuer import Offer
from wallet import Receipt, Wallet

SLIP = "withholding-slip"
METADATA = "/.well-known/openid-credential-issuer"
KEYS = "/.well-known/jwt-vc-issuer"
SERVER = "/.well-known/oauth-authorization-server"


class Recorder:
    """ASGI middleware: records when each request arrives and when its answer is sent; can
    hold an answer (``hold``), change a JSON answer (``rewrite``), answer JSON only
    (``json_only``: an issuer without signed metadata), answer with given bytes
    (``replace``: body and media type) or answer once with an OAuth error (``refuse_once``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.arrived: dict[str, list[float]] = {}
        self.answered: dict[str, list[float]] = {}
        self.hold: dict[str, float] = {}
        self.rewrite: dict[str, Any] = {}
        self.json_only: set[str] = set()
        self.replace: dict[str, tuple[bytes, str]] = {}
        self.refuse_once: dict[str, dict[str, str]] = {}

    def count(self, path: str) -> int:
        return len(self.arrived.get(path, []))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        self.arrived.setdefault(path, []).append(time.monotonic())
        if path in self.json_only or path in self.rewrite:
            # A rewritten answer is asked for as JSON: signed metadata cannot be rewritten.
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept"]
            scope = {**scope, "headers": [*headers, (b"accept", b"application/json")]}
        if path in self.hold:
            await asyncio.sleep(self.hold[path])
        if path in self.replace:
            body, media_type = self.replace[path]
            await Response(body, media_type=media_type)(scope, receive, send)
        elif path in self.refuse_once:
            error = self.refuse_once.pop(path)
            await JSONResponse(error, status_code=400)(scope, receive, send)
        elif path in self.rewrite:
            await self._rewritten(scope, receive, send, self.rewrite[path])
        else:
            await self.app(scope, receive, send)
        self.answered.setdefault(path, []).append(time.monotonic())

    async def _rewritten(self, scope: Any, receive: Any, send: Any, change: Any) -> None:
        parts: list[bytes] = []
        start: dict[str, Any] = {}

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                parts.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        document = change(json.loads(b"".join(parts)))
        await JSONResponse(document, status_code=start["status"])(scope, receive, send)


class Recorded:
    """``live_issuer(wrap=...)``: keeps the ``Recorder`` it puts around the issuer's app."""

    recorder: Recorder

    def __call__(self, app: Any) -> Recorder:
        self.recorder = Recorder(app)
        return self.recorder


@pytest.fixture
def recorded() -> Iterator[tuple[LiveIssuer, Recorder]]:
    wrap = Recorded()
    with live_issuer(wrap=wrap) as served:
        yield served, wrap.recorder


def _wallet(live: LiveIssuer, path: Path) -> Wallet:
    return Wallet.open(
        path, PIN, kdf=FAST, allow_loopback_http=True, trust=[live.issuer.certificate]
    )


def _receive_one(live: LiveIssuer, wallet: Wallet) -> tuple[Offer, Receipt]:
    """A fresh offer (with a tx_code) received as one copy."""
    offer = live.issuer.create_offer(SLIP, sample())
    return offer, wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)


def test_signed_metadata_spares_the_key_document(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    # §12.2.3: the issuer's chain comes with its signed metadata; the server metadata still
    # goes out together with it.
    live, recorder = recorded
    recorder.hold[METADATA] = 0.4  # the issuer metadata answers late
    with _wallet(live, tmp_path / "w") as wallet:
        assert _receive_one(live, wallet)[1].credentials[0].copies == 1
    assert recorder.arrived[SERVER][0] < recorder.answered[METADATA][0]
    assert recorder.count(KEYS) == 0
    assert recorder.count(SERVER) == recorder.count(METADATA) == 1


def test_without_signed_metadata_the_key_document_is_asked_after_it(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    recorder.json_only.add(METADATA)
    recorder.hold[METADATA] = 0.4
    with _wallet(live, tmp_path / "w") as wallet:
        assert _receive_one(live, wallet)[1].credentials[0].copies == 1
    assert recorder.arrived[SERVER][0] < recorder.answered[METADATA][0]
    assert recorder.arrived[KEYS][0] >= recorder.answered[METADATA][0]
    assert recorder.count(KEYS) == recorder.count(SERVER) == recorder.count(METADATA) == 1


def test_the_first_nonce_is_asked_while_the_token_is(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    recorder.hold["/token"] = 0.4
    with _wallet(live, tmp_path / "w") as wallet:
        _receive_one(live, wallet)
    assert recorder.arrived["/nonce"][0] < recorder.answered["/token"][0]
    assert recorder.count("/nonce") == 1


def test_the_nonce_waits_for_the_trust_pre_check(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    # Nothing after the pre-check goes out before it: held, the key document holds the nonce
    # (and the token) back by as long.
    live, recorder = recorded
    recorder.json_only.add(METADATA)  # the chain comes from the key document
    recorder.hold[KEYS] = 0.4
    with _wallet(live, tmp_path / "w") as wallet:
        _receive_one(live, wallet)
    keys_asked = recorder.arrived[KEYS][0]
    assert recorder.arrived["/nonce"][0] - keys_asked >= 0.35
    assert recorder.arrived["/token"][0] - keys_asked >= 0.35


def test_a_refused_nonce_is_asked_again(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    recorder.refuse_once["/credential"] = {"error": "invalid_nonce"}
    offer = live.issuer.create_offer(SLIP, sample())
    with _wallet(live, tmp_path / "w") as wallet:
        assert wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1).credentials[0].copies == 1
    assert recorder.count("/nonce") == 2 and recorder.count("/credential") == 2


@contextmanager
def _another_server(live: LiveIssuer) -> Iterator[tuple[str, list[float]]]:
    """A second authorization server on loopback whose token endpoint is the issuer's; yields
    its base URL and when each request for its metadata arrived."""
    asked: list[float] = []
    with bound_socket() as (sock, base):

        async def server_metadata(request: Request) -> Response:
            asked.append(time.monotonic())
            return JSONResponse({"issuer": base, "token_endpoint": f"{live.base}/token"})

        with serving(Starlette(routes=[Route(SERVER, server_metadata)]), sock):
            yield base, asked


def test_metadata_naming_another_authorization_server_is_followed(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    with _another_server(live) as (elsewhere, asked):
        recorder.rewrite[METADATA] = lambda doc: {**doc, "authorization_servers": [elsewhere]}
        offer = live.issuer.create_offer(SLIP, sample())
        with _wallet(live, tmp_path / "w") as wallet:
            assert wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1).credentials
    # The guess (the issuer itself) was fetched and set aside; the named server was used.
    assert len(asked) == 1 and recorder.count(SERVER) == 1


def test_an_untrusted_issuer_is_refused_before_any_token_or_nonce(tmp_path: Path) -> None:
    wrap = Recorded()
    with (
        live_issuer(wrap=wrap) as live,
        live_issuer(name="Other Corp") as other,
    ):
        offer = live.issuer.create_offer(SLIP, sample())
        trusting_other = Wallet.open(
            tmp_path / "w", PIN, kdf=FAST, allow_loopback_http=True,
            trust=[other.issuer.certificate],
        )  # fmt: skip
        with trusting_other as wallet:
            with pytest.raises(UntrustedIssuer):
                wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
            assert wallet.credentials() == []
    assert wrap.recorder.count("/token") == 0 and wrap.recorder.count("/nonce") == 0


def test_closing_after_an_early_refusal_waits_for_the_request_still_on_its_way(
    tmp_path: Path,
) -> None:
    # The refusal comes at once; the authorization server metadata asked ahead is still held
    # by the issuer. close() waits for it, so its connection is closed with the others.
    wrap = Recorded()
    with live_issuer(wrap=wrap) as live, live_issuer(name="Other Corp") as other:
        wrap.recorder.hold[SERVER] = 0.5
        offer = live.issuer.create_offer(SLIP, sample())
        wallet = Wallet.open(
            tmp_path / "w", PIN, kdf=FAST, allow_loopback_http=True,
            trust=[other.issuer.certificate],
        )  # fmt: skip
        started = time.monotonic()
        with pytest.raises(UntrustedIssuer):
            wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
        refused = time.monotonic()
        wallet.close()
        closed = time.monotonic()
    assert refused - started < 0.5  # the refusal did not wait for the held answer
    assert wrap.recorder.answered[SERVER][0] <= closed


def _offer_naming(live: LiveIssuer, recorder: Recorder, server: str) -> tuple[str, str | None]:
    """An offer by reference whose grant names ``server`` as its authorization server."""
    offer = live.issuer.create_offer(SLIP, sample(), by_reference=True)
    link = parse_credential_offer_uri(offer.uri, allow_loopback_http=True)
    assert link.offer_uri is not None

    def name_server(document: dict[str, Any]) -> dict[str, Any]:
        document["grants"][PRE_AUTHORIZED_CODE_GRANT]["authorization_server"] = server
        return document

    recorder.rewrite[urlsplit(link.offer_uri).path] = name_server
    return offer.uri, offer.tx_code


def test_an_authorization_server_named_by_the_offer_is_asked_after_the_pre_check(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    with _another_server(live) as (elsewhere, asked):
        # §4.1.1: the offer picks one of the servers the metadata lists.
        recorder.rewrite[METADATA] = lambda doc: {
            **doc,
            "authorization_servers": [live.base, elsewhere],
        }
        recorder.hold[KEYS] = 0.4
        uri, tx_code = _offer_naming(live, recorder, elsewhere)
        with _wallet(live, tmp_path / "w") as wallet:
            assert wallet.receive(uri, tx_code=tx_code, copies=1).credentials
    # Not asked ahead: only once the key document was answered and the issuer trusted.
    assert len(asked) == 1 and asked[0] - recorder.arrived[KEYS][0] >= 0.35


def test_an_offer_naming_a_server_the_metadata_does_not_list_is_refused(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    with _another_server(live) as (elsewhere, asked):
        uri, tx_code = _offer_naming(live, recorder, elsewhere)
        with _wallet(live, tmp_path / "w") as wallet:
            with pytest.raises(InvalidRequest, match="does not list"):
                wallet.receive(uri, tx_code=tx_code, copies=1)
            assert wallet.credentials() == []
    assert asked == [] and recorder.count("/token") == 0


def test_authorization_server_metadata_for_another_issuer_is_not_used(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    recorder.rewrite[SERVER] = lambda doc: {**doc, "issuer": "https://elsewhere.example"}
    offer = live.issuer.create_offer(SLIP, sample())
    with _wallet(live, tmp_path / "w") as wallet:
        with pytest.raises(InvalidRequest, match="RFC 8414"):
            wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
        assert wallet.credentials() == []
    assert recorder.count("/token") == 0


# -- the notification (§11) goes out behind receive() ------------------------------------------

NOTIFICATION = "/notification"


def _events(live: LiveIssuer, offer: Offer) -> list[str]:
    """The notification events the issuer recorded for the offer's one issuance."""
    (record,) = live.issuer.store.issuances(offer.offer_id)
    return [e.event for e in live.issuer.store.notifications(record.batch_id)]


@pytest.fixture
def slow_notification(
    recorded: tuple[LiveIssuer, Recorder],
) -> tuple[LiveIssuer, Recorder]:
    """The issuer answers the notification half a second late."""
    recorded[1].hold[NOTIFICATION] = 0.5
    return recorded


def test_receive_returns_before_the_notification_is_answered(
    slow_notification: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = slow_notification
    with _wallet(live, tmp_path / "w") as wallet:
        started = time.monotonic()
        offer, receipt = _receive_one(live, wallet)
        returned = time.monotonic()
        (held,) = receipt.credentials
        # The copies were stored and receive() returned while the answer was still held.
        assert wallet.credential(held.id).copies == 1
        assert NOTIFICATION not in recorder.answered
        assert returned - started < 0.5
        assert _events(live, offer) == []
        # Asking for the acknowledgement waits for the answer.
        assert receipt.notified == (held.id,)
        assert recorder.answered[NOTIFICATION][0] >= recorder.arrived[NOTIFICATION][0] + 0.5
    assert _events(live, offer) == ["credential_accepted"]


def test_closing_the_wallet_lets_a_notification_on_its_way_finish(
    slow_notification: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, _ = slow_notification
    with _wallet(live, tmp_path / "w") as wallet:
        offer, receipt = _receive_one(live, wallet)
    # close() waited: the issuer has the notification, and the receipt has its answer.
    assert _events(live, offer) == ["credential_accepted"]
    assert receipt.notified == (receipt.credentials[0].id,)


def test_a_refused_notification_leaves_the_credential_held(
    recorded: tuple[LiveIssuer, Recorder], tmp_path: Path
) -> None:
    live, recorder = recorded
    recorder.refuse_once[NOTIFICATION] = {"error": "invalid_notification_id"}
    with _wallet(live, tmp_path / "w") as wallet:
        _, receipt = _receive_one(live, wallet)
        assert receipt.notified == ()
        (held,) = receipt.credentials
        assert wallet.credential(held.id).copies == 1
    assert recorder.count(NOTIFICATION) == 1


def test_close_runs_a_request_behind_still_queued_and_drops_one_ahead() -> None:
    from wallet._transport import Transport

    transport = Transport(None, allow_loopback_http=True)
    gate = threading.Event()
    busy = [transport.ahead(gate.wait, 5) for _ in range(4)]  # every worker taken
    ran: list[str] = []
    behind = transport.behind(ran.append, "behind")
    closing = threading.Thread(target=transport.close)
    closing.start()
    time.sleep(0.1)
    assert closing.is_alive()  # close() waits for the queued request behind
    gate.set()
    closing.join(timeout=5)
    assert not closing.is_alive()
    assert all(f.result() for f in busy)
    assert behind.done() and ran[0] == "behind"


# -- signed metadata (OpenID4VCI 1.0 §12.2.3), hostile -------------------------------------


def _signed(live: LiveIssuer, key: Any = None, x5c: Any = None, **changes: Any) -> bytes:
    """The issuer's metadata signed as §12.2.3 says, with ``changes`` to the header (``typ``,
    ``alg``) or the claims (``sub``), another ``key`` or another ``x5c``."""
    document = httpx.get(f"{live.base}{METADATA}", headers={"accept": "application/json"}).json()
    claims = {**document, "sub": live.base, "iat": int(live.clock.now())}
    header = {"typ": SIGNED_METADATA_TYP, "x5c": live.issuer.identity.x5c() if x5c is None else x5c}
    for name in ("typ", "alg"):
        if name in changes:
            header[name] = changes.pop(name)
    claims.update(changes)
    signer = live.issuer.identity.key if key is None else key
    if header.get("alg") == "HS256":  # a MAC, keyed with anything: refused whatever the key
        signing_input = (
            b64url_encode(json_dumps(header).encode())
            + "."
            + b64url_encode(json_dumps(claims).encode())
        )
        mac = hmac.new(b"k" * 32, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url_encode(mac)}".encode()
    return sign_jws(claims, signer, header=header).encode()


@pytest.mark.parametrize(
    ("forge", "error"),
    [
        (lambda live: _signed(live, key=generate_key()), InvalidSignature),
        (lambda live: _signed(live, typ="JWT"), InvalidRequest),
        (lambda live: _signed(live, sub="https://impostor.example"), InvalidRequest),
        (lambda live: _signed(live, alg="HS256"), UnsupportedAlgorithm),
        (lambda live: _signed(live, x5c=[]), MalformedInput),
        (lambda live: b"not.a.jws", MalformedInput),
        (lambda live: "メタデータ".encode(), MalformedInput),
    ],
)
def test_forged_signed_metadata_is_refused_before_the_tx_code(
    recorded: tuple[LiveIssuer, Recorder],
    tmp_path: Path,
    forge: Any,
    error: type[Exception],
) -> None:
    live, recorder = recorded
    recorder.replace[METADATA] = (forge(live), "application/jwt")
    offer = live.issuer.create_offer(SLIP, sample())
    asked: list[object] = []
    with _wallet(live, tmp_path / "w") as wallet:
        with pytest.raises(error):
            wallet.receive(offer.uri, tx_code=lambda hint: asked.append(hint) or offer.tx_code)
        assert wallet.credentials() == []
    assert asked == [] and recorder.count("/token") == 0 and recorder.count("/nonce") == 0


def test_metadata_signed_by_an_untrusted_issuer_is_refused(tmp_path: Path) -> None:
    wrap = Recorded()
    with live_issuer(wrap=wrap) as live, live_issuer(name="Other Corp") as other:
        # Signed with the other issuer's own key and chain: a valid signature, not trusted.
        forged = _signed(live, key=other.issuer.identity.key, x5c=other.issuer.identity.x5c())
        wrap.recorder.replace[METADATA] = (forged, "application/jwt")
        offer = live.issuer.create_offer(SLIP, sample())
        with _wallet(live, tmp_path / "w") as wallet, pytest.raises(UntrustedIssuer):
            wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
    assert wrap.recorder.count("/token") == 0 and wrap.recorder.count(KEYS) == 0
