"""Verification of one presentation of a VP Token entry (OpenID4VP 1.0 §8.6 step 2).

Per format: SD-JWT VC with its KB-JWT (App. B.3.6: ``nonce``, ``aud`` = the full client_id,
``iat`` window of HOSTILE-CASES D6), mdoc with DeviceAuth over the OpenID4VP
SessionTranscript (App. B.2.6), both with issuer trust and entitlement and the status check
(fail closed, D5). Each step raises a typed ``HonninError``; the caller turns it into a
per-credential error and discards the presentation (§8.6).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.cbor import cbor_to_json
from honnin.cose import CoseAlgorithm
from honnin.credential_types import Catalogue
from honnin.dcql import CredentialQuery, PresentedCredential
from honnin.encoding import b64url_decode
from honnin.errors import (
    InvalidClaim,
    MalformedCredential,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from honnin.jose import JwsAlgorithm, PublicKey
from honnin.mdoc import openid4vp_session_transcript, verify_device_response
from honnin.sdjwt import IssuerKeyResolution, KeyBinding, verify_sd_jwt_vc
from honnin.status import StatusChecker, StatusReference, parse_status_reference
from honnin.trust import VerifiedChain, authority_key_identifiers, certificates_from_x5c

from ._result import TrustDecision
from ._trust import Decided, IssuerTrust

__all__ = ["CheckedPresentation", "PresentationContext", "PresentationVerifier"]

_CACHE = 256
#: HOSTILE-CASES D6: the KB-JWT ``iat`` window.
KB_MAX_AGE = 300.0
CLOCK_SKEW = 60.0
_ES256 = frozenset({JwsAlgorithm.ES256})
_COSE_ES256 = frozenset({CoseAlgorithm.ES256, CoseAlgorithm.ESP256})


@dataclass(slots=True)
class PresentationContext:
    """What a presentation must be bound to: the transaction's request values."""

    client_id: str
    nonce: str
    response_uri: str
    created_at: float
    now: float
    #: RFC 7638 thumbprint (raw SHA-256) of the encryption JWK, or None when unencrypted.
    jwk_thumbprint: bytes | None


@dataclass(frozen=True, slots=True)
class _Resolved:
    decided: Decided
    type_id: str | None
    key: PublicKey
    valid_from: float
    valid_until: float
    resolution: IssuerKeyResolution
    #: OpenID4VP 1.0 §6.1.1: the issuer's trusted-authority identifiers (computed once per
    #: cached resolution, not per presentation).
    authorities: dict[str, frozenset[str]]

    @classmethod
    def of(cls, decided: Decided, type_id: str | None, issuer: str) -> _Resolved:
        path = decided.chain.path
        key = decided.chain.public_key
        if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            raise UnsupportedAlgorithm("the issuer key is neither EC nor Ed25519")
        return cls(
            decided,
            type_id,
            key,
            max(c.not_valid_before_utc for c in path).timestamp(),
            min(c.not_valid_after_utc for c in path).timestamp(),
            IssuerKeyResolution(key, issuer, "x5c", chain=decided.chain),
            authorities_of(decided.chain),
        )


def authorities_of(chain: VerifiedChain) -> dict[str, frozenset[str]]:
    """The DCQL trusted-authority identifiers of a verified issuer chain (OpenID4VP 1.0
    §6.1.1): ``aki``, the AuthorityKeyIdentifier KeyIdentifiers along the validated path.
    honnin supports no other type (``etsi_tl`` / ``openid_federation`` never match)."""
    return {"aki": authority_key_identifiers(chain.path)}


class _EntitledX5cKeys:
    """The ``IssuerKeyPolicy`` of one verification: the x5c chain to this verifier's
    anchors, with entitlement, remembering what it resolved for the result."""

    __slots__ = ("_owner", "resolved")

    def __init__(self, owner: PresentationVerifier) -> None:
        self._owner = owner
        self.resolved: _Resolved | None = None

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        self.resolved = self._owner._resolve_x5c(header, payload, at)
        return self.resolved.resolution


@dataclass(slots=True)
class CheckedPresentation:
    """A presentation that verified cryptographically, before the DCQL check."""

    presented: PresentedCredential
    credential_type: str | None
    type_value: str
    issuer: str
    issuer_name: str
    trust: TrustDecision
    status: str
    #: The verified KB-JWT's claims (SD-JWT VC), for the transaction data check (App. B.3.3).
    kb_claims: Mapping[str, Any] | None = None


