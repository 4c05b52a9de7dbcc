"""Find the status reference inside a credential this issuer issued (to revoke "this one").

The issuer reads its own credential back, so no trust decision is made here: the reference
only selects a batch in the issuer's own records, and an unknown one is ``NotFound``.
"""

from __future__ import annotations

from honnin.errors import HonninError
from honnin.jose import parse_jws
from honnin.status import StatusReference, parse_status_reference

__all__ = ["status_of_credential"]


def status_of_credential(credential: str) -> StatusReference | None:
    """The ``status.status_list`` reference of an SD-JWT VC or mdoc copy, or ``None``."""
    try:
        if "~" in credential or "." in credential:
            claims = parse_jws(credential.split("~", 1)[0]).unverified_claims()
            status = claims.get("status")
        else:
            from ._mdoc_signer import mdoc_status_claim

            status = mdoc_status_claim(credential)
        return None if status is None else parse_status_reference(status)
    except HonninError:
        return None
