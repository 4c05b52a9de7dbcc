"""Checking an issued credential copy before the wallet stores it (RFC 9901 §7.2, ISO/IEC
18013-5 §9.3.1, OpenID4VCI 1.0 §8.3; HOSTILE-CASES WL-17/18/19, SECURITY-CHECKLIST C14).

Each copy is verified as a verifier would: issuer signature with the ``x5c`` / ``x5chain``
leaf, the chain to the wallet's issuer anchors (when configured) and the issuer's
entitlement, ``iss`` named by the leaf, time claims, a type the catalogue knows, claims that
fit the type's schema and SD policy (a My Number in plaintext could never be withheld), and
the holder key whose JWK thumbprint names the binding key it is bound to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509

from honnin.cbor import cbor_to_json
from honnin.cose import CoseAlgorithm, certificates_of
from honnin.credential_types import Catalogue, CredentialType
from honnin.credentials import CredentialFormat
from honnin.encoding import b64url_decode
from honnin.errors import (
    HonninError,
    InvalidClaim,
    InvalidDisclosure,
    InvalidKeyBinding,
    MalformedCredential,
    UnknownCredentialType,
)
from honnin.jose import JwsAlgorithm, PublicKey, jwk_from_public_key, jwk_thumbprint, parse_jws
from honnin.mdoc import parse_issuer_signed, verify_issuer_signed
from honnin.sdjwt import SdJwt, receive_sd_jwt
from honnin.trust import (
    authority_key_identifiers,
    certificates_from_x5c,
    check_issuer_identifier,
    san_uris,
)

from ._trust import IssuerDecision, TrustState, WalletTrust

__all__ = [
    "CheckedCopy",
    "authorities_of_chain",
    "cbor_to_json",
    "chain_of_copy",
    "check_copy",
    "copy_format",
]

#: SD-JWT VC §3.2.1: the typ of an SD-JWT VC (the legacy vc+sd-jwt is not accepted).
SD_JWT_VC_TYP: Final = "dc+sd-jwt"
#: spec/PROFILE.md §3: ES256 is the profile's algorithm.
_ES256: Final = frozenset({JwsAlgorithm.ES256})
_COSE_ES256: Final = frozenset({CoseAlgorithm.ES256, CoseAlgorithm.ESP256})
#: SD-JWT VC §3.2.2: registered claims the issuer sets; not part of a type's claims.
REGISTERED: Final = frozenset(
    {"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "sub", "jti"}
)
#: Members that differ between the copies of one batch by design (OpenID4VCI §15.4.1).
_PER_COPY: Final = frozenset({"cnf", "status"})


@dataclass(frozen=True)
class CheckedCopy:
    """One verified copy, ready to store.

    ``claims`` is what DCQL matches against: the processed SD-JWT VC claims with every
    disclosure applied, or the mdoc ``{namespace: {element: JSON value}}``. ``content`` is
    a digest of what every copy of a batch must share (WL-18). ``authorities`` are the
    issuer's DCQL trusted-authority identifiers (OpenID4VP 1.0 §6.1.1, ``aki`` only), from
    the chain the copy carries.
    """

    format: CredentialFormat
    credential: str = field(repr=False)
    credential_type: CredentialType
    type_value: str
    issuer: str
    decision: IssuerDecision = field(repr=False)
    key_id: str
    claims: dict[str, Any] = field(repr=False)
    valid_until: int | None
    content: str = field(repr=False)
    authorities: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @property
    def trust(self) -> TrustState:
        """How far the issuer is trusted."""
        return self.decision.state


def copy_format(credential: str) -> CredentialFormat:
    """The format of a copy in OpenID4VCI wire form: an SD-JWT has ``~`` separators, an mdoc
    is one base64url string (App. A.2.4)."""
    return CredentialFormat.SD_JWT_VC if "~" in credential else CredentialFormat.MSO_MDOC


def _digest(value: Any) -> str:
    # Sorted: disclosures arrive in a random order, so equal claims come in any order.
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _type(catalogue: Catalogue, name: str, what: str) -> CredentialType:
    found = catalogue.find(name)
    if found is None:
        raise UnknownCredentialType(f"{what} {name!r} is not in the credential type catalogue")
    return found


def authorities_of_chain(chain: Sequence[x509.Certificate]) -> dict[str, frozenset[str]]:
    """The DCQL trusted-authority identifiers of the chain a credential carries (OpenID4VP
    1.0 §6.1.1): ``aki`` only; honnin never matches ``etsi_tl`` / ``openid_federation``."""
    return {"aki": authority_key_identifiers(chain)}


def chain_of_copy(credential: str) -> list[x509.Certificate]:
    """The issuer chain a stored copy carries, unverified (it was verified when accepted):
    the SD-JWT VC ``x5c`` header (SD-JWT VC §3.5) or the mdoc issuerAuth ``x5chain``
    (ISO/IEC 18013-5 §9.1.2.4, COSE label 33).

    Raises:
        MalformedCredential / MalformedJws / MalformedCose / MalformedInput: not a copy with
            a chain.
    """
    if copy_format(credential) is CredentialFormat.SD_JWT_VC:
        header = parse_jws(credential.split("~", 1)[0]).header
        return certificates_from_x5c(header.get("x5c"))
    issuer_signed = parse_issuer_signed(b64url_decode(credential, what="mdoc credential"))
    return certificates_of(issuer_signed.issuer_auth)


def _sd_jwt_vc(
    text: str, trust: WalletTrust, catalogue: Catalogue, now: float
) -> tuple[SdJwt, IssuerDecision, CredentialType, dict[str, frozenset[str]]]:
    decided: list[tuple[IssuerDecision, CredentialType, dict[str, frozenset[str]]]] = []
    at = datetime.fromtimestamp(now, tz=UTC)

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        if header.get("typ") != SD_JWT_VC_TYP:
            raise MalformedCredential("SD-JWT VC 'typ' must be 'dc+sd-jwt' (SD-JWT VC §3.2.1)")
        vct, iss = payload.get("vct"), payload.get("iss")
        if not isinstance(vct, str) or not vct:
            raise InvalidClaim("SD-JWT VC without a 'vct' (SD-JWT VC §3.2.2.2)", claim="vct")
        if not isinstance(iss, str) or not iss:
            raise InvalidClaim("SD-JWT VC without an 'iss' (SD-JWT VC §3.2.2.2)", claim="iss")
        credential_type = _type(catalogue, vct, "vct")
        # SD-JWT VC §3.5: the issuer key comes from x5c (to the anchors, when configured).
        chain = certificates_from_x5c(header.get("x5c"))
        decision = trust.issuer(chain, [credential_type.id, vct], at=at)
        check_issuer_identifier(decision.chain, iss)
        decided.append((decision, credential_type, authorities_of_chain(chain)))
        return decision.chain.public_key  # type: ignore[return-value]

    sd_jwt = receive_sd_jwt(text, resolve, algorithms=_ES256, now=now)
    decision, credential_type, authorities = decided[-1]
    return sd_jwt, decision, credential_type, authorities


def _plaintext_paths(payload: Mapping[str, Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, value in payload.items():
        if name in REGISTERED or name.startswith("_"):
            continue
        out.append((name,))
        if isinstance(value, dict):
            out.extend((name, member) for member in value if not member.startswith("_"))
    return out


def _check_sd_jwt_vc(
    text: str, trust: WalletTrust, catalogue: Catalogue, now: float
) -> CheckedCopy:
    sd_jwt, decision, credential_type, authorities = _sd_jwt_vc(text, trust, catalogue, now)
    claims = sd_jwt.claims
    if any(d.path and d.path[0] in REGISTERED and len(d.path) == 1 for d in sd_jwt.disclosures):
        # SD-JWT VC §3.2.2: iss, vct, cnf, status, the time claims are never disclosable.
        raise InvalidDisclosure("a registered claim arrived in a disclosure", reason="registered")
    # SD-JWT VC §5.6.3: "always" claims must be disclosable, "never" claims must not be.
    credential_type.check_disclosure(
        _plaintext_paths(sd_jwt.payload),
        [d.path for d in sd_jwt.disclosures],  # type: ignore[misc]
    )
    credential_type.validate({k: v for k, v in claims.items() if k not in REGISTERED})
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        # OpenID4VCI §8.3 / RFC 7800 §3.2: a copy the wallet cannot prove is useless here.
        raise InvalidKeyBinding("the credential has no cnf.jwk holder key", reason="cnf")
    try:
        key_id = jwk_thumbprint(jwk)
    except HonninError as exc:
        raise InvalidKeyBinding(f"unusable cnf.jwk: {exc.message}", reason="cnf") from exc
    exp = claims.get("exp")
    return CheckedCopy(
        format=CredentialFormat.SD_JWT_VC,
        credential=text,
        credential_type=credential_type,
        type_value=str(claims["vct"]),
        issuer=str(claims["iss"]),
        decision=decision,
        key_id=key_id,
        claims=claims,
        valid_until=exp if isinstance(exp, int) else None,
        content=_digest({k: v for k, v in claims.items() if k not in _PER_COPY}),
        authorities=authorities,
    )


def _mdoc_issuer(leaf: x509.Certificate) -> str:
    """An mdoc names no ``iss``: the document signer's URI SAN is the issuer identifier
    (spec/PROFILE.md §6.2), so both formats of one issuer show the same one; a certificate
    without it is named by its subject."""
    uris = san_uris(leaf)
    return uris[0] if uris else leaf.subject.rfc4514_string()


def _check_mdoc(text: str, trust: WalletTrust, catalogue: Catalogue, now: float) -> CheckedCopy:
    issuer_signed = parse_issuer_signed(b64url_decode(text, what="mdoc credential"))
    doctype = issuer_signed.unverified_mso().doctype
    credential_type = _type(catalogue, doctype, "docType")
    at = datetime.fromtimestamp(now, tz=UTC)
    chain = certificates_of(issuer_signed.issuer_auth)
    decision = trust.issuer(chain, [credential_type.id, doctype], at=at)
    verified = verify_issuer_signed(
        issuer_signed,
        trust_anchors=(decision.chain.anchor,),
        now=at,
        allowed=_COSE_ES256,
        expected_doctype=credential_type.doctype,
    )
    namespaces = {ns: cbor_to_json(dict(items)) for ns, items in verified.elements.items()}
    credential_type.validate(credential_type.from_mdoc(verified.elements))
    until = int(verified.validity.valid_until.timestamp())
    validity = [verified.validity.valid_from.isoformat(), until]
    return CheckedCopy(
        format=CredentialFormat.MSO_MDOC,
        credential=text,
        credential_type=credential_type,
        type_value=doctype,
        issuer=_mdoc_issuer(verified.chain.leaf),
        decision=decision,
        key_id=jwk_thumbprint(jwk_from_public_key(verified.device_key)),
        claims=namespaces,
        valid_until=until,
        content=_digest({"doctype": doctype, "elements": namespaces, "validity": validity}),
        authorities=authorities_of_chain(chain),
    )


def check_copy(
    credential: str, trust: WalletTrust, catalogue: Catalogue, *, now: float
) -> CheckedCopy:
    """Verify one issued copy (see the module docstring).

    Raises:
        MalformedCredential / MalformedInput / TooLarge: not a credential of a known format.
        InvalidSignature / UnsupportedAlgorithm / DigestMismatch / InvalidDisclosure: the
            issuer's signature or the disclosures.
        UntrustedIssuer / IssuerNotEntitled / Expired / NotYetValid: trust and time.
        UnknownCredentialType / SchemaViolation: a type or claims the catalogue refuses.
        InvalidKeyBinding: no usable holder key, or an SD-JWT+KB from the issuer.
    """
    if not isinstance(credential, str) or not credential:
        raise MalformedCredential("a credential copy is a non-empty string")
    if copy_format(credential) is CredentialFormat.SD_JWT_VC:
        return _check_sd_jwt_vc(credential, trust, catalogue, now)
    return _check_mdoc(credential, trust, catalogue, now)
