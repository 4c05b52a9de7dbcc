"""Issuer key resolution for SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §2.5, §4).

RFC 9901 §7.1 step 2.c asks the verifier to check that the key belongs to the issuer; SD-JWT
VC says that is done by a key discovery mechanism the verifier's policy permits for that
issuer, never one the token picks (§2.5, §7.3). The policies here: an ``x5c`` chain to
configured trust anchors, JWT VC Issuer Metadata fetched through the ``Fetcher`` port, and
a key pinned by configuration. ``IssuerKeysByIssuer`` assigns one policy per issuer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.encoding import json_loads
from honnin.errors import HonninError, InvalidClaim, UnsupportedAlgorithm, UntrustedIssuer
from honnin.jose import PublicKey, public_key_from_jwk
from honnin.ports import Fetcher
from honnin.trust import (
    VerifiedChain,
    certificates_from_x5c,
    check_issuer_identifier,
    validate_chain,
)

#: draft-ietf-oauth-sd-jwt-vc §4.1: the well-known path segment of JWT VC Issuer Metadata.
WELL_KNOWN_JWT_VC_ISSUER = "/.well-known/jwt-vc-issuer"
#: HOSTILE-CASES §8: metadata and JWKS documents are at most 256 KiB.
MAX_METADATA_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class JwtVcIssuerMetadata:
    """JWT VC Issuer Metadata (§4.2): the ``issuer`` and its keys (``jwks`` or ``jwks_uri``)."""

    issuer: str
    keys: tuple[Mapping[str, Any], ...]
    jwks_uri: str | None = None


@dataclass(frozen=True, slots=True)
class IssuerKeyResolution:
    """How the issuer's key was established: by ``x5c`` chain, metadata or a pinned key.

    ``issuer`` is ``iss``, or the leaf certificate's subject for an ``x5c`` credential
    without ``iss`` (§2.2.2: ``iss`` is optional when the leaf names the issuer).
    """

    key: PublicKey
    issuer: str
    mechanism: str
    chain: VerifiedChain | None = None
    metadata: JwtVcIssuerMetadata | None = None


@runtime_checkable
class IssuerKeyPolicy(Protocol):
    """A permitted key discovery mechanism (§2.5): finds the issuer key or raises."""

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        """The issuer key for an unverified header and payload, at POSIX time ``at``.

        Raises:
            UntrustedIssuer / FetchError / Expired / NotYetValid / InvalidClaim.
        """
        ...


def _usable(key: object) -> PublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise UnsupportedAlgorithm("the issuer key is neither EC nor Ed25519")
    return key


def _iss(payload: Mapping[str, Any]) -> str | None:
    iss = payload.get("iss")
    if iss is not None and (not isinstance(iss, str) or not iss):
        raise InvalidClaim("'iss' must be a non-empty string (RFC 7519 §4.1.1)", claim="iss")
    return iss


class X5cIssuerKeys:
    """The leaf key of the header's ``x5c`` chain, validated to ``anchors`` (§2.5), with
    ``iss`` matching the leaf's URI SAN, or the host of an https ``iss`` its DNS SAN."""

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        *,
        required_eku: x509.ObjectIdentifier | None = None,
    ) -> None:
        self.anchors = tuple(anchors)
        self.required_eku = required_eku

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        if "x5c" not in header:
            raise UntrustedIssuer("the credential carries no 'x5c' chain", reason="no_x5c")
        chain = certificates_from_x5c(header["x5c"])
        verified = validate_chain(
            chain,
            self.anchors,
            at=datetime.fromtimestamp(at, tz=UTC),
            required_eku=self.required_eku,
        )
        iss = _iss(payload)
        if iss is None:
            issuer = verified.leaf.subject.rfc4514_string()
        else:
            check_issuer_identifier(verified, iss)
            issuer = iss
        return IssuerKeyResolution(_usable(verified.public_key), issuer, "x5c", chain=verified)


def metadata_url(iss: str) -> str:
    """Where JWT VC Issuer Metadata for ``iss`` lives (§4.1): the well-known segment goes
    between the host and the path, and a trailing ``/`` of the path is dropped.

    >>> metadata_url("https://example.com/tenant/1234")
    'https://example.com/.well-known/jwt-vc-issuer/tenant/1234'

    Raises:
        UntrustedIssuer: ``iss`` is not an https URL without query and fragment.
    """
    parts = urlsplit(iss)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise UntrustedIssuer(
            "metadata needs an https 'iss' without query or fragment (§4.1)",
            iss=iss,
            reason="iss_not_https",
        )
    return f"https://{parts.netloc}{WELL_KNOWN_JWT_VC_ISSUER}{parts.path.rstrip('/')}"


def _metadata_error(message: str, iss: str) -> UntrustedIssuer:
    return UntrustedIssuer(message, iss=iss, reason="metadata")


