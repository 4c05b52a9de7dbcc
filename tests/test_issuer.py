"""The Issuer role in process: identity, batch issuance in both formats, schema refusal,
holder keys, status changes and their publication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509

from honnin.clock import SystemClock, as_datetime
from honnin.credential_types import load_catalogue
from honnin.credentials import CredentialBatch, CredentialFormat
from honnin.encoding import b64url_decode
from honnin.errors import (
    FetchError,
    MalformedInput,
    NotFound,
    PolicyViolation,
    Revoked,
    SchemaViolation,
    UnknownCredentialType,
    UnsupportedCredentialFormat,
)
from honnin.jose import generate_key, jwk_from_public_key, jwk_thumbprint, parse_jws
from honnin.mdoc import verify_issuer_signed
from honnin.sdjwt import KeyBinding, VerifiedSdJwt, verify_sd_jwt
from honnin.status import StatusChecker, StatusReference, StatusValue, verify_status_list_jwt
from honnin.trust import (
    certificates_from_x5c,
    check_issuer_identifier,
    make_test_pki,
    san_uris,
    validate_chain,
)
from issuer import Issuer

CLAIMS = load_catalogue().get("withholding-slip").sample_claims()


@pytest.fixture(scope="module")
def employer() -> Issuer:
    return Issuer.create("Example Corp", iss="https://payroll.example.com")


def holder_keys(n: int) -> list[dict[str, str]]:
    return [jwk_from_public_key(generate_key()) for _ in range(n)]


def verify_copy(issuer: Issuer, credential: str) -> VerifiedSdJwt:
    """Verify a copy as a verifier would: x5c chain to the issuer's anchor, iss = SAN."""

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
        chain = validate_chain(
            certificates_from_x5c(header["x5c"]),
            [issuer.certificate],
            at=as_datetime(SystemClock()),
        )
        check_issuer_identifier(chain, payload["iss"])
        return chain.public_key

    return verify_sd_jwt(credential, resolve, key_binding=KeyBinding.FORBIDDEN)


def test_create_makes_a_root_anchor_and_a_leaf_naming_iss(employer: Issuer) -> None:
    anchor = employer.certificate
    assert isinstance(anchor, x509.Certificate)
    assert anchor.issuer == anchor.subject
    leaf = employer.chain[0]
    assert san_uris(leaf) == ["https://payroll.example.com"]
    assert anchor not in employer.chain  # HAIP §6.1.1: the anchor is never sent
    assert employer.iss == "https://payroll.example.com"


def test_sd_jwt_vc_batch_of_eight_copies(employer: Issuer) -> None:
    keys = holder_keys(8)
    batch = employer.issue("withholding-slip", CLAIMS, holder=keys)
    assert isinstance(batch, CredentialBatch)
    assert batch.format is CredentialFormat.SD_JWT_VC and len(batch) == 8
    indices, salts, iats = set(), set(), set()
    for credential, key in zip(batch.credentials, keys, strict=True):
        verified = verify_copy(employer, credential)
        assert verified.header["typ"] == "dc+sd-jwt"
        claims = verified.claims
        assert claims["vct"] == load_catalogue().get("withholding-slip").vct
        assert claims["payment_amount"] == CLAIMS["payment_amount"]
        assert claims["cnf"]["jwk"] == key
        assert "jti" not in claims
        assert claims["iat"] % 86_400 == 0
        iats.add(claims["iat"])
        status = claims["status"]["status_list"]
        indices.add(status["idx"])
        assert status["uri"].startswith("https://payroll.example.com/status/")
        salts.update(d.salt for d in verified.disclosures)
        # my_number is always selectively disclosable: never in the signed payload itself.
        payload = parse_jws(credential.split("~", 1)[0]).unverified_claims()
        assert "my_number" not in payload
    assert len(indices) == 8
    assert len(iats) == 1
    disclosures_per_copy = len(verified.disclosures)
    assert len(salts) == 8 * disclosures_per_copy


