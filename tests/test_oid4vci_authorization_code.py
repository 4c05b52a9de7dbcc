"""The authorization code flow (OpenID4VCI 1.0 §3.4) against real uvicorn: pushed requests
(RFC 9126), PKCE S256 (RFC 7636), the approval page, ``iss`` in the response (RFC 9207),
and the wallet's ``authorize`` / ``finish_authorization``. The person's browser is played
by httpx: it loads the approval page and presses a button."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_oid4vci_service_fixtures import (
    CLAIMS,
    SD,
    LiveIssuer,
    assert_oauth_error,
    live_issuer,
)

from honnin.errors import AccessDenied, InvalidGrant, InvalidRequest, UnsupportedGrantType
from honnin.oid4vci import parse_credential_offer_uri
from issuer import Offer
from wallet import KdfParams, Wallet

REDIRECT = "https://wallet.example/callback"
VERIFIER = "v" * 43 + "-._~" + "w" * 20
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


@pytest.fixture
def wallet(tmp_path: Path) -> Iterator[Wallet]:
    with Wallet.open(
        tmp_path / "w.wallet", "482913", kdf=KdfParams.INSECURE_TEST_ONLY,
        allow_loopback_http=True,
    ) as opened:  # fmt: skip
        yield opened


def _offer(live: LiveIssuer) -> Offer:
    return live.issuer.create_offer("withholding-slip", CLAIMS, flow="authorization_code")


def _issuer_state(offer: Offer) -> str:
    document = parse_credential_offer_uri(offer.uri, allow_loopback_http=True).offer
    assert document is not None and document.grants is not None
    grant = document.grants.authorization_code
    assert grant is not None and grant.issuer_state is not None
    assert document.pre_authorized_code is None and offer.tx_code is None
    return grant.issuer_state


def _browse(url: str, *, approve: bool = True) -> str:
    """The person's browser: load the approval page, press a button, return where the
    issuer sends it."""
    with httpx.Client() as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        found = re.search(r'name="decision_token" value="([^"]+)"', page.text)
        assert found is not None
        answer = browser.post(
            url, data={"decision_token": found.group(1), "approve": "yes" if approve else "no"}
        )
        assert answer.status_code == 303, answer.text
        location: str = answer.headers["location"]
        return location


def _push(live: LiveIssuer, **changes: Any) -> httpx.Response:
    form = {
        "response_type": "code",
        "client_id": "test-wallet",
        "redirect_uri": REDIRECT,
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        "state": "st-1",
        "issuer_state": changes.pop("issuer_state", None) or _issuer_state(_offer(live)),
    }
    form.update(changes)
    return httpx.post(f"{live.base}/par", data={k: v for k, v in form.items() if v is not None})


def _code(live: LiveIssuer, **changes: Any) -> str:
    pushed = _push(live, **changes)
    assert pushed.status_code == 201, pushed.text
    query = urlencode({"client_id": "test-wallet", "request_uri": pushed.json()["request_uri"]})
    location = _browse(f"{live.base}/authorize?{query}")
    params = parse_qs(urlsplit(location).query)
    assert params["iss"] == [live.base] and params["state"] == ["st-1"]
    return params["code"][0]


def _redeem(
    live: LiveIssuer, code: str, *, dpop: str | None = None, **changes: Any
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": "test-wallet",
    }
    form.update(changes)
    headers = {"DPoP": dpop} if dpop is not None else {}
    return httpx.post(
        f"{live.base}/token",
        data={k: v for k, v in form.items() if v is not None},
        headers=headers,
    )


# -- the wallet --------------------------------------------------------------------------


def test_the_wallet_receives_through_the_authorization_code_flow(
    live: LiveIssuer, wallet: Wallet
) -> None:
    offer = _offer(live)
    started = wallet.authorize(offer.uri, redirect_uri=REDIRECT)
    assert started.url.startswith(f"{live.base}/authorize?client_id=honnin-wallet&request_uri=")
    receipt = wallet.finish_authorization(started, _browse(started.url))
    (held,) = receipt.credentials
    assert held.copies == 8 and held.type_value
    assert receipt.sender_constrained  # the code's token is DPoP-bound too
    # The offer is used: it cannot start a second authorization.
    with pytest.raises(InvalidGrant):
        wallet.authorize(offer.uri, redirect_uri=REDIRECT)


def test_a_declined_authorization_stores_nothing(live: LiveIssuer, wallet: Wallet) -> None:
    started = wallet.authorize(_offer(live).uri, redirect_uri=REDIRECT)
    with pytest.raises(AccessDenied):
        wallet.finish_authorization(started, _browse(started.url, approve=False))
    assert wallet.credentials() == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda url: url.replace("state=", "state=x"),
        lambda url: re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fother.example", url),
        lambda url: re.sub(r"&?iss=[^&]+", "", url),
        lambda url: url.replace("/callback", "/elsewhere"),
        lambda url: url + "&code=again",
        lambda url: re.sub(r"code=[^&]+&?", "", url),
    ],
)
def test_a_redirect_that_is_not_this_requests_is_refused(
    live: LiveIssuer, wallet: Wallet, forge: Any
) -> None:
    started = wallet.authorize(_offer(live).uri, redirect_uri=REDIRECT)
    with pytest.raises(InvalidRequest):
        wallet.finish_authorization(started, forge(_browse(started.url)))
    assert wallet.credentials() == []


def test_receive_says_to_use_authorize_for_such_an_offer(live: LiveIssuer, wallet: Wallet) -> None:
    with pytest.raises(UnsupportedGrantType, match="authorize"):
        wallet.receive(_offer(live).uri)


def test_a_pre_authorized_offer_cannot_be_authorized(live: LiveIssuer, wallet: Wallet) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS)
    with pytest.raises(UnsupportedGrantType):
        wallet.authorize(offer.uri, redirect_uri=REDIRECT)


# -- the issuer's endpoints --------------------------------------------------------------


def test_the_metadata_announces_the_flow(live: LiveIssuer) -> None:
    server = httpx.get(f"{live.base}/.well-known/oauth-authorization-server").json()
    assert server["pushed_authorization_request_endpoint"] == f"{live.base}/par"
    assert server["authorization_endpoint"] == f"{live.base}/authorize"
    assert server["require_pushed_authorization_requests"] is True
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["authorization_response_iss_parameter_supported"] is True
    assert "authorization_code" in server["grant_types_supported"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "invalid_request"),
        ({"client_id": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"redirect_uri": "http://wallet.example/cb"}, "invalid_request"),
        ({"redirect_uri": "https://wallet.example/cb#frag"}, "invalid_request"),
        ({"redirect_uri": "/relative"}, "invalid_request"),
        ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"issuer_state": "no-such-state"}, "invalid_grant"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
        ({"scope": "withholding-slip"}, "invalid_request"),
        (
            {"authorization_details": '[{"type":"openid_credential",'
             '"credential_configuration_id":"birth-certificate.sd_jwt_vc"}]'},
            "invalid_request",
        ),
        ({"authorization_details": "not json"}, "invalid_request"),
        ({"authorization_details": "[]"}, "invalid_request"),
    ],
)  # fmt: skip
def test_a_malformed_pushed_request_is_refused(
    live: LiveIssuer, change: dict[str, Any], error: str
) -> None:
    assert_oauth_error(_push(live, **change), 400, error)


def test_a_pushed_request_for_a_pre_authorized_offer_is_refused(live: LiveIssuer) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS, by_reference=False)
    document = parse_credential_offer_uri(offer.uri, allow_loopback_http=True).offer
    assert document is not None and document.pre_authorized_code is not None
    code = document.pre_authorized_code.pre_authorized_code
    assert_oauth_error(_push(live, issuer_state=code), 400, "invalid_grant")


def test_accepted_redirect_uris(live: LiveIssuer) -> None:
    for uri in ("http://127.0.0.1:5000/cb", "com.example.wallet:/cb", "https://w.example/cb?x=1"):
        assert _push(live, redirect_uri=uri).status_code == 201, uri


def test_the_authorization_endpoint_never_redirects_an_unknown_request(live: LiveIssuer) -> None:
    pushed = _push(live).json()["request_uri"]
    for query in (
        {"client_id": "test-wallet", "request_uri": "urn:ietf:params:oauth:request_uri:nope"},
        {"client_id": "another-wallet", "request_uri": pushed},
        {"client_id": "test-wallet"},
        {"request_uri": pushed, "client_id": ""},
    ):
        page = httpx.get(f"{live.base}/authorize?{urlencode(query)}")
        assert page.status_code == 400 and "location" not in page.headers
        assert page.headers["content-type"].startswith("text/html")


def test_the_pushed_request_expires(live: LiveIssuer) -> None:
    pushed = _push(live).json()["request_uri"]
    live.clock.advance(61)
    query = urlencode({"client_id": "test-wallet", "request_uri": pushed})
    assert httpx.get(f"{live.base}/authorize?{query}").status_code == 400


def test_the_page_escapes_what_the_wallet_sent(live: LiveIssuer) -> None:
    pushed = _push(live, client_id="<script>alert(1)</script>").json()["request_uri"]
    query = urlencode({"client_id": "<script>alert(1)</script>", "request_uri": pushed})
    page = httpx.get(f"{live.base}/authorize?{query}")
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_a_decision_is_taken_once(live: LiveIssuer) -> None:
    pushed = _push(live).json()["request_uri"]
    url = f"{live.base}/authorize?{urlencode({'client_id': 'test-wallet', 'request_uri': pushed})}"
    with httpx.Client() as browser:
        page = browser.get(url)
        found = re.search(r'name="decision_token" value="([^"]+)"', page.text)
        assert found is not None
        decision = {"decision_token": found.group(1), "approve": "yes"}
        assert browser.post(url, data=decision).status_code == 303
        again = browser.post(url, data=decision)
        assert again.status_code == 400 and "location" not in again.headers
        forged = browser.post(url, data={"decision_token": "guess", "approve": "yes"})
        assert forged.status_code == 400


def test_the_code_gives_a_token_once_with_the_right_verifier(live: LiveIssuer) -> None:
    code = _code(live)
    answer = _redeem(live, code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"  # no DPoP proof was sent here
    assert_oauth_error(_redeem(live, code), 400, "invalid_grant")


@pytest.mark.parametrize(
    "change",
    [
        {"code_verifier": "x" * 43},
        {"code_verifier": None},
        {"code_verifier": "short"},
        {"redirect_uri": "https://wallet.example/other"},
        {"redirect_uri": None},
        {"client_id": "another-wallet"},
        {"client_id": None},
    ],
)
def test_a_wrong_redemption_burns_the_code(live: LiveIssuer, change: dict[str, Any]) -> None:
    code = _code(live)
    assert_oauth_error(_redeem(live, code, **change), 400, "invalid_grant")
    # RFC 6749 §4.1.2: the code is single-use, also after a failed attempt.
    assert_oauth_error(_redeem(live, code), 400, "invalid_grant")


def test_the_code_expires(live: LiveIssuer) -> None:
    code = _code(live)
    live.clock.advance(61)
    assert_oauth_error(_redeem(live, code), 400, "invalid_grant")


def test_the_issuer_state_is_not_a_pre_authorized_code(live: LiveIssuer) -> None:
    state = _issuer_state(_offer(live))
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}
    form["pre-authorized_code"] = state
    assert_oauth_error(httpx.post(f"{live.base}/token", data=form), 400, "invalid_grant")


def test_the_token_works_at_the_credential_endpoint(live: LiveIssuer) -> None:
    from test_oid4vci_service_fixtures import wallet_for

    token = _redeem(live, _code(live)).json()["access_token"]
    with wallet_for(live) as client:
        answer = client.credential_response(token, SD, client.proofs(client.nonce(), 2))
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["credentials"]) == 2


def test_the_command_line_receives_through_a_browser(
    live: LiveIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``honnin wallet receive`` on an authorization code offer: it prints the address to
    approve at and waits on a loopback port (RFC 8252 §7.3) for the browser to come back."""
    import queue
    import threading

    from honnin.cli import main
    from wallet import _cli as wallet_cli

    told: queue.Queue[str] = queue.Queue()
    monkeypatch.setattr(wallet_cli, "progress", told.put)
    wallet = ["--wallet", str(tmp_path / "w"), "--pin", "482913", "--dev"]
    assert main(["wallet", "init", *wallet, "--insecure-test-kdf"]) == 0
    offer = _offer(live)
    outcome: list[int] = []
    receiving = threading.Thread(
        target=lambda: outcome.append(main(["wallet", "receive", offer.uri, *wallet, "--json"]))
    )
    receiving.start()
    while True:
        line = told.get(timeout=30)
        if "in a browser:" in line:
            break
    url = line.rsplit(" ", 1)[1]
    location = _browse(url)
    assert location.startswith("http://127.0.0.1:")
    assert httpx.get(location).status_code == 200  # the browser comes back to the CLI
    receiving.join(timeout=60)
    assert outcome == [0]
    with Wallet.open(tmp_path / "w", "482913") as opened:
        (held,) = opened.credentials()
        assert held.copies == 8


