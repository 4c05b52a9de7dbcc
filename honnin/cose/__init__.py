"""COSE for honnin (RFC 9052, RFC 9053, RFC 9360) over cbor2 and ``cryptography``.

* ``sign1`` / ``build_sign1`` sign a payload as COSE_Sign1 (tag 18 or untagged, detached or
  attached, ``external_aad``, ``x5chain``); ``parse_sign1`` reads one strictly;
  ``verify_sign1`` checks it with a key and an algorithm allow-list.
* ``build_mac0`` / ``parse_mac0`` / ``verify_mac0``: COSE_Mac0 with HMAC 256/256 (mdoc
  ``deviceMac``).
* COSE_Key maps to and from ``cryptography`` keys (EC2 P-256/384/521, OKP Ed25519).
* ``Signer``: anything that signs (a secure element, an HSM); ``KeySigner`` wraps a key.

Example::

    from honnin.cose import sign1, verify_sign1
    token = sign1(b"payload", private_key, protected={16: "application/statuslist+cwt"})
    verified = verify_sign1(token, private_key.public_key())
    assert verified.payload == b"payload"
"""

from ._algorithms import (
    ALG,
    CONTENT_TYPE,
    CRIT,
    DEFAULT_ALLOWED,
    DEFAULT_MAC_ALLOWED,
    KID,
    TYP,
    X5CHAIN,
    CoseAlgorithm,
    MacAlgorithm,
    cose_algorithm_for,
)
from ._keys import (
    cose_key_from_private_key,
    cose_key_from_public_key,
    private_key_from_cose_key,
    public_key_from_cose_key,
)
from ._mac0 import MAC0_TAG, CoseMac0, build_mac0, parse_mac0, verify_mac0
from ._sign1 import (
    SIGN1_TAG,
    CoseSign1,
    VerifiedSign1,
    build_sign1,
    certificates_of,
    parse_sign1,
    sign1,
    verify_sign1,
)
from ._signer import KeySigner, Signer, as_signer

__all__ = [
    "ALG",
    "CONTENT_TYPE",
    "CRIT",
    "DEFAULT_ALLOWED",
    "DEFAULT_MAC_ALLOWED",
    "KID",
    "MAC0_TAG",
    "SIGN1_TAG",
    "TYP",
    "X5CHAIN",
    "CoseAlgorithm",
    "CoseMac0",
    "CoseSign1",
    "KeySigner",
    "MacAlgorithm",
    "Signer",
    "VerifiedSign1",
    "as_signer",
    "build_mac0",
    "build_sign1",
    "certificates_of",
    "cose_algorithm_for",
    "cose_key_from_private_key",
    "cose_key_from_public_key",
    "parse_mac0",
    "parse_sign1",
    "private_key_from_cose_key",
    "public_key_from_cose_key",
    "sign1",
    "verify_mac0",
    "verify_sign1",
]
