"""Token Status List constants (draft-ietf-oauth-status-list-20), each with its section."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final

from honnin.limits import MAX_STATUS_LIST_COMPRESSED, MAX_STATUS_LIST_INFLATED

#: §4.1 item 1: each status is 1, 2, 4 or 8 bits wide.
ALLOWED_BITS: Final = frozenset({1, 2, 4, 8})

#: §5.1: the JWT ``typ`` header of a Status List Token.
JWT_TYP: Final = "statuslist+jwt"
#: RFC 7515 §4.1.9: ``typ`` may carry the full media type; both spellings are equivalent.
JWT_TYP_FULL: Final = "application/statuslist+jwt"
#: §5.2: the COSE ``typ`` (label 16) of a CWT Status List Token.
CWT_TYP: Final = "application/statuslist+cwt"

#: §8.1: the media types a Relying Party asks for and a Status Provider answers with.
MEDIA_TYPE_JWT: Final = "application/statuslist+jwt"
MEDIA_TYPE_CWT: Final = "application/statuslist+cwt"

#: RFC 9596 §2: the COSE header parameter ``typ``.
COSE_HEADER_TYP: Final = 16

#: §5.2 and RFC 8392 §3.1: the CWT claim keys of a Status List Token.
CWT_ISS: Final = 1
CWT_SUB: Final = 2
CWT_EXP: Final = 4
CWT_IAT: Final = 6
CWT_TTL: Final = 65534
CWT_STATUS_LIST: Final = 65533
#: §6.3: the ``status`` claim of a Referenced Token in CWT form.
CWT_STATUS: Final = 65535

#: §6.1: the member of the ``status`` claim that names this mechanism.
STATUS_LIST_MEMBER: Final = "status_list"

#: CBOR tags a CWT Status List Token may and may not carry (§5.2, RFC 9052 §2, RFC 8392 §6).
COSE_SIGN1_TAG: Final = 18
COSE_MAC0_TAG: Final = 17
CWT_TAG: Final = 61

#: The largest list honnin will inflate: 16 MiB (HOSTILE-CASES D10).
MAX_INFLATED: Final = MAX_STATUS_LIST_INFLATED
#: The largest compressed ``lst`` honnin accepts: 5 MiB (HOSTILE-CASES D10).
MAX_COMPRESSED: Final = MAX_STATUS_LIST_COMPRESSED
#: A whole Status List Token: the ``lst`` as base64url plus room for headers, claims and x5c.
MAX_TOKEN_SIZE: Final = (MAX_STATUS_LIST_COMPRESSED * 4 + 2) // 3 + 64 * 1024
#: No list can hold more entries than an inflated 16 MiB list of 1-bit entries.
MAX_INDEX: Final = MAX_STATUS_LIST_INFLATED * 8 - 1


class StatusValue(IntEnum):
    """Status Types (§7.1). 0x03 and 0x0C-0x0F are application-specific; others reserved."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02
    APPLICATION_SPECIFIC = 0x03


class TokenForm(StrEnum):
    """The two Status List Token representations (§5.1 JWT, §5.2 CWT)."""

    JWT = "jwt"
    CWT = "cwt"

    @property
    def media_type(self) -> str:
        """The media type the token is served with (§8.1, §8.2)."""
        return MEDIA_TYPE_JWT if self is TokenForm.JWT else MEDIA_TYPE_CWT
