"""Attestation-based client authentication at the issuer's authorization server (the wallet
attestation of OpenID4VCI 1.0 App. E, draft-ietf-oauth-attestation-based-client-auth-07):
the wallet provider's attestation, chained to a configured wallet-provider anchor, and its
proof of possession, at the pushed authorization request and token endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography import x509

from honnin.clock import Clock
from honnin.errors import InvalidClient
from honnin.jose import PublicKey
from honnin.oauth import (
    CLIENT_ATTESTATION_HEADER,
    CLIENT_ATTESTATION_POP_HEADER,
    VerifiedClientAttestation,
    verify_client_attestation,
)
from honnin.trust import certificates_from_x5c, validate_chain

from ._replay import ReplayRecord

__all__ = ["ClientGate"]


class _Headers(Protocol):
    def getlist(self, key: str) -> list[str]: ...


class ClientGate:
    """Checks a request's client attestation; ``required`` refuses requests without one."""

    def __init__(
        self,
        clock: Clock,
        *,
        issuer: str,
        anchors: Sequence[x509.Certificate],
        required: bool,
        skew: int = 60,
    ) -> None:
        if required and not anchors:
            raise ValueError("client attestation is required but no wallet provider is trusted")
        self._clock = clock
        self._issuer = issuer
        self._anchors = tuple(anchors)
        self.required = required
        self._skew = skew
        self._seen = ReplayRecord()

    @property
    def enabled(self) -> bool:
        """Whether any wallet provider is trusted (the method is offered in the metadata)."""
        return bool(self._anchors)

    def _attester_key(self, header: Mapping[str, Any], _: Mapping[str, Any]) -> PublicKey:
        # The provider's chain in x5c, to a configured wallet-provider anchor (HAIP: the
        # chain leaves the anchor out).
        chain = certificates_from_x5c(header.get("x5c"))
        at = datetime.fromtimestamp(self._clock.now(), tz=UTC)
        return validate_chain(chain, self._anchors, at=at).public_key  # type: ignore[return-value]

    def check(self, headers: _Headers, client_id: str | None) -> VerifiedClientAttestation | None:
        """The request's verified attestation, or None when it sent none (and none is
        required).

        Raises:
            InvalidClient: a missing (when required), repeated or refused attestation or PoP,
                an attestation for another ``client_id``, or a replayed PoP.
        """
        attestations = headers.getlist(CLIENT_ATTESTATION_HEADER)
        pops = headers.getlist(CLIENT_ATTESTATION_POP_HEADER)
        if not attestations and not pops:
            if self.required:
                raise InvalidClient(
                    "this issuer requires a wallet attestation (OAuth-Client-Attestation)",
                    reason="missing",
                )
            return None
        if len(attestations) != 1 or len(pops) != 1:
            raise InvalidClient(
                "exactly one client attestation and one PoP header are needed", reason="count"
            )
        if not self._anchors:
            raise InvalidClient("this issuer trusts no wallet provider", reason="attester")
        now = self._clock.now()
        verified = verify_client_attestation(
            attestations[0],
            pops[0],
            audience=self._issuer,
            now=now,
            attester_key=self._attester_key,
            client_id=client_id,
            skew=self._skew,
        )
        why = self._seen.accept(
            verified.instance_jkt,
            verified.jti,
            issued_at=verified.pop_issued_at,
            until=verified.pop_expires,
            now=now,
        )
        if why:
            raise InvalidClient(f"client attestation PoP: {why}", reason="replay")
        return verified
