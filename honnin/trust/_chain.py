"""X.509 certification path validation to configured trust anchors (RFC 5280 §6, simplified).

The ecosystems honnin serves (ISO/IEC 18013-5 Annex B IACA -> document signer, SD-JWT VC
``x5c`` per HAIP, OpenID4VP ``x509_san_dns`` access certificates) are not the Web PKI, so
``cryptography.x509.verification`` with its Web PKI profile rejects legitimate chains (for
example the Annex D document signer has a critical, non-TLS extended key usage). This is a
small explicit validation instead:

* every certificate is signed by the next one (or by an anchor), with an allowed algorithm;
* the path ends at a configured anchor (fail closed: no anchors, no trust);
* every issuing certificate is a CA (basicConstraints cA, RFC 5280 §4.2.1.9) whose keyUsage,
  when present, has keyCertSign (§4.2.1.3) and whose pathLenConstraint holds;
* the leaf's keyUsage, when present, has digitalSignature; an extended key usage is required
  only when the caller names one;
* no unknown critical extension (§4.2: a certificate with one MUST be rejected);
* every certificate, the anchor included, is within its validity at ``at`` (§6.1.3 (a)(2)).

Successful validations are cached (bounded LRU, ``_CACHE_SIZE`` entries): a verifier sees
thousands of credentials signed under one document signer or issuer certificate. What is
cached does not depend on time (certificate signatures and algorithms, CA flags, key usages,
extended key usage, path length constraints, critical extensions) and is keyed by everything
it depends on: the chain and the anchor set compared by their exact DER (certificate
equality in ``cryptography``; the identity fast path holds the objects, so an id is never
reused while its entry lives), the required extended key usage and the maximum path length.
The validity of every certificate of the path is checked against ``at`` on every call, hit
or miss. Failures are never cached. Issuer entitlement (which doctypes or vcts a trust list
lets the issuer sign) is not part of this validation: ``TrustList.check_entitlement`` decides
it for every credential on the returned ``VerifiedChain``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtensionOID

from honnin.errors import (
    Expired,
    InvalidSignature,
    MalformedInput,
    NotYetValid,
    TooLarge,
    UnsupportedAlgorithm,
    UntrustedIssuer,
    UntrustedVerifier,
)

from ._certificates import MAX_CHAIN_CERTIFICATES, _checked, san_dns_names, san_uris, url_host

__all__ = [
    "DEFAULT_MAX_PATH_LENGTH",
    "VerifiedChain",
    "check_dns_identifier",
    "check_issuer_identifier",
    "validate_chain",
]

#: Certificates in a validated path, leaf and anchor included (root -> CA -> issuer -> leaf).
DEFAULT_MAX_PATH_LENGTH: Final = 4

# RFC 5280 §4.2: extensions this validation understands; any other critical one is fatal.
_UNDERSTOOD: Final = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
)
# Below 128-bit security; cryptography still parses (and verifies) these.
_WEAK_HASHES: Final = frozenset({"md5", "sha1", "sha224"})
_CACHE_SIZE: Final = 1024


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """A certification path that validated to a trust anchor.

    ``path`` runs from the leaf to the anchor, both included (a pinned leaf that is itself
    an anchor gives a path of one). Only ``validate_chain`` builds these.
    """

    leaf: x509.Certificate
    anchor: x509.Certificate
    path: tuple[x509.Certificate, ...]

    @property
    def public_key(self) -> CertificatePublicKeyTypes:
        """The leaf's public key: the key that signs the credential or request."""
        return self.leaf.public_key()


