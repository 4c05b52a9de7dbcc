"""mdoc verification (ISO/IEC 18013-5 §9.3): issuer data authentication and mdoc
authentication, returning typed results with the verified elements per namespace.

Order of checks: the issuer chain to a trust anchor, the MSO signature by the document
signer, the MSO (version, digest algorithm, docType, validity against the clock), every
presented item's digest over its received tag-24 bytes (hashed *before* the item is
decoded), then the device signature or MAC with the MSO device key over the verifier's
own SessionTranscript. Any failure raises; nothing of a failed document is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin import cbor
from honnin.clock import Clock, SystemClock
from honnin.cose import DEFAULT_ALLOWED, CoseAlgorithm, certificates_of, public_key_from_cose_key
from honnin.cose import verify_sign1 as _verify_sign1
from honnin.errors import (
    DigestMismatch,
    Expired,
    InvalidClaim,
    MalformedCredential,
    NotYetValid,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import PublicKey
from honnin.status import StatusReference
from honnin.trust import VerifiedChain, validate_chain

from ._constants import (
    CLOCK_SKEW,
    DEFAULT_DIGEST_ALGORITHMS,
    DIGEST_ALGORITHMS,
    MAX_DEVICE_RESPONSE_SIZE,
    MAX_DOCUMENTS,
    STATUS_OK,
    VERSION,
)
from ._device_auth import verify_device_signed
from ._issuer_signed import IssuerSigned, ensure_issuer_signed, issuer_signed_from_cbor_value
from ._mso import MobileSecurityObject, ValidityInfo, decode_mso, item_fields
from ._transcript import SessionTranscript


@dataclass(frozen=True, slots=True)
class VerifiedIssuerSigned:
    """Issuer-authenticated mdoc data (§9.3.1): the chain, the MSO facts and the elements
    whose digests matched. Not yet bound to a holder (see ``VerifiedMdoc``)."""

    doctype: str
    elements: Mapping[str, Mapping[str, Any]] = field(repr=False)
    chain: VerifiedChain = field(repr=False)
    validity: ValidityInfo
    status: StatusReference | None
    device_key: PublicKey = field(repr=False)
    digest_algorithm: str
    issuer_algorithm: CoseAlgorithm


@dataclass(frozen=True, slots=True)
class VerifiedMdoc:
    """A Document whose issuer data and device authentication both verified (§9.3).

    ``elements`` is {namespace: {element identifier: value}}; ``chain`` is the issuer's
    ``VerifiedChain`` (the verifier role checks its entitlement to ``doctype``);
    ``device_auth`` is ``"deviceSignature"`` or ``"deviceMac"``.
    """

    doctype: str
    elements: Mapping[str, Mapping[str, Any]] = field(repr=False)
    chain: VerifiedChain = field(repr=False)
    validity: ValidityInfo
    status: StatusReference | None
    device_key: PublicKey = field(repr=False)
    digest_algorithm: str
    issuer_algorithm: CoseAlgorithm
    device_auth: str


@dataclass(frozen=True, slots=True)
class VerifiedDeviceResponse:
    """A DeviceResponse (§8.3.2.1.2.2) every Document of which verified."""

    version: str
    documents: tuple[VerifiedMdoc, ...]
    document_errors: Mapping[str, int] = field(default_factory=dict)


class _IssuerFacts(NamedTuple):
    """What issuer data authentication established, before it goes into a result type."""

    mso: MobileSecurityObject
    elements: dict[str, dict[str, Any]]
    chain: VerifiedChain
    device_key: PublicKey
    alg: CoseAlgorithm

    def issuer_signed(self) -> VerifiedIssuerSigned:
        return VerifiedIssuerSigned(**self.result_fields())

    def mdoc(self, device_auth: str) -> VerifiedMdoc:
        return VerifiedMdoc(**self.result_fields(), device_auth=device_auth)

    def result_fields(self) -> dict[str, Any]:
        """The members both result types share."""
        mso = self.mso
        return {
            "doctype": mso.doctype,
            "elements": self.elements,
            "chain": self.chain,
            "validity": mso.validity,
            "status": mso.status,
            "device_key": self.device_key,
            "digest_algorithm": mso.digest_algorithm,
            "issuer_algorithm": self.alg,
        }


_SYSTEM_CLOCK: Final = SystemClock()


def _at(clock: Clock | None, now: datetime | float | None) -> datetime:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise TypeError("now must be an aware datetime")
        return now
    seconds = float(now) if now is not None else (clock or _SYSTEM_CLOCK).now()
    return datetime.fromtimestamp(seconds, tz=UTC)


# Document signer keys and validity by certificate identity: ``validate_chain`` hands back
# the same certificate objects for the same chain, so the hot path neither hashes DER nor
# re-parses the key nor rebuilds the validity datetimes. The entry keeps the certificate
# alive, so its id cannot be reused meanwhile.
_LeafFacts = tuple[x509.Certificate, PublicKey, datetime, datetime]
_leaf_facts: dict[int, _LeafFacts] = {}


def forget_document_signers() -> None:
    """Empty the document signer facts (for benchmarks of a cold start and tests)."""
    _leaf_facts.clear()


def _leaf(leaf: x509.Certificate) -> _LeafFacts:
    entry = _leaf_facts.get(id(leaf))
    if entry is not None and entry[0] is leaf:
        return entry
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise UnsupportedAlgorithm("the document signer key is neither EC nor Ed25519")
    if len(_leaf_facts) >= 256:
        _leaf_facts.clear()
    entry = (leaf, key, leaf.not_valid_before_utc, leaf.not_valid_after_utc)
    _leaf_facts[id(leaf)] = entry
    return entry


def _check_validity(
    mso: MobileSecurityObject, leaf: _LeafFacts, at: datetime, skew: timedelta
) -> None:
    validity = mso.validity
    # §9.3.1 step 5 / HOSTILE-CASES M5: the document signer was valid when it signed.
    if validity.signed < leaf[2]:
        raise NotYetValid("the MSO is signed before its document signer became valid")
    if validity.signed > leaf[3]:
        raise Expired("the MSO is signed after its document signer expired")
    # §9.3.1 step 6: validFrom <= now <= validUntil.
    if at + skew < validity.valid_from:
        raise NotYetValid(
            f"the mdoc is valid from {validity.valid_from.isoformat()}",
            valid_from=validity.valid_from.isoformat(),
        )
    if at - skew > validity.valid_until:
        raise Expired(
            f"the mdoc expired at {validity.valid_until.isoformat()}",
            valid_until=validity.valid_until.isoformat(),
        )


def _check_items(
    mso: MobileSecurityObject, namespaces: Mapping[str, Sequence[cbor.EncodedCbor]]
) -> dict[str, dict[str, Any]]:
    hasher = DIGEST_ALGORITHMS[mso.digest_algorithm]
    value_digests = mso.value_digests
    elements: dict[str, dict[str, Any]] = {}
    for ns, items in namespaces.items():
        digests = value_digests.get(ns)
        if digests is None:
            raise DigestMismatch(f"namespace {ns!r} has no digests in the MSO", namespace=ns)
        computed = [hasher(encoded.tagged).digest() for encoded in items]
        # §9.3.1 step 3: hash the received IssuerSignedItemBytes; an item whose digest the
        # issuer did not sign is rejected before its bytes are even decoded.
        if not set(digests.values()).issuperset(computed):
            raise DigestMismatch(
                f"an item in {ns!r} does not match any digest the issuer signed", namespace=ns
            )
        decoded = cbor.decode_authenticated_sequence([encoded.content for encoded in items])
        out: dict[str, Any] = {}
        seen_ids: set[int] = set()
        for value, digest in zip(decoded, computed, strict=True):
            digest_id, name, element = item_fields(value)
            if digests.get(digest_id) != digest:
                raise DigestMismatch(
                    f"{ns}/{name}: digest ID {digest_id} names another digest",
                    namespace=ns,
                    element=name,
                )
            if digest_id in seen_ids or name in out:
                raise MalformedCredential(f"{ns}/{name} is presented twice", namespace=ns)
            seen_ids.add(digest_id)
            out[name] = element
        elements[ns] = out
    return elements


def _verify_issuer(
    mdoc: IssuerSigned,
    *,
    doctype: str | None,
    trust_anchors: Sequence[x509.Certificate],
    at: datetime,
    allowed: frozenset[CoseAlgorithm],
    digest_algorithms: frozenset[str],
    expected_doctype: str | None,
    clock_skew: timedelta,
) -> _IssuerFacts:
    issuer_auth = mdoc.issuer_auth
    # §9.3.1 step 1: the document signer chains to a trusted IACA (HOSTILE-CASES M4).
    chain = validate_chain(certificates_of(issuer_auth), trust_anchors, at=at)
    # §9.3.1 step 2: the MSO signature by the document signer, alg from the allow-list.
    leaf = _leaf(chain.leaf)
    verified = _verify_sign1(issuer_auth, leaf[1], allowed=allowed)
    mso = decode_mso(verified.payload)
    if mso.digest_algorithm not in digest_algorithms or mso.digest_algorithm not in (
        DIGEST_ALGORITHMS
    ):
        raise UnsupportedAlgorithm(
            f"MSO digestAlgorithm {mso.digest_algorithm!r} is not accepted",
            alg=mso.digest_algorithm,
        )
    # §9.3.1 step 4: the MSO docType is the Document's docType (and the requested one).
    if doctype is not None and mso.doctype != doctype:
        raise MalformedCredential(
            f"MSO docType {mso.doctype!r} differs from the Document docType {doctype!r}",
            reason="doctype",
        )
    if expected_doctype is not None and mso.doctype != expected_doctype:
        raise InvalidClaim(
            f"docType {mso.doctype!r} is not the requested {expected_doctype!r}", claim="docType"
        )
    _check_validity(mso, leaf, at, clock_skew)
    elements = _check_items(mso, mdoc.namespaces)
    return _IssuerFacts(
        mso, elements, chain, public_key_from_cose_key(mso.device_key), verified.alg
    )


def verify_issuer_signed(
    issuer_signed: IssuerSigned | bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    clock: Clock | None = None,
    now: datetime | float | None = None,
    allowed: frozenset[CoseAlgorithm] = DEFAULT_ALLOWED,
    digest_algorithms: frozenset[str] = DEFAULT_DIGEST_ALGORITHMS,
    expected_doctype: str | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> VerifiedIssuerSigned:
    """Issuer data authentication of an IssuerSigned (§9.3.1): what a wallet runs on an
    issued mdoc, and the first half of ``verify_device_response``.

    ``now`` (an aware datetime or POSIX seconds) or ``clock`` gives the time (system clock
    when neither is given).

    Raises:
        UntrustedIssuer / InvalidSignature / Expired / NotYetValid: the chain.
        UnsupportedAlgorithm: issuerAuth alg or MSO digest algorithm not allowed.
        InvalidSignature: the MSO signature does not verify.
        MalformedCbor / MalformedCose / MalformedCredential / TooLarge: malformed data.
        InvalidClaim: ``expected_doctype`` differs; a malformed status reference.
        Expired / NotYetValid: validityInfo against the clock.
        DigestMismatch: an item whose digest the MSO does not carry.
    """
    return _verify_issuer(
        ensure_issuer_signed(issuer_signed),
        doctype=None,
        trust_anchors=trust_anchors,
        at=_at(clock, now),
        allowed=allowed,
        digest_algorithms=digest_algorithms,
        expected_doctype=expected_doctype,
        clock_skew=clock_skew,
    ).issuer_signed()


def _documents(value: object, max_documents: int) -> tuple[list[Any], dict[str, int]]:
    if type(value) is not dict:
        raise MalformedCredential("a DeviceResponse is a map")
    version = value.get("version")
    if type(version) is not str or not (version == VERSION or version.startswith("1.")):
        raise MalformedCredential(f"unsupported DeviceResponse version {version!r}")
    status = value.get("status")
    if type(status) is not int or status != STATUS_OK:
        raise MalformedCredential(f"DeviceResponse status is {status!r}, not OK", status=status)
    documents = value.get("documents")
    if type(documents) is not list or not documents:
        raise MalformedCredential("the DeviceResponse carries no documents")
    if len(documents) > max_documents:
        # Each document costs two signature verifications: bound the work one input buys.
        raise TooLarge(
            f"the DeviceResponse carries {len(documents)} documents, over {max_documents}",
            limit=max_documents,
        )
    errors: dict[str, int] = {}
    for entry in value.get("documentErrors") or []:
        if isinstance(entry, dict):
            errors.update({k: v for k, v in entry.items() if isinstance(k, str) and type(v) is int})
    return documents, errors


def verify_device_response(
    data: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    session_transcript: SessionTranscript,
    clock: Clock | None = None,
    now: datetime | float | None = None,
    reader_key: ec.EllipticCurvePrivateKey | None = None,
    allowed: frozenset[CoseAlgorithm] = DEFAULT_ALLOWED,
    device_allowed: frozenset[CoseAlgorithm] | None = None,
    digest_algorithms: frozenset[str] = DEFAULT_DIGEST_ALGORITHMS,
    expected_doctype: str | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
    max_size: int = MAX_DEVICE_RESPONSE_SIZE,
    max_documents: int = MAX_DOCUMENTS,
) -> VerifiedDeviceResponse:
    """Verify a DeviceResponse (§9.3): for every Document the issuer data authentication of
    ``verify_issuer_signed`` and then the mdoc authentication with the MSO device key over
    ``session_transcript`` (build it yourself from your own request, e.g.
    ``openid4vp_session_transcript``: never take it from the wallet).

    ``reader_key`` is the reader's ephemeral private key, needed only for a ``deviceMac``
    (§9.1.3.5). ``allowed`` applies to issuerAuth, ``device_allowed`` (default: the same)
    to deviceSignature. Issuer entitlement (may this issuer issue this doctype) is the
    verifier role's decision, made on ``VerifiedMdoc.chain`` and ``.doctype``.

    Example::

        transcript = openid4vp_session_transcript(client_id, nonce, response_uri)
        result = verify_device_response(raw, trust_anchors=[iaca], session_transcript=transcript)
        given_name = result.documents[0].elements["org.iso.18013.5.1"]["given_name"]

    Raises:
        everything ``verify_issuer_signed`` raises, and
        InvalidKeyBinding: the device signature / MAC does not verify over the expected
            transcript (``reason`` "signature"), or is missing (``reason`` "missing").
        MalformedCredential: DeviceResponse / Document shape, a status other than OK.
        TooLarge: over ``max_size`` bytes or ``max_documents`` documents.
    """
    at = _at(clock, now)
    documents, errors = _documents(cbor.decode(data, max_size=max_size), max_documents)
    results = []
    for document in documents:
        if not isinstance(document, dict) or not {"docType", "issuerSigned", "deviceSigned"} <= set(
            document
        ):
            raise MalformedCredential("a Document has docType, issuerSigned and deviceSigned")
        doctype = document["docType"]
        if not isinstance(doctype, str):
            raise MalformedCredential("Document docType must be a text string")
        facts = _verify_issuer(
            issuer_signed_from_cbor_value(document["issuerSigned"]),
            doctype=doctype,
            trust_anchors=trust_anchors,
            at=at,
            allowed=allowed,
            digest_algorithms=digest_algorithms,
            expected_doctype=expected_doctype,
            clock_skew=clock_skew,
        )
        method = verify_device_signed(
            document["deviceSigned"],
            device_key=facts.device_key,
            doctype=doctype,
            session_transcript=session_transcript,
            reader_key=reader_key,
            allowed=allowed if device_allowed is None else device_allowed,
        )
        results.append(facts.mdoc(method))
    return VerifiedDeviceResponse(VERSION, tuple(results), errors)
