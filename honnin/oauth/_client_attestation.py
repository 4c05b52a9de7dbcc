"""Attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth,
the -07 that OpenID4VCI 1.0 §14.7 pins; OpenID4VCI App. E "wallet attestation"): a wallet
provider (the client attester) vouches for a wallet instance's key, and the instance proves
possession of that key to each authorization server.

Two compact JWTs travel in two HTTP headers, ``OAuth-Client-Attestation`` and
``OAuth-Client-Attestation-PoP``. Pure functions: the caller passes the time, resolves the
attester's key (its trust decision) and keeps the record of PoP ``jti`` values it accepted.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from honnin.encoding import json_loads
from honnin.errors import HonninError, InvalidClient
from honnin.jose import (
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    jwk_from_public_key,
    parse_jws,
    public_jwk_key,
    public_key_of,
    sign_jws,
    verify_jws,
)

__all__ = [
    "ATTEST_JWT_CLIENT_AUTH",
    "CLIENT_ATTESTATION_HEADER",
    "CLIENT_ATTESTATION_POP_HEADER",
    "CLIENT_ATTESTATION_POP_TYP",
    "CLIENT_ATTESTATION_TYP",
    "ClientAttestation",
    "VerifiedClientAttestation",
    "build_client_attestation",
    "build_client_attestation_pop",
    "verify_client_attestation",
]

#: The HTTP headers and ``typ`` values of the draft (§4, §5.1 of -07).
CLIENT_ATTESTATION_HEADER: Final = "OAuth-Client-Attestation"
CLIENT_ATTESTATION_POP_HEADER: Final = "OAuth-Client-Attestation-PoP"
CLIENT_ATTESTATION_TYP: Final = "oauth-client-attestation+jwt"
CLIENT_ATTESTATION_POP_TYP: Final = "oauth-client-attestation-pop+jwt"
#: The token endpoint authentication method name (authorization server metadata).
ATTEST_JWT_CLIENT_AUTH: Final = "attest_jwt_client_auth"
_ES256: Final = frozenset({JwsAlgorithm.ES256})
_MAX_JWT: Final = 16 * 1024
_MAX_JTI: Final = 256

#: Resolves the attester's key from the attestation's header and (unverified) payload: the
#: trust decision (an ``x5c`` chain to the wallet providers' anchors, say). Raises to refuse.
AttesterKeyResolver = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]


def build_client_attestation(
    attester_key: PrivateKey,
    *,
    client_id: str,
    instance_key: PublicKey | PrivateKey,
    now: float,
    lifetime: int = 24 * 3600,
    issuer: str | None = None,
    x5c: tuple[str, ...] = (),
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A Client Attestation JWT, signed by the wallet provider: ``sub`` the client id (the
    wallet solution, never one instance: OpenID4VCI §15.4.4), ``cnf.jwk`` the instance's
    public key, ``exp`` after ``lifetime`` seconds; ``x5c`` (standard base64 DER, leaf first,
    no anchor) names the provider's key. ``extra`` adds claims (``wallet_name``, ...)."""
    claims: dict[str, Any] = dict(extra or {})
    claims.update(
        sub=client_id,
        iat=int(now),
        exp=int(now) + lifetime,
        cnf={"jwk": jwk_from_public_key(public_key_of(instance_key))},
    )
    if issuer is not None:
        claims["iss"] = issuer
    header: dict[str, Any] = {"typ": CLIENT_ATTESTATION_TYP}
    if x5c:
        header["x5c"] = list(x5c)
    return sign_jws(claims, attester_key, header=header)


def build_client_attestation_pop(
    instance_key: PrivateKey, *, audience: str, now: float, challenge: str | None = None
) -> str:
    """A Client Attestation PoP JWT for one request to the authorization server
    ``audience`` (its issuer identifier): ``aud``, a fresh ``jti``, ``iat``."""
    claims: dict[str, Any] = {"aud": audience, "jti": secrets.token_urlsafe(18), "iat": int(now)}
    if challenge is not None:
        claims["challenge"] = challenge
    return sign_jws(claims, instance_key, header={"typ": CLIENT_ATTESTATION_POP_TYP})


@dataclass(frozen=True)
class ClientAttestation:
    """What a wallet instance holds to authenticate: the attestation its provider issued
    and the instance key it names in ``cnf``. ``client_id`` is the attestation's ``sub``.

    Raises:
        InvalidClient: the attestation is not a JWT with a string ``sub``.
    """

    jwt: str = field(repr=False)
    key: PrivateKey = field(repr=False)
    client_id: str = field(init=False)

    def __post_init__(self) -> None:
        claims = _claims_of(self.jwt, "attestation")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidClient("the client attestation has no sub", reason="attestation")
        object.__setattr__(self, "client_id", sub)

    def headers(self, audience: str, now: float) -> dict[str, str]:
        """The two headers of one request to ``audience``."""
        pop = build_client_attestation_pop(self.key, audience=audience, now=now)
        return {CLIENT_ATTESTATION_HEADER: self.jwt, CLIENT_ATTESTATION_POP_HEADER: pop}


