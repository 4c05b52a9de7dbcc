"""ISO/IEC 18013-5:2021 (and ISO/IEC 23220-2) constants, one place, each with its section."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

from honnin.limits import MAX_CREDENTIAL_BODY

#: §8.3.2.1.2.2 DeviceResponse "version" and §9.1.2.4 MobileSecurityObject "version".
VERSION: Final = "1.0"

#: §8.3.2.1.2.3 DeviceResponse status: 0 = OK.
STATUS_OK: Final = 0

#: §9.1.2.5: "SHA-256", "SHA-384" and "SHA-512" are the digest algorithms of the MSO.
DIGEST_ALGORITHMS: Final[dict[str, Callable[..., Any]]] = {
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
#: What a verifier accepts by default (HAIP §7 makes SHA-256 mandatory; all three are secure).
DEFAULT_DIGEST_ALGORITHMS: Final = frozenset(DIGEST_ALGORITHMS)

#: §9.1.2.5: the random salt of an IssuerSignedItem is at least 16 bytes; honnin issues 32.
MIN_RANDOM_LENGTH: Final = 16
RANDOM_LENGTH: Final = 32

#: Digest IDs are drawn at random from [0, 2^31) so that they reveal no element order and
#: fit a signed 32-bit integer in every implementation.
DIGEST_ID_SPACE: Final = 1 << 31

#: An issued IssuerSigned (the OpenID4VCI credential) and a DeviceResponse (a vp_token
#: entry, OpenID4VP §8.1) are at most this big when honnin decodes them.
MAX_ISSUER_SIGNED_SIZE: Final = MAX_CREDENTIAL_BODY
MAX_DEVICE_RESPONSE_SIZE: Final = 1024 * 1024

#: Documents in one DeviceResponse a verifier checks at most (HAIP §5 allows one per
#: response; ISO/IEC 18013-5 several): each costs two signature verifications.
MAX_DOCUMENTS: Final = 16

#: Tolerance for clock differences when checking validityInfo (HOSTILE-CASES D6: 60 s).
CLOCK_SKEW: Final = timedelta(seconds=60)

#: §9.1.3.5: the context string of the mdoc MAC key derivation.
EMAC_KEY_INFO: Final = b"EMacKey"

#: §9.1.3.4 DeviceAuthentication context string.
DEVICE_AUTHENTICATION: Final = "DeviceAuthentication"

#: OpenID4VP 1.0 Appendix B.2.6.1 / B.2.6.2 handover identifiers.
OPENID4VP_HANDOVER: Final = "OpenID4VPHandover"
OPENID4VP_DC_API_HANDOVER: Final = "OpenID4VPDCAPIHandover"
