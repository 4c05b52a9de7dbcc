"""DPoP at the issuer service and in the wallet (RFC 9449), against real uvicorn on loopback.

The hostile cases are HOSTILE-CASES IS-23: a DPoP-bound token with no proof, a proof from
another key, a wrong ``htm`` / ``htu``, a replayed ``jti``, a stale server nonce. Each is
refused with its OAuth error and a ``DPoP`` challenge, and nothing is issued.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_oid4vci_service_fixtures import (
    CLAIMS,
    SD,
    LiveIssuer,
    ProtocolWallet,
    assert_oauth_error,
    live_issuer,
    wallet_for,
)

from honnin.jose import generate_key, jwk_from_public_key, jwk_thumbprint
from honnin.oauth import build_dpop_proof
from issuer import IssuerSettings, SqliteIssuanceStore
from issuer._codes import secret_hash
from wallet import KdfParams, Wallet

KEY = generate_key()
JKT = jwk_thumbprint(jwk_from_public_key(KEY))


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


@pytest.fixture
def strict() -> Iterator[LiveIssuer]:
    """An issuer that requires DPoP and server nonces (the HAIP way)."""
    with live_issuer(settings=IssuerSettings(dev=True, dpop_required=True, dpop_nonce=True)) as s:
        yield s


def _proof(live: LiveIssuer, path: str, **options: Any) -> str:
    options.setdefault("now", live.clock.now())
    key = options.pop("key", KEY)
    return build_dpop_proof(
        key, htm=options.pop("htm", "POST"), htu=f"{live.base}/{path}", **options
    )


def _token(wallet: ProtocolWallet, live: LiveIssuer, *dpop: str) -> httpx.Response:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS)
    grant = wallet.resolve(offer).pre_authorized_code
    assert grant is not None
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": grant.pre_authorized_code,
    }
    if offer.tx_code is not None:
        form["tx_code"] = offer.tx_code
    headers = [("DPoP", proof) for proof in dpop]
    response = wallet.http.post(f"{live.base}/token", data=form, headers=headers)
    response.extensions["form"] = form  # for a retry of the same code
    return response


def _bound_token(wallet: ProtocolWallet, live: LiveIssuer) -> str:
    response = _token(wallet, live, _proof(live, "token"))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    token: str = response.json()["access_token"]
    return token


def _credential(
    wallet: ProtocolWallet, live: LiveIssuer, token: str, *dpop: str, scheme: str = "DPoP"
) -> httpx.Response:
    body = {"credential_configuration_id": SD, "proofs": {"jwt": wallet.proofs(wallet.nonce(), 1)}}
    headers = [("Authorization", f"{scheme} {token}"), *(("DPoP", proof) for proof in dpop)]
    return wallet.http.post(f"{live.base}/credential", json=body, headers=headers)


def _assert_dpop_challenge(response: httpx.Response, error: str) -> None:
    assert_oauth_error(response, 401, error)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(f'DPoP error="{error}"') and 'algs="ES256"' in challenge


def test_the_metadata_says_dpop_es256(live: LiveIssuer) -> None:
    server = httpx.get(f"{live.base}/.well-known/oauth-authorization-server").json()
    assert server["dpop_signing_alg_values_supported"] == ["ES256"]


def test_a_token_asked_with_a_proof_is_bound_to_its_key(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = _bound_token(wallet, live)
        record = live.issuer.store.access_token(secret_hash(token))
        assert record is not None and record.dpop_jkt == JKT
        proof = _proof(live, "credential", access_token=token)
        answer = _credential(wallet, live, token, proof)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["credentials"]) == 1


def test_a_bound_token_without_a_proof_is_refused(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = _bound_token(wallet, live)
        issued = len(live.issuer.store.issuances())
        _assert_dpop_challenge(_credential(wallet, live, token), "invalid_dpop_proof")
        assert len(live.issuer.store.issuances()) == issued


def test_a_bound_token_sent_as_a_bearer_token_is_refused(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = _bound_token(wallet, live)
        proof = _proof(live, "credential", access_token=token)
        # RFC 9449 §7.1: the Bearer scheme with a DPoP-bound token, proof or not.
        for dpop in ((), (proof,)):
            answer = _credential(wallet, live, token, *dpop, scheme="Bearer")
            _assert_dpop_challenge(answer, "invalid_token")
        assert live.issuer.store.issuances() == []


def test_a_bearer_token_sent_as_dpop_is_refused(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        response = _token(wallet, live)
        assert response.json()["token_type"] == "Bearer"
        token = response.json()["access_token"]
        proof = _proof(live, "credential", access_token=token)
        _assert_dpop_challenge(_credential(wallet, live, token, proof), "invalid_token")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key": generate_key()}, "key"),
        ({"htm": "GET"}, "htm"),
        ({"path": "deferred_credential"}, "htu"),
        ({"path": "credential?x=1", "host": "http://127.0.0.2:1"}, "htu"),
        ({"access_token": "another-token"}, "ath"),
        ({"access_token": None}, "ath"),
        ({"now_shift": -400}, "iat"),
        ({"now_shift": 400}, "iat"),
    ],
)
def test_a_proof_not_for_this_request_is_refused(
    live: LiveIssuer, change: dict[str, Any], reason: str
) -> None:
    with wallet_for(live) as wallet:
        token = _bound_token(wallet, live)
        key = change.get("key", KEY)
        base = change.get("host", live.base)
        proof = build_dpop_proof(
            key,
            htm=change.get("htm", "POST"),
            htu=f"{base}/{change.get('path', 'credential')}",
            now=live.clock.now() + change.get("now_shift", 0),
            access_token=change.get("access_token", token),
        )
        answer = _credential(wallet, live, token, proof)
        _assert_dpop_challenge(answer, "invalid_dpop_proof")
        assert reason in answer.json()["error_description"]
        assert live.issuer.store.issuances() == []


def test_a_replayed_proof_is_refused(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = _bound_token(wallet, live)
        proof = _proof(live, "credential", access_token=token)
        assert _credential(wallet, live, token, proof).status_code == 200
        replayed = _credential(wallet, live, token, proof)
        _assert_dpop_challenge(replayed, "invalid_dpop_proof")
        assert "jti" in replayed.json()["error_description"]
        assert len(live.issuer.store.issuances()) == 1


def test_two_dpop_headers_are_refused(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        response = _token(wallet, live, _proof(live, "token"), _proof(live, "token"))
        assert_oauth_error(response, 400, "invalid_dpop_proof")
        token = _bound_token(wallet, live)
        proofs = [_proof(live, "credential", access_token=token) for _ in range(2)]
        _assert_dpop_challenge(_credential(wallet, live, token, *proofs), "invalid_dpop_proof")


def test_a_bad_proof_at_the_token_endpoint_leaves_the_code_usable(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        refused = _token(wallet, live, _proof(live, "credential"))  # another endpoint's htu
        assert_oauth_error(refused, 400, "invalid_dpop_proof")
        form = refused.extensions["form"]
        retry = wallet.http.post(
            f"{live.base}/token", data=form, headers={"DPoP": _proof(live, "token")}
        )
        assert retry.status_code == 200 and retry.json()["token_type"] == "DPoP"


def test_required_dpop_refuses_a_bearer_token_request(strict: LiveIssuer) -> None:
    with wallet_for(strict) as wallet:
        response = _token(wallet, strict)
        assert_oauth_error(response, 400, "invalid_dpop_proof")
        assert "requires a DPoP proof" in response.json()["error_description"]


def test_server_nonces_are_asked_for_then_accepted(strict: LiveIssuer) -> None:
    with wallet_for(strict) as wallet:
        first = _token(wallet, strict, _proof(strict, "token"))
        # RFC 9449 §8: 400 use_dpop_nonce with the nonce in DPoP-Nonce; the code is unused.
        assert_oauth_error(first, 400, "use_dpop_nonce")
        nonce = first.headers["dpop-nonce"]
        retry = wallet.http.post(
            f"{strict.base}/token",
            data=first.extensions["form"],
            headers={"DPoP": _proof(strict, "token", nonce=nonce)},
        )
        assert retry.status_code == 200, retry.text
        token = retry.json()["access_token"]
        fresh = retry.headers["dpop-nonce"]  # §8.2: a nonce on every answer
        proof = _proof(strict, "credential", access_token=token, nonce=fresh)
        assert _credential(wallet, strict, token, proof).status_code == 200


def test_a_stale_or_forged_server_nonce_is_answered_with_a_fresh_one(strict: LiveIssuer) -> None:
    with wallet_for(strict) as wallet:
        nonce = _token(wallet, strict, _proof(strict, "token")).headers["dpop-nonce"]
        response = _token(wallet, strict, _proof(strict, "token", nonce=nonce))
        token = response.json()["access_token"]
        strict.clock.advance(125)  # two nonce slots later (the token lives 300 s)
        stale = _proof(strict, "credential", access_token=token, nonce=nonce)
        answer = _credential(wallet, strict, token, stale)
        # RFC 9449 §9: at a protected resource, a 401 challenge with the nonce to use.
        _assert_dpop_challenge(answer, "use_dpop_nonce")
        assert answer.headers["dpop-nonce"] != nonce
        forged = _proof(strict, "credential", access_token=token, nonce="AAAA" + nonce[4:])
        _assert_dpop_challenge(_credential(wallet, strict, token, forged), "use_dpop_nonce")
        assert strict.issuer.store.issuances() == []
        good = _proof(strict, "credential", access_token=token, nonce=answer.headers["dpop-nonce"])
        assert _credential(wallet, strict, token, good).status_code == 200


def _wallet(tmp_path: Path) -> Wallet:
    return Wallet.open(
        tmp_path / "w.wallet", "482913", kdf=KdfParams.INSECURE_TEST_ONLY,
        allow_loopback_http=True,
    )  # fmt: skip


class _Headers:
    """ASGI middleware recording the DPoP and Authorization headers of each request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            kept = {k: headers[k] for k in ("dpop", "authorization") if k in headers}
            self.seen.append((scope["path"], kept))
        await self.app(scope, receive, send)


