"""RFC 9901 constants, each with the section that defines it (CONVENTIONS 6)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from typing import Final

from honnin.errors import UnsupportedAlgorithm

#: RFC 9901 §4.2.4.1: the object member holding the digests of selectively disclosable claims.
SD_DIGESTS: Final = "_sd"
#: RFC 9901 §4.2.4.2: the single member of an array-element digest placeholder.
ARRAY_DIGEST: Final = "..."
#: RFC 9901 §4.1.1: the top-level member naming the digest hash algorithm.
SD_ALG: Final = "_sd_alg"
#: RFC 9901 §4: the separator between the issuer JWT, the disclosures and the KB-JWT.
SEPARATOR: Final = "~"
#: RFC 9901 §4.3: the ``typ`` header of a Key Binding JWT.
KB_JWT_TYP: Final = "kb+jwt"
#: RFC 9901 §8.1: unprotected header members of the JWS JSON serialization.
JSON_DISCLOSURES: Final = "disclosures"
JSON_KB_JWT: Final = "kb_jwt"
#: RFC 9901 §4.2.1: claim names a disclosure must never carry.
FORBIDDEN_CLAIM_NAMES: Final = frozenset({SD_DIGESTS, ARRAY_DIGEST})
#: RFC 9901 §9.3: salts carry at least 128 bits of entropy.
SALT_BYTES: Final = 16
#: RFC 9901 §7.3 step 5.e with HOSTILE-CASES D6: how old a KB-JWT may be, and the skew.
KB_MAX_AGE_SECONDS: Final = 300.0
CLOCK_SKEW_SECONDS: Final = 60.0


class HashAlgorithm(StrEnum):
    """Digest algorithms for ``_sd_alg`` (RFC 9901 §4.1.1; IANA Named Information registry).

    ``sha-256`` is the default and mandatory to support; truncated hashes are unfit (§9.4).
    """

    SHA256 = "sha-256"
    SHA384 = "sha-384"
    SHA512 = "sha-512"

    @property
    def new(self) -> Callable[[bytes], hashlib._Hash]:
        """The ``hashlib`` constructor of this algorithm."""
        return _HASHLIB[self]


_HASHLIB: Final[dict[HashAlgorithm, Callable[[bytes], hashlib._Hash]]] = {
    HashAlgorithm.SHA256: hashlib.sha256,
    HashAlgorithm.SHA384: hashlib.sha384,
    HashAlgorithm.SHA512: hashlib.sha512,
}

#: The hash algorithms accepted when the caller does not narrow them.
DEFAULT_HASH_ALGORITHMS: Final[frozenset[HashAlgorithm]] = frozenset(HashAlgorithm)

_BY_NAME: Final[dict[str, HashAlgorithm]] = {h.value: h for h in HashAlgorithm}


def hash_algorithm_from_payload(value: object, allowed: frozenset[HashAlgorithm]) -> HashAlgorithm:
    """The ``_sd_alg`` a payload names (``sha-256`` when absent), checked against ``allowed``.

    Raises:
        UnsupportedAlgorithm: not a string, unknown (names are case-sensitive), or not allowed.
    """
    if value is None:
        found: HashAlgorithm | None = HashAlgorithm.SHA256  # RFC 9901 §4.1.1 default
    elif isinstance(value, str):
        found = _BY_NAME.get(value)
    else:
        raise UnsupportedAlgorithm("'_sd_alg' must be a string (RFC 9901 §4.1.1)", alg=repr(value))
    if found is None or found not in allowed:
        raise UnsupportedAlgorithm(f"'_sd_alg' {value!r} is not in the allow-list", alg=str(value))
    return found
