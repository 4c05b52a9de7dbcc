"""Signing ISO/IEC 18013-5 mdoc copies (``mso_mdoc``) for the issuer.

Each copy is an IssuerSigned with fresh salts, random digest IDs and decoy digests
(ISO/IEC 18013-5 §9.1.2.4-5), the holder key as MSO ``deviceKey``, the Token Status List
reference in the MSO ``status`` (draft-ietf-oauth-status-list §6.3), ``issuerAuth`` with the
issuer chain in ``x5chain`` (RFC 9360), and the wire form base64url of its CBOR
(OpenID4VCI 1.0 App. A.2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509

from honnin.encoding import b64url_decode, b64url_encode
from honnin.jose import PrivateKey, public_key_from_jwk
from honnin.limits import MAX_JWS_PAYLOAD
from honnin.mdoc import issue_mdoc, parse_issuer_signed
from honnin.status import StatusReference

__all__ = ["MdocSigner", "mdoc_status_claim"]

#: Decoy digests per namespace: the number of signed elements stays hidden (§9.1.2.4).
DECOYS: Final = 2


@dataclass(frozen=True)
class MdocSigner:
    """Signs mdoc copies with one issuer key and chain."""

    key: PrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...]

    def sign(
        self,
        doctype: str,
        elements: Mapping[str, Mapping[str, Any]],
        *,
        holder_jwk: Mapping[str, Any],
        status: StatusReference,
        signed: int,
        valid_until: int,
    ) -> str:
        """One copy bound to ``holder_jwk``; ``signed`` doubles as ``validFrom``."""
        signed_at = datetime.fromtimestamp(signed, tz=UTC)
        issuer_signed = issue_mdoc(
            doctype,
            elements,
            self.key,
            list(self.chain),
            public_key_from_jwk(dict(holder_jwk)),
            valid_from=signed_at,
            valid_until=datetime.fromtimestamp(valid_until, tz=UTC),
            signed=signed_at,
            status=status,
            decoys=DECOYS,
        )
        return b64url_encode(issuer_signed.encode())


def mdoc_status_claim(credential: str) -> dict[str, Any] | None:
    """The MSO ``status`` of an mdoc copy in wire form, as a JSON-shaped claim, or ``None``.

    Raises:
        HonninError: not an mdoc copy.
    """
    issuer_signed = parse_issuer_signed(
        b64url_decode(credential, what="mdoc credential"), max_size=MAX_JWS_PAYLOAD
    )
    status = issuer_signed.unverified_mso().status
    return None if status is None else status.to_claim()