class _Recording:
    """``wrap=`` for ``live_issuer``: puts a ``_Headers`` (or a subclass) around the app and
    keeps it, so the test reads what each request carried."""

    def __init__(self, kind: type[_Headers] = _Headers) -> None:
        self.kind = kind
        self.seen: list[tuple[str, dict[str, str]]] = []

    def __call__(self, app: Any) -> Any:
        middleware = self.kind(app)
        middleware.seen = self.seen
        return middleware


def test_the_wallet_uses_dpop_with_server_nonces(tmp_path: Path) -> None:
    recorder = _Recording()
    settings = IssuerSettings(dev=True, dpop_required=True, dpop_nonce=True)
    with live_issuer(settings=settings, wrap=recorder) as live, _wallet(tmp_path) as wallet:
        offer = live.issuer.create_offer("withholding-slip", CLAIMS)
        receipt = wallet.receive(offer.uri, tx_code=offer.tx_code, copies=2)
        assert wallet.credential(receipt.credentials[0].id).copies == 2
        assert receipt.sender_constrained
        assert receipt.notified == (receipt.credentials[0].id,)
    seen = recorder.seen
    tokens = [h for path, h in seen if path == "/token"]
    # The first token request has no nonce yet: refused with one, sent again with it.
    assert len(tokens) == 2 and all("dpop" in h for h in tokens)
    for path in ("/credential", "/notification"):
        (headers,) = [h for p, h in seen if p == path]
        assert headers["authorization"].startswith("DPoP ") and "dpop" in headers
    # The DPoP key is one for the session, never a binding key of the copies.
    keys = {_header_jwk(h["dpop"]) for p, h in seen if "dpop" in h}
    assert len(keys) == 1


