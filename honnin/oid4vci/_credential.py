"""Credential, Deferred Credential and Notification endpoint messages (OpenID4VCI 1.0 §8,
§9, §11)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, StrictFloat, StrictInt, StrictStr, field_validator, model_validator

from honnin.encoding import json_loads
from honnin.errors import (
    InvalidCredentialRequest,
    InvalidNotificationRequest,
    MalformedInput,
    TooLarge,
)
from honnin.limits import MAX_CREDENTIAL_BODY
from honnin.oauth import OAuthErrorResponse, WireMessage, parse_message, problem

from ._constants import NotificationEvent

#: §8.3.1.2 / §11.1: descriptions use ASCII %x20-21 / %x23-5B / %x5D-7E only.
_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


class Proofs(WireMessage):
    """§8.2 ``proofs``: exactly one proof type, whose value is a non-empty array (App. F).

    ``attestation`` holds exactly one key attestation JWT (App. F.3).
    """

    jwt: tuple[StrictStr, ...] | None = None
    attestation: tuple[StrictStr, ...] | None = None
    di_vp: tuple[dict[str, Any], ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> Proofs:
        present = [v for v in (self.jwt, self.attestation, self.di_vp) if v is not None]
        if len(present) != 1:
            raise problem("'proofs' has exactly one proof type (§8.2)")
        if not present[0]:
            raise problem("the proof type's array must be non-empty (§8.2)")
        if self.attestation is not None and len(self.attestation) != 1:
            raise problem("the attestation proof type carries exactly one JWT (App. F.3)")
        return self

    @property
    def count(self) -> int:
        """How many proofs (keys) the request carries."""
        return len(self.jwt or self.attestation or self.di_vp or ())


class CredentialResponseEncryptionParameters(WireMessage):
    """§8.2 ``credential_response_encryption``: the wallet's key and ``enc`` (and ``zip``)."""

    jwk: dict[str, Any]
    enc: StrictStr
    zip: StrictStr | None = None


class CredentialRequest(WireMessage):
    """A Credential Request (§8.2): exactly one of ``credential_identifier`` and
    ``credential_configuration_id``; ``proofs`` for key-bound credentials."""

    credential_identifier: StrictStr | None = None
    credential_configuration_id: StrictStr | None = None
    proofs: Proofs | None = None
    credential_response_encryption: CredentialResponseEncryptionParameters | None = None

    @model_validator(mode="after")
    def _check(self) -> CredentialRequest:
        if (self.credential_identifier is None) == (self.credential_configuration_id is None):
            raise problem(
                "exactly one of credential_identifier and credential_configuration_id (§8.2)"
            )
        return self


def parse_credential_request(
    data: Mapping[str, Any] | str | bytes, *, max_proofs: int | None = None
) -> CredentialRequest:
    """Parse an untrusted Credential Request.

    ``max_proofs`` (the issuer's ``batch_size``, or 1) is checked on the raw JSON, before
    any model or signature work (HOSTILE-CASES IS-16).

    Raises:
        InvalidCredentialRequest: malformed, a repeated member, both or neither
            identifier, a bad ``proofs`` object, or more proofs than ``max_proofs``
            (§8.3.1.2 ``invalid_credential_request``).
        TooLarge: a body over ``honnin.limits.MAX_CREDENTIAL_BODY``.
    """
    if isinstance(data, str | bytes):
        if len(data) > MAX_CREDENTIAL_BODY:
            raise TooLarge("credential request body too large", limit=MAX_CREDENTIAL_BODY)
        try:
            data = json_loads(data)
        except TooLarge:
            raise
        except MalformedInput as exc:
            # §8.3.1.2: a request that "repeats the same parameter, or is otherwise
            # malformed" is invalid_credential_request.
            raise InvalidCredentialRequest(f"credential request is not strict JSON: {exc}") from exc
    if max_proofs is not None and isinstance(data, Mapping):
        proofs = data.get("proofs")
        if isinstance(proofs, Mapping):
            for value in proofs.values():
                if isinstance(value, list) and len(value) > max_proofs:
                    raise InvalidCredentialRequest(
                        f"{len(value)} proofs; at most {max_proofs} per request (batch_size)",
                        limit=max_proofs,
                    )
    return parse_message(CredentialRequest, data, error=InvalidCredentialRequest)


