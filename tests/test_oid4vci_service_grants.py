"""Access-token grants kept in memory: expiry still enforced, the store still consulted for
unknown and expired tokens, and the memory bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_oid4vci_service_fixtures import (
    CLAIMS,
    SD,
    LiveIssuer,
    ShiftedClock,
    assert_oauth_error,
    live_issuer,
    wallet_for,
)

from honnin.credentials import CredentialFormat
from honnin.errors import InvalidToken
from issuer import AccessTokenRecord, IssuerSettings, OfferRecord, SqliteIssuanceStore
from issuer import _grants as grants_module
from issuer._codes import secret_hash
from issuer._grants import GrantDesk


@pytest.fixture
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as served:
        yield served


def test_a_remembered_token_still_expires(live: LiveIssuer) -> None:
    with wallet_for(live) as wallet:
        token = wallet.token(live.issuer.create_offer("withholding-slip", CLAIMS))
        first = wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1))
        assert first.status_code == 200
        live.clock.advance(301)
        issued = len(live.issuer.store.issuances())
        late = wallet.credential_response(token, SD, wallet.proofs(wallet.nonce(), 1))
        assert_oauth_error(late, 401, "invalid_token")
        assert len(live.issuer.store.issuances()) == issued


def _desk_with_tokens(count: int) -> tuple[GrantDesk, ShiftedClock, list[str]]:
    clock = ShiftedClock()
    store = SqliteIssuanceStore()
    now = clock.now()
    store.add_offer(
        OfferRecord(
            offer_id="o1",
            credential_type="withholding-slip",
            configuration_id=SD,
            format=CredentialFormat.SD_JWT_VC,
            claims=CLAIMS,
            code_hash="c",
            tx_code_hash=None,
            created_at=now,
            code_expires_at=now + 300,
        ),
        ref_hash=None,
        sealed=None,
    )
    tokens = [f"token-{n}" for n in range(count)]
    for n, token in enumerate(tokens):
        store.add_access_token(secret_hash(token), AccessTokenRecord("o1", now + 100 + n))
    return GrantDesk(store, IssuerSettings(dev=True), clock), clock, tokens


def test_remembered_grants_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grants_module, "_GRANTS_KEPT", 3)
    desk, clock, tokens = _desk_with_tokens(5)
    for token in tokens:
        assert desk.authorize(f"Bearer {token}").offer.offer_id == "o1"
    assert len(desk._valid) <= 3
    clock.advance(102.5)  # tokens 0..2 expired, 3 and 4 still valid
    for token in tokens[3:]:
        assert desk.authorize(f"Bearer {token}").token.expires_at > clock.now()
    for token in tokens[:3]:
        with pytest.raises(InvalidToken):
            desk.authorize(f"Bearer {token}")
        # The deferred and notification endpoints may use an expired token (from the store).
        assert desk.authorize(f"Bearer {token}", allow_expired=True).offer.offer_id == "o1"
    assert all(g.token.expires_at > clock.now() for g in desk._valid.values())


def test_unknown_tokens_are_never_remembered() -> None:
    desk, _, _ = _desk_with_tokens(1)
    for _ in range(3):
        with pytest.raises(InvalidToken):
            desk.authorize("Bearer unknown")
    assert desk._valid == {}


def test_housekeeping_forgets_expired_grants() -> None:
    desk, clock, tokens = _desk_with_tokens(2)
    for token in tokens:
        desk.authorize(f"Bearer {token}")
    assert len(desk._valid) == 2
    clock.advance(100.5)  # token 0 expired, token 1 still valid
    desk.nonce()  # runs the housekeeping (at most once a minute)
    assert [g.token.expires_at > clock.now() for g in desk._valid.values()] == [True]