def test_pending_requests_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from honnin.clock import FixedClock
    from honnin.errors import RateLimited
    from issuer import Issuer, _authorization
    from issuer._authorization import AuthorizationDesk

    monkeypatch.setattr(_authorization, "_KEPT", 2)
    clock = FixedClock(1_800_000_000)
    issuer = Issuer.create("Example Corp", iss="https://issuer.example", clock=clock)
    desk = AuthorizationDesk(issuer.store, clock, issuer=issuer.iss)

    def push() -> dict[str, Any]:
        offer = issuer.create_offer("withholding-slip", CLAIMS, flow="authorization_code")
        form = {
            "response_type": "code", "client_id": "w", "redirect_uri": REDIRECT,
            "code_challenge": CHALLENGE.decode(), "code_challenge_method": "S256",
            "issuer_state": _issuer_state(offer),
        }  # fmt: skip
        return desk.push(form)

    try:
        first = push()["request_uri"]
        desk.pending("w", first)  # the page was shown: a decision token exists
        push()
        with pytest.raises(RateLimited) as caught:  # full of live requests
            push()
        assert caught.value.http_status == 429 and caught.value.fields["retry_after"] == 60
        clock.advance(61)
        push()  # the expired ones went, with the shown page's decision token
        assert len(desk._pending) == 1 and desk._decisions == {}
    finally:
        issuer.close()


