"""Signing one credential copy in each wire format the issuer speaks.

* ``dc+sd-jwt``: an SD-JWT VC (``honnin.sdjwt.issue_sd_jwt_vc``; RFC 9901) with ``typ``
  ``dc+sd-jwt`` and the issuer chain in ``x5c`` (SD-JWT VC §3.5), registered claims in the
  clear (§3.2.2: ``iss``, ``iat``, ``exp``, ``vct``, ``cnf``, ``status`` are never
  selectively disclosable), the type's ``sd`` always/allowed claims disclosable (§5.6.3).
* ``mso_mdoc``: an ISO/IEC 18013-5 IssuerSigned (MSO in a COSE_Sign1 with ``x5chain``,
  the holder key as ``deviceKey``), wire form base64url (OpenID4VCI 1.0 App. A.2.4).

Every copy gets fresh salts and decoy digests (RFC 9901 §4.2.1, §4.2.5) and no unique
identifier such as ``jti`` (RFC 9901 §10.1; OpenID4VCI §15.4.1): the copies of a batch share
nothing but the values the person chose to disclose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from honnin.credential_types import CredentialType
from honnin.errors import SchemaViolation
from honnin.jose import PrivateKey
from honnin.sdjwt import issue_sd_jwt_vc
from honnin.status import StatusReference

__all__ = ["DAY", "REGISTERED_CLAIMS", "SdJwtVcSigner", "coarse_day"]

#: Seconds in a day: timestamps are rounded down to the day so that two credentials issued
#: seconds apart carry the same ``iat`` (HOSTILE-CASES IS-40; RFC 9901 §10.1).
DAY: Final = 86_400
#: SD-JWT VC §3.2.2 registered claims the issuer sets itself; a type's claims may not use them.
REGISTERED_CLAIMS: Final = frozenset(
    {"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "sub", "jti",
     "_sd", "_sd_alg", "..."}
)  # fmt: skip
#: Decoy digests per object with disclosable claims (RFC 9901 §4.2.5): the count of real
#: claims is hidden, and every copy draws its own.
DECOYS: Final = 2


def coarse_day(now: float) -> int:
    """``now`` rounded down to 00:00:00 UTC of its day."""
    return int(now) // DAY * DAY


def check_claim_names(type_id: str, claims: Mapping[str, Any]) -> None:
    """Refuse a type's claims that would overwrite a registered claim.

    Raises:
        SchemaViolation: a top-level claim name the issuer sets itself.
    """
    clash = sorted(REGISTERED_CLAIMS.intersection(claims))
    if clash:
        raise SchemaViolation(
            f"{type_id}: claim names {clash} are registered SD-JWT VC claims set by the issuer",
            credential_type=type_id,
            path=[clash[0]],
            rule="registered_claim",
        )


@dataclass(frozen=True)
class SdJwtVcSigner:
    """Signs SD-JWT VC copies with one issuer key and chain (the header is built once)."""

    key: PrivateKey = field(repr=False)
    iss: str
    x5c: tuple[str, ...]

    def sign_batch(
        self,
        credential_type: CredentialType,
        claims: Mapping[str, Any],
        *,
        holder_jwks: Sequence[Mapping[str, Any]],
        statuses: Sequence[StatusReference],
        iat: int,
        exp: int,
    ) -> tuple[str, ...]:
        """One SD-JWT VC copy per holder key (``cnf.jwk``, RFC 7800 §3.2) and status
        reference; each copy draws its own salts and decoys."""
        disclosable = credential_type.disclosable_paths(claims)
        return tuple(
            issue_sd_jwt_vc(
                claims,
                self.key,
                vct=credential_type.vct,
                iss=self.iss,
                x5c=self.x5c,
                holder_key=jwk,
                disclosable=disclosable,
                iat=iat,
                exp=exp,
                status=status,
                decoys=DECOYS,
            )
            for jwk, status in zip(holder_jwks, statuses, strict=True)
        )
