"""COSE algorithm registry (RFC 9053 §2, §3.1; RFC 9864 §2.1) and header labels (RFC 9052 §3.1).

Algorithms are enums; the caller passes an allow-list and a message never picks an
algorithm outside it (CONVENTIONS 4).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from honnin.errors import UnsupportedAlgorithm
from honnin.jose import (
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    sign_bytes,
    verify_bytes,
)


class CoseAlgorithm(IntEnum):
    """COSE signature algorithms honnin signs and verifies. ES256 is mandatory (HAIP §7)."""

    ES256 = -7  # RFC 9053 §2.1: ECDSA w/ SHA-256 (P-256 by key)
    ES384 = -35
    ES512 = -36
    EDDSA = -8  # RFC 9053 §2.2 (Ed25519 by key)
    ESP256 = -9  # RFC 9864 §2.1: ECDSA using P-256 and SHA-256, fully specified

    @property
    def jws(self) -> JwsAlgorithm:
        """The JWS algorithm with the same signature bytes (R||S, RFC 9053 §2.1)."""
        return _TO_JWS[self]


class MacAlgorithm(IntEnum):
    """COSE MAC algorithms (RFC 9053 §3.1). Only HMAC 256/256 is used (ISO 18013-5 §9.1.3.5)."""

    HMAC_256_256 = 5


_TO_JWS: Final[dict[CoseAlgorithm, JwsAlgorithm]] = {
    CoseAlgorithm.ES256: JwsAlgorithm.ES256,
    CoseAlgorithm.ES384: JwsAlgorithm.ES384,
    CoseAlgorithm.ES512: JwsAlgorithm.ES512,
    CoseAlgorithm.EDDSA: JwsAlgorithm.EDDSA,
    CoseAlgorithm.ESP256: JwsAlgorithm.ES256,
}

_FROM_JWS: Final[dict[JwsAlgorithm, CoseAlgorithm]] = {
    JwsAlgorithm.ES256: CoseAlgorithm.ES256,
    JwsAlgorithm.ES384: CoseAlgorithm.ES384,
    JwsAlgorithm.ES512: CoseAlgorithm.ES512,
    JwsAlgorithm.EDDSA: CoseAlgorithm.EDDSA,
}

#: What honnin verifies when a caller does not say otherwise.
DEFAULT_ALLOWED: Final[frozenset[CoseAlgorithm]] = frozenset(CoseAlgorithm)

#: The MAC algorithms accepted by default.
DEFAULT_MAC_ALLOWED: Final[frozenset[MacAlgorithm]] = frozenset({MacAlgorithm.HMAC_256_256})

# RFC 9052 §3.1 common header parameters and RFC 9360 §2 x5chain.
ALG: Final = 1
CRIT: Final = 2
CONTENT_TYPE: Final = 3
KID: Final = 4
TYP: Final = 16  # RFC 9596 §2
X5CHAIN: Final = 33

_BY_VALUE: Final[dict[int, CoseAlgorithm]] = {a.value: a for a in CoseAlgorithm}
_MAC_BY_VALUE: Final[dict[int, MacAlgorithm]] = {a.value: a for a in MacAlgorithm}


def cose_algorithm_for(alg: JwsAlgorithm) -> CoseAlgorithm:
    """The COSE algorithm for a JWS algorithm (what ``sign1`` puts in the header for a key)."""
    return _FROM_JWS[alg]


def algorithm_from_header(alg: object, allowed: frozenset[CoseAlgorithm]) -> CoseAlgorithm:
    """The allowed signature algorithm a protected ``alg`` names (RFC 9052 §3.1).

    Raises:
        UnsupportedAlgorithm: missing, not an integer, unknown, or not in ``allowed``.
    """
    if type(alg) is not int:
        raise UnsupportedAlgorithm(f"COSE alg {alg!r} is not a registered integer", alg=repr(alg))
    found = _BY_VALUE.get(alg)
    if found is None or found not in allowed:
        raise UnsupportedAlgorithm(f"COSE alg {alg} is not in the allow-list", alg=alg)
    return found


def mac_algorithm_from_header(alg: object, allowed: frozenset[MacAlgorithm]) -> MacAlgorithm:
    """The allowed MAC algorithm a protected ``alg`` names (RFC 9053 §3.1).

    Raises:
        UnsupportedAlgorithm: missing, unknown or not in ``allowed``.
    """
    if type(alg) is not int:
        raise UnsupportedAlgorithm(f"COSE alg {alg!r} is not a registered integer", alg=repr(alg))
    found = _MAC_BY_VALUE.get(alg)
    if found is None or found not in allowed:
        raise UnsupportedAlgorithm(f"COSE MAC alg {alg} is not in the allow-list", alg=alg)
    return found


def sign_raw(data: bytes, key: PrivateKey, alg: CoseAlgorithm) -> bytes:
    """The raw COSE signature of ``data`` (``r || s`` for ECDSA, RFC 9053 §2.1): the same
    bytes as the JWS signature of ``alg.jws`` (``honnin.jose.sign_bytes``).

    Raises:
        UnsupportedAlgorithm: the key does not belong to ``alg``.
    """
    return sign_bytes(data, key, alg.jws)


def verify_raw(data: bytes, signature: bytes, key: PublicKey, alg: CoseAlgorithm) -> None:
    """Verify a raw COSE signature; the key must belong to ``alg`` (no alg/key confusion).
    RFC 9053 §2.1 signatures are exactly ``r || s``, as in JWS: ``honnin.jose.verify_bytes``.

    Raises:
        UnsupportedAlgorithm: the key does not belong to ``alg``.
        InvalidSignature: the signature does not verify (or is not exactly ``r || s``).
    """
    verify_bytes(data, signature, key, alg.jws)
