"""The cache of successful chain validations (honnin.trust._chain) never answers for input it
has not compared byte for byte, re-checks validity at every use and never keeps a failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from honnin.errors import Expired, InvalidSignature, NotYetValid, UntrustedIssuer
from honnin.jose import generate_key
from honnin.mdoc import issue_mdoc, verify_issuer_signed
from honnin.trust import TestPki, make_certificate, make_test_pki, validate_chain
from honnin.trust._chain import _by_identity, _by_value, forget_validations

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DOCTYPE = "org.iso.18013.5.1.mDL"
NS = "org.iso.18013.5.1"


@pytest.fixture
def pki() -> Iterator[TestPki]:
    forget_validations()
    yield make_test_pki(["Example Corp"], now=NOW - timedelta(days=1))
    forget_validations()


def _fresh(cert: x509.Certificate) -> x509.Certificate:
    """A new object with the same DER (a verifier parses every credential anew)."""
    return x509.load_der_x509_certificate(cert.public_bytes(Encoding.DER))


def _flipped(cert: x509.Certificate) -> x509.Certificate:
    der = bytearray(cert.public_bytes(Encoding.DER))
    der[-1] ^= 0x01  # the last byte of the ECDSA signature's s value: still parses
    return x509.load_der_x509_certificate(bytes(der))


def test_a_success_is_cached_once(pki: TestPki) -> None:
    chain, anchors = list(pki.issuer("Example Corp").chain), [pki.root.certificate]
    first = validate_chain(chain, anchors, at=NOW)
    assert validate_chain(chain, anchors, at=NOW) is first
    assert validate_chain([_fresh(c) for c in chain], [_fresh(anchors[0])], at=NOW) is first
    assert len(_by_value) == 1


def test_a_changed_byte_in_the_leaf_misses_the_cache(pki: TestPki) -> None:
    leaf, anchors = pki.issuer("Example Corp").certificate, [pki.root.certificate]
    validate_chain([leaf], anchors, at=NOW)
    tampered = _flipped(leaf)
    assert tampered.subject == leaf.subject and tampered.issuer == leaf.issuer
    with pytest.raises(InvalidSignature):
        validate_chain([tampered], anchors, at=NOW)


def test_a_changed_byte_in_the_anchor_misses_the_cache(pki: TestPki) -> None:
    leaf, root = pki.issuer("Example Corp").certificate, pki.root.certificate
    validate_chain([leaf], [root], at=NOW)
    # Same subject, same key, another signature: another anchor, validated on its own.
    other_bytes = _flipped(root)
    verified = validate_chain([leaf], [other_bytes], at=NOW)
    assert verified.anchor == other_bytes
    assert len(_by_value) == 2


def test_another_anchor_set_misses_the_cache(pki: TestPki) -> None:
    leaf = pki.issuer("Example Corp").certificate
    validate_chain([leaf], [pki.root.certificate], at=NOW)
    stranger = make_certificate(
        "stranger root",
        issuer=None,
        ca=True,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
    )
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain([leaf], [stranger.certificate], at=NOW)
    assert info.value.reason == "no_anchor"


def test_a_required_extended_key_usage_misses_the_cache(pki: TestPki) -> None:
    leaf, anchors = pki.issuer("Example Corp").certificate, [pki.root.certificate]
    validate_chain([leaf], anchors, at=NOW)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain([leaf], anchors, at=NOW, required_eku=x509.ObjectIdentifier("1.2.3.4"))
    assert info.value.reason == "extended_key_usage"


def test_a_shorter_path_limit_misses_the_cache(pki: TestPki) -> None:
    leaf, anchors = pki.issuer("Example Corp").certificate, [pki.root.certificate]
    validate_chain([leaf], anchors, at=NOW)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain([leaf], anchors, at=NOW, max_path_length=1)
    assert info.value.reason == "path_length"


def test_expired_at_a_later_time_after_a_cached_success(pki: TestPki) -> None:
    leaf, anchors = pki.issuer("Example Corp").certificate, [pki.root.certificate]
    validate_chain([leaf], anchors, at=NOW)
    with pytest.raises(Expired):
        validate_chain([leaf], anchors, at=leaf.not_valid_after_utc + timedelta(seconds=1))


def test_not_yet_valid_at_an_earlier_time_after_a_cached_success(pki: TestPki) -> None:
    leaf, anchors = pki.issuer("Example Corp").certificate, [pki.root.certificate]
    validate_chain([leaf], anchors, at=NOW)
    with pytest.raises(NotYetValid):
        validate_chain([leaf], anchors, at=leaf.not_valid_before_utc - timedelta(seconds=1))


def test_failures_are_not_cached(pki: TestPki) -> None:
    leaf, root = pki.issuer("Example Corp").certificate, pki.root.certificate
    tampered = _flipped(leaf)
    for _ in range(2):
        with pytest.raises(InvalidSignature):
            validate_chain([tampered], [root], at=NOW)
    assert not _by_value and not _by_identity
    # A failure that came first does not stand in the way of the good chain either.
    assert validate_chain([leaf], [root], at=NOW).leaf == leaf


def test_an_mso_signed_under_a_tampered_certificate_is_refused_after_a_cached_success(
    pki: TestPki,
) -> None:
    issuer = pki.issuer("Example Corp")
    holder = generate_key()

    def issue(chain: list[x509.Certificate]) -> bytes:
        return issue_mdoc(
            DOCTYPE,
            {NS: {"family_name": "Doe"}},
            issuer.private_key,
            chain,
            holder.public_key(),
            valid_from=NOW - timedelta(hours=1),
            valid_until=NOW + timedelta(days=30),
            signed=NOW - timedelta(hours=1),
        ).encode()

    anchors = [pki.root.certificate]
    verify_issuer_signed(issue([issuer.certificate]), trust_anchors=anchors, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_issuer_signed(issue([_flipped(issuer.certificate)]), trust_anchors=anchors, now=NOW)
