"""The issuer's DCQL trusted-authority identifiers kept with each held credential
(OpenID4VP 1.0 §6.1.1; spec/PROFILE.md §10 "Trusted authorities").

They are computed once, when a copy is accepted, and stored in the credential record as
``{"aki": [base64url, ...]}`` so that matching a query parses no certificate. A record
stored before they were kept has none; ``of_copy`` recomputes them from a stored copy.
"""

from __future__ import annotations

from collections.abc import Mapping

from honnin.errors import HonninError

from ._acceptance import authorities_of_chain, chain_of_copy

__all__ = ["of_copy", "parse_stored", "to_stored"]


def to_stored(authorities: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    """The JSON form kept in the credential record (sorted: the same sets, the same bytes)."""
    return {kind: sorted(values) for kind, values in authorities.items()}


def parse_stored(raw: object) -> dict[str, frozenset[str]] | None:
    """The identifiers of a credential record's ``authorities`` member; ``None`` when the
    record was stored before they were kept."""
    if not isinstance(raw, dict):
        return None
    return {
        str(kind): frozenset(v for v in values if isinstance(v, str))
        for kind, values in raw.items()
        if isinstance(values, list)
    }


def of_copy(credential: str) -> dict[str, frozenset[str]]:
    """The identifiers of the chain a stored copy carries; none when it has no readable
    chain (the credential then matches no ``trusted_authorities`` query, §6.1.1)."""
    try:
        return authorities_of_chain(chain_of_copy(credential))
    except HonninError:
        return {}