@dataclass(frozen=True, slots=True)
class VerifiedClientAttestation:
    """A client attestation and its PoP, both verified: the ``client_id`` (``sub``), the
    attester (``iss``, when the attestation names it), the instance key's thumbprint, and
    the PoP's ``jti`` for the caller's replay record (kept until ``pop_expires``)."""

    client_id: str
    issuer: str | None
    instance_jkt: str
    jti: str
    pop_issued_at: float
    pop_expires: float


def _reject(reason: str, message: str) -> InvalidClient:
    return InvalidClient(f"client attestation refused: {message}", reason=reason)


def _claims_of(token: str, what: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token.isascii() or len(token) > _MAX_JWT:
        raise _reject("malformed", f"the {what} is not a compact JWT of at most 16 kB")
    try:
        claims = json_loads(parse_jws(token).payload)
    except HonninError as exc:
        raise _reject("malformed", f"the {what}: {exc.message}") from exc
    if not isinstance(claims, dict):
        raise _reject("malformed", f"the {what}'s payload is not a JSON object")
    return claims


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def verify_client_attestation(
    attestation: str,
    pop: str,
    *,
    audience: str,
    now: float,
    attester_key: AttesterKeyResolver,
    client_id: str | None = None,
    allowed: frozenset[JwsAlgorithm] = _ES256,
    pop_max_age: int = 300,
    skew: int = 60,
) -> VerifiedClientAttestation:
    """Check a Client Attestation and its PoP for a request to the authorization server
    ``audience`` (draft -07 §5.2 processing rules; OpenID4VCI App. E).

    The attestation: ``typ``, a signature by the key ``attester_key`` resolves (the trust
    decision), ``sub`` (equal to ``client_id`` when the request names one), ``exp`` not
    passed and ``nbf`` reached (with ``skew``), a public ``cnf.jwk``. The PoP: ``typ``, a
    signature by that ``cnf.jwk``, ``aud`` the authorization server, a ``jti``, ``iat`` in
    [now − pop_max_age − skew, now + skew]; an ``iss``, which older drafts put there, must be
    the client id. The caller records ``jti`` to refuse a replay.

    Raises:
        InvalidClient: any of these checks fails (``reason`` names it; 401 at an endpoint).
    """
    claims = _claims_of(attestation, "attestation")
    jws = parse_jws(attestation)
    if jws.header.get("typ") != CLIENT_ATTESTATION_TYP:
        raise _reject("typ", f"the attestation's typ must be {CLIENT_ATTESTATION_TYP!r}")
    try:
        key = attester_key(jws.header, claims)
        verify_jws(jws, key, allowed=allowed)
    except HonninError as exc:
        raise _reject("attester", f"the attestation's signer: {exc.message}") from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise _reject("sub", "the attestation has no sub")
    if client_id is not None and not hmac.compare_digest(sub.encode(), client_id.encode()):
        raise _reject("client_id", "the attestation is for another client_id")
    exp, nbf = _number(claims.get("exp")), claims.get("nbf")
    if exp is None or exp + skew <= now:
        raise _reject("exp", "the attestation has expired (or has no exp)")
    if nbf is not None and ((start := _number(nbf)) is None or start - skew > now):
        raise _reject("nbf", "the attestation is not valid yet")
    cnf = claims.get("cnf")
    try:
        instance_key, jkt = public_jwk_key(cnf.get("jwk") if isinstance(cnf, dict) else None)
    except HonninError as exc:
        raise _reject("cnf", f"the attestation's cnf.jwk: {exc.message}") from exc
    pop_claims = _claims_of(pop, "PoP")
    pop_jws = parse_jws(pop)
    if pop_jws.header.get("typ") != CLIENT_ATTESTATION_POP_TYP:
        raise _reject("pop_typ", f"the PoP's typ must be {CLIENT_ATTESTATION_POP_TYP!r}")
    try:
        verify_jws(pop_jws, instance_key, allowed=allowed)
    except HonninError as exc:
        raise _reject("pop_signature", f"the PoP: {exc.message}") from exc
    aud = pop_claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and aud == [audience])):
        raise _reject("pop_aud", "the PoP is for another authorization server")
    jti = pop_claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
        raise _reject("pop_jti", "the PoP has no usable jti")
    iat = _number(pop_claims.get("iat"))
    if iat is None or not now - pop_max_age - skew <= iat <= now + skew:
        raise _reject("pop_iat", "the PoP's iat is missing or outside the accepted window")
    pop_iss = pop_claims.get("iss")
    if pop_iss is not None and pop_iss != sub:
        raise _reject("pop_iss", "the PoP's iss is not the client id")
    issuer = claims.get("iss")
    return VerifiedClientAttestation(
        client_id=sub,
        issuer=issuer if isinstance(issuer, str) else None,
        instance_jkt=jkt,
        jti=jti,
        pop_issued_at=iat,
        pop_expires=iat + pop_max_age + skew,
    )
