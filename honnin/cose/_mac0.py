"""COSE_Mac0 (RFC 9052 §6.2, §6.3) with HMAC 256/256 (RFC 9053 §3.1), for mdoc ``deviceMac``.

The tag is compared in constant time; ``alg`` comes from the protected header only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2

from honnin import cbor
from honnin.errors import InvalidSignature, UnsupportedAlgorithm

from ._algorithms import ALG, DEFAULT_MAC_ALLOWED, MacAlgorithm, mac_algorithm_from_header
from ._message import (
    Headers,
    Label,
    check_crit,
    encode_protected,
    resolve_payload,
    split_message,
    to_be_signed,
)

#: CBOR tag of COSE_Mac0_Tagged (RFC 9052 §2).
MAC0_TAG: Final = 17
_CONTEXT: Final = b"\x84\x64MAC0"  # array(4), tstr "MAC0" (RFC 9052 §6.3)
_HASHES: Final = {MacAlgorithm.HMAC_256_256: hashlib.sha256}


@dataclass(frozen=True, slots=True)
class CoseMac0:
    """A COSE_Mac0 message, built or parsed; nothing in it is verified."""

    protected_bytes: bytes
    protected: Headers
    unprotected: Headers
    payload: bytes | None
    tag: bytes = field(repr=False)

    def to_array(self) -> list[Any]:
        """The untagged COSE_Mac0 array, for embedding in a larger CBOR structure."""
        return [self.protected_bytes, dict(self.unprotected), self.payload, self.tag]

    def encode(self, *, tagged: bool = True) -> bytes:
        """The message as CBOR, ``COSE_Mac0_Tagged`` (tag 17) unless ``tagged`` is False."""
        array = self.to_array()
        return cbor.encode(cbor2.CBORTag(MAC0_TAG, array) if tagged else array)


def _mac(alg: MacAlgorithm, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, _HASHES[alg]).digest()


def build_mac0(
    payload: bytes,
    key: bytes,
    *,
    alg: MacAlgorithm = MacAlgorithm.HMAC_256_256,
    protected: Mapping[Label, Any] | None = None,
    unprotected: Mapping[Label, Any] | None = None,
    external_aad: bytes = b"",
    detached: bool = False,
) -> CoseMac0:
    """MAC ``payload`` as a COSE_Mac0 (RFC 9052 §6.3) with ``alg`` in the protected header."""
    if not isinstance(payload, bytes) or not isinstance(key, bytes):
        raise TypeError("COSE_Mac0 payload and key must be bytes")
    prot: dict[Label, Any] = {ALG: int(alg)}
    prot.update({k: v for k, v in (protected or {}).items() if k != ALG})
    protected_bytes = encode_protected(prot)
    tag = _mac(alg, key, to_be_signed(_CONTEXT, protected_bytes, external_aad, payload))
    return CoseMac0(
        protected_bytes, prot, dict(unprotected or {}), None if detached else payload, tag
    )


def parse_mac0(
    data: bytes | list[Any] | cbor2.CBORTag,
    *,
    require_tag: bool | None = None,
    max_size: int = cbor.MAX_CBOR_SIZE,
) -> CoseMac0:
    """Parse a COSE_Mac0 from bytes (strict CBOR) or from an already decoded array / tag.

    Raises:
        MalformedCbor / TooLarge / MalformedCose: as ``parse_sign1``.
    """
    obj = cbor.decode(data, max_size=max_size) if isinstance(data, bytes) else data
    protected_raw, protected, unprotected, payload, tag = split_message(
        obj, MAC0_TAG, "COSE_Mac0", require_tag
    )
    return CoseMac0(protected_raw, protected, unprotected, payload, tag)


def verify_mac0(
    message: CoseMac0 | bytes,
    key: bytes,
    *,
    allowed: frozenset[MacAlgorithm] = DEFAULT_MAC_ALLOWED,
    external_aad: bytes = b"",
    detached_payload: bytes | None = None,
    understood_crit: frozenset[Label] = frozenset(),
) -> bytes:
    """Verify a COSE_Mac0 with the symmetric ``key``; returns the (verified) payload.

    Raises:
        UnsupportedAlgorithm: alg missing from the protected header or not allowed.
        MalformedCose: bad shape, unknown 'crit', payload attached/detached mismatch.
        InvalidSignature: the tag does not verify.
    """
    if isinstance(message, bytes):
        message = parse_mac0(message)
    if ALG not in message.protected:
        where = "only in the unprotected header" if ALG in message.unprotected else "missing"
        raise UnsupportedAlgorithm(f"COSE_Mac0 alg is {where}; it must be protected")
    alg = mac_algorithm_from_header(message.protected[ALG], allowed)
    check_crit(message.protected, understood_crit)
    payload = resolve_payload(message.payload, detached_payload, "COSE_Mac0")
    expected = _mac(
        alg, key, to_be_signed(_CONTEXT, message.protected_bytes, external_aad, payload)
    )
    # Constant-time comparison: the tag is a secret-derived value (RFC 9053 §3.1).
    if not hmac.compare_digest(expected, message.tag):
        raise InvalidSignature("COSE_Mac0 tag does not verify")
    return payload
