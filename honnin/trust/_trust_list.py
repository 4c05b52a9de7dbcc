"""The honnin trust list: who is trusted, and who may issue what (spec/PROFILE.md "Trust list",
spec/trust-list.schema.json).

A trust list names issuer trust anchors, per issuer the credential types it is entitled to
issue (SD-JWT VC §7.7: a type is no evidence of authorization, so entitlement is checked
separately), verifier access anchors, registrar anchors (for signed verifier registrations)
and claims that are never shared except with verifiers registered for them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509

from honnin.credential_types import load_catalogue
from honnin.encoding import json_loads
from honnin.errors import IssuerNotEntitled, MalformedInput, TooLarge

from ._certificates import certificate_sha256, certificates_to_pem, load_certificates, san_uris
from ._chain import VerifiedChain, validate_chain

if TYPE_CHECKING:
    from ._pki import TestPki

__all__ = [
    "DEFAULT_RESTRICTED_CLAIMS",
    "ClaimPath",
    "IssuerEntry",
    "RestrictedClaim",
    "TrustList",
    "TrustedParty",
]

ClaimPath = tuple[str | int | None, ...]

TRUST_LIST_VERSION: Final = 1
_MAX_TRUST_LIST: Final = 4 * 1024 * 1024
_TOP: Final = frozenset(
    {
        "$schema",
        "version",
        "name",
        "anchors",
        "issuers",
        "verifier_anchors",
        "registrars",
        "restricted_claims",
    }
)
_ISSUER: Final = frozenset({"name", "certificate_sha256", "subject", "iss", "credential_types"})
_PARTY: Final = frozenset({"name", "certificate"})
_RESTRICTED: Final = frozenset({"path", "credential_types", "reason"})


def _fail(where: str, what: str) -> MalformedInput:
    return MalformedInput(f"trust list {where}: {what}", field=where)


def _strings(value: Any, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, "must be an array of non-empty strings")
    if not value and not allow_empty:
        raise _fail(where, "must not be empty")
    return tuple(value)


def _object(value: Any, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(where, f"unknown member(s) {', '.join(unknown)}")
    return value


@dataclass(frozen=True, slots=True)
class TrustedParty:
    """A named certificate: an issuer anchor, a verifier anchor or a registrar."""

    name: str
    certificate: x509.Certificate


@dataclass(frozen=True, slots=True)
class IssuerEntry:
    """An issuer (or an issuing CA) and the credential types it may issue.

    It matches a certificate of a validated path by SHA-256 fingerprint of the DER, by exact
    subject name, or by ``iss`` URL (a uniformResourceIdentifier SAN equal to it); any one
    matching identifier suffices. Fingerprints are the strongest binding.
    """

    name: str
    credential_types: tuple[str, ...]
    certificate_sha256: tuple[str, ...] = ()
    subject: x509.Name | None = None
    iss: tuple[str, ...] = ()

    def matches(self, cert: x509.Certificate, fingerprint: str) -> bool:
        """Whether ``cert`` (with its precomputed fingerprint) is this issuer."""
        if fingerprint in self.certificate_sha256:
            return True
        if self.subject is not None and cert.subject == self.subject:
            return True
        return bool(self.iss) and any(uri in self.iss for uri in san_uris(cert))


@dataclass(frozen=True, slots=True)
class RestrictedClaim:
    """A claim never shared except with verifiers registered for it (e.g. ``my_number``)."""

    path: ClaimPath
    credential_types: tuple[str, ...]  # empty: every credential type
    reason: str


def _parties(value: Any, where: str) -> tuple[TrustedParty, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(where, "must be an array")
    out = []
    for i, item in enumerate(value):
        entry = _object(item, f"{where}[{i}]", _PARTY)
        name, pem = entry.get("name"), entry.get("certificate")
        if not isinstance(name, str) or not isinstance(pem, str):
            raise _fail(f"{where}[{i}]", "needs string members name and certificate (PEM)")
        for cert in load_certificates(pem.encode("ascii", "replace")):
            out.append(TrustedParty(name, cert))
    return tuple(out)


def _issuer(item: Any, where: str) -> IssuerEntry:
    entry = _object(item, where, _ISSUER)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(where, "name must be a non-empty string")
    types = _strings(entry.get("credential_types"), f"{where}.credential_types")
    prints = _strings(
        entry.get("certificate_sha256", []), f"{where}.certificate_sha256", allow_empty=True
    )
    if any(len(p) != 64 or p.strip("0123456789abcdef") for p in prints):
        raise _fail(f"{where}.certificate_sha256", "fingerprints are 64 lowercase hex digits")
    subject = None
    if "subject" in entry:
        if not isinstance(entry["subject"], str):
            raise _fail(f"{where}.subject", "must be an RFC 4514 string")
        try:
            subject = x509.Name.from_rfc4514_string(entry["subject"])
        except ValueError as exc:
            raise _fail(f"{where}.subject", f"not an RFC 4514 name: {exc}") from exc
    iss = _strings(entry.get("iss", []), f"{where}.iss", allow_empty=True)
    if not prints and subject is None and not iss:
        raise _fail(where, "needs at least one of certificate_sha256, subject, iss")
    return IssuerEntry(name, types, prints, subject, iss)


def _restricted(item: Any, where: str) -> RestrictedClaim:
    entry = _object(item, where, _RESTRICTED)
    path = entry.get("path")
    if (
        not isinstance(path, list)
        or not path
        or not all(p is None or isinstance(p, str) or (type(p) is int and p >= 0) for p in path)
    ):
        raise _fail(f"{where}.path", "must be a non-empty claims path (strings, indices, null)")
    types = _strings(
        entry.get("credential_types", []), f"{where}.credential_types", allow_empty=True
    )
    reason = entry.get("reason", "")
    if not isinstance(reason, str):
        raise _fail(f"{where}.reason", "must be a string")
    return RestrictedClaim(tuple(path), types, reason)


@lru_cache(maxsize=256)
def catalogue_type_keys(credential_type: str) -> frozenset[str]:
    """Every name of ``credential_type`` in the catalogue (id, vct, docType), so a trust list
    entry written with any of them matches a credential presented with any other."""
    found = load_catalogue().find(credential_type)
    if found is None:
        return frozenset({credential_type})
    return frozenset({found.id, found.vct, found.doctype})


class TrustList:
    """A loaded trust list. Build with ``TrustList.load``; immutable afterwards.

    Example::

        trust = TrustList.load("trust-list.json")
        verified = trust.validate_issuer(chain, "withholding-slip", at=now)
    """

    def __init__(
        self,
        *,
        name: str,
        anchors: Sequence[TrustedParty],
        issuers: Sequence[IssuerEntry],
        verifier_anchors: Sequence[TrustedParty] = (),
        registrars: Sequence[TrustedParty] = (),
        restricted: Sequence[RestrictedClaim] = (),
        type_keys: Callable[[str], frozenset[str]] = catalogue_type_keys,
    ) -> None:
        self.name = name
        self.anchor_parties = tuple(anchors)
        self.issuers = tuple(issuers)
        self.verifier_parties = tuple(verifier_anchors)
        self.registrar_parties = tuple(registrars)
        self.restricted = tuple(restricted)
        self._type_keys = type_keys
        # Certificate tuples are built once so validate_chain's identity cache hits.
        self.anchors: tuple[x509.Certificate, ...] = tuple(p.certificate for p in anchors)
        self.verifier_anchors = tuple(p.certificate for p in verifier_anchors)
        self.registrar_anchors = tuple(p.certificate for p in registrars)
        self._entitled: list[tuple[IssuerEntry, frozenset[str]]] = [
            (e, frozenset().union(*(type_keys(t) for t in e.credential_types)))
            for e in self.issuers
        ]
        self._lock = threading.Lock()
        self._decisions: dict[int, tuple[VerifiedChain, frozenset[str]]] = {}

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any] | bytes) -> TrustList:
        """Load a trust list from a file path, JSON bytes or an already parsed document.

        Raises:
            MalformedInput: the document breaks spec/trust-list.schema.json.
            TooLarge: the file is larger than 4 MiB.
        """
        if isinstance(source, Mapping):
            document: Any = dict(source)
        else:
            raw = source if isinstance(source, bytes) else Path(source).read_bytes()
            if len(raw) > _MAX_TRUST_LIST:
                raise TooLarge(f"trust list of {len(raw)} bytes", limit=_MAX_TRUST_LIST)
            document = json_loads(raw)
        doc = _object(document, "document", _TOP)
        if doc.get("version") != TRUST_LIST_VERSION:
            raise _fail("version", f"must be {TRUST_LIST_VERSION}")
        name = doc.get("name", "")
        if not isinstance(name, str):
            raise _fail("name", "must be a string")
        issuers_raw = doc.get("issuers", [])
        restricted_raw = doc.get("restricted_claims", [])
        if not isinstance(issuers_raw, list) or not isinstance(restricted_raw, list):
            raise _fail("issuers/restricted_claims", "must be arrays")
        return cls(
            name=name,
            anchors=_parties(doc.get("anchors"), "anchors"),
            issuers=[_issuer(e, f"issuers[{i}]") for i, e in enumerate(issuers_raw)],
            verifier_anchors=_parties(doc.get("verifier_anchors"), "verifier_anchors"),
            registrars=_parties(doc.get("registrars"), "registrars"),
            restricted=[
                _restricted(e, f"restricted_claims[{i}]") for i, e in enumerate(restricted_raw)
            ],
        )

    # -- entitlement ------------------------------------------------------------------------

    def entitled_types(self, chain: VerifiedChain) -> frozenset[str]:
        """Every credential type name (as written in the trust list, plus its catalogue
        aliases) that some certificate of ``chain.path`` is entitled to issue."""
        with self._lock:
            hit = self._decisions.get(id(chain))
        if hit is not None and hit[0] is chain:
            return hit[1]
        types: set[str] = set()
        for cert in chain.path:
            fingerprint = certificate_sha256(cert)
            for entry, keys in self._entitled:
                if entry.matches(cert, fingerprint):
                    types |= keys
                    types.update(entry.credential_types)
        result = frozenset(types)
        with self._lock:
            if len(self._decisions) >= 1024:
                self._decisions.clear()
            self._decisions[id(chain)] = (chain, result)
        return result

    def check_entitlement(self, chain: VerifiedChain, credential_type: str) -> None:
        """Check that the issuer of ``chain`` may issue ``credential_type`` (a catalogue id,
        ``vct`` or mdoc docType; SD-JWT VC §7.7: the type itself proves nothing).

        Raises:
            IssuerNotEntitled: no certificate of the path has an entry allowing the type.
        """
        allowed = self.entitled_types(chain)
        if allowed.isdisjoint(self._type_keys(credential_type)):
            raise IssuerNotEntitled(
                f"{chain.leaf.subject.rfc4514_string()} is not entitled to issue"
                f" {credential_type!r} by trust list {self.name!r}",
                credential_type=credential_type,
                issuer=chain.leaf.subject.rfc4514_string(),
            )

    def validate_issuer(
        self,
        chain: Sequence[x509.Certificate],
        credential_type: str,
        *,
        at: datetime,
        required_eku: x509.ObjectIdentifier | None = None,
    ) -> VerifiedChain:
        """``validate_chain`` to this list's issuer anchors, then ``check_entitlement``.

        Raises:
            The errors of ``validate_chain`` and ``check_entitlement``.
        """
        verified = validate_chain(chain, self.anchors, at=at, required_eku=required_eku)
        self.check_entitlement(verified, credential_type)
        return verified

    def restricted_claims(self, credential_type: str) -> frozenset[ClaimPath]:
        """Claims of ``credential_type`` never shared except with registered verifiers."""
        keys = self._type_keys(credential_type)
        out = set()
        for item in self.restricted:
            if not item.credential_types or any(
                not keys.isdisjoint(self._type_keys(t)) for t in item.credential_types
            ):
                out.add(item.path)
        return frozenset(out)

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The trust list as a JSON-ready document (spec/trust-list.schema.json)."""

        def parties(items: Sequence[TrustedParty]) -> list[dict[str, str]]:
            return [
                {"name": p.name, "certificate": certificates_to_pem([p.certificate])} for p in items
            ]

        issuers = []
        for e in self.issuers:
            item: dict[str, Any] = {"name": e.name}
            if e.certificate_sha256:
                item["certificate_sha256"] = list(e.certificate_sha256)
            if e.subject is not None:
                item["subject"] = e.subject.rfc4514_string()
            if e.iss:
                item["iss"] = list(e.iss)
            item["credential_types"] = list(e.credential_types)
            issuers.append(item)
        restricted = []
        for r in self.restricted:
            entry: dict[str, Any] = {"path": list(r.path)}
            if r.credential_types:
                entry["credential_types"] = list(r.credential_types)
            if r.reason:
                entry["reason"] = r.reason
            restricted.append(entry)
        return {
            "version": TRUST_LIST_VERSION,
            "name": self.name,
            "anchors": parties(self.anchor_parties),
            "issuers": issuers,
            "verifier_anchors": parties(self.verifier_parties),
            "registrars": parties(self.registrar_parties),
            "restricted_claims": restricted,
        }

    def to_json(self) -> str:
        """The trust list as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def __repr__(self) -> str:
        return (
            f"TrustList(name={self.name!r}, anchors={len(self.anchors)},"
            f" issuers={len(self.issuers)})"
        )


#: The My Number and the resident record code: the My Number Act (番号法) §19 limits their
#: provision to statutory procedures, so only verifiers registered for them receive them.
DEFAULT_RESTRICTED_CLAIMS: Final = (
    {"path": ["my_number"], "reason": "My Number Act §19: statutory procedures only"},
    {"path": ["resident_code"], "reason": "Basic Resident Registers Act §30-42: limited use"},
)


def document_for_pki(pki: TestPki, entitlements: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The trust list document for a test PKI (see ``TestPki.trust_list_document``)."""
    pem = certificates_to_pem
    issuers = []
    for name, key in pki.issuers.items():
        types = list(entitlements.get(name, ()))
        if not types:
            continue
        issuers.append(
            {
                "name": name,
                "certificate_sha256": [certificate_sha256(key.certificate)],
                "iss": [pki.issuer_urls[name]],
                "credential_types": types,
            }
        )
    return {
        "version": TRUST_LIST_VERSION,
        "name": "honnin test trust framework",
        "anchors": [{"name": pki.root.name, "certificate": pem([pki.root.certificate])}],
        "issuers": issuers,
        "verifier_anchors": [
            {"name": pki.access_ca.name, "certificate": pem([pki.access_ca.certificate])}
        ],
        "registrars": [
            {"name": pki.registrar.name, "certificate": pem([pki.registrar.certificate])}
        ],
        "restricted_claims": [dict(r) for r in DEFAULT_RESTRICTED_CLAIMS],
    }
