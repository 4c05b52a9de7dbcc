"""JWS algorithm registry (RFC 7518 §3, RFC 8037 §3.1) with explicit allow-lists."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from honnin.errors import UnsupportedAlgorithm


class JwsAlgorithm(StrEnum):
    """The JWS algorithms honnin signs and verifies. ES256 is mandatory (HAIP §4)."""

    ES256 = "ES256"
    ES384 = "ES384"
    ES512 = "ES512"
    EDDSA = "EdDSA"


@dataclass(frozen=True, slots=True)
class _EcParams:
    curve: type[ec.EllipticCurve]
    hash: type[hashes.HashAlgorithm]
    size: int  # bytes of r and of s in the raw R||S signature (RFC 7518 §3.4)


EC_PARAMS: Final[dict[JwsAlgorithm, _EcParams]] = {
    JwsAlgorithm.ES256: _EcParams(ec.SECP256R1, hashes.SHA256, 32),
    JwsAlgorithm.ES384: _EcParams(ec.SECP384R1, hashes.SHA384, 48),
    JwsAlgorithm.ES512: _EcParams(ec.SECP521R1, hashes.SHA512, 66),
}

#: What honnin accepts when a caller does not say otherwise.
DEFAULT_ALLOWED: Final[frozenset[JwsAlgorithm]] = frozenset(
    {JwsAlgorithm.ES256, JwsAlgorithm.ES384, JwsAlgorithm.ES512, JwsAlgorithm.EDDSA}
)

_BY_NAME: Final[dict[str, JwsAlgorithm]] = {a.value: a for a in JwsAlgorithm}


def algorithm_from_header(alg: object, allowed: frozenset[JwsAlgorithm]) -> JwsAlgorithm:
    """The allowed algorithm a header names, compared exactly (case-sensitive, RFC 7515 §4.1.1).

    Raises:
        UnsupportedAlgorithm: ``none`` in any spelling, an unknown name, or one not allowed.
    """
    if not isinstance(alg, str):
        raise UnsupportedAlgorithm("JWS header has no string 'alg'", alg=repr(alg))
    if alg.lower() == "none":
        # RFC 9901 §7.1 step 2: the none algorithm MUST NOT be accepted.
        raise UnsupportedAlgorithm("alg 'none' is never accepted", alg=alg)
    found = _BY_NAME.get(alg)
    if found is None or found not in allowed:
        raise UnsupportedAlgorithm(f"alg {alg!r} is not in the allow-list", alg=alg)
    return found
