"""The Authorization Request (OpenID4VP 1.0 §5) and the Verifier's client metadata (§5.1, §11)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import StrictInt, StrictStr, field_validator, model_validator

from honnin.dcql import DcqlQuery, parse_dcql_query
from honnin.encoding import json_loads
from honnin.errors import InvalidDcqlQuery, InvalidRequest
from honnin.oauth import HttpUrl, JsonWebKeySet, WireMessage, parse_message, problem

from ._client_id import parse_client_id
from ._constants import (
    MAX_NONCE_LENGTH,
    URL_SAFE,
    VP_TOKEN,
    RequestUriMethod,
    ResponseMode,
)

#: Parameters that travel as JSON text when the request is a URL (§5.1: "parameters
#: containing objects are transferred as JSON-serialized strings").
_JSON_PARAMETERS = ("dcql_query", "client_metadata", "transaction_data", "verifier_info")


class ClientMetadata(WireMessage):
    """``client_metadata`` (§5.1): encryption keys, ``enc`` values and supported formats.

    Other metadata members MUST be ignored (§5.1), and are.
    """

    jwks: JsonWebKeySet | None = None
    encrypted_response_enc_values_supported: tuple[StrictStr, ...] | None = None
    vp_formats_supported: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _check(self) -> ClientMetadata:
        if (
            self.encrypted_response_enc_values_supported is not None
            and not self.encrypted_response_enc_values_supported
        ):
            raise problem("encrypted_response_enc_values_supported must be non-empty (§5.1)")
        return self

    @property
    def enc_values(self) -> tuple[str, ...]:
        """The ``enc`` values the verifier accepts; ``A128GCM`` by default (§5.1, §8.3)."""
        return self.encrypted_response_enc_values_supported or ("A128GCM",)


class VerifierInfo(WireMessage):
    """A ``verifier_info`` attestation (§5.1, §5.11)."""

    format: StrictStr
    data: StrictStr | dict[str, Any]
    credential_ids: tuple[StrictStr, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> VerifierInfo:
        if self.credential_ids is not None and not self.credential_ids:
            raise problem("verifier_info credential_ids must be non-empty (§5.1)")
        return self


def _url_safe(value: str | None, name: str) -> str | None:
    # §5.2: nonce and state only contain ASCII URL-safe characters.
    if value is not None and (len(value) > MAX_NONCE_LENGTH or URL_SAFE.fullmatch(value) is None):
        raise problem(f"'{name}' must be 1..{MAX_NONCE_LENGTH} ASCII URL-safe characters (§5.2)")
    return value


class AuthorizationRequest(WireMessage):
    """An OpenID4VP Authorization Request (§5), as URL parameters or Request Object claims.

    Rules checked here: ``response_type`` is ``vp_token`` (the one honnin implements);
    ``nonce`` present and URL-safe (§5.2); exactly one of ``dcql_query`` and ``scope``
    (§5.1); ``response_uri`` with, and ``redirect_uri`` never with, ``direct_post`` /
    ``direct_post.jwt`` (§8.2); ``request_uri_method`` is ``get`` or ``post`` and only with
    ``request_uri`` (§5.1); ``state`` when a credential is requested without holder binding
    (§5.3); the ``origin:`` prefix is refused (§5.9.3). ``iss`` is ignored (§5).
    """

    client_id: StrictStr
    response_type: StrictStr
    response_mode: StrictStr
    nonce: StrictStr
    response_uri: HttpUrl | None = None
    redirect_uri: StrictStr | None = None
    state: StrictStr | None = None
    dcql_query: DcqlQuery | None = None
    scope: StrictStr | None = None
    client_metadata: ClientMetadata | None = None
    request_uri: HttpUrl | None = None
    request_uri_method: StrictStr | None = None
    transaction_data: tuple[StrictStr, ...] | None = None
    verifier_info: tuple[VerifierInfo, ...] | None = None
    wallet_nonce: StrictStr | None = None
    aud: StrictStr | None = None
    iat: StrictInt | None = None
    exp: StrictInt | None = None

    @field_validator("nonce")
    @classmethod
    def _nonce(cls, value: str) -> str:
        return _url_safe(value, "nonce") or value

    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        return _url_safe(value, "state")

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        try:
            parse_client_id(value)
        except InvalidRequest as exc:
            raise problem(exc.message) from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> AuthorizationRequest:
        if self.response_type != VP_TOKEN:
            raise problem(f"response_type must be {VP_TOKEN!r} (§5.6)")
        if (self.dcql_query is None) == (self.scope is None):
            raise problem("exactly one of dcql_query and scope (§5.1, §8.5)")
        if self.response_mode in (ResponseMode.DIRECT_POST, ResponseMode.DIRECT_POST_JWT):
            if self.redirect_uri is not None:
                raise problem("redirect_uri MUST NOT be present with direct_post (§8.2)")
            if self.response_uri is None:
                raise problem("response_uri is REQUIRED with direct_post (§8.2)")
        if self.request_uri_method is not None:
            if self.request_uri is None:
                raise problem("request_uri_method without request_uri (§5.1)")
            if self.request_uri_method not in tuple(RequestUriMethod):
                raise problem("request_uri_method must be 'get' or 'post' (§5.1)")
        if self.transaction_data is not None and not self.transaction_data:
            raise problem("transaction_data must be non-empty (§5.1)")
        if self.verifier_info is not None and not self.verifier_info:
            raise problem("verifier_info must be non-empty (§5.1)")
        if self.state is None and self.dcql_query is not None:
            unbound = [
                c.id
                for c in self.dcql_query.credentials
                if not c.require_cryptographic_holder_binding
            ]
            if unbound:
                raise problem("state is REQUIRED when holder binding is not required (§5.3)")
        return self

    @property
    def encrypted(self) -> bool:
        """The response must be an encrypted JWT (``direct_post.jwt`` / ``dc_api.jwt``)."""
        return self.response_mode in (ResponseMode.DIRECT_POST_JWT, ResponseMode.DC_API_JWT)


def parse_authorization_request(
    parameters: Mapping[str, Any], *, max_size: int = 1024 * 1024
) -> AuthorizationRequest:
    """Parse an Authorization Request from Request Object claims or URL parameters.

    In URL form, ``dcql_query``, ``client_metadata``, ``transaction_data`` and
    ``verifier_info`` are JSON text (§5.1) and are decoded strictly first.

    Raises:
        InvalidRequest: the request breaks §5 (see ``AuthorizationRequest``).
        InvalidDcqlQuery / TooLarge: the DCQL query breaks §6 or a limit.
        MalformedJson: a JSON parameter is not strict JSON.
    """
    fields = dict(parameters)
    for name in _JSON_PARAMETERS:
        value = fields.get(name)
        if isinstance(value, str):
            fields[name] = json_loads(value, max_size=max_size)
    query = fields.get("dcql_query")
    if query is not None:
        # Parsed on its own first, so its errors keep their DCQL class and location.
        if not isinstance(query, Mapping):
            raise InvalidDcqlQuery("dcql_query is not a JSON object (§5.1)")
        fields["dcql_query"] = parse_dcql_query(query)
    return parse_message(AuthorizationRequest, fields)
