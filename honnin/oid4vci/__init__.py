"""OpenID for Verifiable Credential Issuance 1.0: messages and pure steps (no I/O).

- Credential Offer (§4.1) and its ``openid-credential-offer://`` link codec.
- Credential Issuer Metadata (§12.2), Authorization Server Metadata (RFC 8414, §12.3).
- Token (§6) and Nonce (§7) messages; Credential (§8), Deferred (§9) and Notification (§11)
  messages.
- The ``jwt`` key proof: ``build_proof_jwt`` / ``verify_proof_jwt`` (App. F.1, F.4).

Every model is frozen; parsing ignores unknown members and building forbids them (see
``honnin.oauth``). Parse untrusted input with the ``parse_*`` functions: they raise the
``HonninError`` the spec names (``invalid_request``, ``invalid_credential_request``, ...).
"""

from honnin.oauth import AuthorizationServerMetadata

from ._constants import (
    AUTHORIZATION_CODE_GRANT,
    CREDENTIAL_OFFER_SCHEME,
    OPENID_CREDENTIAL,
    PRE_AUTHORIZED_CODE_GRANT,
    PROOF_JWT_TYP,
    SIGNED_METADATA_TYP,
    CredentialErrorCode,
    NotificationEvent,
    TxCodeInputMode,
)
from ._credential import (
    CredentialErrorResponse,
    CredentialRequest,
    CredentialResponse,
    CredentialResponseEncryptionParameters,
    DeferredCredentialRequest,
    IssuedCredential,
    NotificationRequest,
    Proofs,
    parse_credential_request,
    parse_credential_response,
    parse_deferred_credential_request,
    parse_notification_request,
)
from ._metadata import (
    BackgroundImage,
    BatchCredentialIssuance,
    ClaimDescription,
    ClaimDisplay,
    CredentialConfiguration,
    CredentialDisplay,
    CredentialIssuerMetadata,
    CredentialMetadata,
    CredentialRequestEncryption,
    CredentialResponseEncryption,
    IssuerDisplay,
    KeyAttestationsRequired,
    Logo,
    ProofTypeMetadata,
    authorization_server_metadata_url,
    credential_issuer_metadata_url,
    parse_credential_issuer_metadata,
    parse_unverified_signed_metadata,
)
from ._offer import (
    AuthorizationCodeGrant,
    CredentialOffer,
    CredentialOfferGrants,
    CredentialOfferLink,
    PreAuthorizedCodeGrant,
    TxCode,
    build_credential_offer_uri,
    parse_credential_offer,
    parse_credential_offer_uri,
)
from ._proof import VerifiedProof, build_proof_jwt, verify_proof_jwt
from ._token import (
    AuthorizationDetail,
    NonceResponse,
    TokenRequest,
    TokenResponse,
    parse_token_request,
    parse_token_response,
)

__all__ = [
    "AUTHORIZATION_CODE_GRANT",
    "CREDENTIAL_OFFER_SCHEME",
    "OPENID_CREDENTIAL",
    "PRE_AUTHORIZED_CODE_GRANT",
    "PROOF_JWT_TYP",
    "SIGNED_METADATA_TYP",
    "AuthorizationCodeGrant",
    "AuthorizationDetail",
    "AuthorizationServerMetadata",
    "BackgroundImage",
    "BatchCredentialIssuance",
    "ClaimDescription",
    "ClaimDisplay",
    "CredentialConfiguration",
    "CredentialDisplay",
    "CredentialErrorCode",
    "CredentialErrorResponse",
    "CredentialIssuerMetadata",
    "CredentialMetadata",
    "CredentialOffer",
    "CredentialOfferGrants",
    "CredentialOfferLink",
    "CredentialRequest",
    "CredentialRequestEncryption",
    "CredentialResponse",
    "CredentialResponseEncryption",
    "CredentialResponseEncryptionParameters",
    "DeferredCredentialRequest",
    "IssuedCredential",
    "IssuerDisplay",
    "KeyAttestationsRequired",
    "Logo",
    "NonceResponse",
    "NotificationEvent",
    "NotificationRequest",
    "PreAuthorizedCodeGrant",
    "ProofTypeMetadata",
    "Proofs",
    "TokenRequest",
    "TokenResponse",
    "TxCode",
    "TxCodeInputMode",
    "VerifiedProof",
    "authorization_server_metadata_url",
    "build_credential_offer_uri",
    "build_proof_jwt",
    "credential_issuer_metadata_url",
    "parse_credential_issuer_metadata",
    "parse_credential_offer",
    "parse_credential_offer_uri",
    "parse_credential_request",
    "parse_credential_response",
    "parse_deferred_credential_request",
    "parse_notification_request",
    "parse_token_request",
    "parse_token_response",
    "parse_unverified_signed_metadata",
    "verify_proof_jwt",
]