class IssuedCredential(WireMessage):
    """One entry of ``credentials`` (§8.3): a string (SD-JWT VC as is, mdoc as
    base64url IssuerSigned, App. A) or an object."""

    credential: StrictStr | dict[str, Any] = Field(repr=False)


class CredentialResponse(WireMessage):
    """A Credential Response (§8.3) or Deferred Credential Response (§9.2)."""

    credentials: tuple[IssuedCredential, ...] | None = None
    transaction_id: StrictStr | None = None
    interval: StrictInt | StrictFloat | None = None
    notification_id: StrictStr | None = None

    @model_validator(mode="after")
    def _check(self) -> CredentialResponse:
        if (self.credentials is None) == (self.transaction_id is None):
            raise problem("exactly one of credentials and transaction_id (§8.3)")
        if self.credentials is not None:
            if not self.credentials:
                raise problem("credentials must hold one or more credentials (§8.3)")
            if self.interval is not None:
                raise problem("interval is not used with credentials (§8.3)")
        else:
            # §8.3: interval is REQUIRED with transaction_id and positive.
            if self.interval is None or not self.interval > 0:
                raise problem("a deferred response needs a positive interval (§8.3)")
            if self.notification_id is not None:
                raise problem("notification_id is only used with credentials (§8.3)")
        return self

    @property
    def deferred(self) -> bool:
        """True for the 202 form with ``transaction_id`` and ``interval``."""
        return self.transaction_id is not None


def parse_credential_response(data: Mapping[str, Any] | str | bytes) -> CredentialResponse:
    """Parse a (Deferred) Credential Response body. Raises ``InvalidRequest`` on §8.3
    violations (credentials and transaction_id together, no interval, ...)."""
    return parse_message(CredentialResponse, data, max_size=16 * MAX_CREDENTIAL_BODY)


class DeferredCredentialRequest(WireMessage):
    """A Deferred Credential Request (§9.1)."""

    transaction_id: StrictStr = Field(min_length=1)
    credential_response_encryption: CredentialResponseEncryptionParameters | None = None


def parse_deferred_credential_request(
    data: Mapping[str, Any] | str | bytes,
) -> DeferredCredentialRequest:
    """Parse a Deferred Credential Request; ``InvalidCredentialRequest`` when malformed."""
    return parse_message(
        DeferredCredentialRequest,
        data,
        error=InvalidCredentialRequest,
        max_size=MAX_CREDENTIAL_BODY,
    )


class NotificationRequest(WireMessage):
    """A Notification Request (§11.1)."""

    notification_id: StrictStr = Field(min_length=1)
    event: NotificationEvent
    event_description: StrictStr | None = None

    @field_validator("event_description")
    @classmethod
    def _ascii(cls, value: str | None) -> str | None:
        if value is not None and _DESCRIPTION.fullmatch(value) is None:
            raise problem('event_description is restricted to printable ASCII without " and \\')
        return value


def parse_notification_request(data: Mapping[str, Any] | str | bytes) -> NotificationRequest:
    """Parse a Notification Request. Raises ``InvalidNotificationRequest`` (§11.3) when
    malformed."""
    return parse_message(
        NotificationRequest, data, error=InvalidNotificationRequest, max_size=MAX_CREDENTIAL_BODY
    )


class CredentialErrorResponse(OAuthErrorResponse):
    """A Credential Error Response (§8.3.1): ``error`` is one of ``CredentialErrorCode``
    (or an RFC 6750 code), ``error_description`` printable ASCII. Never encrypted."""
