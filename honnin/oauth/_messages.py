"""OAuth 2.0 messages that the OpenID4VC protocols reuse (RFC 6749, RFC 8414)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import Field, StrictBool, StrictStr, model_validator

from ._model import HttpUrl, IssuerIdentifier, WireMessage, problem, too_large

MAX_JWKS_KEYS: Final = 32


class OAuthErrorResponse(WireMessage):
    """An OAuth error response body (RFC 6749 §5.2; RFC 6750 §3; OpenID4VCI §8.3.1).

    ``error_description`` is restricted to ASCII %x20-21 / %x23-5B / %x5D-7E by the specs;
    ``honnin.http.oauth_error_body`` produces conforming text. Received values are kept
    as they are (unknown members ignored, RFC 6749 §5.2).
    """

    error: StrictStr
    error_description: StrictStr | None = None
    error_uri: StrictStr | None = None


class AuthorizationServerMetadata(WireMessage):
    """OAuth 2.0 Authorization Server Metadata (RFC 8414 §2) with the OpenID4VCI §12.3
    parameter ``pre-authorized_grant_anonymous_access_supported``.

    ``response_types_supported`` is optional here: OpenID4VCI §12.2.4 lets an authorization
    server that only supports the pre-authorized code grant omit it.
    """

    issuer: IssuerIdentifier
    authorization_endpoint: HttpUrl | None = None
    token_endpoint: HttpUrl | None = None
    jwks_uri: HttpUrl | None = None
    registration_endpoint: HttpUrl | None = None
    scopes_supported: tuple[StrictStr, ...] | None = None
    response_types_supported: tuple[StrictStr, ...] | None = None
    response_modes_supported: tuple[StrictStr, ...] | None = None
    grant_types_supported: tuple[StrictStr, ...] | None = None
    token_endpoint_auth_methods_supported: tuple[StrictStr, ...] | None = None
    token_endpoint_auth_signing_alg_values_supported: tuple[StrictStr, ...] | None = None
    service_documentation: HttpUrl | None = None
    ui_locales_supported: tuple[StrictStr, ...] | None = None
    revocation_endpoint: HttpUrl | None = None
    introspection_endpoint: HttpUrl | None = None
    code_challenge_methods_supported: tuple[StrictStr, ...] | None = None
    pushed_authorization_request_endpoint: HttpUrl | None = None
    require_pushed_authorization_requests: StrictBool | None = None
    authorization_response_iss_parameter_supported: StrictBool | None = None
    dpop_signing_alg_values_supported: tuple[StrictStr, ...] | None = None
    #: draft-ietf-oauth-status-list-20 §9.1: where the issuer's Status List URIs are listed.
    status_list_aggregation_endpoint: HttpUrl | None = None
    authorization_details_types_supported: tuple[StrictStr, ...] | None = None
    pre_authorized_grant_anonymous_access_supported: StrictBool = Field(
        default=False,
        validation_alias="pre-authorized_grant_anonymous_access_supported",
        serialization_alias="pre-authorized_grant_anonymous_access_supported",
    )


class JsonWebKeySet(WireMessage):
    """A JWK Set (RFC 7517 §5), as carried in metadata (``jwks``). Keys stay plain JSON
    objects here; they are loaded, and checked, where they are used."""

    keys: tuple[dict[str, Any], ...]

    @model_validator(mode="after")
    def _check(self) -> JsonWebKeySet:
        if not self.keys:
            raise problem("a JWK Set needs at least one key")
        if len(self.keys) > MAX_JWKS_KEYS:
            raise too_large(f"more than {MAX_JWKS_KEYS} keys in a JWK Set")
        return self

    def key(self, kid: str) -> dict[str, Any] | None:
        """The key with ``kid``, if any."""
        return next((k for k in self.keys if k.get("kid") == kid), None)
