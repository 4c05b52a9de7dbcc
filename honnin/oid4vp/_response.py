"""Authorization Response (OpenID4VP 1.0 §8.1, §8.2, §8.3.1) and the ``request_uri`` POST
form (§5.10), with their form encodings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import StrictStr, model_validator

from honnin.encoding import json_dumps, json_loads
from honnin.errors import HonninError, InvalidRequest, TooLarge
from honnin.jose import public_key_from_jwk
from honnin.jose.jwe import JweAlgorithm, JweEncryption
from honnin.limits import MAX_DIRECT_POST_BODY
from honnin.oauth import OAuthErrorResponse, WireMessage, parse_message, problem, too_large

from ._constants import MAX_PRESENTATIONS, MAX_WALLET_METADATA, QUERY_ID
from ._request import AuthorizationRequest

Presentation = StrictStr | dict[str, Any]


class AuthorizationResponse(WireMessage):
    """An Authorization Response with a VP Token (§8.1).

    ``vp_token`` maps Credential Query ids to one or more presentations: strings (SD-JWT
    VC, base64url DeviceResponse) or objects, per format (App. B).
    """

    vp_token: dict[str, tuple[Presentation, ...]]
    state: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        token = data.get("vp_token") if isinstance(data, Mapping) else None
        if isinstance(token, Mapping):
            total = sum(len(v) if isinstance(v, list | tuple) else 1 for v in token.values())
            if len(token) > MAX_PRESENTATIONS or total > MAX_PRESENTATIONS:
                raise too_large(f"more than {MAX_PRESENTATIONS} presentations in a VP Token")
        return data

    @model_validator(mode="after")
    def _check(self) -> AuthorizationResponse:
        for query_id, presentations in self.vp_token.items():
            if QUERY_ID.fullmatch(query_id) is None:
                raise problem("vp_token keys are Credential Query ids (§8.1)")
            if not presentations:
                raise problem("each vp_token entry holds one or more presentations (§8.1)")
        return self

    def to_form(self) -> dict[str, str]:
        """Form fields for ``direct_post`` (§8.2): ``vp_token`` as JSON text."""
        fields = {"vp_token": json_dumps(self.to_json()["vp_token"])}
        if self.state is not None:
            fields["state"] = self.state
        return fields

    def __repr__(self) -> str:  # presentations carry personal data
        return f"AuthorizationResponse(query_ids={sorted(self.vp_token)!r}, state={self.state!r})"

    __str__ = __repr__


def parse_authorization_response(data: Mapping[str, Any]) -> AuthorizationResponse:
    """Parse a response from form fields (``vp_token`` as JSON text) or from a decrypted
    ``direct_post.jwt`` payload (``vp_token`` as an object).

    Raises:
        InvalidRequest: no or malformed ``vp_token`` (§8.1, §8.6 step 1).
        TooLarge: more presentations than the limit (VS-31).
        MalformedJson: ``vp_token`` text that is not strict JSON (VS-32: deep nesting).
    """
    fields = dict(data)
    token = fields.get("vp_token")
    if isinstance(token, str):
        fields["vp_token"] = json_loads(token, max_size=MAX_DIRECT_POST_BODY)
    return parse_message(AuthorizationResponse, fields)


class VpErrorResponse(OAuthErrorResponse):
    """An Authorization Error Response (§8.5, RFC 6749 §4.1.2.1), posted with ``state``."""

    state: StrictStr | None = None

    def to_form(self) -> dict[str, str]:
        """Form fields for ``direct_post`` (§8.2)."""
        return {k: str(v) for k, v in self.to_json().items()}


class DirectPostResult(WireMessage):
    """The Response URI's JSON answer (§8.2): optionally a ``redirect_uri`` to follow."""

    redirect_uri: StrictStr | None = None


class RequestUriPost(WireMessage):
    """The wallet's POST to a ``request_uri`` with ``request_uri_method=post`` (§5.10)."""

    wallet_metadata: dict[str, Any] | None = None
    wallet_nonce: StrictStr | None = None

    def to_form(self) -> dict[str, str]:
        """Form fields: ``wallet_metadata`` as JSON text (§5.10)."""
        fields: dict[str, str] = {}
        if self.wallet_metadata is not None:
            fields["wallet_metadata"] = json_dumps(self.wallet_metadata)
        if self.wallet_nonce is not None:
            fields["wallet_nonce"] = self.wallet_nonce
        return fields


def parse_request_uri_post(fields: Mapping[str, str]) -> RequestUriPost:
    """Parse the form of a ``request_uri`` POST (§5.10).

    Raises:
        TooLarge: ``wallet_metadata`` over 64 KiB (VS-04).
        InvalidRequest: ``wallet_metadata`` is not a JSON object.
        MalformedJson: not strict JSON.
    """
    values: dict[str, Any] = dict(fields)
    metadata = values.get("wallet_metadata")
    if isinstance(metadata, str):
        if len(metadata) > MAX_WALLET_METADATA:
            raise TooLarge("wallet_metadata over 64 KiB", limit=MAX_WALLET_METADATA)
        values["wallet_metadata"] = json_loads(metadata)
        if not isinstance(values["wallet_metadata"], dict):
            raise InvalidRequest("wallet_metadata is not a JSON object (§5.10)")
    return parse_message(RequestUriPost, values)


_EC_CURVES = frozenset({"P-256", "P-384", "P-521"})


def _usable(key: Mapping[str, Any]) -> bool:
    # §8.3: alg MUST be present and equal the JWE alg; use absent or "enc".
    if key.get("kty") != "EC" or key.get("crv") not in _EC_CURVES:
        return False
    if key.get("alg") != JweAlgorithm.ECDH_ES.value or key.get("use", "enc") != "enc":
        return False
    if "d" in key:
        return False
    try:
        public_key_from_jwk(dict(key))
    except HonninError:
        return False
    return True


def select_response_encryption(
    request: AuthorizationRequest,
) -> tuple[dict[str, Any], JweEncryption]:
    """The verifier key and ``enc`` a wallet encrypts a ``direct_post.jwt`` response with.

    The first usable key in ``client_metadata.jwks`` (EC, ``alg`` ``ECDH-ES``, ``use``
    absent or ``enc``, §8.3) and the first of the verifier's ``enc`` values that honnin
    implements (default ``A128GCM``). Unusable keys are skipped (HOSTILE-CASES WL-14).

    Raises:
        InvalidRequest: no usable key, or no common ``enc``: fail closed, never plaintext.
    """
    metadata = request.client_metadata
    keys = metadata.jwks.keys if metadata is not None and metadata.jwks is not None else ()
    key = next((k for k in keys if _usable(k)), None)
    if key is None:
        raise InvalidRequest("client_metadata.jwks has no usable ECDH-ES key (§8.3)")
    offered = metadata.enc_values if metadata is not None else ("A128GCM",)
    encs = [JweEncryption(e) for e in offered if e in tuple(JweEncryption)]
    if not encs:
        raise InvalidRequest("no encrypted_response_enc_values_supported value is supported")
    return dict(key), encs[0]
