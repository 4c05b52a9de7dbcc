"""Token endpoint and Nonce endpoint messages (OpenID4VCI 1.0 §6, §7; RFC 6749 §4.1.3, §5.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, StrictInt, StrictStr, model_validator

from honnin.encoding import json_dumps, json_loads
from honnin.errors import InvalidRequest, MalformedInput
from honnin.limits import MAX_TOKEN_BODY
from honnin.oauth import WireMessage, parse_form, parse_message, problem

from ._constants import AUTHORIZATION_CODE_GRANT, OPENID_CREDENTIAL, PRE_AUTHORIZED_CODE_GRANT
from ._metadata import ClaimDescription


class AuthorizationDetail(WireMessage):
    """An ``openid_credential`` authorization details object (§5.1.1, RFC 9396 §2), with
    ``credential_identifiers`` as returned in the Token Response (§6.2)."""

    type: StrictStr
    credential_configuration_id: StrictStr
    claims: tuple[ClaimDescription, ...] | None = None
    credential_identifiers: tuple[StrictStr, ...] | None = None
    locations: tuple[StrictStr, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> AuthorizationDetail:
        if self.type != OPENID_CREDENTIAL:
            raise problem(f"authorization details type must be {OPENID_CREDENTIAL!r} (§5.1.1)")
        if self.credential_identifiers is not None and not self.credential_identifiers:
            raise problem("credential_identifiers must be non-empty (§6.2)")
        return self


class TokenRequest(WireMessage):
    """A Token Request (RFC 6749 §4.1.3; OpenID4VCI §6.1 for the pre-authorized grant).

    Secrets (codes, ``tx_code``, ``code_verifier``) are kept out of ``repr``. On the wire
    it is a form: ``to_form()`` / ``parse_token_request``.
    """

    grant_type: StrictStr
    pre_authorized_code: StrictStr | None = Field(
        default=None,
        validation_alias="pre-authorized_code",
        serialization_alias="pre-authorized_code",
        repr=False,
    )
    tx_code: StrictStr | None = Field(default=None, repr=False)
    code: StrictStr | None = Field(default=None, repr=False)
    redirect_uri: StrictStr | None = None
    code_verifier: StrictStr | None = Field(default=None, repr=False)
    client_id: StrictStr | None = None
    scope: StrictStr | None = None
    resource: StrictStr | None = None
    authorization_details: tuple[AuthorizationDetail, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> TokenRequest:
        if self.grant_type == PRE_AUTHORIZED_CODE_GRANT:
            # §6.1: pre-authorized_code MUST be present with this grant type.
            if not self.pre_authorized_code:
                raise problem("'pre-authorized_code' is required for this grant (§6.1)")
        elif self.tx_code is not None:
            # §6.1: tx_code is only used with the pre-authorized code grant.
            raise problem("'tx_code' is only used with the pre-authorized code grant (§6.1)")
        if self.grant_type == AUTHORIZATION_CODE_GRANT and not self.code:
            raise problem("'code' is required for the authorization_code grant (RFC 6749)")
        return self

    def to_form(self) -> dict[str, str]:
        """The request as form fields (``authorization_details`` JSON-encoded, RFC 9396 §3)."""
        fields = self.to_json()
        if "authorization_details" in fields:
            fields["authorization_details"] = json_dumps(fields["authorization_details"])
        return {name: str(value) for name, value in fields.items()}


def parse_token_request(body: bytes | str | Mapping[str, str]) -> TokenRequest:
    """Parse a Token Request form body (or already decoded, unrepeated fields).

    Raises:
        InvalidRequest: a repeated or missing parameter, bad UTF-8, ``tx_code`` with
            another grant, or bad ``authorization_details``.
        TooLarge: over the token body limit (``honnin.limits.MAX_TOKEN_BODY``).
    """
    fields: dict[str, Any] = dict(
        parse_form(body, max_size=MAX_TOKEN_BODY) if isinstance(body, bytes | str) else body
    )
    details = fields.get("authorization_details")
    if isinstance(details, str):
        try:
            fields["authorization_details"] = json_loads(details, max_size=MAX_TOKEN_BODY)
        except MalformedInput as exc:
            raise InvalidRequest("authorization_details is not JSON (RFC 9396 §2)") from exc
    return parse_message(TokenRequest, fields)


class TokenResponse(WireMessage):
    """A successful Token Response (RFC 6749 §5.1; OpenID4VCI §6.2)."""

    access_token: StrictStr = Field(repr=False, min_length=1)
    token_type: StrictStr
    expires_in: StrictInt | None = Field(default=None, ge=0)
    refresh_token: StrictStr | None = Field(default=None, repr=False)
    scope: StrictStr | None = None
    authorization_details: tuple[AuthorizationDetail, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> TokenResponse:
        if self.authorization_details is not None:
            for detail in self.authorization_details:
                # §6.2: credential_identifiers is REQUIRED in the Token Response.
                if detail.credential_identifiers is None:
                    raise problem("authorization_details need credential_identifiers (§6.2)")
        return self


def parse_token_response(data: Mapping[str, Any] | str | bytes) -> TokenResponse:
    """Parse a Token Response body. Raises ``InvalidRequest`` when it breaks §6.2."""
    return parse_message(TokenResponse, data, max_size=MAX_TOKEN_BODY)


class NonceResponse(WireMessage):
    """A Nonce Response (§7.2): ``c_nonce``, unpredictable and single-use in honnin."""

    c_nonce: StrictStr = Field(min_length=1)
