"""SD-JWT (RFC 9901): issuance, holder presentation with Key Binding, and verification.

Issuer::

    token = issue_sd_jwt(claims, issuer_key, disclosable=["/address", "/nationalities/0"],
                         holder_key=holder_public_key)

Holder (parse once, present many times)::

    credential = receive_sd_jwt(token, issuer_public_key)
    presentation = credential.present(["/address/locality"], holder_key=holder_key,
                                      nonce=nonce, aud="https://verifier.example")

Verifier::

    verified = verify_sd_jwt(presentation, issuer_public_key, key_binding=KeyBinding.REQUIRED,
                             nonce=nonce, aud="https://verifier.example")
    verified.claims

SD-JWT VC (draft-ietf-oauth-sd-jwt-vc) adds ``issue_sd_jwt_vc`` and ``verify_sd_jwt_vc`` with
the issuer key policies ``X5cIssuerKeys``, ``IssuerMetadataKeys``, ``PinnedIssuerKey`` and
``IssuerKeysByIssuer``.
"""

from ._constants import DEFAULT_HASH_ALGORITHMS, HashAlgorithm
from ._disclosure import Disclosure, SaltSource, UnverifiedDisclosure, random_salt
from ._holder import SdJwt, receive_sd_jwt
from ._issue import issue_sd_jwt
from ._key_binding import HolderKey, KeyBinding, KeyBindingSigner, VerifiedKeyBinding
from ._paths import ClaimPath, PathSegment, format_claim_path, parse_claim_path
from ._serialization import Serialization
from ._unverified import UnverifiedSdJwt, parse_sd_jwt
from ._vc import (
    LEGACY_SD_JWT_VC_TYP,
    NEVER_DISCLOSABLE,
    SD_JWT_VC_TYP,
    VerifiedSdJwtVc,
    issue_sd_jwt_vc,
    verify_sd_jwt_vc,
)
from ._vc_keys import (
    IssuerKeyPolicy,
    IssuerKeyResolution,
    IssuerKeysByIssuer,
    IssuerMetadataKeys,
    JwtVcIssuerMetadata,
    PinnedIssuerKey,
    X5cIssuerKeys,
    metadata_url,
)
from ._verify import IssuerKeyResolver, VerifiedSdJwt, check_time_claims, verify_sd_jwt

__all__ = [
    "DEFAULT_HASH_ALGORITHMS",
    "LEGACY_SD_JWT_VC_TYP",
    "NEVER_DISCLOSABLE",
    "SD_JWT_VC_TYP",
    "ClaimPath",
    "Disclosure",
    "HashAlgorithm",
    "HolderKey",
    "IssuerKeyPolicy",
    "IssuerKeyResolution",
    "IssuerKeyResolver",
    "IssuerKeysByIssuer",
    "IssuerMetadataKeys",
    "JwtVcIssuerMetadata",
    "KeyBinding",
    "KeyBindingSigner",
    "PathSegment",
    "PinnedIssuerKey",
    "SaltSource",
    "SdJwt",
    "Serialization",
    "UnverifiedDisclosure",
    "UnverifiedSdJwt",
    "VerifiedKeyBinding",
    "VerifiedSdJwt",
    "VerifiedSdJwtVc",
    "X5cIssuerKeys",
    "check_time_claims",
    "format_claim_path",
    "issue_sd_jwt",
    "issue_sd_jwt_vc",
    "metadata_url",
    "parse_claim_path",
    "parse_sd_jwt",
    "random_salt",
    "receive_sd_jwt",
    "verify_sd_jwt",
    "verify_sd_jwt_vc",
]
