"""The issuer's published metadata: OpenID4VCI Credential Issuer Metadata (§12.2),
OAuth Authorization Server Metadata (RFC 8414; OpenID4VCI §12.3) and JWT VC Issuer Metadata
(draft-ietf-oauth-sd-jwt-vc §4). Built once per app from the issuer and its settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from honnin.credential_types import CredentialType
from honnin.credentials import CredentialFormat
from honnin.jose import DEFAULT_ALLOWED, algorithm_for_key
from honnin.oid4vci import (
    AUTHORIZATION_CODE_GRANT,
    PRE_AUTHORIZED_CODE_GRANT,
    AuthorizationServerMetadata,
    BatchCredentialIssuance,
    ClaimDescription,
    ClaimDisplay,
    CredentialConfiguration,
    CredentialDisplay,
    CredentialIssuerMetadata,
    CredentialMetadata,
    IssuerDisplay,
    ProofTypeMetadata,
)

from ._identity import IssuerIdentity
from ._offers import configuration_id

__all__ = ["Endpoints", "IssuerMetadata", "build_metadata"]

_LOCALES: Final = ("ja", "en")
#: RFC 9053 §2.1 / IANA COSE Algorithms: ES256 = -7, ES384 = -35, ES512 = -36, EdDSA = -8.
_COSE_ALG: Final = {"ES256": -7, "ES384": -35, "ES512": -36, "EdDSA": -8}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The service's URL paths (under the issuer identifier's path) and absolute URLs."""

    base_url: str
    base_path: str

    @classmethod
    def of(cls, credential_issuer: str) -> Endpoints:
        return cls(credential_issuer.rstrip("/"), urlsplit(credential_issuer).path.rstrip("/"))

    def path(self, name: str) -> str:
        return f"{self.base_path}/{name}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def well_known(self, suffix: str) -> str:
        # OpenID4VCI §12.2.2 / RFC 8414 §3.1: the well-known segment goes before the path.
        return f"/.well-known/{suffix}{self.base_path}"


@dataclass(frozen=True, slots=True)
class IssuerMetadata:
    """The three metadata documents as JSON-ready dicts."""

    credential_issuer: dict[str, Any]
    authorization_server: dict[str, Any]
    jwt_vc_issuer: dict[str, Any]
    configurations: dict[str, tuple[CredentialType, CredentialFormat]]


def _display(labels: Any) -> tuple[ClaimDisplay, ...]:
    return tuple(ClaimDisplay(name=labels(lang), locale=lang) for lang in _LOCALES)


def _sd_jwt_claims(credential_type: CredentialType) -> tuple[ClaimDescription, ...]:
    return tuple(
        ClaimDescription(
            path=claim.path,
            mandatory=claim.mandatory or None,
            display=_display(claim.label),
        )
        for claim in credential_type.claims
    )


def _mdoc_claims(credential_type: CredentialType) -> tuple[ClaimDescription, ...]:
    out = []
    for (namespace, identifier), path in credential_type.mdoc.elements:
        claim = credential_type.claim(path)
        out.append(
            ClaimDescription(
                path=(namespace, identifier),
                mandatory=(claim.mandatory or None) if claim else None,
                display=_display(claim.label) if claim else None,
            )
        )
    return tuple(out)


def _configuration(
    credential_type: CredentialType, fmt: CredentialFormat, signing_alg: str
) -> CredentialConfiguration:
    display = tuple(
        CredentialDisplay(
            name=credential_type.name(lang),
            locale=lang,
            description=credential_type.description(lang) or None,
        )
        for lang in _LOCALES
    )
    proof_algs = tuple(sorted(a.value for a in DEFAULT_ALLOWED))
    proof_types = {"jwt": ProofTypeMetadata(proof_signing_alg_values_supported=proof_algs)}
    if fmt is CredentialFormat.SD_JWT_VC:
        # App. A.3: vct REQUIRED; binding by JWK in cnf.
        return CredentialConfiguration(
            format=fmt.value,
            scope=credential_type.id,
            vct=credential_type.vct,
            credential_signing_alg_values_supported=(signing_alg,),
            cryptographic_binding_methods_supported=("jwk",),
            proof_types_supported=proof_types,
            credential_metadata=CredentialMetadata(
                display=display, claims=_sd_jwt_claims(credential_type)
            ),
        )
    # App. A.2: doctype REQUIRED; COSE algorithm identifiers; binding by COSE_Key.
    return CredentialConfiguration(
        format=fmt.value,
        scope=f"{credential_type.id}.mdoc",
        doctype=credential_type.doctype,
        credential_signing_alg_values_supported=(_COSE_ALG[signing_alg],),
        cryptographic_binding_methods_supported=("cose_key",),
        proof_types_supported=proof_types,
        credential_metadata=CredentialMetadata(
            display=display, claims=_mdoc_claims(credential_type)
        ),
    )


