"""Issuer secrets: pre-authorized codes, transaction codes, access tokens, nonces.

Every secret comes from ``secrets`` (OpenID4VCI 1.0 §7.2: ``c_nonce`` "MUST be
unpredictable"; RFC 6749 §10.10: credentials guessable only with negligible probability).
The store keeps only a hash of each high-entropy secret, looked up by that hash and compared
with ``hmac.compare_digest``; a low-entropy ``tx_code`` is kept as an HMAC keyed with its
pre-authorized code, so the store alone cannot be brute-forced back to it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from honnin.encoding import b64url_encode
from honnin.oid4vci import TxCodeInputMode

__all__ = [
    "SECRET_BYTES",
    "new_secret",
    "new_tx_code",
    "secret_hash",
    "secret_matches",
    "tx_code_hash",
]

#: 256 bits for codes, tokens and transaction ids; 43 base64url characters.
SECRET_BYTES: Final = 32

_DIGITS: Final = "0123456789"
# OpenID4VCI 1.0 §4.1.1 input_mode "text": no look-alike characters (0/O, 1/I/L) so the person
# can type what they read on paper or hear over the phone.
_TEXT: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    """A fresh random secret as base64url (``secrets.token_bytes``)."""
    return b64url_encode(secrets.token_bytes(nbytes))


def new_tx_code(length: int, mode: TxCodeInputMode = TxCodeInputMode.NUMERIC) -> str:
    """A fresh transaction code of ``length`` characters (OpenID4VCI 1.0 §4.1.1)."""
    if not 4 <= length <= 16:
        raise ValueError("tx_code length must be between 4 and 16")
    alphabet = _DIGITS if mode is TxCodeInputMode.NUMERIC else _TEXT
    return "".join(secrets.choice(alphabet) for _ in range(length))


def secret_hash(secret: str) -> str:
    """The SHA-256 of a high-entropy secret, base64url; what the store keeps and looks up."""
    return b64url_encode(hashlib.sha256(secret.encode("utf-8")).digest())


def tx_code_hash(pre_authorized_code: str, tx_code: str) -> str:
    """HMAC-SHA256 of ``tx_code`` keyed with its pre-authorized code, base64url."""
    mac = hmac.new(pre_authorized_code.encode("utf-8"), tx_code.encode("utf-8"), hashlib.sha256)
    return b64url_encode(mac.digest())


def secret_matches(expected_hash: str, candidate_hash: str) -> bool:
    """Constant-time comparison of two hashes (``hmac.compare_digest``)."""
    return hmac.compare_digest(expected_hash.encode("ascii"), candidate_hash.encode("ascii"))