# -- RFC 9449 §10: the code bound to a DPoP key ----------------------------------------------


def _proof(live: LiveIssuer, path: str, key: Any) -> str:
    from honnin.oauth import build_dpop_proof

    return build_dpop_proof(key, htm="POST", htu=f"{live.base}/{path}", now=live.clock.now())


def _bound_code(live: LiveIssuer, *, headers: dict[str, str], **changes: Any) -> str:
    form = {
        "response_type": "code", "client_id": "test-wallet", "redirect_uri": REDIRECT,
        "code_challenge": CHALLENGE.decode(), "code_challenge_method": "S256", "state": "st-1",
        "issuer_state": _issuer_state(_offer(live)), **changes,
    }  # fmt: skip
    pushed = httpx.post(f"{live.base}/par", data=form, headers=headers)
    assert pushed.status_code == 201, pushed.text
    query = urlencode({"client_id": "test-wallet", "request_uri": pushed.json()["request_uri"]})
    return parse_qs(urlsplit(_browse(f"{live.base}/authorize?{query}")).query)["code"][0]


@pytest.mark.parametrize("how", ["header", "dpop_jkt"])
def test_a_code_bound_to_a_dpop_key_needs_that_key(live: LiveIssuer, how: str) -> None:
    from honnin.jose import generate_key, jwk_from_public_key, jwk_thumbprint

    key, other = generate_key(), generate_key()
    if how == "header":
        code = _bound_code(live, headers={"DPoP": _proof(live, "par", key)})
    else:
        code = _bound_code(live, headers={}, dpop_jkt=jwk_thumbprint(jwk_from_public_key(key)))
    wrong = _redeem(live, code, dpop=_proof(live, "token", other))
    assert_oauth_error(wrong, 400, "invalid_dpop_proof")
    # Each refused request burnt its code: the next checks start from new offers.
    code = _bound_code(live, headers={"DPoP": _proof(live, "par", key)})
    assert_oauth_error(_redeem(live, code), 400, "invalid_dpop_proof")  # no proof at all
    code = _bound_code(live, headers={"DPoP": _proof(live, "par", key)})
    right = _redeem(live, code, dpop=_proof(live, "token", key))
    assert right.status_code == 200 and right.json()["token_type"] == "DPoP"


