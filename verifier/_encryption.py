"""Decrypting ``direct_post.jwt`` responses (OpenID4VP 1.0 §8.3; HAIP §5).

The JWE names the request's ephemeral key by ``kid`` (§8.3: the wallet MUST echo it), which
finds the transaction; only that transaction's key, ``alg`` ``ECDH-ES`` and the ``enc``
values it advertised are accepted (HOSTILE-CASES VS-10, J12-J15). The decrypted payload is
an unsigned JWT claims set holding the response parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from honnin.encoding import b64url_decode, json_dumps, json_loads
from honnin.errors import InvalidRequest, MalformedInput, NotFound
from honnin.jose.jwe import JweAlgorithm, JweEncryption, decrypt_response
from honnin.limits import MAX_DIRECT_POST_BODY, MAX_JWS_HEADER

from ._store import Transaction, TransactionStore

__all__ = ["jwk_thumbprint_bytes", "open_response"]

#: HAIP §5 / OpenID4VP 1.0 §8.3: ECDH-ES to the ephemeral P-256 key, nothing else.
_ALGS: Final = frozenset({JweAlgorithm.ECDH_ES})


def jwk_thumbprint_bytes(jwk: Mapping[str, Any]) -> bytes:
    """The raw RFC 7638 SHA-256 thumbprint of an EC public JWK (for the mdoc handover)."""
    canonical = json_dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")})
    return hashlib.sha256(canonical.encode()).digest()


def _header(jwe: str) -> dict[str, Any]:
    parts = jwe.split(".")
    if len(parts) != 5:
        raise InvalidRequest("'response' is not a compact JWE (RFC 7516 §7.1)", reason="jwe")
    if len(parts[0]) > (MAX_JWS_HEADER * 4 + 2) // 3:
        raise InvalidRequest("JWE header too large", reason="jwe")
    try:
        header = json_loads(b64url_decode(parts[0], what="JWE header"))
    except MalformedInput as exc:
        raise InvalidRequest(f"malformed JWE header: {exc.message}", reason="jwe") from exc
    if not isinstance(header, dict):
        raise InvalidRequest("the JWE header is not a JSON object", reason="jwe")
    return header


def open_response(
    store: TransactionStore, jwe: str, now: float
) -> tuple[Transaction, dict[str, Any], bytes]:
    """Find the transaction of a ``direct_post.jwt`` ``response`` and decrypt it.

    Returns the transaction, the response parameters and the encryption key's thumbprint.

    Raises:
        NotFound: no open transaction has the ``kid`` (VS-05: same answer either way).
        ReplayDetected / Expired: the transaction was answered or expired.
        UnsupportedAlgorithm: ``alg`` other than ECDH-ES, or an ``enc`` not advertised.
        DecryptionFailed: the JWE does not decrypt with the transaction's key.
        InvalidRequest: a malformed JWE or payload.
    """
    if len(jwe) > MAX_DIRECT_POST_BODY:
        raise InvalidRequest("'response' is too large", reason="jwe")
    header = _header(jwe)
    kid = header.get("kid")
    transaction = store.find(kid=kid) if isinstance(kid, str) and kid else None
    if transaction is None:
        raise NotFound("no open transaction for this response", reason="unknown_kid")
    transaction.ensure_open(now)
    key = transaction.encryption_jwk
    if key is None:
        raise NotFound("no open transaction for this response", reason="unknown_kid")
    params = decrypt_response(
        jwe,
        key,
        allowed_algs=_ALGS,
        allowed_encs=frozenset(JweEncryption(e) for e in transaction.enc_values),
        expected_kid=transaction.encryption_kid,
    )
    return transaction, params, jwk_thumbprint_bytes(key)
