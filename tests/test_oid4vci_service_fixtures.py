"""A live issuer service on 127.0.0.1 and a minimal protocol-level wallet for the tests.

The wallet here is deliberately small and written against the wire (httpx + the
``honnin.oid4vci`` messages + ``honnin.jose`` keys): the issuer is tested as any wallet would
see it, without the Wallet role.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from honnin.clock import SystemClock
from honnin.credential_types import load_catalogue
from honnin.jose import PrivateKey, generate_key
from honnin.oid4vci import (
    CredentialOffer,
    build_proof_jwt,
    parse_credential_offer,
    parse_credential_offer_uri,
)
from issuer import Issuer, IssuerSettings, Offer, create_app

#: The withholding slip's sample claims and its SD-JWT VC configuration id, which most
#: service tests issue.
CLAIMS = load_catalogue().get("withholding-slip").sample_claims()
SD = "withholding-slip.sd_jwt_vc"


class ShiftedClock:
    """The system time plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._system = SystemClock()

    def now(self) -> float:
        return self._system.now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class LiveIssuer:
    """An issuer served by uvicorn in a thread, with its clock and base URL."""

    issuer: Issuer
    clock: ShiftedClock
    base: str
    settings: IssuerSettings


@contextmanager
def live_issuer(
    *,
    name: str = "Example Corp",
    settings: IssuerSettings | None = None,
    store: str | None = None,
    wrap: Callable[[Any], Any] | None = None,
) -> Iterator[LiveIssuer]:
    """Serve a fresh issuer on a free loopback port until the block ends (``wrap`` puts an
    ASGI middleware around the issuer's app)."""
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets it knows to be TCP; without it
    # every reused connection waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    clock = ShiftedClock()
    issuer = Issuer.create(name, iss=base, clock=clock, store=store)
    settings = settings or IssuerSettings(dev=True)
    app = create_app(issuer, settings)
    if wrap is not None:
        app = wrap(app)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the issuer service did not start")
        time.sleep(0.01)
    try:
        yield LiveIssuer(issuer, clock, base, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        issuer.close()


@dataclass
class ProtocolWallet:
    """Just enough of a wallet to drive the issuer over HTTP."""

    http: httpx.Client
    live: LiveIssuer
    keys: list[PrivateKey] = field(default_factory=list)

    def resolve(self, offer: Offer | str) -> CredentialOffer:
        """The Credential Offer behind an offer link, fetched when by reference."""
        link = parse_credential_offer_uri(
            offer.uri if isinstance(offer, Offer) else offer, allow_loopback_http=True
        )
        if link.offer is not None:
            return link.offer
        assert link.offer_uri is not None
        response = self.http.get(link.offer_uri)
        response.raise_for_status()
        return parse_credential_offer(response.content)

    def token_response(self, code: str, tx_code: str | None) -> httpx.Response:
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}
        form["pre-authorized_code"] = code
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.http.post(f"{self.live.base}/token", data=form)

    def token(self, offer: Offer) -> str:
        """Redeem an offer (its code and tx_code) for an access token."""
        grant = self.resolve(offer).pre_authorized_code
        assert grant is not None
        response = self.token_response(grant.pre_authorized_code, offer.tx_code)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def nonce(self) -> str:
        response = self.http.post(f"{self.live.base}/nonce")
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        nonce: str = response.json()["c_nonce"]
        return nonce

    def proofs(
        self, nonce: str, count: int, *, audience: str | None = None, now: float | None = None
    ) -> list[str]:
        """``count`` proofs with fresh keys (kept in ``self.keys``)."""
        keys = [generate_key() for _ in range(count)]
        self.keys = keys
        return [
            build_proof_jwt(
                key,
                audience=audience or self.live.base,
                nonce=nonce,
                now=self.live.clock.now() if now is None else now,
            )
            for key in keys
        ]

    def credential_response(
        self, token: str, config_id: str, proofs: Sequence[str], **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"credential_configuration_id": config_id}
        body["proofs"] = {"jwt": list(proofs)}
        body.update(extra)
        return self.http.post(
            f"{self.live.base}/credential",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )


@contextmanager
def wallet_for(live: LiveIssuer) -> Iterator[ProtocolWallet]:
    with httpx.Client(timeout=30) as http:
        yield ProtocolWallet(http, live)


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    """The response is the OAuth error ``error`` with HTTP ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == error, response.text
