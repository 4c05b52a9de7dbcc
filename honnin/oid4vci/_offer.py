"""Credential Offer (OpenID4VCI 1.0 §4.1) and its URI form (§4.1.2, §4.1.3, §12.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from pydantic import Field, StrictInt, StrictStr, model_validator

from honnin.encoding import json_dumps
from honnin.errors import InvalidRequest, TooLarge
from honnin.oauth import (
    IssuerIdentifier,
    WireMessage,
    parse_message,
    problem,
    require_https,
    split_link,
)

from ._constants import (
    CREDENTIAL_OFFER_SCHEME,
    MAX_OFFER_SIZE,
    MAX_TX_CODE_DESCRIPTION,
    PRE_AUTHORIZED_CODE_GRANT,
    TxCodeInputMode,
)


class TxCode(WireMessage):
    """§4.1.1 ``tx_code``: present (even empty) means a Transaction Code is required."""

    input_mode: TxCodeInputMode | None = None
    length: StrictInt | None = Field(default=None, ge=1, le=64)
    description: StrictStr | None = Field(default=None, max_length=MAX_TX_CODE_DESCRIPTION)

    @property
    def effective_input_mode(self) -> TxCodeInputMode:
        """``input_mode``, or its default ``numeric`` (§4.1.1)."""
        return self.input_mode or TxCodeInputMode.NUMERIC


class AuthorizationCodeGrant(WireMessage):
    """§4.1.1 grant ``authorization_code``."""

    issuer_state: StrictStr | None = None
    authorization_server: StrictStr | None = None


class PreAuthorizedCodeGrant(WireMessage):
    """§4.1.1 grant ``urn:ietf:params:oauth:grant-type:pre-authorized_code``.

    The code is a bearer secret: it is kept out of ``repr``.
    """

    pre_authorized_code: StrictStr = Field(
        validation_alias="pre-authorized_code",
        serialization_alias="pre-authorized_code",
        min_length=1,
        repr=False,
    )
    tx_code: TxCode | None = None
    authorization_server: StrictStr | None = None


class CredentialOfferGrants(WireMessage):
    """§4.1.1 ``grants``: grant type → parameters (other grant types are ignored)."""

    authorization_code: AuthorizationCodeGrant | None = None
    pre_authorized_code: PreAuthorizedCodeGrant | None = Field(
        default=None,
        validation_alias=PRE_AUTHORIZED_CODE_GRANT,
        serialization_alias=PRE_AUTHORIZED_CODE_GRANT,
    )


class CredentialOffer(WireMessage):
    """A Credential Offer (OpenID4VCI 1.0 §4.1.1).

    The wallet MUST treat every value in it as untrusted (§13.5) and validate the issuer as
    it would without an offer.
    """

    credential_issuer: IssuerIdentifier
    credential_configuration_ids: tuple[StrictStr, ...]
    grants: CredentialOfferGrants | None = None

    @model_validator(mode="after")
    def _check(self) -> CredentialOffer:
        ids = self.credential_configuration_ids
        # §4.1.1: REQUIRED, a non-empty array of unique strings.
        if not ids or len(set(ids)) != len(ids) or not all(ids):
            raise problem("credential_configuration_ids must be non-empty, unique strings")
        return self

    @property
    def pre_authorized_code(self) -> PreAuthorizedCodeGrant | None:
        """The pre-authorized code grant, when offered."""
        return self.grants.pre_authorized_code if self.grants else None


def parse_credential_offer(data: dict[str, Any] | str | bytes) -> CredentialOffer:
    """Parse a Credential Offer object (from ``credential_offer`` or the offer URI's body).

    Raises:
        InvalidRequest: not a valid §4.1.1 offer.
        TooLarge / MalformedJson: see ``honnin.oauth.parse_message``.
    """
    return parse_message(CredentialOffer, data, max_size=MAX_OFFER_SIZE)


@dataclass(frozen=True, slots=True)
class CredentialOfferLink:
    """A Credential Offer as a wallet receives it: by value or by reference (§4.1)."""

    offer: CredentialOffer | None = None
    offer_uri: str | None = None


def build_credential_offer_uri(
    offer: CredentialOffer | None = None,
    *,
    offer_uri: str | None = None,
    base: str = f"{CREDENTIAL_OFFER_SCHEME}://",
) -> str:
    """The link for an offer by value or by reference (§4.1.2, §4.1.3).

    ``base`` is the wallet's Credential Offer Endpoint, or ``openid-credential-offer://``
    (§12.1). Exactly one of ``offer`` and ``offer_uri`` is given.

    >>> build_credential_offer_uri(offer_uri="https://issuer.example/offers/1")
    'openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2F1'
    """
    if (offer is None) == (offer_uri is None):
        raise TypeError("give exactly one of offer and offer_uri")
    if offer is not None:
        params = {"credential_offer": json_dumps(offer.to_json())}
    else:
        params = {"credential_offer_uri": str(offer_uri)}
    separator = "&" if "?" in base else "?"
    return base + separator + urlencode(params, quote_via=quote, safe="")


def parse_credential_offer_uri(
    text: str, *, allow_loopback_http: bool = False
) -> CredentialOfferLink:
    """Parse an offer link from a scanned QR code, a deep link or an https (universal) link.

    Exactly one of ``credential_offer`` / ``credential_offer_uri`` must be present, once
    (§4.1); an offer by reference must use https (§4.1), or http on loopback when
    ``allow_loopback_http`` is set for local testing.

    Raises:
        InvalidRequest: not an offer link, both or neither parameter, a repeated
            parameter, a non-https reference, or an offer object that breaks §4.1.1.
        TooLarge: a link longer than the offer size limit.
    """
    text = text.strip()
    if len(text) > 3 * MAX_OFFER_SIZE:
        raise TooLarge("credential offer link too long", limit=3 * MAX_OFFER_SIZE)
    parts = split_link(text, what="credential offer link")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, errors="strict", max_num_fields=16)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("malformed credential offer link query") from exc
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in ("credential_offer", "credential_offer_uri"):
            if name in found:
                raise InvalidRequest(f"'{name}' appears more than once")
            found[name] = value
    if len(found) != 1:
        # §4.1: credential_offer and credential_offer_uri are mutually exclusive.
        raise InvalidRequest(
            "a credential offer link has exactly one of credential_offer, "
            "credential_offer_uri (OpenID4VCI §4.1)"
        )
    if "credential_offer" in found:
        return CredentialOfferLink(offer=parse_credential_offer(found["credential_offer"]))
    uri = found["credential_offer_uri"]
    require_https(uri, what="credential_offer_uri", allow_loopback_http=allow_loopback_http)
    return CredentialOfferLink(offer_uri=uri)
