"""The verifier's side of DCQL ``trusted_authorities`` (OpenID4VP 1.0 §6.1.1): a presentation
whose verified issuer chain has none of the queried AuthorityKeyIdentifiers is rejected
with an ``untrusted_authority`` per-credential error; the ``aki`` extraction itself; and
``check_presented`` on its own. Presentations are real (honnin.sdjwt / honnin.mdoc)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_verifier_support import (
    SLIP,
    Holder,
    agency,
    ask,
    catalogue_type,
    clock,
    form,
    issue_mdoc_credential,
    issue_sd_jwt_vc,
    pki,
    present_mdoc,
    present_sd_jwt,
)
from test_x509_support import self_signed

from honnin.clock import FixedClock
from honnin.dcql import DcqlProblem, PresentedCredential, check_presented, parse_dcql_query
from honnin.encoding import b64url_encode
from honnin.trust import TestPki, authority_key_identifier, authority_key_identifiers
from verifier import Query, VerificationResult, Verifier

__all__ = ["agency", "clock", "pki"]  # shared fixtures from test_verifier_support

OTHER_AKI = b64url_encode(bytes(range(20)))


def _ski(certificate: x509.Certificate) -> str:
    found = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return b64url_encode(found.value.digest)


def _query(fmt: str, *authorities: dict[str, Any]) -> Query:
    base = Query.of(SLIP, "payment_amount", format=fmt).to_dcql().to_json()
    base["credentials"][0]["trusted_authorities"] = list(authorities)
    return Query.dcql(base)


def _sd_jwt(pki: TestPki, agency: Verifier, clock: FixedClock, query: Query) -> VerificationResult:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    request, claims = ask(agency, query)
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",)], claims, iat=int(clock.now())
    )
    query_id = request.dcql_query.credentials[0].id
    return agency.verify(form({query_id: [presentation]}, claims["state"]))


def _mdoc(pki: TestPki, agency: Verifier, clock: FixedClock, query: Query) -> VerificationResult:
    holder = Holder()
    credential = issue_mdoc_credential(pki, SLIP, holder, now=clock.now())
    request, claims = ask(agency, query)
    namespace = catalogue_type(SLIP).namespaces[0]
    presentation = present_mdoc(credential, holder, {namespace: ["payment_amount"]}, claims)
    query_id = request.dcql_query.credentials[0].id
    return agency.verify(form({query_id: [presentation]}, claims["state"]))


def _untrusted(result: VerificationResult) -> None:
    assert result.verified is False
    assert result.credentials == {}
    codes = [(e.code, e.index) for e in result.errors]
    # The discarded presentation, then the required query it leaves unanswered (§6.4.2).
    assert codes == [
        (DcqlProblem.UNTRUSTED_AUTHORITY.value, 0),
        (DcqlProblem.REQUIRED_CREDENTIAL_MISSING.value, None),
    ]


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_the_roots_aki_verifies(
    pki: TestPki, agency: Verifier, clock: FixedClock, fmt: str
) -> None:
    present = _sd_jwt if fmt == "dc+sd-jwt" else _mdoc
    query = _query(fmt, {"type": "aki", "values": [OTHER_AKI, _ski(pki.root.certificate)]})
    result = present(pki, agency, clock, query)
    assert result.verified is True, result.errors


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_a_chain_without_the_aki_is_an_untrusted_authority(
    pki: TestPki, agency: Verifier, clock: FixedClock, fmt: str
) -> None:
    present = _sd_jwt if fmt == "dc+sd-jwt" else _mdoc
    _untrusted(present(pki, agency, clock, _query(fmt, {"type": "aki", "values": [OTHER_AKI]})))


@pytest.mark.parametrize("kind", ["etsi_tl", "openid_federation"])
def test_unsupported_types_are_an_untrusted_authority(
    pki: TestPki, agency: Verifier, clock: FixedClock, kind: str
) -> None:
    authority = {"type": kind, "values": ["https://lotl.example/tl.xml"]}
    _untrusted(_sd_jwt(pki, agency, clock, _query("dc+sd-jwt", authority)))


def test_a_query_without_trusted_authorities_is_not_checked_for_them(
    pki: TestPki, agency: Verifier, clock: FixedClock
) -> None:
    result = _sd_jwt(pki, agency, clock, Query.of(SLIP, "payment_amount"))
    assert result.verified is True, result.errors


# -- check_presented on its own --------------------------------------------------------------


def _dcql(*authorities: dict[str, Any]) -> Any:
    credential: dict[str, Any] = {"id": "q", "format": "mso_mdoc", "meta": {"doctype_value": "d"}}
    if authorities:
        credential["trusted_authorities"] = list(authorities)
    return parse_dcql_query({"credentials": [credential]})


def test_check_presented_records_untrusted_authority(pki: TestPki) -> None:
    chain = pki.issuer("Example Corp").chain
    presented = PresentedCredential(
        "mso_mdoc", doctype="d", namespaces={}, holder_binding=True,
        authorities={"aki": authority_key_identifiers(chain)},
    )  # fmt: skip
    # The same presentation satisfies the query without trusted_authorities ...
    assert check_presented(_dcql(), {"q": [presented]}).satisfied
    # ... and one naming the root, but not one naming another key.
    root = {"type": "aki", "values": [_ski(pki.root.certificate)]}
    assert check_presented(_dcql(root), {"q": [presented]}).satisfied
    check = check_presented(_dcql({"type": "aki", "values": [OTHER_AKI]}), {"q": [presented]})
    assert not check.satisfied
    (finding, missing) = check.findings
    assert (finding.query_id, finding.problem, finding.index) == (
        "q", DcqlProblem.UNTRUSTED_AUTHORITY, 0,
    )  # fmt: skip
    assert missing.problem is DcqlProblem.REQUIRED_CREDENTIAL_MISSING


def test_check_presented_without_authorities_never_matches() -> None:
    presented = PresentedCredential("mso_mdoc", doctype="d", namespaces={}, holder_binding=True)
    check = check_presented(_dcql({"type": "aki", "values": [OTHER_AKI]}), {"q": [presented]})
    assert check.findings[0].problem is DcqlProblem.UNTRUSTED_AUTHORITY


# -- the aki extraction ----------------------------------------------------------------------


def test_a_leaf_names_its_issuers_key(pki: TestPki) -> None:
    leaf = pki.issuer("Example Corp").certificate
    assert authority_key_identifier(leaf) == _ski(pki.root.certificate)
    assert authority_key_identifiers([leaf]) == frozenset({_ski(pki.root.certificate)})


def test_a_certificate_without_the_extension_contributes_nothing(pki: TestPki) -> None:
    root = pki.root.certificate  # self-signed by make_certificate: no AKI extension
    assert authority_key_identifier(root) is None
    assert authority_key_identifiers([root]) == frozenset()
    leaf = pki.issuer("Example Corp").certificate
    assert authority_key_identifiers([leaf, root]) == frozenset({_ski(root)})


def _self_signed(extension: x509.ExtensionType | None) -> x509.Certificate:
    extensions = [(extension, False)] if extension is not None else []
    return self_signed(ec.generate_private_key(ec.SECP256R1()), "aki test", *extensions)


def test_an_aki_without_a_key_identifier_contributes_nothing() -> None:
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    by_serial = x509.AuthorityKeyIdentifier(None, [x509.DirectoryName(issuer)], 7)
    assert authority_key_identifiers([_self_signed(by_serial)]) == frozenset()
    assert authority_key_identifiers([_self_signed(None)]) == frozenset()


def test_the_raw_key_identifier_bytes_are_encoded() -> None:
    raw = bytes(range(1, 9))
    certificate = _self_signed(x509.AuthorityKeyIdentifier(raw, None, None))
    assert authority_key_identifiers([certificate]) == frozenset({b64url_encode(raw)})
