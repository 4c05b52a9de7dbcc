"""Parsing without verification, for inspection and debugging (``honnin sd-jwt decode``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._constants import DEFAULT_HASH_ALGORITHMS, SD_ALG, hash_algorithm_from_payload
from ._disclosure import UnverifiedDisclosure, decode_all
from ._serialization import Serialization, split_sd_jwt


@dataclass(frozen=True, slots=True)
class UnverifiedSdJwt:
    """An SD-JWT split and decoded, with NOTHING checked: no signature, no digest rules.

    ``unverified_header`` and ``unverified_payload`` are the issuer JWT's protected header
    and payload as sent; ``disclosures`` carry their digests under the payload's
    ``_sd_alg``. Never base a decision on this object; use ``verify_sd_jwt``.
    """

    serialization: Serialization
    issuer_jwt: str
    unverified_header: Mapping[str, Any]
    unverified_payload: Mapping[str, Any]
    disclosures: tuple[UnverifiedDisclosure, ...]
    kb_jwt: str | None


def parse_sd_jwt(text: str) -> UnverifiedSdJwt:
    """Split and decode an SD-JWT (+KB) without verifying anything (RFC 9901 §4, §8).

    Raises:
        MalformedInput subclasses and TooLarge for text that is not an SD-JWT;
        UnsupportedAlgorithm for an unknown ``_sd_alg`` (digests cannot be computed).
    """
    parts = split_sd_jwt(text)
    jws = parts.signatures[0]
    payload = jws.unverified_claims()
    hash_alg = hash_algorithm_from_payload(payload.get(SD_ALG), DEFAULT_HASH_ALGORITHMS)
    return UnverifiedSdJwt(
        serialization=parts.serialization,
        issuer_jwt=parts.issuer_jwt,
        unverified_header=jws.header,
        unverified_payload=payload,
        disclosures=tuple(
            UnverifiedDisclosure(*d) for d in decode_all(parts.disclosures, hash_alg)
        ),
        kb_jwt=parts.kb_jwt,
    )
