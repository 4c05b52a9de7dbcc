"""What both Status List Token forms share (draft-ietf-oauth-status-list-20 §5, §8.3).

The header seen by a key resolver and the verified result have one shape for JWT and CWT,
so that trust code (``x5c`` chains to an anchor) is written once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from honnin.errors import Expired, InvalidClaim, NotYetValid
from honnin.jose import PublicKey

from ._constants import TokenForm
from ._list import StatusList

__all__ = [
    "DEFAULT_SKEW",
    "KeyResolver",
    "ListTokenHeader",
    "VerifiedStatusList",
    "check_token_claims",
]

#: Clock skew tolerated on ``iat`` and ``exp`` (HOSTILE-CASES §8: default 60 s).
DEFAULT_SKEW = 60.0


@dataclass(frozen=True, slots=True)
class ListTokenHeader:
    """The (unverified) header of a Status List Token, normalised across JWT and CWT.

    ``alg`` is the JWS name or the COSE algorithm id; ``x5c`` holds DER certificates, leaf
    first (JWS ``x5c`` or COSE ``x5chain``); ``raw`` is the JOSE header or the COSE protected
    and unprotected headers merged (protected wins). A key resolver picks the key from this
    by the caller's own policy (a fixed key, a key set by ``kid``, or an ``x5c`` chain
    validated against trust anchors); it never lets the header choose the algorithm.
    """

    form: TokenForm
    alg: str | int | None
    kid: str | bytes | None
    x5c: tuple[bytes, ...]
    raw: Mapping[Any, Any]


#: Returns the key a Status List Token must verify under, or raises a ``HonninError``
#: (for example ``UntrustedIssuer``) when the header names no acceptable key.
KeyResolver: TypeAlias = Callable[[ListTokenHeader], PublicKey]


@dataclass(frozen=True, slots=True)
class VerifiedStatusList:
    """A Status List Token whose signature, type, ``sub`` and validity were checked (§8.3).

    ``status(idx)`` is index arithmetic on the kept inflated list (no further I/O).
    """

    form: TokenForm
    sub: str
    iat: int
    exp: int | None
    ttl: int | None
    iss: str | None
    status_list: StatusList
    header: ListTokenHeader

    def status(self, idx: int) -> int:
        """The status value at ``idx`` (raises ``StatusUnavailable`` out of bounds, §8.3)."""
        return self.status_list.get(idx)


def _numeric_date(value: object, name: str) -> int:
    # RFC 7519 §2 / RFC 8392 §2: NumericDate is an integer or a finite non-integer number.
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return math.floor(value)
    raise InvalidClaim(f"'{name}' must be a NumericDate, not {value!r}", claim=name)


@dataclass(frozen=True, slots=True)
class _Claims:
    sub: str
    iat: int
    exp: int | None
    ttl: int | None
    iss: str | None


def check_token_claims(
    *,
    sub: object,
    iat: object,
    exp: object,
    ttl: object,
    iss: object,
    expected_sub: str,
    expected_iss: str | None,
    now: float,
    skew: float,
) -> _Claims:
    """Validate the Status List Token claims (§5.1/§5.2, §8.3 step 4).

    ``exp``/``ttl``/``iss`` are ``None`` when absent.

    Raises:
        InvalidClaim: a claim of the wrong type, ``ttl`` not positive, ``exp`` before ``iat``,
            ``sub`` not equal to the referenced ``uri`` or ``iss`` not the expected issuer.
        NotYetValid: ``iat`` further in the future than ``skew``.
        Expired: ``exp`` is past (with ``skew``).
    """
    if not isinstance(sub, str):
        raise InvalidClaim("Status List Token 'sub' is required and a string (§5.1)", claim="sub")
    # §5.1 / §8.3 step 4: sub MUST equal the `uri` of the Referenced Token; a list for
    # another URI is list substitution, never "close enough".
    if sub != expected_sub:
        raise InvalidClaim(
            "Status List Token 'sub' does not match the referenced 'uri' (§8.3)",
            claim="sub",
            expected=expected_sub,
            actual=sub,
        )
    if iat is None:
        raise InvalidClaim("Status List Token 'iat' is required (§5.1)", claim="iat")
    iat_v = _numeric_date(iat, "iat")
    exp_v = None if exp is None else _numeric_date(exp, "exp")
    ttl_v: int | None = None
    if ttl is not None:
        # §5.1: ttl, if present, MUST be a positive number of seconds.
        if (
            isinstance(ttl, bool)
            or not isinstance(ttl, int | float)
            or not math.isfinite(ttl)
            or ttl <= 0
        ):
            raise InvalidClaim(f"'ttl' must be a positive number, not {ttl!r} (§5.1)", claim="ttl")
        ttl_v = max(1, math.floor(ttl))
    if iss is not None and not isinstance(iss, str):
        raise InvalidClaim("Status List Token 'iss' must be a string", claim="iss")
    if expected_iss is not None and iss != expected_iss:
        raise InvalidClaim(
            "Status List Token 'iss' is not the expected issuer",
            claim="iss",
            expected=expected_iss,
            actual=iss if isinstance(iss, str) else None,
        )
    if exp_v is not None and exp_v < iat_v:
        raise InvalidClaim("Status List Token 'exp' lies before its 'iat'", claim="exp")
    if iat_v > now + skew:
        # RFC 7519 §4.1.6: a token issued in the future is not yet usable.
        raise NotYetValid("Status List Token 'iat' is in the future", iat=iat_v, now=int(now))
    if exp_v is not None and now >= exp_v + skew:
        # §8.3 step 4: an expired Status List Token MUST be rejected.
        raise Expired("Status List Token has expired", exp=exp_v, now=int(now))
    assert isinstance(iss, str | None)
    return _Claims(sub=sub, iat=iat_v, exp=exp_v, ttl=ttl_v, iss=iss)