class IssuerMetadataKeys:
    """Issuer keys from JWT VC Issuer Metadata (§4), fetched through ``fetcher`` and kept
    for ``cache_seconds``. ``issuers``, when given, lists the only ``iss`` values believed."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        issuers: Collection[str] | None = None,
        cache_seconds: float = 300.0,
    ) -> None:
        self.fetcher = fetcher
        self.issuers = None if issuers is None else frozenset(issuers)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, JwtVcIssuerMetadata]] = {}

    def metadata(self, iss: str, at: float) -> JwtVcIssuerMetadata:
        """The metadata of ``iss`` (cached until ``cache_seconds`` after the fetch).

        Raises:
            FetchError: the metadata or JWKS could not be fetched.
            UntrustedIssuer: malformed metadata, or its ``issuer`` is not ``iss``.
        """
        cached = self._cache.get(iss)
        if cached is not None and at < cached[0]:
            return cached[1]
        document = self._fetch_json(metadata_url(iss), iss)
        if document.get("issuer") != iss:
            # §4.3: the metadata's issuer must equal iss exactly, or the metadata is discarded.
            raise UntrustedIssuer(
                "the metadata 'issuer' is not the credential's 'iss'",
                iss=iss,
                reason="metadata_issuer",
            )
        has_jwks, has_uri = "jwks" in document, "jwks_uri" in document
        if has_jwks == has_uri:
            raise _metadata_error("metadata needs exactly one of 'jwks' and 'jwks_uri'", iss)
        jwks_uri = document.get("jwks_uri")
        if has_uri:
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                raise _metadata_error("'jwks_uri' must be an https URL", iss)
            jwks = self._fetch_json(jwks_uri, iss)
        else:
            jwks = document["jwks"]
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise _metadata_error("the issuer JWKS has no 'keys' array of objects", iss)
        found = JwtVcIssuerMetadata(iss, tuple(keys), jwks_uri if has_uri else None)
        self._cache[iss] = (at + self.cache_seconds, found)
        return found

    def _fetch_json(self, url: str, iss: str) -> dict[str, Any]:
        resource = self.fetcher.fetch(url, accept="application/json", max_bytes=MAX_METADATA_BYTES)
        try:
            document = json_loads(resource.body, max_size=MAX_METADATA_BYTES)
        except HonninError as exc:
            raise _metadata_error(f"{url} is not JSON: {exc.message}", iss) from exc
        if not isinstance(document, dict):
            raise _metadata_error(f"{url} is not a JSON object", iss)
        return document

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        iss = _iss(payload)
        if iss is None:
            raise UntrustedIssuer("issuer metadata needs 'iss' in the credential", reason="no_iss")
        if self.issuers is not None and iss not in self.issuers:
            raise UntrustedIssuer(f"issuer {iss!r} is not trusted", iss=iss, reason="not_listed")
        metadata = self.metadata(iss, at)
        kid = header.get("kid")
        candidates = [k for k in metadata.keys if kid is None or k.get("kid") == kid]
        if len(candidates) != 1:
            # §4.2: a kid selects the key; without one the key set must hold a single key.
            raise _metadata_error(f"no single issuer key for kid {kid!r} in the metadata JWKS", iss)
        jwk = candidates[0]
        if "d" in jwk:
            raise _metadata_error("the issuer JWKS publishes private key material", iss)
        try:
            key = public_key_from_jwk(jwk)
        except HonninError as exc:
            raise _metadata_error(f"unusable issuer key: {exc.message}", iss) from exc
        return IssuerKeyResolution(key, iss, "metadata", metadata=metadata)


class PinnedIssuerKey:
    """One issuer key fixed by configuration; with ``issuer``, ``iss`` must equal it."""

    def __init__(self, key: PublicKey, *, issuer: str | None = None) -> None:
        self.key = _usable(key)
        self.issuer = issuer

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        iss = _iss(payload)
        if self.issuer is not None and iss != self.issuer:
            raise UntrustedIssuer(
                f"iss {iss!r} is not the pinned issuer", iss=str(iss), reason="iss_mismatch"
            )
        return IssuerKeyResolution(self.key, iss or self.issuer or "", "pinned")


class IssuerKeysByIssuer:
    """One key discovery policy per ``iss`` (§7.3: the token never picks the mechanism)."""

    def __init__(self, policies: Mapping[str, IssuerKeyPolicy]) -> None:
        self.policies = dict(policies)

    def resolve(
        self, header: Mapping[str, Any], payload: Mapping[str, Any], at: float
    ) -> IssuerKeyResolution:
        iss = _iss(payload)
        policy = None if iss is None else self.policies.get(iss)
        if policy is None:
            raise UntrustedIssuer(f"no key policy for issuer {iss!r}", reason="not_listed")
        return policy.resolve(header, payload, at)
