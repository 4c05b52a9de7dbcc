"""Wrapping the wallet's data key: Argon2id from the PIN, a recovery code, an optional keystore.

The data key (256 random bits) encrypts every record. It is stored only wrapped:

* under a key derived from the PIN with Argon2id (RFC 9106), optionally wrapped once more by
  a ``KeyWrapper`` (OS keystore, secure element) so that the file alone cannot be attacked
  offline;
* under a key derived from a high-entropy recovery code (HKDF, RFC 5869: 160 random bits
  need no password hashing), so the wallet survives a forgotten PIN, a lockout or a lost
  device key.

Changing the PIN re-wraps the data key; no record is re-encrypted.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin.errors import HonninError, WalletCorrupted, WalletError

__all__ = [
    "DATA_KEY_SIZE",
    "KdfParams",
    "KeyWrapper",
    "derive_pin_key",
    "derive_recovery_key",
    "new_recovery_code",
    "new_salt",
    "normalize_pin",
    "outer_unwrap",
    "outer_wrap",
    "same_key",
    "seal_key",
    "unseal_key",
]

DATA_KEY_SIZE: Final = 32
_NONCE_SIZE: Final = 12  # 96-bit GCM nonce (NIST SP 800-38D §8.2.2, random construction)
_SALT_SIZE: Final = 16
_RECOVERY_BYTES: Final = 20  # 160 bits: 32 base32 characters

# Upper bounds checked before any allocation (HOSTILE-CASES WL-24): a header asking for
# 4 GiB of Argon2 memory is rejected, not obeyed.
_MAX_MEMORY_KIB: Final = 1024 * 1024
_MAX_ITERATIONS: Final = 64
_MAX_LANES: Final = 64
# OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, t=2, p=1.
_FLOOR_MEMORY_KIB: Final = 19 * 1024
_FLOOR_ITERATIONS: Final = 2


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id parameters (RFC 9106 §3.1) for deriving a key from a PIN or passphrase.

    ``KdfParams.STRONG`` (64 MiB, t=3, p=4; HOSTILE-CASES D7) is the default everywhere.
    Parameters below the OWASP floor (19 MiB, t=2) are refused unless ``insecure=True``,
    which exists only for test suites: ``KdfParams.INSECURE_TEST_ONLY``.

    Raises:
        ValueError: parameters out of range, or below the floor without ``insecure``.
    """

    memory_kib: int
    iterations: int
    lanes: int
    insecure: bool = False

    STRONG: ClassVar[KdfParams]
    INSECURE_TEST_ONLY: ClassVar[KdfParams]

    def __post_init__(self) -> None:
        problem = _bounds_problem(self.memory_kib, self.iterations, self.lanes)
        if problem:
            raise ValueError(problem)
        weak = self.memory_kib < _FLOOR_MEMORY_KIB or self.iterations < _FLOOR_ITERATIONS
        if weak and not self.insecure:
            raise ValueError(
                "Argon2id parameters below 19 MiB / t=2 are refused; "
                "use KdfParams.INSECURE_TEST_ONLY in test suites only"
            )

    @classmethod
    def from_stored(
        cls, memory_kib: int, iterations: int, lanes: int, *, record: str = "header"
    ) -> KdfParams:
        """Parameters read back from a file, bounded before use.

        Raises:
            WalletCorrupted: out of bounds (e.g. 4 GiB of memory asked for).
        """
        problem = _bounds_problem(memory_kib, iterations, lanes)
        if problem:
            raise WalletCorrupted(f"stored KDF parameters refused: {problem}", record=record)
        weak = memory_kib < _FLOOR_MEMORY_KIB or iterations < _FLOOR_ITERATIONS
        return cls(memory_kib, iterations, lanes, insecure=weak)


def _bounds_problem(memory_kib: int, iterations: int, lanes: int) -> str | None:
    if not 1 <= lanes <= _MAX_LANES:
        return f"Argon2id lanes must be 1..{_MAX_LANES}"
    if not 1 <= iterations <= _MAX_ITERATIONS:
        return f"Argon2id iterations must be 1..{_MAX_ITERATIONS}"
    # RFC 9106 §3.1: memory must be at least 8 KiB per lane.
    if not 8 * lanes <= memory_kib <= _MAX_MEMORY_KIB:
        return f"Argon2id memory must be {8 * lanes}..{_MAX_MEMORY_KIB} KiB"
    return None


KdfParams.STRONG = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=4)
KdfParams.INSECURE_TEST_ONLY = KdfParams(memory_kib=64, iterations=1, lanes=1, insecure=True)


