"""SD-JWT verification (RFC 9901 §7.1 and §7.3) and the verified result type."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin._slots import slot_setters
from honnin.clock import Clock, SystemClock
from honnin.errors import Expired, HonninError, InvalidClaim, InvalidKeyBinding, NotYetValid
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PublicKey,
    UnverifiedJws,
    is_ec_public_key,
    verify_jws,
)

from ._constants import (
    CLOCK_SKEW_SECONDS,
    DEFAULT_HASH_ALGORITHMS,
    KB_MAX_AGE_SECONDS,
    SD_ALG,
    HashAlgorithm,
    hash_algorithm_from_payload,
)
from ._disclosure import Disclosure, decode_all
from ._key_binding import KeyBinding, VerifiedKeyBinding, verify_kb_jwt
from ._process import Placement, disclosures_of, process_payload
from ._serialization import SdJwtParts, Serialization, split_sd_jwt

#: Resolves the issuer's key from the protected header and the (unverified) payload, e.g.
#: by ``x5c`` chain or issuer metadata; it raises a ``HonninError`` when it cannot.
IssuerKeyResolver: TypeAlias = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]


@dataclass(frozen=True, slots=True)
class VerifiedSdJwt:
    """An SD-JWT (+KB) that passed every check of RFC 9901 §7.1 and §7.3.

    ``claims`` is the processed payload (§7.1 step 3: disclosed claims in place, ``_sd``,
    ``_sd_alg`` and undisclosed digests removed); ``header`` is the verified protected
    header; ``disclosures`` are the presented disclosures with the paths they fill;
    ``key_binding`` is the verified KB-JWT, or ``None`` under ``KeyBinding.FORBIDDEN``.
    """

    header: Mapping[str, Any]
    claims: dict[str, Any]
    key_binding: VerifiedKeyBinding | None
    algorithm: JwsAlgorithm
    hash_alg: HashAlgorithm
    serialization: Serialization
    _placements: Sequence[Placement] = field(repr=False, compare=False)
    _disclosures: tuple[Disclosure, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __init__(
        self,
        header: Mapping[str, Any],
        claims: dict[str, Any],
        key_binding: VerifiedKeyBinding | None,
        algorithm: JwsAlgorithm,
        hash_alg: HashAlgorithm,
        serialization: Serialization,
        _placements: Sequence[Placement],
    ) -> None:
        # One per verification: the slot descriptors store the fields at a fraction of the
        # cost of the frozen dataclass __init__'s object.__setattr__ (instances stay frozen).
        set_header, set_claims, set_kb, set_alg, set_hash, set_serialization, set_placements, \
            set_disclosures = _VERIFIED_SLOTS  # fmt: skip
        set_header(self, header)
        set_claims(self, claims)
        set_kb(self, key_binding)
        set_alg(self, algorithm)
        set_hash(self, hash_alg)
        set_serialization(self, serialization)
        set_placements(self, _placements)
        set_disclosures(self, None)

    @property
    def disclosures(self) -> tuple[Disclosure, ...]:
        """The presented disclosures, each with the claim path it fills."""
        if self._disclosures is None:
            # Built on first use: many verifiers only read ``claims``.
            object.__setattr__(self, "_disclosures", disclosures_of(self._placements))
        assert self._disclosures is not None
        return self._disclosures


_VERIFIED_SLOTS: Final = slot_setters(
    VerifiedSdJwt, "header", "claims", "key_binding", "algorithm", "hash_alg", "serialization",
    "_placements", "_disclosures",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OpenedSdJwt:
    """Internal: an SD-JWT after the issuer signature and the disclosure checks."""

    parts: SdJwtParts
    header: Mapping[str, Any]
    payload: dict[str, Any]
    claims: dict[str, Any]
    placements: list[Placement]
    algorithm: JwsAlgorithm
    hash_alg: HashAlgorithm


def resolve_now(clock: Clock | None, now: float | None) -> float:
    """``now`` if given, else the clock's time, else the system clock's."""
    if now is not None:
        return float(now)
    return (clock or _SYSTEM_CLOCK).now()


_SYSTEM_CLOCK: Final = SystemClock()


def check_time_claims(claims: Mapping[str, Any], now: float, skew: float) -> None:
    """Check ``exp``, ``nbf`` and ``iat`` when present (RFC 9901 §7.1 step 6, RFC 7519 §4.1).

    Raises:
        InvalidClaim: a present time claim that is not an integer NumericDate.
        Expired: ``exp`` passed (beyond ``skew``).
        NotYetValid: ``nbf`` or ``iat`` in the future (beyond ``skew``).
    """
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if exp is None and nbf is None and iat is None:
        return
    for name, value in (("exp", exp), ("nbf", nbf), ("iat", iat)):
        if value is not None and type(value) is not int:
            # HOSTILE PX-09: NaN, infinities, strings, booleans and floats are refused.
            raise InvalidClaim(f"'{name}' must be an integer NumericDate", claim=name)
    if exp is not None and now > exp + skew:
        raise Expired("the credential has expired ('exp')", exp=exp)
    if nbf is not None and now + skew < nbf:
        raise NotYetValid("the credential is not yet valid ('nbf')", nbf=nbf)
    if iat is not None and now + skew < iat:
        raise NotYetValid("the credential was issued in the future ('iat')", iat=iat)


_KEY_TYPES = (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)


def _issuer_signature(
    parts: SdJwtParts,
    payload: Mapping[str, Any],
    issuer_key: PublicKey | IssuerKeyResolver,
    algorithms: frozenset[JwsAlgorithm],
) -> tuple[UnverifiedJws, JwsAlgorithm]:
    signatures = parts.signatures
    if len(signatures) == 1:
        jws = signatures[0]
        if is_ec_public_key(issuer_key) or isinstance(issuer_key, _KEY_TYPES):
            key: PublicKey = issuer_key
        else:
            key = issuer_key(jws.header, payload)
        # RFC 9901 §7.1 step 2: allow-listed algorithm, never 'none', then the signature.
        return jws, verify_jws(jws, key, allowed=algorithms)
    first_error: HonninError | None = None
    for jws in signatures:
        try:
            if isinstance(issuer_key, _KEY_TYPES):
                key = issuer_key
            else:
                key = issuer_key(jws.header, payload)
            return jws, verify_jws(jws, key, allowed=algorithms)
        except HonninError as exc:
            # General JSON serialization: one verifying signature suffices (RFC 7515 §7.2).
            first_error = first_error or exc
    assert first_error is not None  # there is always at least one signature
    raise first_error


def _open(
    parts: SdJwtParts,
    issuer_key: PublicKey | IssuerKeyResolver,
    algorithms: frozenset[JwsAlgorithm],
    hash_algorithms: frozenset[HashAlgorithm],
) -> tuple[
    Mapping[str, Any], dict[str, Any], dict[str, Any], list[Placement], JwsAlgorithm, HashAlgorithm
]:
    payload = parts.signatures[0].unverified_claims()
    jws, algorithm = _issuer_signature(parts, payload, issuer_key, algorithms)
    # RFC 9901 §7.1 step 2.d: the hash algorithm must be understood and allowed.
    hash_alg = hash_algorithm_from_payload(payload.get(SD_ALG), hash_algorithms)
    claims, placements = process_payload(payload, decode_all(parts.disclosures, hash_alg))
    return jws.header, payload, claims, placements, algorithm, hash_alg


def open_sd_jwt(
    parts: SdJwtParts,
    issuer_key: PublicKey | IssuerKeyResolver,
    *,
    algorithms: frozenset[JwsAlgorithm],
    hash_algorithms: frozenset[HashAlgorithm],
) -> OpenedSdJwt:
    """Verify the issuer signature, decode the disclosures and process the payload."""
    return OpenedSdJwt(parts, *_open(parts, issuer_key, algorithms, hash_algorithms))


def verify_sd_jwt(
    presentation: str,
    issuer_key: PublicKey | IssuerKeyResolver,
    *,
    key_binding: KeyBinding,
    nonce: str | None = None,
    aud: str | None = None,
    algorithms: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    kb_algorithms: frozenset[JwsAlgorithm] | None = None,
    hash_algorithms: frozenset[HashAlgorithm] = DEFAULT_HASH_ALGORITHMS,
    required_claims: Collection[str] = (),
    clock: Clock | None = None,
    now: float | None = None,
    kb_max_age: float = KB_MAX_AGE_SECONDS,
    clock_skew: float = CLOCK_SKEW_SECONDS,
) -> VerifiedSdJwt:
    """Verify an SD-JWT or SD-JWT+KB presentation (RFC 9901 §7.1, §7.3).

    ``issuer_key`` is the issuer's public key, or a resolver called with the protected
    header and the unverified payload. ``key_binding`` is the policy: ``REQUIRED`` needs
    ``nonce`` and ``aud`` and a KB-JWT signed by ``cnf.jwk`` whose ``iat`` lies in
    ``[now - kb_max_age, now + clock_skew]``; ``FORBIDDEN`` needs the presentation to end
    in ``~``. ``required_claims`` must be present after processing (§7.1 step 6, §9.7).

    Example: ``verify_sd_jwt(text, issuer_pub, key_binding=KeyBinding.FORBIDDEN).claims``.

    Raises:
        TooLarge, MalformedCredential, MalformedJws, MalformedBase64url, MalformedJson:
            malformed or oversized input.
        UnsupportedAlgorithm: ``alg`` or ``_sd_alg`` outside the allow-lists (incl. none).
        InvalidSignature: the issuer signature does not verify.
        InvalidDisclosure / NonUniqueDigests: a §7.1 step 3 to 5 rule is broken.
        InvalidClaim / Expired / NotYetValid: time claims, or a missing required claim.
        InvalidKeyBinding: any key binding failure; ``reason`` names the check.
    """
    if key_binding is KeyBinding.REQUIRED and (nonce is None or aud is None):
        raise ValueError("KeyBinding.REQUIRED needs the expected nonce and aud")
    parts = split_sd_jwt(presentation)
    header, _, claims, placements, algorithm, hash_alg = _open(
        parts, issuer_key, algorithms, hash_algorithms
    )
    at = resolve_now(clock, now)
    check_time_claims(claims, at, clock_skew)
    for name in required_claims:
        if name not in claims:
            raise InvalidClaim(f"required claim {name!r} is missing", claim=name)
    verified_kb: VerifiedKeyBinding | None = None
    if key_binding is KeyBinding.FORBIDDEN:
        if parts.kb_jwt is not None:
            raise InvalidKeyBinding("a KB-JWT is present but forbidden", reason="forbidden")
    else:
        # RFC 9901 §7.3 step 1-2: the policy, not the presence of a KB-JWT, decides (§9.5).
        if parts.kb_jwt is None:
            raise InvalidKeyBinding("a KB-JWT is required but missing", reason="missing")
        assert nonce is not None and aud is not None
        verified_kb = verify_kb_jwt(
            parts.kb_jwt,
            claims,
            parts.hash_input,
            hash_alg,
            nonce=nonce,
            aud=aud,
            now=at,
            max_age=kb_max_age,
            skew=clock_skew,
            algorithms=algorithms if kb_algorithms is None else kb_algorithms,
        )
    return VerifiedSdJwt(
        header=header,
        claims=claims,
        key_binding=verified_kb,
        algorithm=algorithm,
        hash_alg=hash_alg,
        serialization=parts.serialization,
        _placements=placements,
    )