def test_dpop_jkt_and_the_proof_must_agree(live: LiveIssuer) -> None:
    from honnin.jose import generate_key, jwk_from_public_key, jwk_thumbprint

    key, other = generate_key(), generate_key()
    form = {
        "response_type": "code", "client_id": "test-wallet", "redirect_uri": REDIRECT,
        "code_challenge": CHALLENGE.decode(), "code_challenge_method": "S256",
        "issuer_state": _issuer_state(_offer(live)),
        "dpop_jkt": jwk_thumbprint(jwk_from_public_key(other)),
    }  # fmt: skip
    answer = httpx.post(f"{live.base}/par", data=form, headers={"DPoP": _proof(live, "par", key)})
    assert_oauth_error(answer, 400, "invalid_dpop_proof")
    forged = httpx.post(f"{live.base}/par", data=form, headers={"DPoP": "not-a-proof"})
    assert_oauth_error(forged, 400, "invalid_dpop_proof")


def test_the_wallet_binds_the_code_to_its_dpop_key(tmp_path: Path) -> None:
    from test_oid4vci_dpop import _header_jwk, _Recording

    recorder = _Recording()
    with live_issuer(wrap=recorder) as live, Wallet.open(
        tmp_path / "w.wallet", "482913", kdf=KdfParams.INSECURE_TEST_ONLY,
        allow_loopback_http=True,
    ) as wallet:  # fmt: skip
        started = wallet.authorize(_offer(live).uri, redirect_uri=REDIRECT)
        wallet.finish_authorization(started, _browse(started.url))
    (par,) = [h for p, h in recorder.seen if p == "/par"]
    (token,) = [h for p, h in recorder.seen if p == "/token"]
    assert _header_jwk(par["dpop"]) == _header_jwk(token["dpop"])