def _header_jwk(proof: str) -> str:
    import base64
    import json

    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    return json.dumps(header["jwk"], sort_keys=True)


def test_two_issuances_use_two_dpop_keys(tmp_path: Path) -> None:
    recorder = _Recording()
    with live_issuer(wrap=recorder) as live, _wallet(tmp_path) as wallet:
        for _ in range(2):
            offer = live.issuer.create_offer("withholding-slip", CLAIMS)
            wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
    keys = [_header_jwk(h["dpop"]) for p, h in recorder.seen if p == "/token"]
    assert len(keys) == 2 and keys[0] != keys[1]  # unlinkable across issuances


def test_a_store_of_version_1_gains_the_dpop_column(tmp_path: Path) -> None:
    path = tmp_path / "issuer.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE access_tokens (token_hash TEXT PRIMARY KEY, offer_id TEXT NOT NULL,"
            " expires_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO access_tokens VALUES ('h', 'o', 1.0)")
        db.execute("PRAGMA user_version=1")
    store = SqliteIssuanceStore(path)
    try:
        old = store.access_token("h")
        assert old is not None and old.dpop_jkt is None and old.offer_id == "o"
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_the_wallet_retries_once_when_a_resource_asks_for_a_new_nonce(tmp_path: Path) -> None:
    served: list[LiveIssuer] = []

    class _Rotating(_Headers):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if (
                scope["type"] == "http"
                and scope["path"] == "/credential"
                and not any(p == "/credential" for p, _ in self.seen)
            ):
                served[0].clock.advance(125)  # the nonce the wallet holds is now stale
            await super().__call__(scope, receive, send)

    recorder = _Recording(_Rotating)

    settings = IssuerSettings(dev=True, dpop_required=True, dpop_nonce=True)
    with live_issuer(settings=settings, wrap=recorder) as live, _wallet(tmp_path) as wallet:
        served.append(live)
        offer = live.issuer.create_offer("withholding-slip", CLAIMS)
        receipt = wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
        assert len(receipt.credentials) == 1
    credential_requests = [h for p, h in recorder.seen if p == "/credential"]
    # 401 use_dpop_nonce, then the same request with a new proof carrying the new nonce.
    assert len(credential_requests) == 2
    assert credential_requests[0]["dpop"] != credential_requests[1]["dpop"]


