"""The one exception tree of honnin.

Every failure a caller can act on has its own class with a stable ``code`` (a short
snake_case string that never changes between releases) and the fields the caller needs.
Services map each class one-to-one onto an OAuth-style JSON error via ``oauth_error`` and
``http_status``. Third-party exceptions never escape honnin: they are wrapped at the
boundary with ``raise ... from exc``. ``TypeError``/``ValueError`` are raised only for
programmer mistakes (wrong argument types), never for hostile input.

::

    HonninError
    ├── MalformedInput                  input that is not what the format says
    │   ├── MalformedBase64url
    │   ├── MalformedJson
    │   ├── MalformedCbor
    │   ├── MalformedJws
    │   ├── MalformedCose                RFC 9052 message or header shape
    │   ├── MalformedCredential
    │   │   ├── InvalidDisclosure        RFC 9901 §7.1 step 3/5 (shape, name, unreferenced)
    │   │   └── NonUniqueDigests         RFC 9901 §7.1 step 4
    │   ├── InvalidClaim                 a registered claim with a wrong type or value
    │   ├── InvalidDcqlQuery             a DCQL query or claims path that breaks OpenID4VP §6/§7
    │   └── TooLarge                     a size, count or depth limit was exceeded
    ├── UnsupportedAlgorithm             alg / hash not in the caller's allow-list
    ├── InvalidSignature
    ├── DigestMismatch                   a disclosed value does not match its signed digest
    ├── InvalidKeyBinding                KB-JWT / DeviceAuth / proof of possession
    ├── ValidityError
    │   ├── Expired
    │   └── NotYetValid
    ├── TrustError
    │   ├── UntrustedIssuer
    │   ├── IssuerNotEntitled
    │   └── UntrustedVerifier
    ├── StatusError
    │   ├── Revoked
    │   ├── Suspended
    │   └── StatusUnavailable            fail-closed when a status cannot be established
    ├── SchemaViolation                  claims that break a credential type's schema
    ├── UnknownCredentialType            a type id / vct / docType not in the catalogue
    ├── PolicyViolation                  a request or presentation the policy forbids
    │   └── ConsentRefused
    ├── ReplayDetected
    ├── FetchError                       network access through the Fetcher port failed
    ├── StoreUnavailable                 persistent state could not be read or written
    ├── ProtocolError                    OpenID4VCI / OpenID4VP / OAuth errors on the wire
    │   ├── InvalidRequest
    │   ├── InvalidClient
    │   ├── InvalidGrant
    │   ├── InvalidToken
    │   ├── InvalidDpopProof             RFC 9449 §5, §7.1 (a DPoP proof refused)
    │   ├── UseDpopNonce                 RFC 9449 §8, §9 (send the server's DPoP nonce)
    │   ├── InvalidProof
    │   ├── InvalidNonce
    │   ├── InvalidCredentialRequest
    │   ├── UnknownCredentialConfiguration
    │   ├── UnsupportedCredentialFormat
    │   ├── UnsupportedGrantType
    │   ├── CredentialRequestDenied
    │   ├── InvalidTransactionId
    │   ├── InvalidNotificationId
    │   ├── InvalidNotificationRequest
    │   ├── IssuancePending
    │   ├── AccessDenied
    │   ├── RateLimited                  too many requests from one client (429)
    │   ├── NotFound
    │   └── DecryptionFailed             a JWE that does not decrypt (wrong key, tampered)
    ├── NoMatchingCredential
    ├── ClaimsPathError                  a claims path selects nothing (OpenID4VP §7.1.1)
    └── WalletError
        ├── WrongPin
        ├── WalletLocked
        ├── WalletCorrupted
        ├── UnsupportedWalletVersion
        ├── NotAWallet
        └── WalletInUse              another process or vault holds the file
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "ClaimsPathError",
    "ConsentRefused",
    "CredentialRequestDenied",
    "DecryptionFailed",
    "DigestMismatch",
    "Expired",
    "FetchError",
    "HonninError",
    "InvalidClaim",
    "InvalidClient",
    "InvalidCredentialRequest",
    "InvalidDcqlQuery",
    "InvalidDisclosure",
    "InvalidDpopProof",
    "InvalidGrant",
    "InvalidKeyBinding",
    "InvalidNonce",
    "InvalidNotificationId",
    "InvalidNotificationRequest",
    "InvalidProof",
    "InvalidRequest",
    "InvalidSignature",
    "InvalidToken",
    "InvalidTransactionId",
    "IssuancePending",
    "IssuerNotEntitled",
    "MalformedBase64url",
    "MalformedCbor",
    "MalformedCose",
    "MalformedCredential",
    "MalformedInput",
    "MalformedJson",
    "MalformedJws",
    "NoMatchingCredential",
    "NonUniqueDigests",
    "NotAWallet",
    "NotFound",
    "NotYetValid",
    "PolicyViolation",
    "ProtocolError",
    "RateLimited",
    "ReplayDetected",
    "Revoked",
    "SchemaViolation",
    "StatusError",
    "StatusUnavailable",
    "StoreUnavailable",
    "Suspended",
    "TooLarge",
    "TrustError",
    "UnknownCredentialConfiguration",
    "UnknownCredentialType",
    "UnsupportedAlgorithm",
    "UnsupportedCredentialFormat",
    "UnsupportedGrantType",
    "UnsupportedWalletVersion",
    "UntrustedIssuer",
    "UntrustedVerifier",
    "UseDpopNonce",
    "ValidityError",
    "WalletCorrupted",
    "WalletError",
    "WalletInUse",
    "WalletLocked",
    "WrongPin",
]


class HonninError(Exception):
    """Root of every error honnin raises on purpose.

    ``code`` is stable across releases; ``fields`` carries the details a caller can act on
    (never secrets). ``oauth_error``/``http_status`` say how a service answers with it.
    """

    code: ClassVar[str] = "honnin_error"
    oauth_error: ClassVar[str] = "invalid_request"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = fields
        for name, value in fields.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready dict (``code``, ``message`` and the public fields)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for name, value in self.fields.items():
            if isinstance(value, str | int | float | bool | type(None) | list | dict):
                out[name] = value
            else:
                out[name] = str(value)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# -- malformed input -------------------------------------------------------------------


class MalformedInput(HonninError):
    """The input does not have the shape its format requires."""

    code = "malformed"


class MalformedBase64url(MalformedInput):
    """Not strict base64url (RFC 4648 §5, no padding, no foreign characters)."""

    code = "malformed_base64url"


class MalformedJson(MalformedInput):
    """Not strict JSON (RFC 8259): bad syntax, duplicate names, bad UTF-8, too deep."""

    code = "malformed_json"


class MalformedCbor(MalformedInput):
    """Not well-formed CBOR for the position it is in (RFC 8949)."""

    code = "malformed_cbor"


class MalformedCose(MalformedInput):
    """A COSE message, header or key whose structure breaks RFC 9052 / RFC 9053."""

    code = "malformed_cose"


class MalformedJws(MalformedInput):
    """A JWS whose serialization or protected header is malformed (RFC 7515)."""

    code = "malformed_jws"


class MalformedCredential(MalformedInput):
    """A credential whose structure breaks its format (SD-JWT, SD-JWT VC, mdoc)."""

    code = "malformed_credential"


class InvalidDisclosure(MalformedCredential):
    """An SD-JWT disclosure that is ill-shaped, forbidden or not referenced (RFC 9901 §7.1)."""

    code = "invalid_disclosure"


class NonUniqueDigests(MalformedCredential):
    """A digest occurs more than once in an SD-JWT (RFC 9901 §7.1 step 4)."""

    code = "non_unique_digests"


class InvalidClaim(MalformedInput):
    """A registered claim (``iat``, ``exp``, ``vct``, ...) has the wrong type or value."""

    code = "invalid_claim"


class InvalidDcqlQuery(MalformedInput):
    """A DCQL query or claims path pointer that breaks OpenID4VP 1.0 §6 / §7.

    A subclass of ``MalformedInput`` rather than ``InvalidRequest``: DCQL is a data format
    that reaches honnin through several carriers (request object, ``scope`` alias, DC API,
    a verifier's own configuration), and its parser is pure format code. On the wire it is
    still answered with ``invalid_request`` (OpenID4VP §8.5).
    """

    code = "invalid_dcql_query"


class TooLarge(MalformedInput):
    """A size, count or nesting limit was exceeded (see ``honnin.limits``)."""

    code = "too_large"
    http_status = 413


# -- cryptography ------------------------------------------------------------------------


class UnsupportedAlgorithm(HonninError):
    """An algorithm or hash not in the caller's allow-list (incl. ``none``)."""

    code = "unsupported_algorithm"


class InvalidSignature(HonninError):
    """A signature or MAC does not verify under the expected key."""

    code = "invalid_signature"


class DigestMismatch(HonninError):
    """A disclosed element's digest differs from the one the issuer signed."""

    code = "digest_mismatch"


class InvalidKeyBinding(HonninError):
    """Holder binding failed: KB-JWT, mdoc DeviceAuth or a proof of possession.

    ``reason`` names the failed check (``nonce``, ``aud``, ``sd_hash``, ``iat``, ``typ``,
    ``signature``, ``missing``, ``forbidden``, ``cnf``, ``transcript``, and
    ``transaction_data`` for KB-JWT ``transaction_data_hashes``, OpenID4VP 1.0 App. B.3.3).
    """

    code = "invalid_key_binding"


# -- time ---------------------------------------------------------------------------------


class ValidityError(HonninError):
    """Outside a validity period."""

    code = "validity_error"


class Expired(ValidityError):
    """Past ``exp`` / ``validUntil`` / ``notAfter``."""

    code = "expired"


class NotYetValid(ValidityError):
    """Before ``nbf`` / ``validFrom`` / ``notBefore``, or issued in the future."""

    code = "not_yet_valid"


# -- trust --------------------------------------------------------------------------------


class TrustError(HonninError):
    """A party could not be trusted."""

    code = "trust_error"


class UntrustedIssuer(TrustError):
    """The issuer's key or certificate chain does not lead to a configured trust anchor."""

    code = "untrusted_issuer"


class IssuerNotEntitled(TrustError):
    """The issuer is trusted, but the trust list does not entitle it to this credential type."""

    code = "issuer_not_entitled"


class UntrustedVerifier(TrustError):
    """The verifier's request or registration could not be authenticated."""

    code = "untrusted_verifier"
    oauth_error = "invalid_client"


# -- status -------------------------------------------------------------------------------


class StatusError(HonninError):
    """The credential's status forbids its use, or could not be established."""

    code = "status_error"


class Revoked(StatusError):
    """Status INVALID in the Token Status List."""

    code = "revoked"


class Suspended(StatusError):
    """Status SUSPENDED in the Token Status List."""

    code = "suspended"


class StatusUnavailable(StatusError):
    """The status list could not be fetched, verified or read (fail closed)."""

    code = "status_unavailable"


# -- policy -------------------------------------------------------------------------------


class SchemaViolation(HonninError):
    """Claims that break the credential type's schema; nothing was signed."""

    code = "schema_violation"


class UnknownCredentialType(HonninError):
    """A credential type (catalogue id, ``vct`` or mdoc docType) the catalogue does not know."""

    code = "unknown_credential_type"


class PolicyViolation(HonninError):
    """The request or presentation is forbidden by policy (registration, trust framework)."""

    code = "policy_violation"
    oauth_error = "access_denied"
    http_status = 403


class ConsentRefused(PolicyViolation):
    """The person (or the wallet on their behalf) refused the request."""

    code = "consent_refused"


class ReplayDetected(HonninError):
    """A nonce, state, code or token was used again."""

    code = "replay_detected"


class FetchError(HonninError):
    """A fetch through the ``Fetcher`` port failed (network, status code, size)."""

    code = "fetch_error"
    http_status = 502


class StoreUnavailable(HonninError):
    """A store (SQLite, PostgreSQL) could not read or write; nothing was reported as done.

    ``operation`` names what failed. Services answer 503: the caller may retry later.
    """

    code = "store_unavailable"
    oauth_error = "server_error"
    http_status = 503


class ClaimsPathError(HonninError):
    """A claims path pointer selects nothing in a credential (OpenID4VP 1.0 §7.1.1, §7.2.1).

    ``reason`` is ``type_mismatch`` (a component applied to the wrong JSON type) or
    ``not_found`` (the selection became empty); ``path`` is the pointer.
    """

    code = "claims_path_error"


class NoMatchingCredential(HonninError):
    """The wallet holds no credential that can answer the request."""

    code = "no_matching_credential"


# -- protocol errors on the wire (OAuth 2.0 / OpenID4VCI §8.3.1 / OpenID4VP §8.5) --------


class ProtocolError(HonninError):
    """An error that an OAuth / OpenID4VC endpoint returns on the wire."""

    code = "protocol_error"


class InvalidRequest(ProtocolError):
    """RFC 6749 §5.2 ``invalid_request``."""

    code = "invalid_request"
    oauth_error = "invalid_request"


class InvalidClient(ProtocolError):
    """RFC 6749 §5.2 ``invalid_client``."""

    code = "invalid_client"
    oauth_error = "invalid_client"
    http_status = 401


class InvalidGrant(ProtocolError):
    """RFC 6749 §5.2 ``invalid_grant`` (wrong, expired, used or voided code / tx_code)."""

    code = "invalid_grant"
    oauth_error = "invalid_grant"


class InvalidToken(ProtocolError):
    """RFC 6750 §3.1 ``invalid_token``."""

    code = "invalid_token"
    oauth_error = "invalid_token"
    http_status = 401


class InvalidDpopProof(ProtocolError):
    """RFC 9449 §5 / §7.1 ``invalid_dpop_proof``: a DPoP proof missing, malformed, not for
    this request, replayed, or not from the key the access token is bound to. ``reason``
    names the failed check. The token endpoint answers 400; a protected resource 401."""

    code = "invalid_dpop_proof"
    oauth_error = "invalid_dpop_proof"


class UseDpopNonce(ProtocolError):
    """RFC 9449 §8 / §9 ``use_dpop_nonce``: the server wants its nonce in the DPoP proof;
    the answer's ``DPoP-Nonce`` header carries the one to use (``fields["dpop_nonce"]``)."""

    code = "use_dpop_nonce"
    oauth_error = "use_dpop_nonce"


class InvalidProof(ProtocolError):
    """OpenID4VCI §8.3.1.2 ``invalid_proof``."""

    code = "invalid_proof"
    oauth_error = "invalid_proof"


class InvalidNonce(ProtocolError):
    """OpenID4VCI §8.3.1.2 ``invalid_nonce`` (c_nonce unknown, used or expired)."""

    code = "invalid_nonce"
    oauth_error = "invalid_nonce"


class InvalidCredentialRequest(ProtocolError):
    """OpenID4VCI §8.3.1.2 ``invalid_credential_request``."""

    code = "invalid_credential_request"
    oauth_error = "invalid_credential_request"


class UnknownCredentialConfiguration(ProtocolError):
    """OpenID4VCI §8.3.1.2 ``unknown_credential_configuration``."""

    code = "unknown_credential_configuration"
    oauth_error = "unknown_credential_configuration"


class UnsupportedCredentialFormat(ProtocolError):
    """A credential format the party does not support."""

    code = "unsupported_credential_format"
    oauth_error = "unsupported_credential_format"


class IssuancePending(ProtocolError):
    """OpenID4VCI §9.3 ``issuance_pending``: ask again later (``interval`` seconds)."""

    code = "issuance_pending"
    oauth_error = "issuance_pending"


class UnsupportedGrantType(ProtocolError):
    """RFC 6749 §5.2 ``unsupported_grant_type``."""

    code = "unsupported_grant_type"
    oauth_error = "unsupported_grant_type"


class CredentialRequestDenied(ProtocolError):
    """OpenID4VCI §8.3.1.2 ``credential_request_denied`` (e.g. a configuration the access
    token was not issued for)."""

    code = "credential_request_denied"
    oauth_error = "credential_request_denied"


class InvalidTransactionId(ProtocolError):
    """OpenID4VCI §9.3 ``invalid_transaction_id`` (unknown, delivered or expired)."""

    code = "invalid_transaction_id"
    oauth_error = "invalid_transaction_id"


class InvalidNotificationId(ProtocolError):
    """OpenID4VCI §11.3 ``invalid_notification_id``."""

    code = "invalid_notification_id"
    oauth_error = "invalid_notification_id"


class InvalidNotificationRequest(ProtocolError):
    """OpenID4VCI §11.3 ``invalid_notification_request``."""

    code = "invalid_notification_request"
    oauth_error = "invalid_notification_request"


class AccessDenied(ProtocolError):
    """RFC 6749 §4.1.2.1 ``access_denied``."""

    code = "access_denied"
    oauth_error = "access_denied"
    http_status = 403


class RateLimited(ProtocolError):
    """Too many requests from one client (RFC 6585 §4, 429; HOSTILE-CASES IS-30): answered
    ``temporarily_unavailable`` with ``Retry-After`` (``fields["retry_after"]``, seconds)."""

    code = "rate_limited"
    oauth_error = "temporarily_unavailable"
    http_status = 429


class NotFound(ProtocolError):
    """An unknown transaction, offer, state or resource."""

    code = "not_found"
    oauth_error = "invalid_request"
    http_status = 404


class DecryptionFailed(InvalidRequest):
    """A JWE that does not decrypt: wrong recipient key or tampered ciphertext/tag (RFC 7516 §5.2).

    The two causes are cryptographically indistinguishable (AES-GCM tag check), so one class
    covers both. On the wire it is ``invalid_request`` (OpenID4VP §8.5).
    """

    code = "decryption_failed"


# -- wallet at rest -------------------------------------------------------------------------


class WalletError(HonninError):
    """The wallet file cannot be used."""

    code = "wallet_error"


class WrongPin(WalletError):
    """The PIN is wrong; ``attempts_left`` before back-off or lock."""

    code = "wrong_pin"


class WalletLocked(WalletError):
    """Too many wrong PINs; ``retry_after`` seconds, or ``None`` when locked until recovery."""

    code = "wallet_locked"


class WalletCorrupted(WalletError):
    """The wallet file is damaged; ``record`` names the damaged record when known."""

    code = "wallet_corrupted"


class UnsupportedWalletVersion(WalletError):
    """The wallet file was written by a newer honnin."""

    code = "unsupported_wallet_version"


class NotAWallet(WalletError):
    """The file is not a honnin wallet."""

    code = "not_a_wallet"


class WalletInUse(WalletError):
    """The wallet file is open in another process or vault (SQLite holds it exclusively)."""

    code = "wallet_in_use"
    http_status = 409