class PresentationVerifier:
    """Verifies single presentations against the verifier's trust and status policy."""

    def __init__(self, trust: IssuerTrust, catalogue: Catalogue, status: StatusChecker) -> None:
        self.trust = trust
        self.catalogue = catalogue
        self.status = status
        # Issuer resolutions by (x5c, iss, vct): a hit skips parsing and path building and
        # only re-checks the time against the validated path's validity window.
        self._issuers: dict[tuple[tuple[Any, ...], str | None, str] | None, _Resolved] = {}
        self._lock = threading.Lock()

    # -- SD-JWT VC ---------------------------------------------------------------------------

    def sd_jwt_vc(
        self, presentation: str, query: CredentialQuery, ctx: PresentationContext
    ) -> CheckedPresentation:
        """Verify an SD-JWT VC presentation (``honnin.sdjwt.verify_sd_jwt_vc``: RFC 9901 §7,
        SD-JWT VC §2.4) with the issuer key from its ``x5c`` chain to this verifier's anchors
        and the issuer's entitlement to the ``vct`` (OpenID4VP 1.0 App. B.3.6)."""
        if not isinstance(presentation, str):
            raise MalformedCredential("a dc+sd-jwt presentation is a string (App. B.3.6)")
        keys = _EntitledX5cKeys(self)
        required = query.require_cryptographic_holder_binding
        # The policy decides (RFC 9901 §9.5); a KB-JWT sent when not required is still checked.
        policy = KeyBinding.REQUIRED if required or not presentation.endswith("~") else None
        # HOSTILE-CASES D6: iat >= max(transaction created - skew, now - 300 s).
        kb_max_age = min(KB_MAX_AGE, ctx.now - (ctx.created_at - CLOCK_SKEW))
        verified = verify_sd_jwt_vc(
            presentation,
            keys,
            key_binding=policy or KeyBinding.FORBIDDEN,
            nonce=ctx.nonce,
            aud=ctx.client_id,
            algorithms=_ES256,
            now=ctx.now,
            kb_max_age=max(kb_max_age, 0.0),
            clock_skew=CLOCK_SKEW,
        )
        status = self._status(verified.status)
        resolved = keys.resolved
        assert resolved is not None  # verify_sd_jwt_vc resolved the key before verifying
        return CheckedPresentation(
            presented=PresentedCredential(
                format="dc+sd-jwt",
                vct=verified.vct,
                claims=verified.claims,
                disclosed=tuple([d.path for d in verified.sd_jwt.disclosures]),
                holder_binding=verified.key_binding is not None,
                authorities=resolved.authorities,
            ),
            credential_type=resolved.type_id,
            type_value=verified.vct,
            issuer=verified.iss,
            issuer_name=resolved.decided.issuer_name,
            trust=resolved.decided.decision,
            status=status,
            kb_claims=None if verified.key_binding is None else verified.key_binding.claims,
        )

    def _resolve_x5c(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> _Resolved:
        vct, iss = payload.get("vct"), payload.get("iss")
        if not isinstance(vct, str) or not vct:
            raise InvalidClaim("an SD-JWT VC needs a 'vct' string (§2.2.2)", claim="vct")
        if iss is not None and (not isinstance(iss, str) or not iss):
            raise InvalidClaim("'iss' must be a non-empty string (RFC 7519 §4.1.1)", claim="iss")
        x5c = header.get("x5c")
        if x5c is None:
            raise UntrustedIssuer("the credential carries no 'x5c' chain", reason="no_x5c")
        key = (tuple(x5c), iss, vct) if isinstance(x5c, list) else None
        hit = self._issuers.get(key) if key is not None else None
        if hit is not None and hit.valid_from <= at <= hit.valid_until:
            return hit
        # SD-JWT VC §2.5: the issuer key comes from an x5c chain to a trust anchor, and
        # (§7.7) the issuer must be entitled to the type it signs.
        chain = certificates_from_x5c(x5c)
        type_id = self._type_id(vct, None)
        done = self.trust.check(
            chain, [n for n in (type_id, vct) if n], at=datetime.fromtimestamp(at, tz=UTC)
        )
        if iss is not None:
            self.trust.check_issuer(done.chain, iss)
        resolved = _Resolved.of(done, type_id, iss or done.decision.issuer_subject)
        if key is not None:
            with self._lock:
                if len(self._issuers) >= _CACHE:
                    self._issuers.clear()
                self._issuers[key] = resolved
        return resolved

    # -- mdoc --------------------------------------------------------------------------------

    def mdoc(
        self, presentation: str, query: CredentialQuery, ctx: PresentationContext
    ) -> CheckedPresentation:
        """Verify an mdoc presentation: base64url DeviceResponse (App. B.2.5) holding one
        Document (HAIP §5), DeviceAuth over the transcript rebuilt from this transaction's
        own values (App. B.2.6.1; never the wallet's), then trust, entitlement and status."""
        if not isinstance(presentation, str):
            raise MalformedCredential("an mso_mdoc presentation is a base64url string (B.2.5)")
        raw = b64url_decode(presentation, what="DeviceResponse")
        transcript = openid4vp_session_transcript(
            ctx.client_id, ctx.nonce, ctx.response_uri, jwk_thumbprint=ctx.jwk_thumbprint
        )
        response = verify_device_response(
            raw,
            trust_anchors=self.trust.anchors,
            session_transcript=transcript,
            now=ctx.now,
            allowed=_COSE_ES256,
            expected_doctype=query.meta.doctype_value,
        )
        if len(response.documents) != 1:
            # HAIP §5: one mdoc per DeviceResponse, so each maps to one Credential Query.
            raise MalformedCredential("a DeviceResponse must carry exactly one Document")
        document = response.documents[0]
        type_id = self._type_id(None, document.doctype)
        done = self.trust.entitle(document.chain, [n for n in (type_id, document.doctype) if n])
        status = self._status(document.status)
        namespaces = {
            ns: {element: cbor_to_json(value) for element, value in items.items()}
            for ns, items in document.elements.items()
        }
        return CheckedPresentation(
            presented=PresentedCredential(
                format="mso_mdoc",
                doctype=document.doctype,
                namespaces=namespaces,
                holder_binding=True,
                authorities=authorities_of(document.chain),
            ),
            credential_type=type_id,
            type_value=document.doctype,
            issuer=done.decision.issuer_subject,
            issuer_name=done.issuer_name,
            trust=done.decision,
            status=status,
        )

    # -- shared ------------------------------------------------------------------------------

    def _type_id(self, vct: str | None, doctype: str | None) -> str | None:
        found = self.catalogue.find(vct or doctype or "")
        return None if found is None else found.id

    def _status(self, claim: object) -> str:
        """Check a ``status`` reference (Token Status List §8); ``"none"`` without one."""
        if claim is None:
            return "none"
        reference = claim if isinstance(claim, StatusReference) else parse_status_reference(claim)
        # Fail closed (HOSTILE-CASES D5): the checker raises unless the list says VALID.
        self.status.check(reference)
        return "valid"
