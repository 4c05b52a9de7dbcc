"""Token endpoint (pre-authorized code grant, OpenID4VCI 1.0 §6), Nonce endpoint (§7) and
access token checks: bearer (RFC 6750 §2.1, §3.1) and DPoP-bound (RFC 9449 §5, §7).

Codes, tokens and transaction codes are compared by hash, in constant time; every
single-use value is consumed by one atomic store update (HOSTILE-CASES IS-25, IS-26, D1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from honnin.clock import Clock
from honnin.errors import (
    InvalidDpopProof,
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    UnsupportedGrantType,
)
from honnin.oauth import VerifiedDpopProof
from honnin.oid4vci import (
    AUTHORIZATION_CODE_GRANT,
    PRE_AUTHORIZED_CODE_GRANT,
    NonceResponse,
    TokenResponse,
    parse_token_request,
)

from ._authorization import AuthorizationDesk
from ._codes import new_secret, secret_hash, secret_matches, tx_code_hash
from ._dpop import DpopGate, Presented
from ._issuance_store import AccessTokenRecord, IssuanceStore, OfferRecord
from ._settings import IssuerSettings

__all__ = ["Grant", "GrantDesk", "Presented"]

log = logging.getLogger("issuer")

#: RFC 6750 §2.1 ``Authorization: Bearer <token>`` and RFC 9449 §7.1 ``DPoP <token>``;
#: scheme names are case-insensitive (RFC 9110 §11.1).
_BEARER = "bearer "
_DPOP = "dpop "
#: RFC 6750 §4 / RFC 9449 §5: the token types.
_TOKEN_TYPE = "Bearer"  # noqa: S105 - a token type name, not a secret
_DPOP_TOKEN_TYPE = "DPoP"  # noqa: S105 - a token type name, not a secret
#: Valid grants kept in memory (one per wallet in an issuance); beyond, the expired go.
_GRANTS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Grant:
    """A valid access token's record and the offer it was issued for."""

    token: AccessTokenRecord
    offer: OfferRecord


