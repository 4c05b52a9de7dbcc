"""Status List Token in CWT form (draft-ietf-oauth-status-list-20 §5.2).

A ``COSE_Sign1_Tagged`` (tag 18, never the CWT tag 61, never a MAC here) whose protected
``typ`` (label 16, RFC 9596) is ``application/statuslist+cwt`` and whose payload is the CWT
claims set with ``sub`` (2), ``iat`` (6), ``exp`` (4), ``ttl`` (65534) and ``status_list``
(65533).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from honnin import cbor
from honnin.cose import KID, CoseAlgorithm, parse_sign1, sign1, verify_sign1
from honnin.errors import InvalidClaim, MalformedCose, TooLarge
from honnin.jose import DEFAULT_ALLOWED, JwsAlgorithm, PrivateKey, PublicKey

from ._constants import (
    COSE_HEADER_TYP,
    CWT_EXP,
    CWT_IAT,
    CWT_ISS,
    CWT_STATUS_LIST,
    CWT_SUB,
    CWT_TTL,
    CWT_TYP,
    MAX_INFLATED,
    MAX_TOKEN_SIZE,
    TokenForm,
)
from ._list import StatusList, ZlibStrategy
from ._token import (
    DEFAULT_SKEW,
    KeyResolver,
    ListTokenHeader,
    VerifiedStatusList,
    check_token_claims,
)

__all__ = ["build_status_list_cwt", "verify_status_list_cwt"]


def build_status_list_cwt(
    status_list: StatusList,
    *,
    sub: str,
    key: PrivateKey,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
    iss: str | None = None,
    kid: bytes | None = None,
    x5c: Sequence[bytes] = (),
    level: int = 9,
    strategy: ZlibStrategy = ZlibStrategy.DEFAULT,
) -> bytes:
    """Sign ``status_list`` as a CWT Status List Token (§5.2), ``COSE_Sign1_Tagged``.

    ``x5c`` (DER, leaf first, no trust anchor) goes into ``x5chain`` (label 33, RFC 9360).
    """
    if ttl is not None and ttl <= 0:
        raise ValueError("ttl must be positive (§5.1)")
    claims: dict[int, Any] = {CWT_SUB: sub, CWT_IAT: iat}
    if iss is not None:
        claims[CWT_ISS] = iss
    if exp is not None:
        claims[CWT_EXP] = exp
    if ttl is not None:
        claims[CWT_TTL] = ttl
    claims[CWT_STATUS_LIST] = status_list.to_cbor(level, strategy)
    return sign1(
        cbor.encode(claims),
        key,
        protected={COSE_HEADER_TYP: CWT_TYP},
        unprotected={KID: kid} if kid is not None else None,
        x5chain=list(x5c) or None,
    )


def _cose_allowed(allowed: frozenset[JwsAlgorithm]) -> frozenset[CoseAlgorithm]:
    # One allow-list for both forms: a COSE algorithm is allowed when its JWS twin is.
    return frozenset(alg for alg in CoseAlgorithm if alg.jws in allowed)


def verify_status_list_cwt(
    token: bytes,
    *,
    key: PublicKey | KeyResolver,
    expected_sub: str,
    now: float,
    allowed: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    expected_iss: str | None = None,
    skew: float = DEFAULT_SKEW,
    max_inflated: int = MAX_INFLATED,
) -> VerifiedStatusList:
    """Verify a CWT Status List Token (§5.2, §8.3) and inflate its list.

    ``allowed`` names JWS algorithms; their COSE counterparts are accepted (ES256 also as
    ESP256). A ``COSE_Mac0`` is refused: honnin accepts signed lists only.

    Raises:
        TooLarge: the token or its list is over the limits.
        MalformedCbor: not strict CBOR, or the CWT tag 61 (RFC 8392 §6; §5.2 forbids it).
        MalformedCose: not ``COSE_Sign1_Tagged``, or ``typ`` not ``application/statuslist+cwt``.
        UnsupportedAlgorithm / InvalidSignature: as for ``verify_status_list_jwt``.
        InvalidClaim / Expired / NotYetValid / MalformedInput: as for the JWT form.
    """
    if not isinstance(token, bytes):
        raise TypeError("a CWT Status List Token is bytes")
    if len(token) > MAX_TOKEN_SIZE:
        raise TooLarge(f"Status List Token over {MAX_TOKEN_SIZE} bytes", limit=MAX_TOKEN_SIZE)
    message = parse_sign1(token, require_tag=True, max_size=MAX_TOKEN_SIZE)
    typ = message.protected.get(COSE_HEADER_TYP)
    # §5.2: typ is REQUIRED in the protected header; an unprotected one could be swapped.
    if typ != CWT_TYP:
        raise MalformedCose(
            f"CWT typ (protected label 16) must be {CWT_TYP!r}, not {typ!r} (§5.2)",
            header="typ",
        )
    header = _header(message.protected, message.unprotected, message.x5chain)
    public = key(header) if callable(key) else key
    verified = verify_sign1(message, public, allowed=_cose_allowed(allowed))
    claims = cbor.decode(verified.payload, max_size=MAX_TOKEN_SIZE)
    if not isinstance(claims, dict):
        raise InvalidClaim("the CWT claims set is not a map (RFC 8392 §7)", claim="cwt")
    checked = check_token_claims(
        sub=claims.get(CWT_SUB),
        iat=claims.get(CWT_IAT),
        exp=claims.get(CWT_EXP),
        ttl=claims.get(CWT_TTL),
        iss=claims.get(CWT_ISS),
        expected_sub=expected_sub,
        expected_iss=expected_iss,
        now=now,
        skew=skew,
    )
    if CWT_STATUS_LIST not in claims:
        raise InvalidClaim(
            "Status List Token has no status_list claim (65533, §5.2)", claim="status_list"
        )
    status_list = StatusList.from_cbor(claims[CWT_STATUS_LIST], max_inflated=max_inflated)
    return VerifiedStatusList(
        form=TokenForm.CWT,
        sub=checked.sub,
        iat=checked.iat,
        exp=checked.exp,
        ttl=checked.ttl,
        iss=checked.iss,
        status_list=status_list,
        header=header,
    )


def _header(
    protected: Mapping[Any, Any], unprotected: Mapping[Any, Any], x5c: tuple[bytes, ...]
) -> ListTokenHeader:
    merged = {**unprotected, **protected}  # protected wins (RFC 9052 §3)
    kid = merged.get(KID)
    if kid is not None and not isinstance(kid, bytes):
        raise MalformedCose("COSE kid (label 4) must be a bstr (RFC 9052 §3.1)")
    alg = protected.get(1)
    return ListTokenHeader(
        form=TokenForm.CWT,
        alg=alg if isinstance(alg, int) else None,
        kid=kid,
        x5c=x5c,
        raw=merged,
    )
