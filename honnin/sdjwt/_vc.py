"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc; checklist from -19, latest seen -24): issuance and
verification of ``dc+sd-jwt`` credentials on top of RFC 9901.

Section numbers are those of the -19 editor's copy (see ``spec/PROFILE.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from honnin.clock import Clock
from honnin.errors import (
    InvalidClaim,
    InvalidDisclosure,
    InvalidKeyBinding,
    MalformedCredential,
    SchemaViolation,
)
from honnin.jose import DEFAULT_ALLOWED, JwsAlgorithm, PrivateKey, PublicKey
from honnin.status import StatusReference, parse_status_reference

from ._constants import (
    CLOCK_SKEW_SECONDS,
    DEFAULT_HASH_ALGORITHMS,
    KB_MAX_AGE_SECONDS,
    HashAlgorithm,
)
from ._disclosure import SaltSource
from ._issue import issue_sd_jwt
from ._key_binding import KeyBinding, VerifiedKeyBinding
from ._paths import ClaimPath, as_claim_path
from ._serialization import Serialization
from ._vc_keys import IssuerKeyPolicy, IssuerKeyResolution
from ._verify import VerifiedSdJwt, resolve_now, verify_sd_jwt

#: §2.2.1: the JOSE ``typ`` of an SD-JWT VC (media type application/dc+sd-jwt).
SD_JWT_VC_TYP: Final = "dc+sd-jwt"
#: The ``typ`` of drafts up to -05; accepted only when the verifier opts in.
LEGACY_SD_JWT_VC_TYP: Final = "vc+sd-jwt"
#: §2.2.2: registered claims that MUST NOT be selectively disclosable.
NEVER_DISCLOSABLE: Final = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)
#: Claims ``issue_sd_jwt_vc`` sets from its parameters (``iat`` may still be disclosable).
_SET_BY_ISSUER: Final = NEVER_DISCLOSABLE | {"iat"}


@dataclass(frozen=True, slots=True)
class VerifiedSdJwtVc:
    """An SD-JWT VC that passed RFC 9901 §7 and draft-ietf-oauth-sd-jwt-vc §2.4.

    ``claims`` are the processed claims; ``iss`` is the issuer as established by
    ``issuer`` (the key resolution: its mechanism and the validated chain or metadata);
    ``status`` is the Token Status List reference, not yet checked (§2.2.2.2).
    """

    claims: dict[str, Any]
    vct: str
    iss: str
    issuer: IssuerKeyResolution
    key_binding: VerifiedKeyBinding | None
    status: StatusReference | None
    sd_jwt: VerifiedSdJwt

    @property
    def header(self) -> Mapping[str, Any]:
        """The verified JOSE header of the issuer-signed JWT."""
        return self.sd_jwt.header


def issue_sd_jwt_vc(
    claims: Mapping[str, Any],
    issuer_key: PrivateKey,
    *,
    vct: str,
    iss: str | None = None,
    x5c: Sequence[str] | None = None,
    holder_key: PublicKey | Mapping[str, Any] | None = None,
    disclosable: Iterable[ClaimPath | str] = (),
    iat: int | None = None,
    iat_granularity: int = 1,
    nbf: int | None = None,
    exp: int | None = None,
    status: StatusReference | None = None,
    vct_integrity: str | None = None,
    aka_vcts: Sequence[str] | None = None,
    header: Mapping[str, Any] | None = None,
    decoys: int = 0,
    hash_alg: HashAlgorithm = HashAlgorithm.SHA256,
    serialization: Serialization = Serialization.COMPACT,
    salt_source: SaltSource | None = None,
    clock: Clock | None = None,
) -> str:
    """Issue an SD-JWT VC (§2): ``typ`` dc+sd-jwt, the ``x5c`` chain, ``iss``, ``vct``,
    ``iat`` (rounded down to ``iat_granularity`` seconds so copies do not link, RFC 9901
    §10.1), ``nbf``, ``exp``, ``cnf.jwk`` from ``holder_key`` and the ``status`` reference.

    The registered claims are set through their parameters and are never selectively
    disclosable; ``claims`` holds the credential's own claims.

    Raises:
        SchemaViolation: ``claims`` names a registered claim, or ``disclosable`` names one
            that must stay plain (§2.2.2); nothing is signed.
        ValueError / TypeError / TooLarge: as ``issue_sd_jwt``.
    """
    clash = sorted(_SET_BY_ISSUER.intersection(claims))
    if clash:
        raise SchemaViolation(
            f"claims {clash} are registered SD-JWT VC claims: pass them as parameters",
            claim=clash[0],
            rule="registered_claim",
        )
    paths = [as_claim_path(p) for p in disclosable]
    for path in paths:
        if path and path[0] in NEVER_DISCLOSABLE:
            # §2.2.2: these claims are needed to validate the credential, so stay plain.
            raise SchemaViolation(
                f"{path[0]!r} must never be selectively disclosable (SD-JWT VC §2.2.2)",
                claim=path[0],
                rule="never_disclosable",
            )
    if not isinstance(vct, str) or not vct:
        raise ValueError("vct must be a non-empty string")
    if aka_vcts is not None and (not aka_vcts or vct in aka_vcts):
        raise ValueError("aka_vcts must be non-empty and must not repeat vct (§2.2.2)")
    issued_at = int(resolve_now(clock, None)) if iat is None else iat
    payload: dict[str, Any] = {}
    if iss is not None:
        payload["iss"] = iss
    payload["iat"] = issued_at // iat_granularity * iat_granularity
    if nbf is not None:
        payload["nbf"] = nbf
    if exp is not None:
        payload["exp"] = exp
    payload["vct"] = vct
    if vct_integrity is not None:
        payload["vct#integrity"] = vct_integrity
    if aka_vcts is not None:
        payload["aka_vcts"] = list(aka_vcts)
    if status is not None:
        payload["status"] = status.to_claim()
    payload.update(claims)
    jose_header: dict[str, Any] = {**(header or {}), "typ": SD_JWT_VC_TYP}
    if x5c is not None:
        jose_header["x5c"] = list(x5c)
    return issue_sd_jwt(
        payload,
        issuer_key,
        disclosable=paths,
        holder_key=holder_key,
        decoys=decoys,
        hash_alg=hash_alg,
        header=jose_header,
        serialization=serialization,
        salt_source=salt_source,
    )


