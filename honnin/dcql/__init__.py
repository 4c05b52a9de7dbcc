"""DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 §6) and claims paths (§7).

- ``parse_dcql_query`` / ``DcqlQuery``: the query as frozen models, validated per §6.
- ``select_claims`` / ``select_mdoc_claim``: claims path pointer processing (§7.1.1, §7.2.1).
- ``match_query``: which held credentials answer which Credential Query (wallet, §6.4).
- ``check_presented``: whether verified presentations satisfy the query (verifier, §8.6).

Pure code: no I/O, no clock.
"""

from ._check import (
    AcceptedPresentation,
    DcqlFinding,
    DcqlProblem,
    PresentationCheck,
    PresentedCredential,
    check_presented,
)
from ._constants import CredentialFormat, TrustedAuthorityType
from ._match import (
    CandidateCredential,
    CandidateMatch,
    CredentialQueryMatch,
    CredentialSetMatch,
    DcqlMatch,
    claim_values,
    match_query,
)
from ._models import (
    ClaimsPath,
    ClaimsQuery,
    ClaimValue,
    CredentialQuery,
    CredentialQueryMeta,
    CredentialSetQuery,
    DcqlQuery,
    TrustedAuthoritiesQuery,
    check_claims_path,
    dcql_query_json,
    parse_dcql_query,
)
from ._paths import select_claims, select_mdoc_claim

__all__ = [
    "AcceptedPresentation",
    "CandidateCredential",
    "CandidateMatch",
    "ClaimValue",
    "ClaimsPath",
    "ClaimsQuery",
    "CredentialFormat",
    "CredentialQuery",
    "CredentialQueryMatch",
    "CredentialQueryMeta",
    "CredentialSetMatch",
    "CredentialSetQuery",
    "DcqlFinding",
    "DcqlMatch",
    "DcqlProblem",
    "DcqlQuery",
    "PresentationCheck",
    "PresentedCredential",
    "TrustedAuthoritiesQuery",
    "TrustedAuthorityType",
    "check_claims_path",
    "check_presented",
    "claim_values",
    "dcql_query_json",
    "match_query",
    "parse_dcql_query",
    "select_claims",
    "select_mdoc_claim",
]
