"""DCQL constants and input limits (OpenID4VP 1.0 §6, §7, Appendix B)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from honnin.limits import MAX_JSON_DEPTH


class CredentialFormat(StrEnum):
    """Credential Format Identifiers honnin knows (OpenID4VP 1.0 App. B; OpenID4VCI App. A)."""

    SD_JWT_VC = "dc+sd-jwt"  # OpenID4VP B.3.1 / OpenID4VCI A.3.1
    MSO_MDOC = "mso_mdoc"  # OpenID4VP B.2 / OpenID4VCI A.2.1


class TrustedAuthorityType(StrEnum):
    """Trusted Authorities Query types (OpenID4VP 1.0 §6.1.1)."""

    AKI = "aki"
    ETSI_TL = "etsi_tl"
    OPENID_FEDERATION = "openid_federation"


#: §6.1 / §6.3: ids are non-empty strings of alphanumerics, ``_`` and ``-``.
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+")

# Limits (CONVENTIONS 12, HOSTILE-CASES WL-15): generous for real requests, and checked on
# the raw input before the models are built, so a 10,000-query request costs nothing.
MAX_CREDENTIAL_QUERIES: Final = 64
MAX_CLAIMS_PER_QUERY: Final = 256
MAX_CLAIM_SETS: Final = 64
MAX_CREDENTIAL_SETS: Final = 32
MAX_OPTIONS: Final = 64
MAX_VALUES: Final = 64
MAX_TRUSTED_AUTHORITIES: Final = 32
MAX_ID_LENGTH: Final = 256
MAX_PATH_LENGTH: Final = MAX_JSON_DEPTH

#: SD-JWT VC claims that are never selectively disclosable (SD-JWT VC §3.2.2.2), so they are
#: not "disclosed" claims when a caller does not say which claims came from disclosures.
ALWAYS_VISIBLE_SD_JWT_VC_CLAIMS: Final = frozenset(
    {"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd_alg"}
)
