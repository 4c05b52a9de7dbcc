"""COSE_Sign1 (RFC 9052 §4.2, §4.4): build, parse and verify, with an explicit alg policy.

``alg`` is read from the protected header only and must be in the caller's allow-list and
match the verification key; the payload may be detached; ``x5chain`` (RFC 9360) is exposed
as DER for the caller's trust decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from honnin import cbor
from honnin.errors import MalformedCose, UnsupportedAlgorithm
from honnin.jose import PrivateKey, PublicKey
from honnin.trust import certificates_from_der_list

from ._algorithms import (
    ALG,
    DEFAULT_ALLOWED,
    X5CHAIN,
    CoseAlgorithm,
    algorithm_from_header,
    verify_raw,
)
from ._message import (
    Headers,
    Label,
    check_crit,
    encode_protected,
    resolve_payload,
    split_message,
    to_be_signed,
    x5chain,
)
from ._signer import Signer, as_signer

#: CBOR tag of COSE_Sign1_Tagged (RFC 9052 §2).
SIGN1_TAG: Final = 18
_CONTEXT: Final = b"\x84\x6aSignature1"  # array(4), tstr "Signature1" (RFC 9052 §4.4)


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A COSE_Sign1 message, built or parsed. Nothing in it is verified: ``verify_sign1``
    returns a ``VerifiedSign1``; until then ``payload`` and the headers are untrusted."""

    protected_bytes: bytes
    protected: Headers
    unprotected: Headers
    payload: bytes | None
    signature: bytes = field(repr=False)

    def to_array(self) -> list[Any]:
        """The untagged COSE_Sign1 array, for embedding in a larger CBOR structure."""
        return [self.protected_bytes, dict(self.unprotected), self.payload, self.signature]

    def encode(self, *, tagged: bool = True) -> bytes:
        """The message as CBOR, ``COSE_Sign1_Tagged`` (tag 18) unless ``tagged`` is False."""
        array = self.to_array()
        return cbor.encode(cbor2.CBORTag(SIGN1_TAG, array) if tagged else array)

    @property
    def x5chain(self) -> tuple[bytes, ...]:
        """The DER certificates of the ``x5chain`` header (RFC 9360 §2), leaf first; unverified.

        Raises:
            MalformedCose: ``x5chain`` is neither a bstr nor an array of bstr.
        """
        return x5chain(self.protected, self.unprotected)

    @property
    def unverified_alg(self) -> object:
        """The protected ``alg`` value as sent (for diagnostics; never for choosing keys)."""
        return self.protected.get(ALG)


@dataclass(frozen=True, slots=True)
class VerifiedSign1:
    """A COSE_Sign1 whose signature verified under the caller's key and allow-list."""

    payload: bytes
    alg: CoseAlgorithm
    protected: Headers
    unprotected: Headers


_alg_headers: dict[int, tuple[Mapping[Label, Any], bytes]] = {}


def _alg_only_header(alg: int) -> tuple[Mapping[Label, Any], bytes]:
    entry = _alg_headers.get(alg)
    if entry is None:
        headers: dict[Label, Any] = {ALG: alg}
        entry = (MappingProxyType(headers), encode_protected(headers))
        _alg_headers[alg] = entry
    return entry


# DER of certificates by identity: an issuer signs with the same chain object over and over.
_ders: dict[int, tuple[x509.Certificate, bytes]] = {}


def _der(cert: bytes | x509.Certificate) -> bytes:
    if isinstance(cert, bytes):
        return cert
    entry = _ders.get(id(cert))
    if entry is not None and entry[0] is cert:
        return entry[1]
    der = cert.public_bytes(Encoding.DER)
    if len(_ders) >= 64:
        _ders.clear()
    _ders[id(cert)] = (cert, der)
    return der


def build_sign1(
    payload: bytes,
    signer: Signer | PrivateKey,
    *,
    protected: Mapping[Label, Any] | None = None,
    unprotected: Mapping[Label, Any] | None = None,
    x5chain: Sequence[bytes | x509.Certificate] | None = None,
    external_aad: bytes = b"",
    detached: bool = False,
) -> CoseSign1:
    """Sign ``payload`` as a COSE_Sign1 (RFC 9052 §4.4).

    ``alg`` goes into the protected header from the signer; ``x5chain`` (leaf first) goes
    into the unprotected header as ISO/IEC 18013-5 §9.1.2.4 places it. With ``detached`` the
    message carries nil and the payload travels separately (RFC 9052 §2).
    """
    if not isinstance(payload, bytes):
        raise TypeError("the COSE_Sign1 payload must be bytes")
    sig_signer = as_signer(signer)
    alg = int(sig_signer.algorithm)
    if protected:
        prot: Mapping[Label, Any] = {ALG: alg, **{k: v for k, v in protected.items() if k != ALG}}
        protected_bytes = encode_protected(prot)
    else:
        # The usual protected header is {1: alg}: its bytes are built once per algorithm.
        prot, protected_bytes = _alg_only_header(alg)
    unprot: dict[Label, Any] = dict(unprotected or {})
    if x5chain:
        ders = [_der(c) for c in x5chain]
        unprot[X5CHAIN] = ders[0] if len(ders) == 1 else ders
    signature = sig_signer.sign(to_be_signed(_CONTEXT, protected_bytes, external_aad, payload))
    return CoseSign1(protected_bytes, prot, unprot, None if detached else payload, signature)


