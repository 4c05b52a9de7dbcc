"""PIN attempt policy (HOSTILE-CASES D7, WL-20..22; ARF WIAM_15b/16a; ASVS 6.3.1).

* Every attempt is counted *before* the Argon2id result is known, and the count is on disk
  (``synchronous=FULL``) before the KDF runs: killing the process or cutting power during
  the KDF cannot give a free guess (WL-21).
* After 5 consecutive failures each further attempt waits: 30 s, 2 min, 10 min, 1 h, 4 h.
* After 10 the wallet is locked until recovery (``WalletLocked(retry_after=None)``).
* A refused attempt (back-off or lock) never runs the KDF, so a correct PIN during a lockout
  is refused exactly like a wrong one (WL-22).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Final

from honnin.errors import WalletLocked

__all__ = [
    "BACKOFF_AFTER",
    "LOCK_AFTER",
    "PinCounter",
    "backoff_seconds",
    "check_may_attempt",
]

#: Consecutive failures after which every further attempt must wait.
BACKOFF_AFTER: Final = 5
#: Consecutive failures after which only recovery opens the wallet.
LOCK_AFTER: Final = 10
# D7 "30 s, 2 min, 10 min ...": waits after 5, 6, 7, 8, 9 failures.
_BACKOFF: Final = (30, 120, 600, 3600, 14400)


@dataclass(frozen=True, slots=True)
class PinCounter:
    """The persistent attempt counter: consecutive failures and the time of the last one.

    It lives in the wallet file in clear (it must be readable before the PIN is known) with
    a SHA-256 checksum that detects accidental damage. It cannot detect a deliberate edit or
    a copied-back older file; see docs/WALLET-SECURITY.md.
    """

    failures: int
    last_attempt: float

    def checksum(self, wallet_id: bytes) -> bytes:
        """SHA-256 over the wallet id and both fields (damage detection, not a MAC)."""
        packed = struct.pack(">qd", self.failures, self.last_attempt)
        return hashlib.sha256(b"honnin pin counter v1\0" + wallet_id + packed).digest()


def backoff_seconds(failures: int) -> float | None:
    """How long to wait after ``failures`` consecutive failures; ``None`` means locked."""
    if failures >= LOCK_AFTER:
        return None
    if failures < BACKOFF_AFTER:
        return 0.0
    return float(_BACKOFF[failures - BACKOFF_AFTER])


def check_may_attempt(counter: PinCounter, now: float) -> None:
    """Refuse an attempt during back-off or lockout, before any KDF work.

    A clock that went backwards (now earlier than the last attempt) restarts the wait
    rather than shortening it.

    Raises:
        WalletLocked: ``retry_after`` seconds (``None``: locked until recovery).
    """
    wait = backoff_seconds(counter.failures)
    if wait is None:
        raise WalletLocked(
            f"{counter.failures} wrong PINs: the wallet is locked until recovery",
            retry_after=None,
            failures=counter.failures,
        )
    if wait <= 0:
        return
    elapsed = max(0.0, now - counter.last_attempt)
    if elapsed < wait:
        retry_after = wait - elapsed
        raise WalletLocked(
            f"{counter.failures} wrong PINs: try again in {retry_after:.0f} s",
            retry_after=retry_after,
            failures=counter.failures,
        )
