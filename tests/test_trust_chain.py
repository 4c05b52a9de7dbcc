"""X.509 path validation (honnin.trust.validate_chain): Annex D, the test PKI, hostile chains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from vectors import vector_path

from honnin.clock import SystemClock, as_datetime
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
from honnin.trust import (
    CertifiedKey,
    VerifiedChain,
    certificate_from_der,
    certificates_from_der_list,
    certificates_from_x5c,
    certificates_to_x5c,
    check_dns_identifier,
    check_issuer_identifier,
    load_certificates,
    make_certificate,
    make_test_pki,
    validate_chain,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MDL_DS_EKU = x509.ObjectIdentifier("1.0.18013.5.1.2")


def _annex_d() -> tuple[x509.Certificate, x509.Certificate]:
    ds = load_certificates(
        vector_path("mdoc", "annex-d-document-signer-utopia-ds.pem").read_bytes()
    )
    iaca = load_certificates(vector_path("mdoc", "annex-d-iaca-utopia.pem").read_bytes())
    return ds[0], iaca[0]


@pytest.fixture(scope="module")
def pki():  # type: ignore[no-untyped-def]
    return make_test_pki(["Example Corp"], now=NOW)


def _ca(name: str, **kw: object) -> CertifiedKey:
    return make_certificate(
        name,
        issuer=None,
        ca=True,
        not_before=kw.pop("not_before", NOW - timedelta(days=30)),  # type: ignore[arg-type]
        not_after=kw.pop("not_after", NOW + timedelta(days=3000)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _leaf(name: str, issuer: CertifiedKey, **kw: object) -> CertifiedKey:
    return make_certificate(
        name,
        issuer=issuer,
        not_before=kw.pop("not_before", NOW - timedelta(days=1)),  # type: ignore[arg-type]
        not_after=kw.pop("not_after", NOW + timedelta(days=300)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _intermediate(root: CertifiedKey, **kw: object) -> CertifiedKey:
    return make_certificate(
        "intermediate CA",
        issuer=root,
        ca=True,
        path_length=0,
        not_before=kw.pop("not_before", NOW - timedelta(days=10)),  # type: ignore[arg-type]
        not_after=kw.pop("not_after", NOW + timedelta(days=1000)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# -- ISO/IEC 18013-5 Annex D ------------------------------------------------------------------


def test_annex_d_chain_validates_inside_its_validity() -> None:
    ds, iaca = _annex_d()
    verified = validate_chain([ds], [iaca], at=datetime(2021, 3, 1, tzinfo=UTC))
    assert isinstance(verified, VerifiedChain)
    assert verified.leaf == ds
    assert verified.anchor == iaca
    assert verified.path == (ds, iaca)
    assert verified.public_key.public_numbers() == ds.public_key().public_numbers()  # type: ignore[union-attr]


def test_annex_d_with_the_anchor_included_and_the_mdoc_eku() -> None:
    ds, iaca = _annex_d()
    verified = validate_chain(
        [ds, iaca], [iaca], at=datetime(2021, 3, 1, tzinfo=UTC), required_eku=MDL_DS_EKU
    )
    assert verified.path == (ds, iaca)


def test_annex_d_is_expired_today() -> None:
    ds, iaca = _annex_d()
    with pytest.raises(Expired) as info:
        validate_chain([ds], [iaca], at=as_datetime(SystemClock()))
    assert info.value.subject == "C=US,CN=utopia ds"
    assert info.value.not_after == "2021-10-01T00:00:00+00:00"


def test_annex_d_is_not_yet_valid_before_october_2020() -> None:
    ds, iaca = _annex_d()
    with pytest.raises(NotYetValid):
        validate_chain([ds], [iaca], at=datetime(2020, 9, 30, tzinfo=UTC))


def test_annex_d_wrong_extended_key_usage() -> None:
    ds, iaca = _annex_d()
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(
            [ds],
            [iaca],
            at=datetime(2021, 3, 1, tzinfo=UTC),
            required_eku=ExtendedKeyUsageOID.CODE_SIGNING,
        )
    assert info.value.reason == "extended_key_usage"


def test_annex_d_reader_certificate_does_not_chain_to_the_iaca() -> None:
    _, iaca = _annex_d()
    reader = load_certificates(vector_path("mdoc", "annex-d-reader.pem").read_bytes())
    with pytest.raises(UntrustedIssuer):
        validate_chain(reader, [iaca], at=datetime(2021, 3, 1, tzinfo=UTC))


# -- the test PKI ------------------------------------------------------------------------------


def test_test_pki_issuer_chain_validates(pki) -> None:  # type: ignore[no-untyped-def]
    issuer = pki.issuer("Example Corp")
    verified = validate_chain(issuer.chain, [pki.root.certificate], at=NOW)
    assert verified.path == (issuer.certificate, pki.root.certificate)
    check_issuer_identifier(verified, "https://example-corp.issuer.honnin.example")


def test_test_pki_issuer_identifier_by_dns_host(pki) -> None:  # type: ignore[no-untyped-def]
    verified = validate_chain(pki.issuer("Example Corp").chain, [pki.root.certificate], at=NOW)
    check_issuer_identifier(verified, "https://example-corp.issuer.honnin.example/tenant/7")


def test_iss_not_matching_the_certificate(pki) -> None:  # type: ignore[no-untyped-def]
    verified = validate_chain(pki.issuer("Example Corp").chain, [pki.root.certificate], at=NOW)
    with pytest.raises(UntrustedIssuer) as info:
        check_issuer_identifier(verified, "https://evil.example")
    assert info.value.reason == "iss_mismatch"


def test_verifier_access_certificate_and_dns_name(pki) -> None:  # type: ignore[no-untyped-def]
    verified = validate_chain(pki.verifier.chain, [pki.access_ca.certificate], at=NOW)
    check_dns_identifier(verified, "verifier.honnin.example")
    with pytest.raises(UntrustedVerifier):
        check_dns_identifier(verified, "other.example")


def test_verifier_certificate_is_not_trusted_as_an_issuer(pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UntrustedIssuer):
        validate_chain(pki.verifier.chain, [pki.root.certificate], at=NOW)


def test_three_certificate_path_through_an_intermediate() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root)
    leaf = _leaf("leaf", inter)
    assert leaf.chain == (leaf.certificate, inter.certificate)
    verified = validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert verified.path == (leaf.certificate, inter.certificate, root.certificate)


def test_pinned_leaf_is_trusted_directly() -> None:
    root = _ca("root")
    leaf = _leaf("pinned leaf", root)
    verified = validate_chain([leaf.certificate], [leaf.certificate], at=NOW)
    assert verified.path == (leaf.certificate,)
    assert verified.anchor == leaf.certificate


def test_validity_is_rechecked_after_a_cached_success(pki) -> None:  # type: ignore[no-untyped-def]
    chain, anchors = pki.issuer("Example Corp").chain, [pki.root.certificate]
    validate_chain(chain, anchors, at=NOW)
    with pytest.raises(Expired):
        validate_chain(chain, anchors, at=NOW + timedelta(days=800))


def test_equal_certificates_from_fresh_objects_validate(pki) -> None:  # type: ignore[no-untyped-def]
    x5c = certificates_to_x5c(pki.issuer("Example Corp").chain)
    anchor_der = pki.root.certificate.public_bytes(Encoding.DER)
    for _ in range(2):
        chain = [
            x509.load_der_x509_certificate(c.public_bytes(Encoding.DER))
            for c in certificates_from_x5c(x5c)
        ]
        validate_chain(chain, [x509.load_der_x509_certificate(anchor_der)], at=NOW)


# -- hostile chains ----------------------------------------------------------------------------


def test_no_anchors_fails_closed(pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(pki.issuer("Example Corp").chain, [], at=NOW)
    assert info.value.reason == "no_anchors"


def test_chain_not_reaching_an_anchor(pki) -> None:  # type: ignore[no-untyped-def]
    unrelated = _ca("unrelated root")
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(pki.issuer("Example Corp").chain, [unrelated.certificate], at=NOW)
    assert info.value.reason == "no_anchor"


def test_same_named_root_with_another_key_is_a_bad_signature(pki) -> None:  # type: ignore[no-untyped-def]
    impostor = _ca("honnin test root CA", organization="honnin test trust framework")
    with pytest.raises(InvalidSignature):
        validate_chain(pki.issuer("Example Corp").chain, [impostor.certificate], at=NOW)


def test_self_signed_leaf_not_an_anchor(pki) -> None:  # type: ignore[no-untyped-def]
    selfsigned = make_certificate(
        "Example Corp",
        issuer=None,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=10),
    )
    with pytest.raises(UntrustedIssuer):
        validate_chain([selfsigned.certificate], [pki.root.certificate], at=NOW)


def test_expired_leaf() -> None:
    root = _ca("root")
    leaf = _leaf(
        "leaf", root, not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(seconds=1)
    )
    with pytest.raises(Expired) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert info.value.subject.endswith("CN=leaf")


def test_not_yet_valid_leaf() -> None:
    root = _ca("root")
    leaf = _leaf("leaf", root, not_before=NOW + timedelta(minutes=5))
    with pytest.raises(NotYetValid):
        validate_chain(leaf.chain, [root.certificate], at=NOW)


def test_expired_intermediate() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root, not_after=NOW - timedelta(days=1))
    leaf = _leaf("leaf", inter)
    with pytest.raises(Expired) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert "intermediate CA" in info.value.subject


def test_not_yet_valid_intermediate() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root, not_before=NOW + timedelta(days=1))
    leaf = _leaf("leaf", inter)
    with pytest.raises(NotYetValid) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert "intermediate CA" in info.value.subject


def test_expired_anchor() -> None:
    root = _ca("root", not_before=NOW - timedelta(days=100), not_after=NOW - timedelta(days=1))
    leaf = _leaf("leaf", root)
    with pytest.raises(Expired):
        validate_chain(leaf.chain, [root.certificate], at=NOW)


def test_leaf_signed_by_a_non_ca() -> None:
    root = _ca("root", path_length=2)
    middle = _leaf("plain leaf", root)
    forged = _leaf("leaf under a leaf", middle)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(forged.chain, [root.certificate], at=NOW)
    assert info.value.reason == "not_a_ca"


def test_ca_without_key_cert_sign() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root, key_usage="sign")
    leaf = _leaf("leaf", inter)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert info.value.reason == "key_usage"


def test_leaf_without_digital_signature() -> None:
    root = _ca("root")
    leaf = _leaf("leaf", root, key_usage="ca")
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert info.value.reason == "key_usage"


def test_path_length_constraint() -> None:
    root = _ca("root", path_length=0)
    inter = _intermediate(root)
    leaf = _leaf("leaf", inter)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert info.value.reason == "path_length"


def test_max_path_length() -> None:
    root = _ca("root")
    a = make_certificate(
        "ca a",
        issuer=root,
        ca=True,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=9),
    )
    b = make_certificate(
        "ca b",
        issuer=a,
        ca=True,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=9),
    )
    c = make_certificate(
        "ca c",
        issuer=b,
        ca=True,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=9),
    )
    leaf = _leaf("leaf", c)
    assert validate_chain(leaf.chain, [root.certificate], at=NOW, max_path_length=5)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(leaf.chain, [root.certificate], at=NOW)
    assert info.value.reason == "path_length"


def test_chain_out_of_order() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root)
    leaf = _leaf("leaf", inter)
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain(
            [leaf.certificate, root.certificate, inter.certificate],
            [_ca("other").certificate],
            at=NOW,
        )
    assert info.value.reason == "chain_order"


def _tampered_signature(cert: x509.Certificate) -> x509.Certificate:
    der = bytearray(cert.public_bytes(Encoding.DER))
    der[-1] ^= 0x01  # the last byte of the ECDSA signature's s value
    return x509.load_der_x509_certificate(bytes(der))


def test_tampered_leaf_signature(pki) -> None:  # type: ignore[no-untyped-def]
    leaf = _tampered_signature(pki.issuer("Example Corp").certificate)
    with pytest.raises(InvalidSignature):
        validate_chain([leaf], [pki.root.certificate], at=NOW)


def test_tampered_intermediate_signature() -> None:
    root = _ca("root", path_length=1)
    inter = _intermediate(root)
    leaf = _leaf("leaf", inter)
    with pytest.raises(InvalidSignature):
        validate_chain(
            [leaf.certificate, _tampered_signature(inter.certificate)], [root.certificate], at=NOW
        )


def test_unknown_critical_extension() -> None:
    root = _ca("root")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
            critical=True,
        )
        .sign(root.private_key, hashes.SHA256())
    )
    with pytest.raises(UntrustedIssuer) as info:
        validate_chain([cert], [root.certificate], at=NOW)
    assert info.value.reason == "critical_extension"


def test_certificate_signed_with_a_weak_hash_is_refused() -> None:
    root = _ca("root")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sha224 leaf")]))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(root.private_key, hashes.SHA224())
    )
    with pytest.raises(UnsupportedAlgorithm):
        validate_chain([cert], [root.certificate], at=NOW)


def test_naive_datetime_is_a_programmer_error(pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        validate_chain(
            pki.issuer("Example Corp").chain, [pki.root.certificate], at=datetime(2026, 1, 1)
        )


def test_empty_chain_is_malformed(pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedInput):
        validate_chain([], [pki.root.certificate], at=NOW)


def test_too_many_certificates(pki) -> None:  # type: ignore[no-untyped-def]
    leaf = pki.issuer("Example Corp").certificate
    with pytest.raises(TooLarge):
        validate_chain([leaf] * 9, [pki.root.certificate], at=NOW)


# -- loading ------------------------------------------------------------------------------------


def test_load_pem_bundle_keeps_order(pki) -> None:  # type: ignore[no-untyped-def]
    root = _ca("root", path_length=1)
    inter = _intermediate(root)
    leaf = _leaf("leaf", inter)
    pem = b"".join(c.public_bytes(Encoding.PEM) for c in leaf.chain)
    assert load_certificates(pem) == list(leaf.chain)
    assert load_certificates(pem.decode()) == list(leaf.chain)


def test_load_der(pki) -> None:  # type: ignore[no-untyped-def]
    der = pki.root.certificate.public_bytes(Encoding.DER)
    assert load_certificates(der) == [pki.root.certificate]
    assert certificates_from_der_list([der]) == [pki.root.certificate]


def test_x5c_round_trip(pki) -> None:  # type: ignore[no-untyped-def]
    chain = pki.issuer("Example Corp").chain
    x5c = certificates_to_x5c(chain)
    assert certificates_from_x5c(x5c) == list(chain)
    assert certificates_from_x5c(list(x5c))[0] is certificates_from_x5c(list(x5c))[0]


def test_malformed_pem() -> None:
    with pytest.raises(MalformedInput):
        load_certificates(
            b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
        )


def test_pem_without_certificate() -> None:
    with pytest.raises(MalformedInput):
        load_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_malformed_der() -> None:
    with pytest.raises(MalformedInput):
        load_certificates(b"\x30\x03\x02\x01\x01")


def test_truncated_der(pki) -> None:  # type: ignore[no-untyped-def]
    der = pki.root.certificate.public_bytes(Encoding.DER)
    with pytest.raises(MalformedInput):
        certificate_from_der(der[:-10])


def test_oversized_der() -> None:
    with pytest.raises(TooLarge):
        certificate_from_der(b"\x30" * (17 * 1024))


def test_x5c_with_base64url_characters(pki) -> None:  # type: ignore[no-untyped-def]
    member = certificates_to_x5c([pki.root.certificate])[0]
    with pytest.raises(MalformedInput):
        certificates_from_x5c([member.replace("+", "-").replace("/", "_") + "-"])


def test_x5c_not_an_array() -> None:
    with pytest.raises(MalformedInput):
        certificates_from_x5c("MIIB")


def test_x5c_empty() -> None:
    with pytest.raises(MalformedInput):
        certificates_from_x5c([])


def test_x5c_member_not_a_certificate() -> None:
    with pytest.raises(MalformedInput):
        certificates_from_x5c(["AAAA"])


def test_der_list_member_not_bytes() -> None:
    with pytest.raises(MalformedInput):
        certificates_from_der_list(["MIIB"])  # type: ignore[list-item]


def test_public_api_is_pinned() -> None:
    import honnin.trust

    assert sorted(honnin.trust.__all__) == sorted(
        [
            "DEFAULT_MAX_PATH_LENGTH",
            "DEFAULT_RESTRICTED_CLAIMS",
            "MAX_CERTIFICATE_SIZE",
            "MAX_CHAIN_CERTIFICATES",
            "CertifiedKey",
            "ClaimPath",
            "IssuerEntry",
            "RestrictedClaim",
            "TestPki",
            "TrustList",
            "TrustedParty",
            "VerifiedChain",
            "authority_key_identifier",
            "authority_key_identifiers",
            "certificate_from_der",
            "certificate_sha256",
            "certificates_from_der_list",
            "certificates_from_x5c",
            "certificates_to_pem",
            "certificates_to_x5c",
            "check_dns_identifier",
            "check_issuer_identifier",
            "load_certificates",
            "make_certificate",
            "make_test_pki",
            "san_dns_names",
            "san_uris",
            "slug",
            "validate_chain",
        ]
    )
