"""Input limits every honnin decoder enforces (CONVENTIONS 12; HOSTILE-CASES D10).

The limits are generous enough for real credentials (HAIP ``x5c`` chains, PID portraits)
and small enough that hostile input is cut off before it costs memory or time.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_CBOR_DEPTH",
    "MAX_CBOR_ITEMS",
    "MAX_CREDENTIAL_BODY",
    "MAX_DIRECT_POST_BODY",
    "MAX_DISCLOSURES",
    "MAX_JSON_DEPTH",
    "MAX_JWS_HEADER",
    "MAX_JWS_PAYLOAD",
    "MAX_SDJWT_SIZE",
    "MAX_STATUS_LIST_COMPRESSED",
    "MAX_STATUS_LIST_INFLATED",
    "MAX_TOKEN_BODY",
]

MAX_JSON_DEPTH: Final = 32
MAX_CBOR_DEPTH: Final = 32
MAX_CBOR_ITEMS: Final = 100_000
MAX_JWS_HEADER: Final = 16 * 1024
MAX_JWS_PAYLOAD: Final = 1024 * 1024
MAX_DISCLOSURES: Final = 2_000
#: A whole serialized SD-JWT (+KB): payload limit plus room for disclosures.
MAX_SDJWT_SIZE: Final = 4 * 1024 * 1024
MAX_STATUS_LIST_COMPRESSED: Final = 5 * 1024 * 1024
MAX_STATUS_LIST_INFLATED: Final = 16 * 1024 * 1024
MAX_TOKEN_BODY: Final = 16 * 1024
MAX_CREDENTIAL_BODY: Final = 512 * 1024
MAX_DIRECT_POST_BODY: Final = 2 * 1024 * 1024