class GrantDesk:
    """The authorization-server half of the issuer service."""

    def __init__(
        self,
        store: IssuanceStore,
        settings: IssuerSettings,
        clock: Clock,
        token_endpoint: str = "",
        authorizations: AuthorizationDesk | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._token_endpoint = token_endpoint
        self._authorizations = authorizations
        self.dpop = DpopGate(clock, nonces=settings.dpop_nonce, max_skew=settings.clock_skew)
        self._purged_at = 0.0
        #: Grants of unexpired access tokens, by token hash. Neither part changes while the
        #: token is valid: a token record is never altered, and an offer's claims are purged
        #: only once every token of it has expired (``_housekeeping``'s grace). Expired or
        #: unknown tokens always go to the store.
        self._valid: dict[str, Grant] = {}

    def token(
        self,
        body: bytes,
        dpop: tuple[str, ...] = (),
        *,
        authenticate: Callable[[str | None], object] | None = None,
    ) -> dict[str, Any]:
        """Exchange a pre-authorized code (+ ``tx_code``) for an access token (§6.1, §6.2).

        ``authenticate`` checks the client (``client_id`` of the request) and raises
        ``InvalidClient`` to refuse it. ``dpop``: the request's DPoP headers. With a proof
        the token is DPoP-bound to its key (RFC 9449 §5, ``token_type`` ``DPoP``); without
        one it is a bearer token, unless ``dpop_required``.

        Raises:
            InvalidDpopProof / UseDpopNonce: a DPoP proof refused (RFC 9449 §5, §8), or none
                when one is required. Checked before the code is looked at.
            InvalidRequest: a malformed form, or ``tx_code`` missing / not expected (§6.3).
            UnsupportedGrantType: a grant other than the pre-authorized code, or the
                authorization code one (with ``authorizations``).
            InvalidGrant: an unknown, used, voided or expired code, or a wrong ``tx_code``
                (after ``tx_code_max_attempts`` wrong ones the code is void, §13.6.3).
        """
        # RFC 9449 §5: the proof is checked first, so a refused one never consumes the code
        # or a tx_code attempt.
        proof = self.dpop.check(Presented(None, dpop, "POST", self._token_endpoint))
        if proof is None and self._settings.dpop_required:
            raise InvalidDpopProof("this issuer requires a DPoP proof (RFC 9449)", reason="missing")
        request = parse_token_request(body)
        if authenticate is not None:
            # The client (its wallet attestation) before any code is looked at.
            authenticate(request.client_id)
        if request.grant_type == AUTHORIZATION_CODE_GRANT and self._authorizations is not None:
            # OpenID4VCI §6.1 / RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6).
            offer = self._authorizations.redeem(
                request.code or "",
                client_id=request.client_id,
                redirect_uri=request.redirect_uri,
                verifier=request.code_verifier,
                proof_jkt=proof.jkt if proof is not None else None,
            )
            return self._mint(offer, proof, self._clock.now())
        if request.grant_type != PRE_AUTHORIZED_CODE_GRANT:
            raise UnsupportedGrantType(
                "only the pre-authorized code grant is supported", grant_type=request.grant_type
            )
        code = request.pre_authorized_code or ""
        code_hash = secret_hash(code)
        state = self._store.code_state(code_hash)
        now = self._clock.now()
        if state is None:
            raise InvalidGrant("unknown pre-authorized code", reason="unknown")
        offer = state.offer
        if state.used:
            raise InvalidGrant("the pre-authorized code was already used", reason="used")
        if state.void:
            raise InvalidGrant(
                "the pre-authorized code is void (too many wrong tx_codes)", reason="void"
            )
        if offer.code_expires_at <= now:
            raise InvalidGrant("the pre-authorized code has expired", reason="expired")
        if offer.tx_code_hash is None:
            if request.tx_code is not None:
                # §6.3: a tx_code the offer did not ask for is invalid_request.
                raise InvalidRequest("tx_code was not requested by the offer", reason="tx_code")
        else:
            if request.tx_code is None:
                raise InvalidRequest("the offer requires a tx_code", reason="tx_code")
            if not secret_matches(offer.tx_code_hash, tx_code_hash(code, request.tx_code)):
                attempts = self._store.fail_tx_code(code_hash, self._settings.tx_code_max_attempts)
                left = max(0, self._settings.tx_code_max_attempts - attempts)
                log.info("wrong tx_code for offer %s (%d attempts left)", offer.offer_id, left)
                raise InvalidGrant("wrong tx_code", reason="tx_code", attempts_left=left)
        if not self._store.redeem_code(code_hash, now):
            # Lost a race with a concurrent redemption, a voiding or the expiry.
            raise InvalidGrant("the pre-authorized code can no longer be used", reason="used")
        return self._mint(offer, proof, now)

    def _mint(
        self, offer: OfferRecord, proof: VerifiedDpopProof | None, now: float
    ) -> dict[str, Any]:
        token = new_secret()
        lifetime = self._settings.access_token_lifetime
        jkt = proof.jkt if proof is not None else None
        self._store.add_access_token(
            secret_hash(token), AccessTokenRecord(offer.offer_id, now + lifetime, jkt)
        )
        response = TokenResponse(
            access_token=token,
            token_type=_TOKEN_TYPE if jkt is None else _DPOP_TOKEN_TYPE,
            expires_in=lifetime,
        )
        return response.to_json()

    def nonce(self) -> dict[str, Any]:
        """A fresh single-use ``c_nonce`` (§7.2), 256 bits from ``secrets``."""
        now = self._clock.now()
        nonce = new_secret()
        self._store.add_nonce(nonce, now + self._settings.nonce_lifetime)
        self._housekeeping(now)
        return NonceResponse(c_nonce=nonce).to_json()

    def _housekeeping(self, now: float) -> None:
        if now - self._purged_at < 60:
            return
        self._purged_at = now
        # Expired grants leave memory too: their offers' claims are not kept longer than
        # the store keeps them (OpenID4VCI 1.0 §15).
        self._valid = {h: g for h, g in self._valid.items() if g.token.expires_at > now}
        grace = self._settings.access_token_lifetime + self._settings.clock_skew
        removed = self._store.purge(now, claims_grace=grace)
        if removed:
            log.debug("purged %d expired rows", removed)

    def authorize(self, presented: Presented | str | None, *, allow_expired: bool = False) -> Grant:
        """The grant behind a request's access token: ``Authorization: Bearer`` (RFC 6750
        §2.1), or ``Authorization: DPoP`` with a DPoP proof from the token's key (RFC 9449
        §7.1). A string is a bare ``Authorization`` header (no DPoP header came).

        ``allow_expired`` serves the deferred and notification endpoints, which a wallet
        may call after the token's lifetime for a transaction it started in time.

        Raises:
            InvalidToken: no token, an unknown or (unless allowed) expired one, a DPoP-bound
                token sent as a bearer token, or a bearer token sent as DPoP (§7.1).
            InvalidDpopProof / UseDpopNonce: the DPoP proof of a DPoP-bound token refused.
        """
        if not isinstance(presented, Presented):
            presented = Presented(presented)
        authorization = presented.authorization or ""
        scheme = authorization[: len(_DPOP)].lower()
        if scheme == _DPOP:
            token, bound = authorization[len(_DPOP) :].strip(), True
        elif authorization[: len(_BEARER)].lower() == _BEARER:
            token, bound = authorization[len(_BEARER) :].strip(), False
        else:
            raise InvalidToken("an access token is required", reason="missing")
        grant = self._grant(token, allow_expired)
        jkt = grant.token.dpop_jkt
        if jkt is None:
            if bound:
                raise InvalidToken(
                    "a bearer token sent as a DPoP token", reason="scheme", dpop=True
                )
            return grant
        if not bound:
            # RFC 9449 §7.1: a DPoP-bound token is refused under the Bearer scheme.
            raise InvalidToken(
                "this access token is DPoP-bound: use the DPoP scheme", reason="scheme", dpop=True
            )
        proof = self.dpop.check(presented, access_token=token, jkt=jkt)
        if proof is None:
            raise self.dpop.missing_at_resource()
        return grant

    def _grant(self, token: str, allow_expired: bool) -> Grant:
        token_hash = secret_hash(token)
        now = self._clock.now()
        known = self._valid.get(token_hash)
        if known is not None and known.token.expires_at > now:
            return known
        record = self._store.access_token(token_hash) if token else None
        if record is None:
            raise InvalidToken("unknown access token", reason="unknown")
        if not allow_expired and record.expires_at <= now:
            raise InvalidToken("the access token has expired", reason="expired")
        offer = self._store.offer(record.offer_id)
        if offer is None:
            raise InvalidToken("the access token's offer is gone", reason="unknown")
        grant = Grant(record, offer)
        if record.expires_at > now:
            self._remember(token_hash, grant, now)
        return grant

    def _remember(self, token_hash: str, grant: Grant, now: float) -> None:
        if len(self._valid) >= _GRANTS_KEPT:
            self._valid = {h: g for h, g in self._valid.items() if g.token.expires_at > now}
            if len(self._valid) >= _GRANTS_KEPT:
                self._valid.clear()
        self._valid[token_hash] = grant
