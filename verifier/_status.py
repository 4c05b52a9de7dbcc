"""The verifier's status checking (Token Status List §8, fail closed per HOSTILE-CASES D5).

Status List Tokens are accepted when signed by a key whose ``x5c`` chain validates to the
verifier's issuer trust anchors (HAIP §5.3.1 signs them with ``x5c``), at the time of the
check. Lists are fetched through the ``Fetcher`` port only.
"""

from __future__ import annotations

from honnin.clock import Clock, as_datetime
from honnin.errors import UntrustedIssuer
from honnin.http import HttpxFetcher
from honnin.jose import PublicKey
from honnin.ports import Fetcher
from honnin.status import ListTokenHeader, StatusChecker
from honnin.trust import certificates_from_der_list, validate_chain

from ._trust import IssuerTrust

__all__ = ["status_checker_for", "status_key_resolver"]


def status_key_resolver(trust: IssuerTrust, clock: Clock) -> object:
    """A ``KeyResolver`` taking the list token's key from an ``x5c`` chain to the anchors."""

    def resolve(header: ListTokenHeader) -> PublicKey:
        if not header.x5c:
            raise UntrustedIssuer("the status list token carries no x5c chain", reason="no_x5c")
        chain = certificates_from_der_list(list(header.x5c))
        verified = validate_chain(chain, trust.anchors, at=as_datetime(clock))
        return verified.public_key  # type: ignore[return-value]

    return resolve


def status_checker_for(trust: IssuerTrust, fetcher: Fetcher | None, clock: Clock) -> StatusChecker:
    """A ``StatusChecker`` over ``fetcher`` (``honnin.http.HttpxFetcher`` when ``None``:
    no redirects, bounded bodies and timeouts)."""
    if fetcher is None:
        fetcher = HttpxFetcher()
    resolver = status_key_resolver(trust, clock)
    return StatusChecker(fetcher, resolver, clock=clock)  # type: ignore[arg-type]
