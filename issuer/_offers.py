"""Credential offers for the back office: one person, one offer, a QR code and a tx_code.

An offer carries a fresh pre-authorized code (OpenID4VCI 1.0 §4.1.1) and, by default, asks
for a Transaction Code that the back office sends by another channel (§4.1.1 ``tx_code``,
§13.6.1). By value, the offer JSON rides in the URI; by reference, the URI names
``{issuer}/offers/{ref}`` where ``ref`` is a random secret and the stored document is
sealed with a key derived from it, so the store alone does not reveal the code.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from honnin.credentials import CredentialFormat
from honnin.encoding import json_dumps, json_loads
from honnin.errors import NotFound
from honnin.oid4vci import (
    AuthorizationCodeGrant,
    CredentialOffer,
    CredentialOfferGrants,
    PreAuthorizedCodeGrant,
    TxCode,
    TxCodeInputMode,
    build_credential_offer_uri,
)
from honnin.qr import QrCode

from ._codes import secret_hash

__all__ = [
    "OFFERS_PATH",
    "Offer",
    "build_authorization_offer_document",
    "build_offer_document",
    "configuration_id",
    "issuer_state_hash",
    "open_sealed_offer",
    "seal_offer",
]

#: Where offers by reference are served, under the Credential Issuer Identifier.
OFFERS_PATH: Final = "/offers/"
_SEAL_LABEL: Final = b"honnin offer by reference v1"
_FORMAT_SUFFIX: Final = {
    CredentialFormat.SD_JWT_VC: "sd_jwt_vc",
    CredentialFormat.MSO_MDOC: "mso_mdoc",
}


def configuration_id(type_id: str, credential_format: CredentialFormat | str) -> str:
    """The ``credential_configuration_id`` of a catalogue type in a format
    (``withholding-slip.sd_jwt_vc``, ``withholding-slip.mso_mdoc``)."""
    return f"{type_id}.{_FORMAT_SUFFIX[CredentialFormat(credential_format)]}"


@dataclass(frozen=True)
class Offer:
    """A credential offer ready to hand to one person.

    ``uri`` is the ``openid-credential-offer://`` link (for the QR code or a deep link);
    ``tx_code`` is the Transaction Code to send by another channel (e-mail, letter, SMS),
    never together with the QR code (OpenID4VCI 1.0 §13.6.1). ``offer_id`` is the back
    office's handle for approving a deferred issuance or looking up the batch.
    """

    offer_id: str
    credential_type: str
    configuration_id: str
    format: CredentialFormat
    uri: str = field(repr=False)
    tx_code: str | None = field(repr=False)
    expires_at: float
    by_reference: bool = False
    deferred: bool = False
    #: The grant the offer carries: ``pre-authorized_code`` (the default) or
    #: ``authorization_code`` (the person signs in at the issuer; OpenID4VCI 1.0 §3.4).
    flow: str = "pre-authorized_code"

    def qr_png(self, path: str | os.PathLike[str] | None = None, *, scale: int = 8) -> bytes:
        """The offer URI as a PNG QR code (``honnin.qr.QrCode``); also written to ``path``
        when given."""
        png = QrCode.encode(self.uri).png(scale=scale)
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def qr_svg(self) -> str:
        """The offer URI as an SVG QR code."""
        return QrCode.encode(self.uri).svg()

    def qr_text(self) -> str:
        """The offer URI as a QR code drawn with Unicode half blocks, for a terminal."""
        return QrCode.encode(self.uri).text()

    def qr_terminal(self) -> str:
        """Deprecated: ``qr_text()`` (the name ``PresentationRequest`` uses too)."""
        warnings.warn(
            "Offer.qr_terminal() is deprecated, use Offer.qr_text()", DeprecationWarning, 2
        )
        return self.qr_text()

    def to_json(self) -> dict[str, Any]:
        """The offer for a back-office export, ``tx_code`` included (a secret)."""
        return {
            "offer_id": self.offer_id,
            "credential_type": self.credential_type,
            "credential_configuration_id": self.configuration_id,
            "format": self.format.value,
            "uri": self.uri,
            "tx_code": self.tx_code,
            "expires_at": int(self.expires_at),
            "by_reference": self.by_reference,
            "deferred": self.deferred,
            "flow": self.flow,
        }


def build_offer_document(
    credential_issuer: str,
    config_id: str,
    code: str,
    *,
    tx_code_length: int | None,
    tx_code_input_mode: TxCodeInputMode,
    tx_code_description: str | None,
) -> CredentialOffer:
    """The §4.1.1 Credential Offer with a pre-authorized code grant."""
    tx_code = None
    if tx_code_length is not None:
        tx_code = TxCode(
            input_mode=tx_code_input_mode, length=tx_code_length, description=tx_code_description
        )
    grant = PreAuthorizedCodeGrant(pre_authorized_code=code, tx_code=tx_code)
    return CredentialOffer(
        credential_issuer=credential_issuer,
        credential_configuration_ids=(config_id,),
        grants=CredentialOfferGrants(pre_authorized_code=grant),
    )


def build_authorization_offer_document(
    credential_issuer: str, config_id: str, issuer_state: str
) -> CredentialOffer:
    """The §4.1.1 Credential Offer with an authorization code grant: ``issuer_state`` ties
    the wallet's authorization request to this offer."""
    return CredentialOffer(
        credential_issuer=credential_issuer,
        credential_configuration_ids=(config_id,),
        grants=CredentialOfferGrants(
            authorization_code=AuthorizationCodeGrant(issuer_state=issuer_state)
        ),
    )


def issuer_state_hash(issuer_state: str) -> str:
    """What the store keeps for an ``issuer_state``, in the column of pre-authorized codes:
    a domain-separated hash, so an ``issuer_state`` is never accepted as a pre-authorized code
    nor the other way round."""
    return secret_hash("issuer_state\x00" + issuer_state)


def offer_uri(document: CredentialOffer, *, credential_issuer: str, ref: str | None) -> str:
    """The offer link: by value, or by reference to ``{issuer}/offers/{ref}`` (§4.1.2/3)."""
    if ref is None:
        return build_credential_offer_uri(document)
    return build_credential_offer_uri(offer_uri=credential_issuer.rstrip("/") + OFFERS_PATH + ref)


def _seal_key(ref: str) -> bytes:
    return hashlib.sha256(_SEAL_LABEL + ref.encode("ascii")).digest()


def seal_offer(document: CredentialOffer, ref: str) -> bytes:
    """Encrypt the offer document under a key derived from the by-reference secret."""
    nonce = os.urandom(12)
    body = json_dumps(document.to_json()).encode("utf-8")
    return nonce + AESGCM(_seal_key(ref)).encrypt(nonce, body, _SEAL_LABEL)


def open_sealed_offer(sealed: bytes, ref: str) -> dict[str, Any]:
    """Decrypt a sealed offer document.

    Raises:
        NotFound: it does not open with this ``ref`` (never a valid reference).
    """
    try:
        body = AESGCM(_seal_key(ref)).decrypt(sealed[:12], sealed[12:], _SEAL_LABEL)
    except (InvalidTag, ValueError) as exc:
        raise NotFound("no such credential offer") from exc
    document: dict[str, Any] = json_loads(body)
    return document
