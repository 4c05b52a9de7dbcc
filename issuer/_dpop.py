"""The issuer's DPoP checks (RFC 9449): proofs at the token endpoint and at the endpoints an
access token opens, the record of ``jti`` values seen (§11.1), and server nonces (§8, §9).

A proof is checked by ``honnin.oauth.verify_dpop_proof``; this module adds what needs the
server's state. Nonces are stateless: a time slot and its HMAC under a key drawn when the
service starts, so any nonce of the current or the previous slot is accepted and a restart
only costs each wallet one retry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from typing import Final

from honnin.clock import Clock
from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import HonninError, InvalidDpopProof, UseDpopNonce
from honnin.oauth import (
    DPOP_MAX_AGE,
    DPOP_MAX_SKEW,
    VerifiedDpopProof,
    verify_dpop_proof,
)

from ._replay import SEEN_KEPT, ReplayRecord

__all__ = ["DpopGate", "Presented"]

#: A nonce is good for its slot and the next one (60-120 s: §8 leaves the lifetime open).
_NONCE_SLOT: Final = 60
_SEEN_KEPT: Final = SEEN_KEPT


@dataclass(frozen=True, slots=True)
class Presented:
    """What one request presents to a protected endpoint: its ``Authorization`` header and
    every ``DPoP`` header it carried, with the method and URL a proof must name (the URL as
    this service publishes it, never as the request's ``Host`` header claims)."""

    authorization: str | None
    dpop: tuple[str, ...] = ()
    htm: str = "POST"
    htu: str = ""

    def __repr__(self) -> str:  # never the token or the proofs
        return f"Presented({self.htm} {self.htu}, dpop={len(self.dpop)})"


class _RefusedAtResource(InvalidDpopProof):
    # RFC 9449 §7.1: a protected resource answers 401 with a DPoP challenge.
    http_status = 401


class _NonceAtResource(UseDpopNonce):
    # RFC 9449 §9: at a protected resource the nonce request is a 401 challenge.
    http_status = 401


class DpopGate:
    """DPoP proofs for one issuer service (``nonces``: require server nonces, §8-§9)."""

    def __init__(self, clock: Clock, *, nonces: bool, max_skew: int = DPOP_MAX_SKEW) -> None:
        self._clock = clock
        self.nonces = nonces
        self._max_skew = max_skew
        self._key = secrets.token_bytes(32)
        self._seen = ReplayRecord(_SEEN_KEPT)

    def nonce(self) -> str | None:
        """The nonce to send in ``DPoP-Nonce`` now, or None when nonces are off."""
        if not self.nonces:
            return None
        return self._nonce_of(int(self._clock.now()) // _NONCE_SLOT)

    def _nonce_of(self, slot: int) -> str:
        packed = struct.pack(">Q", slot)
        return b64url_encode(packed + hmac.new(self._key, packed, hashlib.sha256).digest()[:16])

    def _nonce_ok(self, nonce: str | None) -> bool:
        if nonce is None:
            return False
        try:
            raw = b64url_decode(nonce, what="DPoP nonce")
        except HonninError:
            return False
        if len(raw) != 24:
            return False
        slot = struct.unpack(">Q", raw[:8])[0]
        current = int(self._clock.now()) // _NONCE_SLOT
        return slot in (current, current - 1) and hmac.compare_digest(
            raw[8:], hmac.new(self._key, raw[:8], hashlib.sha256).digest()[:16]
        )

    def check(
        self,
        presented: Presented,
        *,
        access_token: str | None = None,
        jkt: str | None = None,
    ) -> VerifiedDpopProof | None:
        """The request's DPoP proof, checked, or None when it carries none.

        At the token endpoint ``access_token`` is None; at a protected endpoint it is the
        presented token and ``jkt`` the key it is bound to (errors are then 401s).

        Raises:
            InvalidDpopProof: more than one DPoP header, a proof ``verify_dpop_proof``
                refuses, or a replayed one.
            UseDpopNonce: nonces are on and the proof carries no current one (with the
                nonce to use in ``fields["dpop_nonce"]``).
        """
        resource = access_token is not None
        refused = _RefusedAtResource if resource else InvalidDpopProof
        if not presented.dpop:
            return None
        if len(presented.dpop) != 1:
            # §4.3 step 1: not more than one DPoP header field.
            raise refused("more than one DPoP header", reason="count")
        now = self._clock.now()
        try:
            proof = verify_dpop_proof(
                presented.dpop[0],
                htm=presented.htm,
                htu=presented.htu,
                now=now,
                access_token=access_token,
                jkt=jkt,
                max_skew=self._max_skew,
            )
        except InvalidDpopProof as exc:
            raise refused(exc.message, **exc.fields) from exc
        if self.nonces and not self._nonce_ok(proof.nonce):
            # §8 / §9: answer with the nonce to use; the proof is not recorded as seen.
            needed = _NonceAtResource if resource else UseDpopNonce
            raise needed(
                "the DPoP proof must carry the server's current nonce", dpop_nonce=self.nonce()
            )
        self._remember(proof, now, refused)
        return proof

    def missing_at_resource(self) -> InvalidDpopProof:
        """The error for a DPoP-bound token that came without a proof (§7.1)."""
        return _RefusedAtResource("a DPoP-bound token needs a DPoP proof", reason="missing")

    def _remember(
        self, proof: VerifiedDpopProof, now: float, refused: type[InvalidDpopProof]
    ) -> None:
        # §11.1: a proof is accepted once. Its jti is kept to the end of its iat window.
        until = proof.issued_at + DPOP_MAX_AGE + self._max_skew
        why = self._seen.accept(
            proof.jkt, proof.jti, issued_at=proof.issued_at, until=until, now=now
        )
        if why:
            raise refused(f"DPoP: {why}", reason="replay")