def sign1(
    payload: bytes,
    signer: Signer | PrivateKey,
    *,
    protected: Mapping[Label, Any] | None = None,
    unprotected: Mapping[Label, Any] | None = None,
    x5chain: Sequence[bytes | x509.Certificate] | None = None,
    external_aad: bytes = b"",
    detached: bool = False,
    tagged: bool = True,
) -> bytes:
    """``build_sign1`` and encode: the COSE_Sign1 bytes, tagged 18 unless ``tagged`` is False.

    Example::

        token = sign1(claims_cbor, issuer_key, protected={16: "application/statuslist+cwt"})
        verified = verify_sign1(token, issuer_key.public_key())
    """
    return build_sign1(
        payload,
        signer,
        protected=protected,
        unprotected=unprotected,
        x5chain=x5chain,
        external_aad=external_aad,
        detached=detached,
    ).encode(tagged=tagged)


def parse_sign1(
    data: bytes | list[Any] | cbor2.CBORTag,
    *,
    require_tag: bool | None = None,
    max_size: int = cbor.MAX_CBOR_SIZE,
) -> CoseSign1:
    """Parse a COSE_Sign1 from bytes (strict CBOR) or from an already decoded array / tag.

    ``require_tag``: True demands tag 18, False forbids it, None accepts both.

    Raises:
        MalformedCbor / TooLarge: the bytes are not strict CBOR.
        MalformedCose: not a COSE_Sign1 (shape, header types, duplicate labels).
    """
    obj = cbor.decode(data, max_size=max_size) if isinstance(data, bytes) else data
    protected_raw, protected, unprotected, payload, signature = split_message(
        obj, SIGN1_TAG, "COSE_Sign1", require_tag
    )
    return CoseSign1(protected_raw, protected, unprotected, payload, signature)


def verify_sign1(
    message: CoseSign1 | bytes,
    key: PublicKey,
    *,
    allowed: frozenset[CoseAlgorithm] = DEFAULT_ALLOWED,
    external_aad: bytes = b"",
    detached_payload: bytes | None = None,
    understood_crit: frozenset[Label] = frozenset(),
) -> VerifiedSign1:
    """Verify a COSE_Sign1 with ``key`` (RFC 9052 §4.4).

    ``alg`` must be in the protected header (an ``alg`` only in the unprotected header is
    rejected), in ``allowed``, and match ``key`` (no algorithm/key confusion). A detached
    message needs ``detached_payload``; an attached one must not get one.

    Raises:
        UnsupportedAlgorithm: alg missing from the protected header, not allowed, or not
            matching the key.
        MalformedCose: bad shape, unknown 'crit', payload attached/detached mismatch.
        InvalidSignature: the signature does not verify.
    """
    if isinstance(message, bytes):
        message = parse_sign1(message)
    if ALG not in message.protected:
        where = "only in the unprotected header" if ALG in message.unprotected else "missing"
        # RFC 9052 §3.1 lets alg be unprotected; honnin (and ISO 18013-5 §9.1.2.4, HAIP)
        # requires it protected so that it cannot be swapped without breaking the signature.
        raise UnsupportedAlgorithm(f"COSE_Sign1 alg is {where}; it must be protected")
    alg = algorithm_from_header(message.protected[ALG], allowed)
    check_crit(message.protected, understood_crit)
    payload = resolve_payload(message.payload, detached_payload, "COSE_Sign1")
    if not isinstance(external_aad, bytes):
        raise TypeError("external_aad must be bytes")
    tbs = to_be_signed(_CONTEXT, message.protected_bytes, external_aad, payload)
    verify_raw(tbs, message.signature, key, alg)
    return VerifiedSign1(payload, alg, message.protected, message.unprotected)


def certificates_of(message: CoseSign1) -> list[x509.Certificate]:
    """The ``x5chain`` certificates of ``message`` parsed (unverified; trust decides).

    Raises:
        MalformedCose: no ``x5chain``.
        MalformedInput / TooLarge: a member is not a DER certificate, or too many.
    """
    ders = message.x5chain
    if not ders:
        raise MalformedCose("COSE_Sign1 has no x5chain (label 33)")
    return certificates_from_der_list(list(ders))