@runtime_checkable
class KeyWrapper(Protocol):
    """An extra wrap of the (already PIN-wrapped) data key by a key the file does not hold.

    Implement it over the Android Keystore, the iOS Secure Enclave, a TPM or an HSM. With a
    wrapper, a stolen wallet file cannot be brute-forced offline: every PIN guess needs the
    device key. ``name`` is stored in the file so a missing wrapper is reported clearly.
    ``unwrap`` raises ``WalletError`` when the blob is not its own.
    """

    @property
    def name(self) -> str:
        """A stable identifier of the wrapping key (no secret)."""
        ...

    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` (≤ 64 bytes) under the device key."""
        ...

    def unwrap(self, blob: bytes) -> bytes:
        """Decrypt what ``wrap`` returned."""
        ...


def normalize_pin(pin: str) -> bytes:
    """The PIN as NFC UTF-8 bytes, so the same PIN typed on two keyboards unlocks."""
    if not isinstance(pin, str) or not pin:
        raise ValueError("the PIN must be a non-empty string")
    return unicodedata.normalize("NFC", pin).encode("utf-8")


def new_salt() -> bytes:
    """A fresh random Argon2id salt (RFC 9106 §3.1 recommends 128 bits)."""
    return secrets.token_bytes(_SALT_SIZE)


def derive_pin_key(pin: str, salt: bytes, params: KdfParams) -> bytes:
    """The key-encryption key for ``pin``: Argon2id (RFC 9106) with ``params``."""
    try:
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=params.iterations,
            lanes=params.lanes,
            memory_cost=params.memory_kib,
        )
        return kdf.derive(normalize_pin(pin))
    except (UnsupportedAlgorithm, MemoryError) as exc:
        raise WalletError(f"Argon2id is not available here: {exc}") from exc


def new_recovery_code() -> str:
    """A fresh recovery code: 160 random bits as 8 groups of 4 base32 characters."""
    text = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def derive_recovery_key(code: str, salt: bytes) -> bytes | None:
    """The key-encryption key for a recovery code, or ``None`` if it cannot be one.

    HKDF-SHA256 (RFC 5869) suffices: the code carries 160 random bits, beyond any search.
    """
    cleaned = "".join(code.split()).replace("-", "").upper() if isinstance(code, str) else ""
    if len(cleaned) != 32:
        return None
    try:
        raw = base64.b32decode(cleaned)
    except ValueError:
        return None
    hkdf = HKDF(hashes.SHA256(), 32, salt, b"honnin wallet recovery key v1")
    return hkdf.derive(raw)


def seal_key(kek: bytes, secret: bytes, aad: bytes) -> bytes:
    """``secret`` encrypted under ``kek`` with AES-256-GCM: nonce || ciphertext || tag."""
    nonce = secrets.token_bytes(_NONCE_SIZE)
    return nonce + AESGCM(kek).encrypt(nonce, secret, aad)


def unseal_key(kek: bytes, blob: bytes, aad: bytes) -> bytes | None:
    """The secret sealed by ``seal_key``, or ``None`` when ``kek`` or ``aad`` is wrong."""
    if len(blob) != _NONCE_SIZE + DATA_KEY_SIZE + 16:
        return None
    try:
        secret = AESGCM(kek).decrypt(blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], aad)
    except InvalidTag:
        return None
    return secret


def outer_unwrap(wrapper: KeyWrapper, blob: bytes) -> bytes:
    """Undo a ``KeyWrapper``; its own errors become ``WalletError`` (never a bare exception)."""
    try:
        inner = wrapper.unwrap(blob)
    except HonninError:
        raise
    except Exception as exc:  # a plug-in's failure must still surface as a typed error
        raise WalletError(f"key wrapper {wrapper.name!r} could not unwrap the key") from exc
    if not isinstance(inner, bytes):
        raise WalletError(f"key wrapper {wrapper.name!r} returned {type(inner).__name__}")
    return inner


def outer_wrap(wrapper: KeyWrapper, blob: bytes) -> bytes:
    """Apply a ``KeyWrapper``; its own errors become ``WalletError``."""
    try:
        out = wrapper.wrap(blob)
    except HonninError:
        raise
    except Exception as exc:  # a plug-in's failure must still surface as a typed error
        raise WalletError(f"key wrapper {wrapper.name!r} could not wrap the key") from exc
    if not isinstance(out, bytes):
        raise WalletError(f"key wrapper {wrapper.name!r} returned {type(out).__name__}")
    return out


def same_key(a: bytes, b: bytes) -> bool:
    """Constant-time key comparison."""
    return hmac.compare_digest(a, b)
