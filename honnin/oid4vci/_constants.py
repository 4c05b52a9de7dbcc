"""OpenID4VCI 1.0 constants, each with its section."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

#: §4.1.1 / IANA "OAuth URI": the pre-authorized code grant type.
PRE_AUTHORIZED_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: RFC 6749 §4.1.3.
AUTHORIZATION_CODE_GRANT: Final = "authorization_code"
#: §12.1: the custom scheme used when the wallet's offer endpoint is unknown.
CREDENTIAL_OFFER_SCHEME: Final = "openid-credential-offer"
#: App. F.1: the ``typ`` of a key proof JWT.
PROOF_JWT_TYP: Final = "openid4vci-proof+jwt"
#: §12.2.3: the ``typ`` of signed Credential Issuer Metadata.
SIGNED_METADATA_TYP: Final = "openidvci-issuer-metadata+jwt"
#: §12.2.2 and RFC 8414 §3.
WELL_KNOWN_CREDENTIAL_ISSUER: Final = "openid-credential-issuer"
WELL_KNOWN_AUTHORIZATION_SERVER: Final = "oauth-authorization-server"
#: §5.1.1: the authorization details type.
OPENID_CREDENTIAL: Final = "openid_credential"
#: §4.1.1: ``tx_code.description`` length limit.
MAX_TX_CODE_DESCRIPTION: Final = 300
#: A Credential Offer by value must fit in a QR code or link; this bounds the parser.
MAX_OFFER_SIZE: Final = 64 * 1024
#: App. F.4 freshness window defaults (HOSTILE-CASES IS-13, D1): proofs older than five
#: minutes or from more than 60 s in the future are refused.
PROOF_MAX_AGE: Final = 300
PROOF_MAX_SKEW: Final = 60


class TxCodeInputMode(StrEnum):
    """§4.1.1 ``tx_code.input_mode``."""

    NUMERIC = "numeric"
    TEXT = "text"


class NotificationEvent(StrEnum):
    """§11.1 Notification Request ``event``."""

    CREDENTIAL_ACCEPTED = "credential_accepted"
    CREDENTIAL_FAILURE = "credential_failure"
    CREDENTIAL_DELETED = "credential_deleted"


class CredentialErrorCode(StrEnum):
    """Credential endpoint error codes (§8.3.1.2, §9.3, §11.3)."""

    INVALID_CREDENTIAL_REQUEST = "invalid_credential_request"
    UNKNOWN_CREDENTIAL_CONFIGURATION = "unknown_credential_configuration"
    UNKNOWN_CREDENTIAL_IDENTIFIER = "unknown_credential_identifier"
    INVALID_PROOF = "invalid_proof"
    INVALID_NONCE = "invalid_nonce"
    INVALID_ENCRYPTION_PARAMETERS = "invalid_encryption_parameters"
    CREDENTIAL_REQUEST_DENIED = "credential_request_denied"
    INVALID_TRANSACTION_ID = "invalid_transaction_id"
    INVALID_NOTIFICATION_ID = "invalid_notification_id"
    INVALID_NOTIFICATION_REQUEST = "invalid_notification_request"
