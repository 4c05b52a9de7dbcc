"""One entry point for both Status List Token forms (draft-ietf-oauth-status-list-20 §5)."""

from __future__ import annotations

from honnin.errors import MalformedInput
from honnin.jose import DEFAULT_ALLOWED, JwsAlgorithm, PublicKey

from ._constants import MAX_INFLATED, TokenForm
from ._cwt import verify_status_list_cwt
from ._jwt import verify_status_list_jwt
from ._token import DEFAULT_SKEW, KeyResolver, VerifiedStatusList

__all__ = ["verify_status_list_token"]


def _guess_form(token: str | bytes) -> TokenForm:
    # A compact JWS is ASCII text; a COSE_Sign1_Tagged starts with tag 18 (0xd2).
    if isinstance(token, str):
        return TokenForm.JWT
    if token[:1] == b"\xd2":
        return TokenForm.CWT
    return TokenForm.JWT


def verify_status_list_token(
    token: str | bytes,
    *,
    key: PublicKey | KeyResolver,
    expected_sub: str,
    now: float,
    form: TokenForm | None = None,
    allowed: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    expected_iss: str | None = None,
    skew: float = DEFAULT_SKEW,
    max_inflated: int = MAX_INFLATED,
) -> VerifiedStatusList:
    """Verify a Status List Token in either form (§5.1 JWT, §5.2 CWT; §8.3).

    ``form`` is normally known from the response media type (§8.2); without it a text
    token is taken as a JWT and bytes starting with CBOR tag 18 as a CWT.

    Raises:
        The errors of ``verify_status_list_jwt`` / ``verify_status_list_cwt``.
    """
    form = form or _guess_form(token)
    if form is TokenForm.JWT:
        return verify_status_list_jwt(
            token,
            key=key,
            expected_sub=expected_sub,
            now=now,
            allowed=allowed,
            expected_iss=expected_iss,
            skew=skew,
            max_inflated=max_inflated,
        )
    if isinstance(token, str):
        raise MalformedInput("a CWT Status List Token is binary, not text (§8.2)")
    return verify_status_list_cwt(
        token,
        key=key,
        expected_sub=expected_sub,
        now=now,
        allowed=allowed,
        expected_iss=expected_iss,
        skew=skew,
        max_inflated=max_inflated,
    )
