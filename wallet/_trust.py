"""Whom the wallet believes: issuers of the credentials it accepts, verifiers it answers.

The configuration is a ``honnin.trust.TrustList`` (issuer anchors with entitlements,
``verifier_anchors`` for relying-party access certificates, ``restricted_claims``) or bare
certificates, each an anchor for issuers *and* verifiers (a developer convenience, like
``Verifier.create(trust=[...])``). Without any configuration the wallet still verifies every
signature and binding, but cannot say whether a party is trusted: the decision is then
``not_configured`` and is shown as such (spec/PROFILE.md "Trust model").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from honnin.credential_types import ClaimPath
from honnin.errors import HonninError
from honnin.registration import restricted_paths
from honnin.trust import DEFAULT_RESTRICTED_CLAIMS, TrustList, VerifiedChain, validate_chain

__all__ = ["IssuerDecision", "TrustState", "VerifierDecision", "WalletTrust", "display_name"]

#: spec/PROFILE.md §8 rule 3: without a trust list, the default restricted claims apply.
_DEFAULT_RESTRICTED: Final = frozenset(tuple(item["path"]) for item in DEFAULT_RESTRICTED_CLAIMS)


class TrustState(StrEnum):
    """The wallet's trust decision about a party."""

    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    #: No trust configuration: signatures were checked, trust could not be decided.
    NOT_CONFIGURED = "not_configured"


def display_name(cert: x509.Certificate) -> str:
    """The organization (else common name) of ``cert``'s subject, for people to read."""
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = cert.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return cert.subject.rfc4514_string()


@dataclass(frozen=True, slots=True)
class IssuerDecision:
    """A credential issuer's chain as validated, and how far it is trusted."""

    chain: VerifiedChain
    state: TrustState
    issuer_name: str
    anchor_subject: str | None


@dataclass(frozen=True, slots=True)
class VerifierDecision:
    """A verifier's access certificate chain and the trust decision about it.

    ``reason`` / ``code`` say why an untrusted verifier is not trusted (the error the chain
    validation raised), for the consent screen.
    """

    state: TrustState
    certificate_name: str
    anchor_subject: str | None = None
    code: str | None = None
    reason: str | None = None

    @property
    def trusted(self) -> bool | None:
        """True, False, or None when the wallet has no trust configuration."""
        if self.state is TrustState.NOT_CONFIGURED:
            return None
        return self.state is TrustState.TRUSTED


class WalletTrust:
    """The wallet's trust configuration (see the module docstring)."""

    def __init__(self, trust: TrustList | Iterable[x509.Certificate] | None) -> None:
        self.trust_list: TrustList | None = None
        self.configured = trust is not None
        if isinstance(trust, TrustList):
            self.trust_list = trust
            self.issuer_anchors: tuple[x509.Certificate, ...] = trust.anchors
            self.verifier_anchors: tuple[x509.Certificate, ...] = trust.verifier_anchors
        else:
            certs = tuple(trust or ())
            for cert in certs:
                if not isinstance(cert, x509.Certificate):
                    raise TypeError("trust= takes a TrustList or x509.Certificate objects")
            # Built once so validate_chain's identity cache hits on every check.
            self.issuer_anchors = certs
            self.verifier_anchors = certs

    def issuer(
        self, chain: Sequence[x509.Certificate], type_names: Sequence[str], *, at: datetime
    ) -> IssuerDecision:
        """Validate an issuer chain (``x5c`` / ``x5chain``, leaf first) at ``at``.

        Configured: the chain must lead to an issuer anchor and, with a trust list, the
        issuer must be entitled to one of ``type_names`` (SD-JWT VC §7.7). Not configured:
        the leaf is taken as it is (its validity period is still checked) and the decision
        is ``not_configured``.

        Raises:
            UntrustedIssuer, IssuerNotEntitled, InvalidSignature, Expired, NotYetValid,
            UnsupportedAlgorithm, MalformedInput, TooLarge.
        """
        if not self.configured:
            # Pinning the leaf runs validate_chain's validity checks without a trust claim.
            verified = validate_chain(chain[:1], chain[:1], at=at)
            return IssuerDecision(verified, TrustState.NOT_CONFIGURED, display_name(chain[0]), None)
        verified = validate_chain(chain, self.issuer_anchors, at=at)
        if self.trust_list is not None:
            allowed = self.trust_list.entitled_types(verified)
            names = [n for n in type_names if n]
            if allowed.isdisjoint(names):
                self.trust_list.check_entitlement(verified, names[0] if names else "<no type>")
        return IssuerDecision(
            verified,
            TrustState.TRUSTED,
            display_name(verified.leaf),
            verified.anchor.subject.rfc4514_string(),
        )

    def verifier(self, chain: Sequence[x509.Certificate], *, at: datetime) -> VerifierDecision:
        """The trust decision about a verifier's access certificate chain (never raises for
        an untrusted chain: the consent shows it, and approval is blocked by default)."""
        name = display_name(chain[0])
        if not self.configured:
            return VerifierDecision(TrustState.NOT_CONFIGURED, name)
        try:
            verified = validate_chain(chain, self.verifier_anchors, at=at)
        except HonninError as exc:
            return VerifierDecision(TrustState.UNTRUSTED, name, code=exc.code, reason=exc.message)
        return VerifierDecision(
            TrustState.TRUSTED, name, anchor_subject=verified.anchor.subject.rfc4514_string()
        )

    @property
    def registrar_anchors(self) -> tuple[x509.Certificate, ...]:
        """Anchors for verifier registrations (a trust list's ``registrars``; none else)."""
        return self.trust_list.registrar_anchors if self.trust_list is not None else ()

    def restricted_claims(self, credential_type: str) -> frozenset[ClaimPath]:
        """Claims released only to a verifier whose registration names them (spec/PROFILE.md
        §8): the trust list's ``restricted_claims`` (the default list without one) and the
        catalogue's explicit-request-only claims (``honnin.registration.restricted_paths``)."""
        source = self.trust_list.restricted_claims if self.trust_list is not None else _default
        return restricted_paths(credential_type, source)


def _default(credential_type: str) -> frozenset[ClaimPath]:
    return _DEFAULT_RESTRICTED