def _check_vc_claims(claims: Mapping[str, Any]) -> str:
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise InvalidClaim("an SD-JWT VC needs a 'vct' string (§2.2.2)", claim="vct")
    integrity = claims.get("vct#integrity")
    if integrity is not None and not isinstance(integrity, str):
        raise InvalidClaim("'vct#integrity' must be a string (§6)", claim="vct#integrity")
    aka = claims.get("aka_vcts")
    if aka is not None and (
        not isinstance(aka, list)
        or not aka
        or not all(isinstance(v, str) for v in aka)
        or vct in aka
    ):
        raise InvalidClaim(
            "'aka_vcts' must be a non-empty array of strings without 'vct'", claim="aka_vcts"
        )
    return vct


def verify_sd_jwt_vc(
    presentation: str,
    issuer_keys: IssuerKeyPolicy,
    *,
    key_binding: KeyBinding,
    nonce: str | None = None,
    aud: str | None = None,
    accept_legacy_typ: bool = False,
    algorithms: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    kb_algorithms: frozenset[JwsAlgorithm] | None = None,
    hash_algorithms: frozenset[HashAlgorithm] = DEFAULT_HASH_ALGORITHMS,
    clock: Clock | None = None,
    now: float | None = None,
    kb_max_age: float = KB_MAX_AGE_SECONDS,
    clock_skew: float = CLOCK_SKEW_SECONDS,
) -> VerifiedSdJwtVc:
    """Verify an SD-JWT VC presentation (§2.4): RFC 9901 §7, ``typ`` dc+sd-jwt, the issuer
    key from ``issuer_keys`` (§2.5), ``vct``, the time claims, registered claims never
    disclosed, ``cnf`` when key binding is required, and the ``status`` reference parsed.

    Example::

        verified = verify_sd_jwt_vc(text, X5cIssuerKeys(anchors), key_binding=KeyBinding.REQUIRED,
                                    nonce=nonce, aud=client_id)

    Raises:
        MalformedCredential: ``typ`` is not ``dc+sd-jwt`` (nor an accepted legacy ``typ``).
        InvalidClaim: ``vct`` missing or not a string, bad ``iat``/``nbf``/``exp``/``status``.
        InvalidDisclosure: a registered claim arrived in a disclosure (§2.2.2).
        InvalidKeyBinding: ``reason="cnf"`` when binding is required and ``cnf`` is missing.
        UntrustedIssuer / FetchError: the issuer key could not be established.
        Expired / NotYetValid: outside ``nbf``/``exp`` (with ``clock_skew``) or future ``iat``.
        and every error of ``verify_sd_jwt``.
    """
    at = resolve_now(clock, now)
    allowed_typ = {SD_JWT_VC_TYP, LEGACY_SD_JWT_VC_TYP} if accept_legacy_typ else {SD_JWT_VC_TYP}
    resolved: list[IssuerKeyResolution] = []

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        if header.get("typ") not in allowed_typ:
            # §2.2.1 and RFC 8725 §3.11: explicit typing keeps other JWTs from passing as VCs.
            raise MalformedCredential(
                f"SD-JWT VC 'typ' must be {SD_JWT_VC_TYP!r}", typ=str(header.get("typ"))
            )
        if key_binding is KeyBinding.REQUIRED and not isinstance(payload.get("cnf"), dict):
            # §2.2.2: cnf is required when the credential is used with key binding.
            raise InvalidKeyBinding("key binding is required but 'cnf' is missing", reason="cnf")
        found = issuer_keys.resolve(header, payload, at)
        resolved.append(found)
        return found.key

    verified = verify_sd_jwt(
        presentation,
        resolve,
        key_binding=key_binding,
        nonce=nonce,
        aud=aud,
        algorithms=algorithms,
        kb_algorithms=kb_algorithms,
        hash_algorithms=hash_algorithms,
        now=at,
        kb_max_age=kb_max_age,
        clock_skew=clock_skew,
    )
    for disclosure in verified.disclosures:
        if len(disclosure.path) == 1 and disclosure.name in NEVER_DISCLOSABLE:
            raise InvalidDisclosure(
                f"registered claim {disclosure.name!r} must not be disclosable (§2.2.2)",
                reason="registered",
            )
    claims = verified.claims
    vct = _check_vc_claims(claims)
    status = claims.get("status")
    issuer = resolved[-1]
    return VerifiedSdJwtVc(
        claims=claims,
        vct=vct,
        iss=issuer.issuer,
        issuer=issuer,
        key_binding=verified.key_binding,
        status=None if status is None else parse_status_reference(status),
        sd_jwt=verified,
    )