def test_mdoc_batch_binds_each_copy_to_its_device_key(employer: Issuer) -> None:
    keys = holder_keys(3)
    batch = employer.issue("withholding-slip", CLAIMS, holder=keys, format="mso_mdoc")
    assert batch.format is CredentialFormat.MSO_MDOC
    indices = set()
    for credential, key in zip(batch.credentials, keys, strict=True):
        verified = verify_issuer_signed(
            b64url_decode(credential), trust_anchors=[employer.certificate]
        )
        assert verified.doctype == load_catalogue().get("withholding-slip").doctype
        assert jwk_thumbprint(jwk_from_public_key(verified.device_key)) == jwk_thumbprint(key)
        assert verified.validity.signed.timestamp() % 86_400 == 0
        assert verified.status is not None
        indices.add(verified.status.idx)
    assert len(indices) == 3


def test_schema_violation_signs_nothing() -> None:
    issuer = Issuer.create("Strict Corp")
    broken = dict(CLAIMS, payment_amount="five million")
    with pytest.raises(SchemaViolation):
        issuer.issue("withholding-slip", broken, holder=holder_keys(2))
    assert issuer.status.list_ids() == []
    assert issuer.store.issuances() == []


def test_registered_claim_names_are_refused() -> None:
    issuer = Issuer.create("Strict Corp")
    with pytest.raises(SchemaViolation):
        issuer.issue("withholding-slip", dict(CLAIMS, iss="https://evil.example"), holder_keys(1))
    assert issuer.store.issuances() == []


def test_unknown_type_and_format(employer: Issuer) -> None:
    with pytest.raises(UnknownCredentialType):
        employer.issue("passport", CLAIMS, holder=holder_keys(1))
    with pytest.raises(UnsupportedCredentialFormat):
        employer.issue("withholding-slip", CLAIMS, holder=holder_keys(1), format="jwt_vc_json")


def test_types_restrict_what_an_issuer_issues() -> None:
    school = Issuer.create("Sample High School", types=["enrollment-certificate"])
    assert [t.id for t in school.types] == ["enrollment-certificate"]
    with pytest.raises(UnknownCredentialType):
        school.issue("withholding-slip", CLAIMS, holder=holder_keys(1))


def test_holder_keys_must_be_public_and_distinct(employer: Issuer) -> None:
    key = holder_keys(1)[0]
    with pytest.raises(ValueError, match="linkable"):
        employer.issue("withholding-slip", CLAIMS, holder=[key, dict(key)])
    private = dict(key, d="AAAA")
    with pytest.raises(ValueError, match="public"):
        employer.issue("withholding-slip", CLAIMS, holder=[private])
    with pytest.raises(MalformedInput):
        employer.issue("withholding-slip", CLAIMS, holder=[{"kty": "EC", "crv": "P-256"}])


def _status(issuer: Issuer, credential: str) -> int:
    reference = verify_copy(issuer, credential).claims["status"]["status_list"]
    list_id = reference["uri"].rsplit("/", 1)[1]
    token = issuer.status_list_token(list_id).body
    listed = verify_status_list_jwt(
        token,
        key=issuer.identity.key.public_key(),
        expected_sub=reference["uri"],
        now=SystemClock().now(),
    )
    return listed.status(reference["idx"])


def test_revoke_suspend_reinstate_are_published(employer: Issuer) -> None:
    first = employer.issue("withholding-slip", CLAIMS, holder=holder_keys(2))
    second = employer.issue("withholding-slip", CLAIMS, holder=holder_keys(2))
    employer.suspend(second.batch_id)
    assert _status(employer, second.credentials[1]) == StatusValue.SUSPENDED
    employer.reinstate(second)
    assert _status(employer, second.credentials[0]) == StatusValue.VALID
    # Revoking by one copy revokes the whole batch: every copy is the same credential.
    employer.revoke(first.credentials[1])
    assert _status(employer, first.credentials[0]) == StatusValue.INVALID
    assert _status(employer, second.credentials[0]) == StatusValue.VALID
    with pytest.raises(PolicyViolation):
        employer.reinstate(first)


def test_revoke_by_one_mdoc_copy(employer: Issuer) -> None:
    batch = employer.issue("withholding-slip", CLAIMS, holder=holder_keys(2), format="mso_mdoc")
    employer.revoke(batch.credentials[1])
    assert employer.status.status_of(f"{batch.batch_id}.0") == StatusValue.INVALID


