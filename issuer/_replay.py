"""A record of the one-time proofs a service accepted (DPoP proofs, RFC 9449 §11.1; client
attestation PoPs), each kept to the end of the window it could be accepted in, in bounded
memory.
"""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = ["ReplayRecord"]

#: Proofs remembered at most (each ~100 bytes); see ``accept`` for what happens beyond.
SEEN_KEPT: Final = 200_000


class ReplayRecord:
    """One-time proofs by (key, jti)."""

    def __init__(self, kept: int = SEEN_KEPT) -> None:
        self._kept = kept
        #: SHA-256 of (key, jti) of every accepted proof -> the end of its window
        self._seen: dict[bytes, float] = {}
        #: Proofs issued at or before this time are refused (see ``accept``).
        self._floor = float("-inf")

    def accept(self, key: str, jti: str, *, issued_at: float, until: float, now: float) -> str:
        """Record a proof; "" when it is new, else why it is refused (a replay).

        When the record is full of live entries it forgets them all and refuses every proof
        issued up to now, so none of the forgotten ones can come back (a client signs a new
        proof and retries).
        """
        if issued_at <= self._floor:
            return "the proof was issued before the replay record was reset"
        digest = hashlib.sha256(f"{key}.{jti}".encode()).digest()
        if digest in self._seen:
            return "the proof was already used (jti seen)"
        if len(self._seen) >= self._kept:
            self._seen = {k: end for k, end in self._seen.items() if end > now}
            if len(self._seen) >= self._kept:
                self._seen.clear()
                self._floor = now
                return "the proof is too old for the replay record"
        self._seen[digest] = until
        return ""