_TEXT = st.text(max_size=80) | st.sampled_from(
    ["code", "S256", "plain", REDIRECT, "com.example.w:/cb", "", "%00", "é"]
)
_NAMES = [
    "response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method",
    "state", "issuer_state", "authorization_details", "scope", "dpop_jkt", "request_uri",
]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(st.sampled_from(_NAMES), _TEXT, max_size=8))
def test_any_pushed_request_is_answered_without_a_server_error(
    live: LiveIssuer, form: dict[str, str]
) -> None:
    answer = httpx.post(f"{live.base}/par", data=form)
    assert answer.status_code in (201, 400), answer.text
    assert answer.headers["cache-control"] == "no-store"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.dictionaries(st.sampled_from(["client_id", "request_uri", "x"]), _TEXT, max_size=3),
    body=st.binary(max_size=200),
)
def test_any_authorization_request_or_decision_gets_a_page_never_a_redirect(
    live: LiveIssuer, query: dict[str, str], body: bytes
) -> None:
    url = f"{live.base}/authorize?{urlencode(query)}"
    for answer in (
        httpx.get(url),
        httpx.post(
            url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        ),
    ):
        assert answer.status_code in (400, 413), answer.text
        assert "location" not in answer.headers


def test_a_page_shown_again_only_takes_its_newest_button(live: LiveIssuer) -> None:
    pushed = _push(live).json()["request_uri"]
    url = f"{live.base}/authorize?{urlencode({'client_id': 'test-wallet', 'request_uri': pushed})}"
    with httpx.Client() as browser:
        tokens = []
        for _ in range(2):
            found = re.search(r'name="decision_token" value="([^"]+)"', browser.get(url).text)
            assert found is not None
            tokens.append(found.group(1))
        stale = browser.post(url, data={"decision_token": tokens[0], "approve": "yes"})
        assert stale.status_code == 400
        fresh = browser.post(url, data={"decision_token": tokens[1], "approve": "yes"})
        assert fresh.status_code == 303 and "code=" in fresh.headers["location"]