def test_revoking_something_never_issued_is_not_found(employer: Issuer) -> None:
    other = Issuer.create("Someone Else")
    foreign = other.issue("withholding-slip", CLAIMS, holder=holder_keys(1))
    with pytest.raises(NotFound):
        employer.revoke(foreign.credentials[0])
    with pytest.raises(NotFound):
        employer.revoke("no-such-batch")


def test_load_takes_an_organisations_own_key_and_chain() -> None:
    pki = make_test_pki(
        ["City of Example"], issuer_urls={"City of Example": "https://city.example"}
    )
    leaf = pki.issuer("City of Example")
    city = Issuer.load(leaf.private_key_pem(), list(leaf.chain), anchor=pki.root.certificate)
    assert city.iss == "https://city.example"
    assert city.certificate == pki.root.certificate
    claims = load_catalogue().get("resident-record").sample_claims()
    batch = city.issue("resident-record", claims, holder=holder_keys(1))
    assert verify_copy(city, batch.credentials[0]).claims["iss"] == "https://city.example"


def test_load_refuses_a_chain_for_another_key() -> None:
    pki = make_test_pki(["A", "B"])
    with pytest.raises(MalformedInput):
        Issuer.load(pki.issuer("A").private_key_pem(), list(pki.issuer("B").chain))


def test_file_store_keeps_records_across_reopen(tmp_path: Any) -> None:
    path = tmp_path / "issuer.db"
    pki = make_test_pki(["Example Corp"])
    leaf = pki.issuer("Example Corp")
    first = Issuer.load(leaf.private_key, list(leaf.chain), store=path)
    batch = first.issue("withholding-slip", CLAIMS, holder=holder_keys(2))
    first.close()
    again = Issuer.load(leaf.private_key, list(leaf.chain), store=path)
    assert again.store.issuance(batch.batch_id) is not None
    again.revoke(batch)
    assert _status(again, batch.credentials[0]) == StatusValue.INVALID


def test_status_fetcher_serves_the_lists_in_process(employer: Issuer) -> None:
    batch = employer.issue("withholding-slip", CLAIMS, holder=holder_keys(2))
    reference = verify_copy(employer, batch.credentials[0]).claims["status"]["status_list"]
    checker = StatusChecker(
        employer.status_fetcher(),
        lambda header: employer.identity.key.public_key(),
        clock=SystemClock(),
        min_refresh=0,
    )
    ref = StatusReference(uri=reference["uri"], idx=reference["idx"])
    assert checker.check(ref).status == StatusValue.VALID
    employer.revoke(batch)
    fresh = StatusChecker(
        employer.status_fetcher(),
        lambda header: employer.identity.key.public_key(),
        clock=SystemClock(),
    )
    with pytest.raises(Revoked):
        fresh.check(ref)
    fetcher = employer.status_fetcher()
    with pytest.raises(FetchError):
        fetcher.fetch("https://elsewhere.example/status/x", max_bytes=1 << 20)
    with pytest.raises(FetchError):
        fetcher.fetch(employer.status.uri_of("no-such-list"), max_bytes=1 << 20)
    with pytest.raises(FetchError):
        fetcher.fetch(reference["uri"], max_bytes=10)


def test_public_api_is_pinned() -> None:
    import issuer

    assert issuer.__all__ == [
        "AccessTokenRecord",
        "CodeState",
        "DeferredRecord",
        "IssuanceRecord",
        "IssuanceStore",
        "Issuer",
        "IssuerIdentity",
        "IssuerSettings",
        "NotificationRecord",
        "Offer",
        "OfferRecord",
        "PublishedStatusList",
        "SqliteIssuanceStore",
        "SqliteStatusStore",
        "StatusEntry",
        "StatusListFetcher",
        "StatusListSigner",
        "StatusPlace",
        "StatusRegistry",
        "StatusStore",
        "StoredStatusList",
        "configuration_id",
        "create_app",
        "load_settings_file",
    ]
    for name in issuer.__all__:
        assert getattr(issuer, name).__doc__, name