def _ext(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "<empty subject>"


def _verify_signature(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` signed ``cert``; algorithm problems raise, a bad signature is False."""
    try:
        hash_alg = cert.signature_hash_algorithm
    except _CryptoUnsupportedAlgorithm as exc:
        raise UnsupportedAlgorithm(
            f"certificate {_name(cert)}: unsupported signature algorithm", subject=_name(cert)
        ) from exc
    if hash_alg is not None and hash_alg.name in _WEAK_HASHES:
        raise UnsupportedAlgorithm(
            f"certificate {_name(cert)} is signed with {hash_alg.name}", subject=_name(cert)
        )
    try:
        cert.verify_directly_issued_by(issuer)
    except _CryptoInvalidSignature:
        return False
    except (ValueError, TypeError) as exc:
        # Name mismatch was excluded by the caller; what remains is an algorithm or key type
        # cryptography cannot use for this signature.
        raise UnsupportedAlgorithm(
            f"certificate {_name(cert)}: cannot verify its signature: {exc}", subject=_name(cert)
        ) from exc
    return True


def _check_extensions(
    path: Sequence[x509.Certificate], required_eku: x509.ObjectIdentifier | None
) -> None:
    for position, cert in enumerate(path):
        for ext in cert.extensions:
            if ext.critical and ext.oid not in _UNDERSTOOD:
                raise UntrustedIssuer(
                    f"certificate {_name(cert)} has an unknown critical extension "
                    f"{ext.oid.dotted_string} (RFC 5280 §4.2)",
                    subject=_name(cert),
                    reason="critical_extension",
                )
        usage = _ext(cert, x509.KeyUsage)
        if position == 0:
            # RFC 5280 §4.2.1.3: a leaf that restricts its key must allow signatures.
            if isinstance(usage, x509.KeyUsage) and not usage.digital_signature:
                raise UntrustedIssuer(
                    f"leaf certificate {_name(cert)} lacks keyUsage digitalSignature",
                    subject=_name(cert),
                    reason="key_usage",
                )
            if required_eku is not None:
                eku = _ext(cert, x509.ExtendedKeyUsage)
                if not isinstance(eku, x509.ExtendedKeyUsage) or required_eku not in eku:
                    raise UntrustedIssuer(
                        f"leaf certificate {_name(cert)} lacks extended key usage "
                        f"{required_eku.dotted_string}",
                        subject=_name(cert),
                        reason="extended_key_usage",
                    )
            continue
        # RFC 5280 §4.2.1.9 / §6.1.4 (k): only a CA may issue certificates.
        constraints = _ext(cert, x509.BasicConstraints)
        if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
            raise UntrustedIssuer(
                f"certificate {_name(cert)} issued another certificate but is not a CA",
                subject=_name(cert),
                reason="not_a_ca",
            )
        if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
            raise UntrustedIssuer(
                f"CA certificate {_name(cert)} lacks keyUsage keyCertSign (RFC 5280 §4.2.1.3)",
                subject=_name(cert),
                reason="key_usage",
            )
        # §4.2.1.9: pathLenConstraint counts the intermediate CAs below this one.
        below = position - 1
        if constraints.path_length is not None and below > constraints.path_length:
            raise UntrustedIssuer(
                f"CA certificate {_name(cert)} allows {constraints.path_length} CA(s) below it,"
                f" the path has {below}",
                subject=_name(cert),
                reason="path_length",
            )


class _AnchorIndex:
    """Anchors by DER (for 'anchor included / pinned') and by subject (for issuer lookup)."""

    __slots__ = ("by_subject", "members")

    def __init__(self, anchors: Sequence[x509.Certificate]) -> None:
        self.members = frozenset(anchors)
        self.by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for anchor in anchors:
            self.by_subject.setdefault(anchor.subject, []).append(anchor)


def _build_path(
    chain: Sequence[x509.Certificate],
    index: _AnchorIndex,
    required_eku: x509.ObjectIdentifier | None,
    max_path_length: int,
) -> VerifiedChain:
    path = [chain[0]]
    position = 0
    while True:
        current = path[-1]
        if current in index.members:
            # The anchor itself is in the chain, or the leaf is pinned as an anchor.
            anchor = current
            break
        bad_signature = False
        anchor_found = None
        for candidate in index.by_subject.get(current.issuer, ()):
            if _verify_signature(current, candidate):
                anchor_found = candidate
                break
            bad_signature = True
        if anchor_found is not None:
            anchor = anchor_found
            path.append(anchor)
            break
        position += 1
        if position >= len(chain):
            if bad_signature:
                raise InvalidSignature(
                    f"certificate {_name(current)}: signature does not verify under the anchor",
                    subject=_name(current),
                )
            raise UntrustedIssuer(
                f"certificate chain does not lead to a trust anchor (last: {_name(current)},"
                f" issued by {current.issuer.rfc4514_string()})",
                subject=_name(current),
                reason="no_anchor",
            )
        issuer = chain[position]
        if issuer.subject != current.issuer:
            raise UntrustedIssuer(
                f"certificate {position} ({_name(issuer)}) did not issue certificate"
                f" {position - 1} ({_name(current)}): chain out of order (RFC 7515 §4.1.6)",
                subject=_name(current),
                reason="chain_order",
            )
        if not _verify_signature(current, issuer):
            raise InvalidSignature(
                f"certificate {_name(current)}: signature does not verify under {_name(issuer)}",
                subject=_name(current),
            )
        path.append(issuer)
        if len(path) > max_path_length:
            break
    if len(path) > max_path_length:
        raise UntrustedIssuer(
            f"certification path longer than {max_path_length} certificates",
            reason="path_length",
        )
    _check_extensions(path, required_eku)
    return VerifiedChain(leaf=chain[0], anchor=anchor, path=tuple(path))


def _check_validity(verified: VerifiedChain, at: datetime) -> None:
    for cert in verified.path:
        if at < cert.not_valid_before_utc:
            raise NotYetValid(
                f"certificate {_name(cert)} is valid from {cert.not_valid_before_utc.isoformat()}",
                subject=_name(cert),
                not_before=cert.not_valid_before_utc.isoformat(),
            )
        if at > cert.not_valid_after_utc:
            raise Expired(
                f"certificate {_name(cert)} expired at {cert.not_valid_after_utc.isoformat()}",
                subject=_name(cert),
                not_after=cert.not_valid_after_utc.isoformat(),
            )


_Key = tuple[tuple[int, ...], tuple[int, ...], str | None, int]


@dataclass(frozen=True, slots=True)
class _Entry:
    objects: tuple[x509.Certificate, ...]
    verified: VerifiedChain
    # The intersection of the validity periods of the path, so the hot path compares twice.
    valid_from: datetime
    valid_until: datetime


_lock = threading.Lock()
# Keyed by object identity: the entry holds the objects, so an id cannot be reused while the
# entry lives; `certificates_from_x5c` returns the same objects for the same x5c, so the
# verifier's hot path hits this without hashing any DER.
_by_identity: OrderedDict[_Key, _Entry] = OrderedDict()
# Keyed by the certificates themselves (equality is DER equality): new objects, same bytes.
_by_value: OrderedDict[tuple[object, ...], VerifiedChain] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: object, value: object) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def _entry(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    required_eku: x509.ObjectIdentifier | None,
    max_path_length: int,
) -> _Entry:
    eku = None if required_eku is None else required_eku.dotted_string
    objects = (*chain, *anchors)
    value_key = (*objects, eku, max_path_length, len(chain))
    with _lock:
        verified = _by_value.get(value_key)
    if verified is None:
        for cert in objects:
            _checked(cert)
        verified = _build_path(chain, _AnchorIndex(anchors), required_eku, max_path_length)
        with _lock:
            _remember(_by_value, value_key, verified)
    return _Entry(
        objects,
        verified,
        max(c.not_valid_before_utc for c in verified.path),
        min(c.not_valid_after_utc for c in verified.path),
    )


def forget_validations() -> None:
    """Empty the cache of successful validations (for benchmarks of a cold start and tests)."""
    with _lock:
        _by_identity.clear()
        _by_value.clear()


def validate_chain(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    at: datetime,
    required_eku: x509.ObjectIdentifier | None = None,
    max_path_length: int = DEFAULT_MAX_PATH_LENGTH,
) -> VerifiedChain:
    """Validate ``chain`` (leaf first, then intermediates; the anchor may be included)
    to one of ``anchors`` at the instant ``at`` (RFC 5280 §6 as profiled in this module).

    A leaf that is itself one of ``anchors`` is trusted directly (pinning); a self-signed
    leaf that is not an anchor is untrusted like any other.

    Example::

        verified = validate_chain(certificates_from_x5c(header["x5c"]), trust.anchors, at=now)
        key = verified.public_key

    Raises:
        UntrustedIssuer: no path to an anchor (or no anchors), a non-CA issuer, a key usage,
            extended key usage, path length or critical extension violation.
        InvalidSignature: a certificate signature does not verify.
        Expired / NotYetValid: a certificate of the path is outside its validity at ``at``.
        UnsupportedAlgorithm: a weak or unknown certificate signature algorithm.
        MalformedInput / TooLarge: an empty, over-long or malformed chain.
    """
    if at.tzinfo is None:
        raise TypeError("validate_chain needs an aware datetime for `at`")
    if not chain:
        raise MalformedInput("empty certificate chain")
    if len(chain) > MAX_CHAIN_CERTIFICATES:
        raise TooLarge(
            f"chain of {len(chain)} certificates exceeds {MAX_CHAIN_CERTIFICATES}",
            limit=MAX_CHAIN_CERTIFICATES,
        )
    if not anchors:
        # Fail closed (HOSTILE-CASES VS-20): an empty trust configuration trusts nothing.
        raise UntrustedIssuer("no trust anchors configured", reason="no_anchors")
    id_key: _Key = (
        tuple(map(id, chain)),
        tuple(map(id, anchors)),
        None if required_eku is None else required_eku.dotted_string,
        max_path_length,
    )
    with _lock:
        entry = _by_identity.get(id_key)
    if entry is None or not all(
        a is b for a, b in zip(entry.objects, (*chain, *anchors), strict=True)
    ):
        entry = _entry(chain, anchors, required_eku, max_path_length)
        with _lock:
            _remember(_by_identity, id_key, entry)
    if not entry.valid_from <= at <= entry.valid_until:
        _check_validity(entry.verified, at)
    return entry.verified


def check_issuer_identifier(verified: VerifiedChain, iss: str) -> None:
    """Check that the leaf certificate names the credential issuer ``iss``.

    SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §2.5, x5c key resolution) binds ``iss`` to the
    leaf: a uniformResourceIdentifier SAN equal to ``iss``, or, for an https ``iss``, a
    dNSName SAN equal to its host.

    Raises:
        UntrustedIssuer: the leaf does not name ``iss``.
    """
    leaf = verified.leaf
    if iss in san_uris(leaf):
        return
    host = url_host(iss)
    if host is not None and host in san_dns_names(leaf):
        return
    raise UntrustedIssuer(
        f"iss {iss!r} does not match the subject alternative names of {_name(leaf)}",
        iss=iss,
        reason="iss_mismatch",
    )


def check_dns_identifier(verified: VerifiedChain, dns_name: str) -> None:
    """Check that the leaf has the dNSName SAN ``dns_name`` (OpenID4VP 1.0 §5.9.3
    ``x509_san_dns``).

    Raises:
        UntrustedVerifier: no such dNSName SAN.
    """
    if dns_name.lower() not in san_dns_names(verified.leaf):
        raise UntrustedVerifier(
            f"{dns_name!r} is not a dNSName of {_name(verified.leaf)}",
            client_id=dns_name,
            reason="san_dns_mismatch",
        )
