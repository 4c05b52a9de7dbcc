"""The wallet's DPoP key for one issuance (RFC 9449): a P-256 key made for the session and
never stored, so that access tokens are bound to it and two issuances share no key
(ISO/IEC 23220-1 unlinkability: a DPoP key is not a binding key and outlives nothing).

It signs one proof per request (§4.2) and keeps the latest ``DPoP-Nonce`` the server sent
(§8.2: the client uses the most recent one).
"""

from __future__ import annotations

from collections.abc import Callable

from honnin.http import HttpResponse
from honnin.jose import generate_key
from honnin.oauth import build_dpop_proof

__all__ = ["DpopKey"]

#: RFC 9449 §8 / §9: a server nonce is sent in this header; it is ASCII, bounded here.
_MAX_NONCE = 512


class DpopKey:
    """An ephemeral DPoP key and the server's latest nonce."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._key = generate_key()
        self._now = now
        self.nonce: str | None = None

    def headers(self, htm: str, url: str, access_token: str | None = None) -> dict[str, str]:
        """The ``DPoP`` header of one request, with ``Authorization: DPoP`` when it carries
        ``access_token`` (§7.1)."""
        proof = build_dpop_proof(
            self._key, htm=htm, htu=url, now=self._now(), nonce=self.nonce,
            access_token=access_token,
        )  # fmt: skip
        headers = {"dpop": proof}
        if access_token is not None:
            headers["authorization"] = f"DPoP {access_token}"
        return headers

    def learn(self, response: HttpResponse) -> bool:
        """Keep the answer's ``DPoP-Nonce``; True when it is a new one."""
        nonce = response.headers.get("dpop-nonce")
        if (
            nonce is None
            or nonce == self.nonce
            or not 0 < len(nonce) <= _MAX_NONCE
            or not nonce.isascii()
            or not nonce.isprintable()
        ):
            return False
        self.nonce = nonce
        return True

    def __repr__(self) -> str:  # never the key
        return "DpopKey()"