class _WithoutDpop(_Headers):
    """Serves the authorization server metadata without ``dpop_signing_alg_values_supported``
    (a server that does not take DPoP proofs)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(
            "/.well-known/oauth-authorization-server"
        ):
            await super().__call__(scope, receive, send)
            return
        parts: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        document = json.loads(b"".join(parts))
        del document["dpop_signing_alg_values_supported"]
        body = json.dumps(document).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_without_dpop_metadata_the_wallet_sends_bearer_tokens(tmp_path: Path) -> None:
    recorder = _Recording(_WithoutDpop)
    with live_issuer(wrap=recorder) as live, _wallet(tmp_path) as wallet:
        offer = live.issuer.create_offer("withholding-slip", CLAIMS)
        receipt = wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
        assert not receipt.sender_constrained
    seen = recorder.seen
    assert not any("dpop" in h for _, h in seen)
    (credential,) = [h for p, h in seen if p == "/credential"]
    assert credential["authorization"].startswith("Bearer ")


def test_a_full_replay_record_is_reset_without_opening_a_replay_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from honnin.clock import FixedClock
    from honnin.errors import InvalidDpopProof
    from issuer import _dpop
    from issuer._dpop import DpopGate, Presented

    monkeypatch.setattr(_dpop, "_SEEN_KEPT", 3)
    clock = FixedClock(1_800_000_000)
    gate = DpopGate(clock, nonces=False)
    url = "https://issuer.example/token"

    def proof() -> str:
        return build_dpop_proof(KEY, htm="POST", htu=url, now=clock.now())

    kept = [proof() for _ in range(3)]
    for one in kept:
        assert gate.check(Presented(None, (one,), "POST", url)) is not None
    # Full of live entries: the record is forgotten, and every proof issued up to now is
    # refused from then on, so none of the forgotten ones can come back.
    with pytest.raises(InvalidDpopProof, match="replay"):
        gate.check(Presented(None, (proof(),), "POST", url))
    for one in kept:
        with pytest.raises(InvalidDpopProof):
            gate.check(Presented(None, (one,), "POST", url))
    clock.advance(1)
    assert gate.check(Presented(None, (proof(),), "POST", url)) is not None


def test_expired_entries_leave_the_replay_record(monkeypatch: pytest.MonkeyPatch) -> None:
    from honnin.clock import FixedClock
    from issuer import _dpop
    from issuer._dpop import DpopGate, Presented

    monkeypatch.setattr(_dpop, "_SEEN_KEPT", 2)
    clock = FixedClock(1_800_000_000)
    gate = DpopGate(clock, nonces=False)
    url = "https://issuer.example/token"
    for _ in range(2):
        gate.check(
            Presented(
                None, (build_dpop_proof(KEY, htm="POST", htu=url, now=clock.now()),), "POST", url
            )
        )
    clock.advance(300)  # past every recorded proof's window
    fresh = build_dpop_proof(KEY, htm="POST", htu=url, now=clock.now())
    assert gate.check(Presented(None, (fresh,), "POST", url)) is not None
