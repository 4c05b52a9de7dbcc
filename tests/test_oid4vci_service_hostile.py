"""Hostile requests to the issuer service over real HTTP: each answered with its OAuth error
and HTTP status, and nothing issued or stored (HOSTILE-CASES §2.1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
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

from honnin.jose import generate_key, jwk_from_private_key, jwk_from_public_key, sign_jws
from honnin.oid4vci import PROOF_JWT_TYP, build_proof_jwt
from issuer import IssuerSettings, Offer


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    settings = IssuerSettings(dev=True, nonce_lifetime=60, access_token_lifetime=300)
    with live_issuer(settings=settings) as served:
        yield served


@pytest.fixture(scope="module")
def wallet(live: LiveIssuer) -> Iterator[ProtocolWallet]:
    with wallet_for(live) as client:
        yield client


def allocated(live: LiveIssuer) -> int:
    """Status indices taken so far, over every list."""
    store = live.issuer.status_store
    return sum(len(store.allocated_indices(i)) for i in live.issuer.status.list_ids())


class Nothing:
    """Asserts that nothing was issued or allocated inside the block."""

    def __init__(self, live: LiveIssuer) -> None:
        self.live = live

    def __enter__(self) -> None:
        self.before = (len(self.live.issuer.store.issuances()), allocated(self.live))

    def __exit__(self, *exc: Any) -> None:
        after = (len(self.live.issuer.store.issuances()), allocated(self.live))
        if exc[0] is None:
            assert after == self.before, "something was issued or allocated"


def offered(live: LiveIssuer, **options: Any) -> Offer:
    return live.issuer.create_offer("withholding-slip", CLAIMS, **options)


def code_of(wallet: ProtocolWallet, offer: Offer) -> str:
    grant = wallet.resolve(offer).pre_authorized_code
    assert grant is not None
    return grant.pre_authorized_code


# -- token endpoint -------------------------------------------------------------------------


def test_wrong_tx_code_five_times_voids_the_code(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = offered(live)
    assert offer.tx_code is not None
    code = code_of(wallet, offer)
    wrong = "0" * 6 if offer.tx_code != "0" * 6 else "1" * 6
    with Nothing(live):
        for attempt in range(5):
            response = wallet.token_response(code, wrong)
            assert_oauth_error(response, 400, "invalid_grant")
            assert response.json()["attempts_left"] == 4 - attempt
        # The code is void now: even the right tx_code fails.
        assert_oauth_error(wallet.token_response(code, offer.tx_code), 400, "invalid_grant")


def test_pre_authorized_code_reused(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = offered(live)
    code = code_of(wallet, offer)
    assert wallet.token_response(code, offer.tx_code).status_code == 200
    with Nothing(live):
        assert_oauth_error(wallet.token_response(code, offer.tx_code), 400, "invalid_grant")


def test_parallel_token_requests_with_one_code(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    """HOSTILE-CASES IS-26: one code, many racing redemptions, exactly one token."""
    offer = offered(live)
    code = code_of(wallet, offer)
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def redeem() -> None:
        with httpx.Client(timeout=30) as http:
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                "pre-authorized_code": code,
                "tx_code": offer.tx_code or "",
            }
            barrier.wait()
            statuses.append(http.post(f"{live.base}/token", data=form).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 9


def test_expired_pre_authorized_code(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = offered(live, lifetime=120)
    code = code_of(wallet, offer)
    live.clock.advance(121)
    with Nothing(live):
        assert_oauth_error(wallet.token_response(code, offer.tx_code), 400, "invalid_grant")


def test_unknown_pre_authorized_code(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    assert_oauth_error(wallet.token_response("not-a-code", "123456"), 400, "invalid_grant")


def test_tx_code_missing_or_unexpected(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    with_tx = offered(live)
    assert_oauth_error(
        wallet.token_response(code_of(wallet, with_tx), None), 400, "invalid_request"
    )
    without = offered(live, tx_code=False)
    code = code_of(wallet, without)
    assert_oauth_error(wallet.token_response(code, "123456"), 400, "invalid_request")
    # Neither mistake used the code up.
    assert wallet.token_response(code, None).status_code == 200


def test_unsupported_grant_type_and_malformed_forms(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    url = f"{live.base}/token"
    response = wallet.http.post(url, data={"grant_type": "client_credentials"})
    assert_oauth_error(response, 400, "unsupported_grant_type")
    repeated = "grant_type=a&grant_type=b"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_oauth_error(
        wallet.http.post(url, content=repeated, headers=headers), 400, "invalid_request"
    )
    as_json = wallet.http.post(url, json={"grant_type": "x"})
    assert_oauth_error(as_json, 400, "invalid_request")


# -- access tokens ----------------------------------------------------------------------------


def test_access_token_after_expiry(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token = wallet.token(offered(live))
    live.clock.advance(301)
    proofs = wallet.proofs(wallet.nonce(), 1)
    with Nothing(live):
        response = wallet.credential_response(token, SD, proofs)
        assert_oauth_error(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_access_token_for_another_offers_configuration(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    token = wallet.token(offered(live))
    proofs = wallet.proofs(wallet.nonce(), 1)
    with Nothing(live):
        response = wallet.credential_response(token, "birth-certificate.sd_jwt_vc", proofs)
        assert_oauth_error(response, 400, "credential_request_denied")
        mdoc = wallet.credential_response(token, "withholding-slip.mso_mdoc", proofs)
        assert_oauth_error(mdoc, 400, "credential_request_denied")


def test_missing_unknown_or_query_access_token(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    body = {"credential_configuration_id": SD, "proofs": {"jwt": ["a.b.c"]}}
    url = f"{live.base}/credential"
    with Nothing(live):
        assert_oauth_error(wallet.http.post(url, json=body), 401, "invalid_token")
        unknown = wallet.http.post(url, json=body, headers={"Authorization": "Bearer nope"})
        assert_oauth_error(unknown, 401, "invalid_token")
        token = wallet.token(offered(live))
        in_query = wallet.http.post(url, json=body, params={"access_token": token})
        assert_oauth_error(in_query, 400, "invalid_request")


# -- nonces -----------------------------------------------------------------------------------


def test_c_nonce_reused(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token = wallet.token(offered(live))
    nonce = wallet.nonce()
    first = wallet.credential_response(token, SD, wallet.proofs(nonce, 1))
    assert first.status_code == 200, first.text
    with Nothing(live):
        again = wallet.credential_response(token, SD, wallet.proofs(nonce, 1))
        assert_oauth_error(again, 400, "invalid_nonce")


def test_c_nonce_expired(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token = wallet.token(offered(live))
    nonce = wallet.nonce()
    live.clock.advance(61)
    with Nothing(live):
        response = wallet.credential_response(token, SD, wallet.proofs(nonce, 1))
        assert_oauth_error(response, 400, "invalid_nonce")


def test_c_nonce_never_issued(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token = wallet.token(offered(live))
    with Nothing(live):
        response = wallet.credential_response(token, SD, wallet.proofs("made-up-nonce", 1))
        assert_oauth_error(response, 400, "invalid_nonce")


def test_nonces_are_distinct_and_long(wallet: ProtocolWallet) -> None:
    nonces = {wallet.nonce() for _ in range(20)}
    assert len(nonces) == 20
    assert all(len(n) >= 43 for n in nonces)


def test_two_concurrent_requests_with_one_nonce(live: LiveIssuer) -> None:
    """Exactly one of the racing requests wins the c_nonce (HOSTILE-CASES IS-12)."""
    with wallet_for(live) as wallet:
        token = wallet.token(offered(live))
        nonce = wallet.nonce()
        bodies = [wallet.proofs(nonce, 2) for _ in range(8)]
    before = (len(live.issuer.store.issuances()), allocated(live))
    barrier = threading.Barrier(len(bodies))
    results: list[int] = []
    errors: list[str] = []

    def race(proofs: list[str]) -> None:
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            response = http.post(
                f"{live.base}/credential",
                json={"credential_configuration_id": SD, "proofs": {"jwt": proofs}},
                headers={"Authorization": f"Bearer {token}"},
            )
        results.append(response.status_code)
        if response.status_code != 200:
            errors.append(response.json()["error"])

    threads = [threading.Thread(target=race, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] + [400] * (len(bodies) - 1)
    assert errors == ["invalid_nonce"] * (len(bodies) - 1)
    after = (len(live.issuer.store.issuances()), allocated(live))
    assert after == (before[0] + 1, before[1] + 2)


# -- proofs -----------------------------------------------------------------------------------


def _fresh(live: LiveIssuer, wallet: ProtocolWallet) -> tuple[str, str]:
    return wallet.token(offered(live)), wallet.nonce()


def _proof(live: LiveIssuer, c_nonce: str | None, **changes: Any) -> str:
    key = generate_key()
    header: dict[str, Any] = {"typ": PROOF_JWT_TYP, "jwk": jwk_from_public_key(key)}
    header.update(changes.pop("header", {}))
    claims: dict[str, Any] = {"aud": live.base, "iat": int(live.clock.now()), "nonce": c_nonce}
    claims.update(changes)
    return sign_jws({k: v for k, v in claims.items() if v is not None}, key, header=header)


def test_proof_signed_by_another_key_than_its_jwk(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    other = jwk_from_public_key(generate_key())
    with Nothing(live):
        response = wallet.credential_response(
            token, SD, [_proof(live, nonce, header={"jwk": other})]
        )
        assert_oauth_error(response, 400, "invalid_proof")


def test_proof_with_wrong_typ(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        proof = _proof(live, nonce, header={"typ": "JWT"})
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_with_wrong_aud(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        proof = _proof(live, nonce, aud="https://another-issuer.example")
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_with_stale_iat(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        proof = _proof(live, nonce, iat=int(live.clock.now()) - 3600)
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_from_the_future(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        proof = _proof(live, nonce, iat=int(live.clock.now()) + 3600)
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_without_nonce(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, _ = _fresh(live, wallet)
    with Nothing(live):
        proof = _proof(live, None)
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_with_a_private_key_in_its_header(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    key = generate_key()
    header = {"typ": PROOF_JWT_TYP, "jwk": jwk_from_private_key(key)}
    claims = {"aud": live.base, "iat": int(live.clock.now()), "nonce": nonce}
    with Nothing(live):
        proof = sign_jws(claims, key, header=header)
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_proof_with_alg_none(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    signed = _proof(live, nonce)
    unsigned_header = "eyJhbGciOiJub25lIiwidHlwIjoib3BlbmlkNHZjaS1wcm9vZitqd3QifQ"
    proof = f"{unsigned_header}.{signed.split('.')[1]}."
    with Nothing(live):
        assert_oauth_error(wallet.credential_response(token, SD, [proof]), 400, "invalid_proof")


def test_two_proofs_for_one_key(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    key = generate_key()
    proof = build_proof_jwt(key, audience=live.base, nonce=nonce, now=live.clock.now())
    with Nothing(live):
        response = wallet.credential_response(token, SD, [proof, proof])
        assert_oauth_error(response, 400, "invalid_proof")


def test_missing_proofs(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, _ = _fresh(live, wallet)
    with Nothing(live):
        response = wallet.http.post(
            f"{live.base}/credential",
            json={"credential_configuration_id": SD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert_oauth_error(response, 400, "invalid_proof")


# -- credential requests ------------------------------------------------------------------------


def test_unknown_credential_configuration(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        response = wallet.credential_response(token, "passport.sd_jwt_vc", wallet.proofs(nonce, 1))
        assert_oauth_error(response, 400, "unknown_credential_configuration")


def test_more_proofs_than_the_batch_size(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    with Nothing(live):
        response = wallet.credential_response(token, SD, wallet.proofs(nonce, 9))
        assert_oauth_error(response, 400, "invalid_credential_request")
    # Refused before the nonce was touched: the same nonce still works.
    assert wallet.credential_response(token, SD, wallet.proofs(nonce, 8)).status_code == 200


def test_body_over_512_kib(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, nonce = _fresh(live, wallet)
    padding = "x" * (512 * 1024)
    with Nothing(live):
        response = wallet.credential_response(token, SD, wallet.proofs(nonce, 1), pad=padding)
        assert_oauth_error(response, 413, "invalid_request")


def test_credential_request_that_is_not_json(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token, _ = _fresh(live, wallet)
    url = f"{live.base}/credential"
    auth = {"Authorization": f"Bearer {token}"}
    with Nothing(live):
        text = wallet.http.post(url, content=b"{}", headers={**auth, "Content-Type": "text/plain"})
        assert_oauth_error(text, 400, "invalid_credential_request")
        duplicate = b'{"credential_configuration_id":"a","credential_configuration_id":"b"}'
        response = wallet.http.post(
            url, content=duplicate, headers={**auth, "Content-Type": "application/json"}
        )
        assert_oauth_error(response, 400, "invalid_credential_request")


# -- deferred and notification ----------------------------------------------------------------


def test_unknown_transaction_and_notification_ids(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    token = wallet.token(offered(live))
    auth = {"Authorization": f"Bearer {token}"}
    recorded = len(live.issuer.store.notifications())
    deferred = wallet.http.post(
        f"{live.base}/deferred_credential", json={"transaction_id": "nope"}, headers=auth
    )
    assert_oauth_error(deferred, 400, "invalid_transaction_id")
    notification = wallet.http.post(
        f"{live.base}/notification",
        json={"notification_id": "nope", "event": "credential_deleted"},
        headers=auth,
    )
    assert_oauth_error(notification, 400, "invalid_notification_id")
    malformed = wallet.http.post(
        f"{live.base}/notification", json={"notification_id": "x", "event": "bad"}, headers=auth
    )
    assert_oauth_error(malformed, 400, "invalid_notification_request")
    assert len(live.issuer.store.notifications()) == recorded


def test_unknown_endpoint_and_method(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    assert_oauth_error(wallet.http.get(f"{live.base}/nowhere"), 404, "invalid_request")
    assert_oauth_error(wallet.http.get(f"{live.base}/credential"), 405, "invalid_request")
