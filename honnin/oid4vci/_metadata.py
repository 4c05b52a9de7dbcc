"""Credential Issuer Metadata (OpenID4VCI 1.0 §12.2, App. A and B)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from honnin.dcql import CredentialFormat, check_claims_path
from honnin.encoding import json_loads
from honnin.errors import InvalidDcqlQuery, InvalidRequest, MalformedInput
from honnin.jose import UnverifiedJws, parse_jws
from honnin.oauth import (
    HttpUrl,
    IssuerIdentifier,
    JsonWebKeySet,
    WireMessage,
    is_parsing,
    parse_message,
    problem,
    well_known_url,
)

from ._constants import (
    SIGNED_METADATA_TYP,
    WELL_KNOWN_AUTHORIZATION_SERVER,
    WELL_KNOWN_CREDENTIAL_ISSUER,
)

#: Claims path components in metadata (App. C: strings, nulls and integers).
_PathComponent = StrictStr | StrictInt | None


class Logo(WireMessage):
    """A logo (§12.2.4 ``display.logo``): ``uri`` may be https or ``data:``."""

    uri: StrictStr
    alt_text: StrictStr | None = None


class BackgroundImage(WireMessage):
    """§12.2.4 ``credential_metadata.display.background_image``."""

    uri: StrictStr


class IssuerDisplay(WireMessage):
    """Display properties of the Credential Issuer for one language (§12.2.4 ``display``)."""

    name: StrictStr | None = None
    locale: StrictStr | None = None
    logo: Logo | None = None


class CredentialDisplay(WireMessage):
    """Display properties of a credential for one language (§12.2.4)."""

    name: StrictStr
    locale: StrictStr | None = None
    logo: Logo | None = None
    description: StrictStr | None = None
    background_color: StrictStr | None = None
    background_image: BackgroundImage | None = None
    text_color: StrictStr | None = None


class ClaimDisplay(WireMessage):
    """Display name of a claim for one language (App. B.2)."""

    name: StrictStr | None = None
    locale: StrictStr | None = None


class ClaimDescription(WireMessage):
    """A claims description object (App. B.1 for authorization details, B.2 for metadata)."""

    path: tuple[_PathComponent, ...]
    mandatory: StrictBool | None = None
    display: tuple[ClaimDisplay, ...] | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            return check_claims_path(value)
        except InvalidDcqlQuery as exc:
            raise problem(exc.message) from exc


def _check_claim_descriptions(claims: tuple[ClaimDescription, ...]) -> None:
    """App. B.3: repeated or contradictory claim descriptions abort processing."""
    paths = [claim.path for claim in claims]
    if len(set(paths)) != len(paths):
        _check_claim_paths(claims)  # names the repeated path
    # Siblings contradict when a name stands beside a null or an index, or a null beside an
    # index: every contradiction involves a null or an index, so only the prefixes where
    # one stands (few, often none) need their siblings compared.
    forks = {path[:i] for path in paths for i, c in enumerate(path) if type(c) is not str}
    for fork in forks:
        n = len(fork)
        kinds = {_kind(path[n]) for path in paths if len(path) > n and path[:n] == fork}
        if len(kinds) > 1:
            _check_claim_paths(claims)  # names the prefix


def _kind(component: Any) -> str:
    return "key" if type(component) is str else "all" if component is None else "index"


def _check_claim_paths(claims: tuple[ClaimDescription, ...]) -> None:
    seen: set[tuple[Any, ...]] = set()
    kinds: dict[tuple[Any, ...], set[str]] = {}
    for claim in claims:
        if claim.path in seen:
            raise problem(f"claim path {list(claim.path)} is described twice (App. B.3)")
        seen.add(claim.path)
        for i, component in enumerate(claim.path):
            found = kinds.setdefault(claim.path[:i], set())
            found.add(_kind(component))
            if ("key" in found and len(found) > 1) or {"all", "index"} <= found:
                raise problem(f"claim paths contradict at {list(claim.path[:i])} (App. B.3)")


class CredentialMetadata(WireMessage):
    """§12.2.4 ``credential_metadata``: display data and claims descriptions."""

    display: tuple[CredentialDisplay, ...] | None = None
    claims: tuple[ClaimDescription, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> CredentialMetadata:
        if self.claims is not None:
            _check_claim_descriptions(self.claims)
        return self


class KeyAttestationsRequired(WireMessage):
    """§12.2.4 ``proof_types_supported.*.key_attestations_required``."""

    key_storage: tuple[StrictStr, ...] | None = None
    user_authentication: tuple[StrictStr, ...] | None = None


class ProofTypeMetadata(WireMessage):
    """§12.2.4 ``proof_types_supported`` entry."""

    proof_signing_alg_values_supported: tuple[StrictStr, ...]
    key_attestations_required: KeyAttestationsRequired | None = None

    @model_validator(mode="after")
    def _check(self) -> ProofTypeMetadata:
        if not self.proof_signing_alg_values_supported:
            raise problem("proof_signing_alg_values_supported must be non-empty (§12.2.4)")
        return self


class CredentialConfiguration(WireMessage):
    """A ``credential_configurations_supported`` entry (§12.2.4) with the format profiles'
    members: ``vct`` for ``dc+sd-jwt`` (App. A.3.2), ``doctype`` for ``mso_mdoc`` (A.2.2).

    ``credential_signing_alg_values_supported`` holds JOSE names for ``dc+sd-jwt`` and COSE
    integers for ``mso_mdoc`` (A.2.2).
    """

    format: StrictStr
    scope: StrictStr | None = None
    credential_signing_alg_values_supported: tuple[StrictStr | StrictInt, ...] | None = None
    cryptographic_binding_methods_supported: tuple[StrictStr, ...] | None = None
    proof_types_supported: dict[str, ProofTypeMetadata] | None = None
    credential_metadata: CredentialMetadata | None = None
    vct: StrictStr | None = None
    doctype: StrictStr | None = None

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> CredentialConfiguration:
        if self.format == CredentialFormat.SD_JWT_VC and not self.vct:
            raise problem("a dc+sd-jwt configuration needs 'vct' (OpenID4VCI App. A.3.2)")
        if self.format == CredentialFormat.MSO_MDOC and not self.doctype:
            raise problem("an mso_mdoc configuration needs 'doctype' (OpenID4VCI App. A.2.2)")
        # §12.2.4: proof_types_supported MUST be present iff binding methods are. Enforced
        # when honnin builds metadata; tolerated when received, because the spec's own
        # mso_mdoc example (credential_metadata_mso_mdoc.json) has binding methods only.
        if not is_parsing(info) and (self.cryptographic_binding_methods_supported is None) != (
            self.proof_types_supported is None
        ):
            raise problem(
                "proof_types_supported and cryptographic_binding_methods_supported come "
                "together (§12.2.4)"
            )
        return self

    @property
    def requires_binding(self) -> bool:
        """Cryptographic key binding (and so ``proofs``) is required (§8.2, §12.2.4)."""
        return self.cryptographic_binding_methods_supported is not None


class CredentialRequestEncryption(WireMessage):
    """§12.2.4 ``credential_request_encryption``."""

    jwks: JsonWebKeySet
    enc_values_supported: tuple[StrictStr, ...]
    zip_values_supported: tuple[StrictStr, ...] | None = None
    encryption_required: StrictBool

    @model_validator(mode="after")
    def _check(self) -> CredentialRequestEncryption:
        if not all(isinstance(k.get("kid"), str) for k in self.jwks.keys):
            raise problem("every credential_request_encryption key needs a 'kid' (§12.2.4)")
        return self


class CredentialResponseEncryption(WireMessage):
    """§12.2.4 ``credential_response_encryption``."""

    alg_values_supported: tuple[StrictStr, ...]
    enc_values_supported: tuple[StrictStr, ...]
    zip_values_supported: tuple[StrictStr, ...] | None = None
    encryption_required: StrictBool


class BatchCredentialIssuance(WireMessage):
    """§12.2.4 ``batch_credential_issuance``: ``batch_size`` MUST be 2 or greater."""

    batch_size: StrictInt = Field(ge=2)


class CredentialIssuerMetadata(WireMessage):
    """Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.4)."""

    credential_issuer: IssuerIdentifier
    authorization_servers: tuple[IssuerIdentifier, ...] | None = None
    credential_endpoint: HttpUrl
    nonce_endpoint: HttpUrl | None = None
    deferred_credential_endpoint: HttpUrl | None = None
    notification_endpoint: HttpUrl | None = None
    credential_request_encryption: CredentialRequestEncryption | None = None
    credential_response_encryption: CredentialResponseEncryption | None = None
    batch_credential_issuance: BatchCredentialIssuance | None = None
    display: tuple[IssuerDisplay, ...] | None = None
    credential_configurations_supported: dict[str, CredentialConfiguration]

    @model_validator(mode="after")
    def _check(self) -> CredentialIssuerMetadata:
        if self.authorization_servers is not None and not self.authorization_servers:
            raise problem("authorization_servers must be non-empty when present (§12.2.4)")
        if self.display is not None:
            locales = [d.locale for d in self.display if d.locale is not None]
            if len(locales) != len(set(locales)):
                raise problem("one display object per locale (§12.2.4)")
        return self

    def configuration(self, configuration_id: str) -> CredentialConfiguration | None:
        """The configuration with ``configuration_id``, if the issuer offers it."""
        return self.credential_configurations_supported.get(configuration_id)


def parse_credential_issuer_metadata(
    data: dict[str, Any] | str | bytes, *, credential_issuer: str | None = None
) -> CredentialIssuerMetadata:
    """Parse Credential Issuer Metadata; with ``credential_issuer``, also require that it is
    exactly the identifier the metadata was fetched for (§12.2.4: simple string comparison,
    no normalisation; otherwise the metadata MUST NOT be used).

    Raises:
        InvalidRequest: the metadata breaks §12.2.4 or names another issuer.
    """
    metadata = parse_message(CredentialIssuerMetadata, data, max_size=1024 * 1024)
    if credential_issuer is not None and metadata.credential_issuer != credential_issuer:
        raise InvalidRequest("credential_issuer in the metadata is not the one fetched (§12.2.4)")
    return metadata


def parse_unverified_signed_metadata(
    token: str, *, credential_issuer: str | None = None
) -> tuple[UnverifiedJws, CredentialIssuerMetadata]:
    """Parse signed metadata (§12.2.3) WITHOUT verifying its signature.

    Checks ``typ``, ``sub`` (= ``credential_issuer``) and ``iat``; the caller MUST then
    establish trust in the signer and verify the JWS (e.g. ``x5c`` to a trust anchor)
    before using the metadata.

    Raises:
        InvalidRequest: wrong ``typ``, ``sub`` or ``iat``, or metadata that breaks §12.2.4.
        MalformedInput: not a compact JWS.
    """
    jws = parse_jws("".join(token.split()))
    if jws.header.get("typ") != SIGNED_METADATA_TYP:
        raise InvalidRequest(f"signed metadata must have typ {SIGNED_METADATA_TYP} (§12.2.3)")
    payload = json_loads(jws.payload)
    if not isinstance(payload, dict):
        raise MalformedInput("signed metadata payload is not a JSON object")
    iat = payload.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidRequest("signed metadata needs an integer 'iat' (§12.2.3)")
    metadata = parse_credential_issuer_metadata(payload, credential_issuer=credential_issuer)
    if payload.get("sub") != metadata.credential_issuer:
        raise InvalidRequest("signed metadata 'sub' must be the credential issuer (§12.2.3)")
    return jws, metadata


def credential_issuer_metadata_url(credential_issuer: str) -> str:
    """Where a Credential Issuer's metadata lives (§12.2.2)."""
    return well_known_url(credential_issuer, WELL_KNOWN_CREDENTIAL_ISSUER)


def authorization_server_metadata_url(issuer: str) -> str:
    """Where an Authorization Server's metadata lives (RFC 8414 §3.1, OpenID4VCI §12.2.4)."""
    return well_known_url(issuer, WELL_KNOWN_AUTHORIZATION_SERVER)