def build_metadata(
    identity: IssuerIdentity,
    types: Sequence[CredentialType],
    *,
    batch_size: int,
    client_auth_methods: tuple[str, ...] = ("none",),
) -> IssuerMetadata:
    """Every metadata document for ``identity`` issuing ``types`` in both formats;
    ``client_auth_methods`` for the token endpoint (``none`` for public clients,
    ``attest_jwt_client_auth`` when wallet attestations are taken)."""
    endpoints = Endpoints.of(identity.iss)
    signing_alg = algorithm_for_key(identity.key).value
    configurations: dict[str, tuple[CredentialType, CredentialFormat]] = {}
    supported: dict[str, CredentialConfiguration] = {}
    for credential_type in types:
        for fmt in (CredentialFormat.SD_JWT_VC, CredentialFormat.MSO_MDOC):
            config_id = configuration_id(credential_type.id, fmt)
            configurations[config_id] = (credential_type, fmt)
            supported[config_id] = _configuration(credential_type, fmt, signing_alg)
    issuer_metadata = CredentialIssuerMetadata(
        credential_issuer=identity.iss,
        credential_endpoint=endpoints.url("credential"),
        nonce_endpoint=endpoints.url("nonce"),
        deferred_credential_endpoint=endpoints.url("deferred_credential"),
        notification_endpoint=endpoints.url("notification"),
        # §12.2.4: batch_size is at least 2; a service that issues one copy omits it.
        batch_credential_issuance=(
            BatchCredentialIssuance(batch_size=batch_size) if batch_size >= 2 else None
        ),
        display=tuple(IssuerDisplay(name=identity.name, locale=lang) for lang in _LOCALES),
        credential_configurations_supported=supported,
    )
    authorization_server = AuthorizationServerMetadata(
        issuer=identity.iss,
        token_endpoint=endpoints.url("token"),
        grant_types_supported=(PRE_AUTHORIZED_CODE_GRANT, AUTHORIZATION_CODE_GRANT),
        token_endpoint_auth_methods_supported=client_auth_methods,
        # The authorization code flow (OpenID4VCI §3.4): pushed requests only (RFC 9126
        # §5), PKCE S256 (RFC 7636), iss in the response (RFC 9207).
        authorization_endpoint=endpoints.url("authorize"),
        pushed_authorization_request_endpoint=endpoints.url("par"),
        require_pushed_authorization_requests=True,
        response_types_supported=("code",),
        code_challenge_methods_supported=("S256",),
        authorization_response_iss_parameter_supported=True,
        pre_authorized_grant_anonymous_access_supported=True,
        # RFC 9449 §5.1: the token endpoint takes DPoP proofs, ES256 only.
        dpop_signing_alg_values_supported=("ES256",),
        # draft-ietf-oauth-status-list-20 §9.1: every status list of this issuer.
        status_list_aggregation_endpoint=endpoints.url("status"),
    )
    jwk = identity.public_jwk()
    jwk["x5c"] = identity.x5c()  # RFC 7517 §4.7: the chain that certifies this key
    jwk["use"] = "sig"
    jwt_vc_issuer = {"issuer": identity.iss, "jwks": {"keys": [jwk]}}
    return IssuerMetadata(
        credential_issuer=issuer_metadata.to_json(),
        authorization_server=authorization_server.to_json(),
        jwt_vc_issuer=jwt_vc_issuer,
        configurations=configurations,
    )
