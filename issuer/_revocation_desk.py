"""The holder's revocation endpoint (spec/PROFILE.md "Holder-initiated revocation";
DESIGN "Controllability": the person can ask the issuer to revoke a credential).

``POST {iss}/revocation`` with ``{"credential": <a copy>, "proof": <honnin-revocation+jwt>}``.
Checks, each answered before anything changes: the body; the ``c_nonce`` the proof names,
consumed atomically whether the request then succeeds or not (as for key proofs, D1); the
copy is one this issuer signed (its own key, at ``now``); the proof is signed by the copy's
binding key over this issuer, that nonce, a fresh ``iat`` and the copy's hash. Only then is
the copy's whole batch revoked (revocation is final, Token Status List INVALID).
"""

from __future__ import annotations

from honnin.clock import Clock
from honnin.encoding import b64url_decode
from honnin.errors import HonninError, InvalidNonce, InvalidRequest
from honnin.jose import PublicKey, public_key_from_jwk
from honnin.mdoc import verify_issuer_signed
from honnin.revocation import parse_revocation_request, verify_revocation_proof
from honnin.sdjwt import receive_sd_jwt

from ._credential_desk import Reply
from ._dpop import Presented
from ._issuer import Issuer
from ._settings import IssuerSettings

__all__ = ["RevocationDesk"]


class RevocationDesk:
    """Revokes a batch on its holder's authenticated request."""

    def __init__(self, issuer: Issuer, settings: IssuerSettings, clock: Clock) -> None:
        self._issuer = issuer
        self._settings = settings
        self._clock = clock

    def _holder_key(self, credential: str, now: float) -> PublicKey:
        """The binding key of a copy this issuer signed (its own leaf key, pinned)."""
        leaf = self._issuer.chain[0]
        try:
            if "~" in credential:
                held = receive_sd_jwt(credential, leaf.public_key(), now=now)  # type: ignore[arg-type]
                cnf = held.claims.get("cnf")
                jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
                return public_key_from_jwk(jwk)
            verified = verify_issuer_signed(
                b64url_decode(credential, what="credential"), trust_anchors=[leaf], now=now
            )
            return verified.device_key
        except HonninError as exc:
            raise InvalidRequest(
                f"not a valid credential of this issuer: {exc.message}", reason="credential"
            ) from exc

    def revoke(self, presented: Presented, body: bytes) -> Reply:
        """Handle one request; ``presented`` is unused (the proof authenticates).

        Raises:
            InvalidRequest: a malformed body, or a copy this issuer did not sign.
            InvalidNonce: the proof's ``c_nonce`` is unknown, used or expired.
            InvalidProof: no or a bad proof of possession of the copy's key.
            NotFound: the copy names no batch of this issuer.
        """
        request = parse_revocation_request(body)
        nonce = request.claimed_nonce()
        now = self._clock.now()
        if not self._issuer.store.consume_nonce(nonce, now):
            raise InvalidNonce("c_nonce unknown, used or expired; get a fresh one", reason="nonce")
        holder_key = self._holder_key(request.credential, now)
        verify_revocation_proof(
            request,
            holder_key,
            audience=self._issuer.iss,
            now=now,
            max_age=self._settings.proof_max_age,
            max_skew=self._settings.clock_skew,
        )
        self._issuer.revoke(request.credential)
        return 200, {"revoked": True}
