"""Status List Token in JWT form (draft-ietf-oauth-status-list-20 §5.1)."""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from honnin.errors import InvalidClaim, MalformedJws, TooLarge
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    parse_jws,
    sign_jws,
    verify_jws,
)

from ._constants import JWT_TYP, JWT_TYP_FULL, MAX_INFLATED, MAX_TOKEN_SIZE, TokenForm
from ._list import StatusList, ZlibStrategy
from ._token import (
    DEFAULT_SKEW,
    KeyResolver,
    ListTokenHeader,
    VerifiedStatusList,
    check_token_claims,
)

__all__ = ["build_status_list_jwt", "parse_x5c_header", "verify_status_list_jwt"]

#: More certificates than this in one chain is not a chain anyone needs.
MAX_CHAIN = 10


def build_status_list_jwt(
    status_list: StatusList,
    *,
    sub: str,
    key: PrivateKey,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
    iss: str | None = None,
    kid: str | None = None,
    x5c: Sequence[bytes] = (),
    alg: JwsAlgorithm | None = None,
    level: int = 9,
    strategy: ZlibStrategy = ZlibStrategy.DEFAULT,
) -> str:
    """Sign ``status_list`` as a compact ``statuslist+jwt`` (§5.1).

    ``sub`` is the URI the token is served at (Referenced Tokens name it in ``uri``);
    ``x5c`` are DER certificates, leaf first, without the trust anchor (HAIP §6.1).

    >>> token = build_status_list_jwt(StatusList(8), sub="https://x.example/1",
    ...                               key=generate_key(), iat=1_700_000_000)
    """
    if ttl is not None and ttl <= 0:
        raise ValueError("ttl must be positive (§5.1)")
    header: dict[str, Any] = {"typ": JWT_TYP}
    if kid is not None:
        header["kid"] = kid
    if x5c:
        # RFC 7515 §4.1.6: x5c holds standard base64 (not base64url) DER certificates.
        header["x5c"] = [binascii.b2a_base64(der, newline=False).decode() for der in x5c]
    claims: dict[str, Any] = {"sub": sub, "iat": iat}
    if iss is not None:
        claims["iss"] = iss
    if exp is not None:
        claims["exp"] = exp
    if ttl is not None:
        claims["ttl"] = ttl
    claims["status_list"] = status_list.to_json(level, strategy)
    return sign_jws(claims, key, header=header, alg=alg)


def parse_x5c_header(value: object, *, what: str = "x5c") -> tuple[bytes, ...]:
    """A JWS ``x5c`` header (RFC 7515 §4.1.6) as DER certificates; ``()`` when absent.

    Raises:
        MalformedJws: not a non-empty array of strict standard-base64 strings.
    """
    if value is None:
        return ()
    if not isinstance(value, list) or not value or len(value) > MAX_CHAIN:
        raise MalformedJws(f"'{what}' must be an array of 1 to {MAX_CHAIN} certificates")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise MalformedJws(f"'{what}' entries must be base64 strings")
        try:
            out.append(binascii.a2b_base64(item.encode("ascii"), strict_mode=True))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise MalformedJws(f"'{what}' entry is not strict base64 (RFC 7515 §4.1.6)") from exc
    return tuple(out)


def header_of_jwt(raw: Mapping[str, Any]) -> ListTokenHeader:
    """The normalised header of a parsed JWS."""
    kid = raw.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise MalformedJws("JWS 'kid' must be a string (RFC 7515 §4.1.4)")
    alg = raw.get("alg")
    return ListTokenHeader(
        form=TokenForm.JWT,
        alg=alg if isinstance(alg, str) else None,
        kid=kid,
        x5c=parse_x5c_header(raw.get("x5c")),
        raw=raw,
    )


def verify_status_list_jwt(
    token: str | bytes,
    *,
    key: PublicKey | KeyResolver,
    expected_sub: str,
    now: float,
    allowed: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    expected_iss: str | None = None,
    skew: float = DEFAULT_SKEW,
    max_inflated: int = MAX_INFLATED,
) -> VerifiedStatusList:
    """Verify a ``statuslist+jwt`` (§5.1, §8.3) and inflate its list.

    ``key`` is the public key, or a resolver called with the unverified header (for
    ``x5c`` chain validation). ``expected_sub`` is the ``uri`` of the Referenced Token.

    Raises:
        TooLarge: the token or its list is over the limits.
        MalformedJws / MalformedBase64url / MalformedJson: a malformed token.
        MalformedJws: ``typ`` is not ``statuslist+jwt`` (RFC 8725 §3.11).
        UnsupportedAlgorithm: ``alg`` not in ``allowed`` (MACs never are, §5.1).
        InvalidSignature: the signature does not verify under the key.
        InvalidClaim: bad claims, ``sub`` not ``expected_sub``, bad ``status_list``.
        Expired / NotYetValid: outside ``iat`` .. ``exp`` (with ``skew``).
        MalformedInput: ``lst`` is not a ZLIB stream.
        Any ``HonninError`` the resolver raises (for example ``UntrustedIssuer``).
    """
    if isinstance(token, bytes):
        if len(token) > MAX_TOKEN_SIZE:
            raise TooLarge(f"Status List Token over {MAX_TOKEN_SIZE} bytes", limit=MAX_TOKEN_SIZE)
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedJws("a compact JWS is ASCII") from exc
    if len(token) > MAX_TOKEN_SIZE:
        raise TooLarge(f"Status List Token over {MAX_TOKEN_SIZE} bytes", limit=MAX_TOKEN_SIZE)
    jws = parse_jws(token, max_payload=MAX_TOKEN_SIZE)
    typ = jws.header.get("typ")
    # §5.1: typ MUST be statuslist+jwt; explicit typing stops cross-JWT confusion (J8).
    if typ not in (JWT_TYP, JWT_TYP_FULL):
        raise MalformedJws(f"JWT 'typ' must be {JWT_TYP!r}, not {typ!r} (§5.1)", header="typ")
    header = header_of_jwt(jws.header)
    public = key(header) if callable(key) else key
    # §5.1 rule 2 / §8.3 step 3: the signature first; nothing unsigned is read before it.
    verify_jws(jws, public, allowed=allowed)
    claims = jws.unverified_claims()
    checked = check_token_claims(
        sub=claims.get("sub"),
        iat=claims.get("iat"),
        exp=claims.get("exp"),
        ttl=claims.get("ttl"),
        iss=claims.get("iss"),
        expected_sub=expected_sub,
        expected_iss=expected_iss,
        now=now,
        skew=skew,
    )
    if "status_list" not in claims:
        raise InvalidClaim(
            "Status List Token has no 'status_list' claim (§5.1)", claim="status_list"
        )
    status_list = StatusList.from_json(claims["status_list"], max_inflated=max_inflated)
    return VerifiedStatusList(
        form=TokenForm.JWT,
        sub=checked.sub,
        iat=checked.iat,
        exp=checked.exp,
        ttl=checked.ttl,
        iss=checked.iss,
        status_list=status_list,
        header=header,
    )
