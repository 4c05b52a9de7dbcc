"""Which issuers this verifier believes, for which credential types (roles contract §5).

Two configurations: bare certificates (each an anchor entitled to every credential type, a
developer convenience) or a ``honnin.trust.TrustList`` (anchors plus per-issuer entitlements;
SD-JWT VC §7.7: a credential's type is no evidence that its issuer may issue it). Either way
the chain is validated to the anchors at the verification time, fail closed: no anchors, no
trust (HOSTILE-CASES VS-20). Anchor tuples are built once, so ``validate_chain``'s identity
cache hits on every verification.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from honnin.errors import IssuerNotEntitled
from honnin.trust import (
    TrustList,
    VerifiedChain,
    certificate_sha256,
    check_issuer_identifier,
    validate_chain,
)

from ._result import TrustDecision

__all__ = ["Decided", "IssuerTrust", "display_name"]

ANCHOR: Final = "anchor"
_CACHE: Final = 1024
TRUST_LIST: Final = "trust_list"


@dataclass(frozen=True, slots=True)
class Decided:
    """A validated chain, the trust decision, and the issuer's display name."""

    chain: VerifiedChain
    decision: TrustDecision
    issuer_name: str


def display_name(cert: x509.Certificate) -> str:
    """The organization (else common name) of ``cert``'s subject, for people to read."""
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = cert.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return cert.subject.rfc4514_string()


class IssuerTrust:
    """Validates issuer chains and entitlements for the verifier."""

    def __init__(self, trust: TrustList | Iterable[x509.Certificate]) -> None:
        if isinstance(trust, TrustList):
            self.trust_list: TrustList | None = trust
            self.anchors: tuple[x509.Certificate, ...] = trust.anchors
        else:
            self.trust_list = None
            self.anchors = tuple(trust)
            for cert in self.anchors:
                if not isinstance(cert, x509.Certificate):
                    raise TypeError("trust= takes certificates or a TrustList")
        self._fingerprints = {id(a): certificate_sha256(a) for a in self.anchors}
        # Decisions per validated chain (validate_chain returns the same VerifiedChain for
        # the same certificates): the chain object is kept in the value, so its id is not
        # reused while the entry lives. Validity is re-checked by validate_chain every time.
        self._decided: dict[tuple[int, tuple[str, ...]], tuple[VerifiedChain, Decided]] = {}
        self._issuers: dict[tuple[int, str], VerifiedChain] = {}
        self._lock = threading.Lock()

    def check(
        self, chain: Sequence[x509.Certificate], type_names: Sequence[str], *, at: datetime
    ) -> Decided:
        """Validate ``chain`` to the anchors at ``at`` and check that its issuer may issue a
        credential known by any of ``type_names`` (catalogue id, ``vct``, docType).

        Raises:
            UntrustedIssuer, InvalidSignature, Expired, NotYetValid, UnsupportedAlgorithm,
            MalformedInput, TooLarge: from ``validate_chain``.
            IssuerNotEntitled: the trust list does not entitle the issuer to the type.
        """
        return self.entitle(validate_chain(chain, self.anchors, at=at), type_names)

    def check_issuer(self, verified: VerifiedChain, iss: str) -> None:
        """``check_issuer_identifier`` (SD-JWT VC §3.5: ``iss`` names the x5c leaf), cached.

        Raises:
            UntrustedIssuer: the leaf does not name ``iss``.
        """
        key = (id(verified), iss)
        hit = self._issuers.get(key)
        if hit is verified:
            return
        check_issuer_identifier(verified, iss)
        with self._lock:
            if len(self._issuers) >= _CACHE:
                self._issuers.clear()
            self._issuers[key] = verified

    def entitle(self, verified: VerifiedChain, type_names: Sequence[str]) -> Decided:
        """The trust decision for an already validated chain (e.g. from mdoc verification):
        with a trust list, its issuer must be entitled to one of ``type_names``.

        Raises:
            IssuerNotEntitled: the trust list does not entitle the issuer to the type.
        """
        key = (id(verified), tuple(type_names))
        hit = self._decided.get(key)
        if hit is not None and hit[0] is verified:
            return hit[1]
        decided = self._decide(verified, type_names)
        with self._lock:
            if len(self._decided) >= _CACHE:
                self._decided.clear()
            self._decided[key] = (verified, decided)
        return decided

    def _decide(self, verified: VerifiedChain, type_names: Sequence[str]) -> Decided:
        anchor = verified.anchor
        fingerprint = self._fingerprints.get(id(anchor)) or certificate_sha256(anchor)
        issuer_subject = verified.leaf.subject.rfc4514_string()
        if self.trust_list is None:
            entitlement, list_name = ANCHOR, None
        else:
            allowed = self.trust_list.entitled_types(verified)
            names = [n for n in type_names if n] or ["<no type>"]
            if allowed.isdisjoint(names):
                # SD-JWT VC §7.7: a credential's type is no evidence its issuer may issue it.
                raise IssuerNotEntitled(
                    f"{issuer_subject} is not entitled to issue {names[0]!r}"
                    f" by trust list {self.trust_list.name!r}",
                    credential_type=names[0],
                    issuer=issuer_subject,
                )
            entitlement, list_name = TRUST_LIST, self.trust_list.name
        return Decided(
            verified,
            TrustDecision(
                issuer_subject=issuer_subject,
                anchor_subject=anchor.subject.rfc4514_string(),
                anchor_sha256=fingerprint,
                entitlement=entitlement,
                trust_list=list_name,
            ),
            display_name(verified.leaf),
        )
