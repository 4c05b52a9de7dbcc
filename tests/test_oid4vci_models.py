"""OpenID4VCI 1.0 messages: the spec's example messages parse, and hostile ones are refused."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st
from vectors import SKIPPED, load_json, load_text

import honnin.oauth
import honnin.oid4vci
from honnin.errors import (
    InvalidCredentialRequest,
    InvalidRequest,
    MalformedJson,
    TooLarge,
)
from honnin.jose import parse_jws, public_key_from_jwk, verify_jws
from honnin.oauth import (
    AuthorizationServerMetadata,
    JsonWebKeySet,
    parse_message,
    require_https,
    well_known_url,
)
from honnin.oid4vci import (
    AuthorizationDetail,
    CredentialConfiguration,
    CredentialOffer,
    CredentialOfferGrants,
    CredentialResponse,
    NotificationEvent,
    PreAuthorizedCodeGrant,
    TokenRequest,
    TxCode,
    TxCodeInputMode,
    authorization_server_metadata_url,
    build_credential_offer_uri,
    credential_issuer_metadata_url,
    parse_credential_issuer_metadata,
    parse_credential_offer,
    parse_credential_offer_uri,
    parse_credential_request,
    parse_credential_response,
    parse_deferred_credential_request,
    parse_notification_request,
    parse_token_request,
    parse_token_response,
    parse_unverified_signed_metadata,
)

ISSUER = "https://credential-issuer.example.com"
SKIPPED["openid4vci/wallet_attestation.jwt.txt"] = (
    "a Wallet Attestation JWT (App. E, attestation-based client authentication); honnin "
    "does not implement that client authentication, so there is no model to parse it into"
)


def _http_body(name: str) -> str:
    """The JSON body of an HTTP example, with display line breaks inside values removed."""
    text = load_text("openid4vci", name)
    _, _, body = text.partition("\n\n")
    return re.sub(r"\n\s*", "", body)


def test_public_apis_are_pinned() -> None:
    assert sorted(honnin.oid4vci.__all__) == [
        "AUTHORIZATION_CODE_GRANT",
        "AuthorizationCodeGrant",
        "AuthorizationDetail",
        "AuthorizationServerMetadata",
        "BackgroundImage",
        "BatchCredentialIssuance",
        "CREDENTIAL_OFFER_SCHEME",
        "ClaimDescription",
        "ClaimDisplay",
        "CredentialConfiguration",
        "CredentialDisplay",
        "CredentialErrorCode",
        "CredentialErrorResponse",
        "CredentialIssuerMetadata",
        "CredentialMetadata",
        "CredentialOffer",
        "CredentialOfferGrants",
        "CredentialOfferLink",
        "CredentialRequest",
        "CredentialRequestEncryption",
        "CredentialResponse",
        "CredentialResponseEncryption",
        "CredentialResponseEncryptionParameters",
        "DeferredCredentialRequest",
        "IssuedCredential",
        "IssuerDisplay",
        "KeyAttestationsRequired",
        "Logo",
        "NonceResponse",
        "NotificationEvent",
        "NotificationRequest",
        "OPENID_CREDENTIAL",
        "PRE_AUTHORIZED_CODE_GRANT",
        "PROOF_JWT_TYP",
        "PreAuthorizedCodeGrant",
        "ProofTypeMetadata",
        "Proofs",
        "SIGNED_METADATA_TYP",
        "TokenRequest",
        "TokenResponse",
        "TxCode",
        "TxCodeInputMode",
        "VerifiedProof",
        "authorization_server_metadata_url",
        "build_credential_offer_uri",
        "build_proof_jwt",
        "credential_issuer_metadata_url",
        "parse_credential_issuer_metadata",
        "parse_credential_offer",
        "parse_credential_offer_uri",
        "parse_credential_request",
        "parse_credential_response",
        "parse_deferred_credential_request",
        "parse_notification_request",
        "parse_token_request",
        "parse_token_response",
        "parse_unverified_signed_metadata",
        "verify_proof_jwt",
    ]
    assert sorted(honnin.oauth.__all__) == [
        "AuthorizationServerMetadata",
        "HttpUrl",
        "IssuerIdentifier",
        "JsonWebKeySet",
        "OAuthErrorResponse",
        "WireMessage",
        "describe",
        "is_loopback_host",
        "is_parsing",
        "parse_form",
        "parse_message",
        "problem",
        "require_https",
        "too_large",
        "well_known_url",
    ]
    for name in honnin.oid4vci.__all__:
        assert getattr(honnin.oid4vci, name) is not None


# -- the example messages under vectors/openid4vci ------------------------------------------


def test_offer_pre_authorized_code_with_description() -> None:
    offer = parse_credential_offer(
        json.dumps(load_json("openid4vci", "credential_offer_pre-authz_code.json"))
    )
    grant = offer.pre_authorized_code
    assert grant is not None and grant.tx_code is not None
    assert grant.tx_code.description is not None and "SMS" in grant.tx_code.description
    assert grant.tx_code.effective_input_mode is TxCodeInputMode.NUMERIC  # §4.1.1 default


def test_offer_by_reference_example_requires_an_empty_tx_code() -> None:
    offer = parse_credential_offer(load_json("openid4vci", "credential_offer_by_reference.json"))
    grant = offer.pre_authorized_code
    assert grant is not None and grant.tx_code == TxCode()  # present, even empty: required


def test_offer_multiple_credentials() -> None:
    offer = parse_credential_offer(
        load_json("openid4vci", "credential_offer_multiple_credentials.json")
    )
    assert offer.credential_configuration_ids == (
        "UniversityDegreeCredential",
        "org.iso.18013.5.1.mDL",
    )
    grant = offer.pre_authorized_code
    assert grant is not None and grant.tx_code is not None
    assert (grant.tx_code.length, grant.tx_code.input_mode) == (4, TxCodeInputMode.NUMERIC)


def test_offer_authorization_code_http_example() -> None:
    offer = parse_credential_offer(_http_body("credential_offer_authz_code.txt"))
    assert offer.grants is not None and offer.grants.authorization_code is not None
    assert offer.grants.authorization_code.issuer_state == "eyJhbGciOiJSU0Et...FYUaBy"
    assert offer.pre_authorized_code is None


def test_issuer_metadata_long_example() -> None:
    raw = load_json("openid4vci", "credential_issuer_metadata_sd_jwt_long.json")
    metadata = parse_credential_issuer_metadata(raw, credential_issuer=ISSUER)
    assert metadata.nonce_endpoint == f"{ISSUER}/nonce"
    assert metadata.deferred_credential_endpoint == f"{ISSUER}/deferred_credential"
    assert metadata.notification_endpoint == f"{ISSUER}/notification"
    assert metadata.batch_credential_issuance is not None
    assert metadata.batch_credential_issuance.batch_size == 10
    assert metadata.credential_request_encryption is not None
    assert metadata.credential_request_encryption.jwks.key("ac") is not None
    config = metadata.configuration("SD_JWT_VC_example_in_OpenID4VCI")
    assert config is not None and config.vct == "SD_JWT_VC_example_in_OpenID4VCI"
    assert config.proof_types_supported is not None
    assert config.proof_types_supported["jwt"].proof_signing_alg_values_supported == ("ES256",)
    assert config.credential_metadata is not None and config.credential_metadata.claims is not None
    assert len(config.credential_metadata.claims) == 13
    assert [d.locale for d in metadata.display or ()] == ["en-US", "fr-FR"]


def test_issuer_metadata_for_another_issuer_must_not_be_used() -> None:
    raw = load_json("openid4vci", "credential_issuer_metadata_sd_jwt_long.json")
    with pytest.raises(InvalidRequest, match="not the one fetched"):
        parse_credential_issuer_metadata(raw, credential_issuer=ISSUER + "/")


def test_signed_issuer_metadata_example() -> None:
    jws, metadata = parse_unverified_signed_metadata(
        load_text("openid4vci", "credential_issuer_metadata_sd_jwt_jwt.txt"),
        credential_issuer=ISSUER,
    )
    assert metadata.deferred_credential_endpoint == f"{ISSUER}/deferred_credential"
    # The parse does not verify; here the example's own x5c leaf verifies it.
    leaf = x509.load_der_x509_certificate(base64.b64decode(jws.header["x5c"][0]))
    assert verify_jws(jws, leaf.public_key()).value == "ES256"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fmt", "kind"),
    [
        ("credential_metadata_sd_jwt_vc.json", "dc+sd-jwt", "SD_JWT_VC_example_in_OpenID4VCI"),
        ("credential_metadata_mso_mdoc.json", "mso_mdoc", "org.iso.18013.5.1.mDL"),
    ],
)
def test_credential_configuration_examples(name: str, fmt: str, kind: str) -> None:
    (raw,) = load_json("openid4vci", name)["credential_configurations_supported"].values()
    config = parse_message(CredentialConfiguration, raw)
    assert config.format == fmt and kind in (config.vct, config.doctype)
    assert config.requires_binding


def test_mdoc_example_lacks_proof_types_which_honnin_tolerates_on_receipt_only() -> None:
    (raw,) = load_json("openid4vci", "credential_metadata_mso_mdoc.json")[
        "credential_configurations_supported"
    ].values()
    assert "proof_types_supported" not in raw and parse_message(CredentialConfiguration, raw)
    with pytest.raises(ValueError):
        CredentialConfiguration(**{k: v for k, v in raw.items() if k != "credential_metadata"})
    assert parse_message(CredentialConfiguration, raw).credential_signing_alg_values_supported == (
        -7,
        -9,
    )


@pytest.mark.parametrize(
    "name", ["authorization_details_sd_jwt_vc.json", "authorization_details_mso_doc.json"]
)
def test_authorization_details_examples(name: str) -> None:
    details = [parse_message(AuthorizationDetail, d) for d in load_json("openid4vci", name)]
    assert details[0].type == "openid_credential" and details[0].claims


def test_credential_request_example_is_the_pre_final_shape() -> None:
    # credential_request_iso_mdl.json still has format + doctype (drafts before 1.0);
    # 1.0 §8.2 requires credential_configuration_id or credential_identifier.
    raw = load_json("openid4vci", "credential_request_iso_mdl.json")
    with pytest.raises(InvalidCredentialRequest, match="credential_configuration_id"):
        parse_credential_request(raw)
    fixed = {"credential_configuration_id": raw["doctype"], "proofs": raw["proofs"]}
    request = parse_credential_request(fixed)
    assert request.proofs is not None and request.proofs.count == 1


def test_credential_response_examples() -> None:
    sd = parse_credential_response(_http_body("credential_response_sd_jwt_vc.txt"))
    assert sd.credentials is not None and not sd.deferred
    credential = sd.credentials[0].credential
    assert isinstance(credential, str) and credential.count("~") == 10
    assert parse_jws(credential.split("~")[0]).header["typ"] == "dc+sd-jwt"
    mdoc = parse_credential_response(_http_body("credential_response_mso_mdoc.txt"))
    assert mdoc.credentials is not None and len(mdoc.credentials) == 1  # value elided ("...")


def test_issuer_jwks_example() -> None:
    # The example wraps its kid over two lines for display; join it back.
    raw = json.loads(re.sub(r"\n\s*", "", load_text("openid4vci", "issuer_jwks.json")))
    jwks = parse_message(JsonWebKeySet, raw["jwks"])
    (key,) = jwks.keys
    assert key["kid"].endswith("mlUpog7vEewFBem6Ul09c2dtTwc8dFzVpIDX3sqGWW0")
    assert public_key_from_jwk(key).curve.name == "secp256r1"  # type: ignore[union-attr]


# -- Credential Offer ------------------------------------------------------------------------


def _offer(**extra: Any) -> CredentialOffer:
    return CredentialOffer(
        credential_issuer="https://issuer.example/tenant",
        credential_configuration_ids=("withholding-slip",),
        grants=CredentialOfferGrants(
            pre_authorized_code=PreAuthorizedCodeGrant(
                pre_authorized_code="c0de", tx_code=TxCode(length=6, description="SMS で送りました")
            )
        ),
        **extra,
    )


def test_offer_by_value_link_round_trips() -> None:
    offer = _offer()
    link = build_credential_offer_uri(offer)
    assert link.startswith("openid-credential-offer://?credential_offer=%7B")
    assert parse_credential_offer_uri(link).offer == offer
    assert "c0de" not in repr(offer)  # the pre-authorized code is a bearer secret


def test_offer_by_reference_link() -> None:
    link = build_credential_offer_uri(offer_uri="https://issuer.example/offers/abc")
    parsed = parse_credential_offer_uri(f"  {link}\n")  # as scanned, with stray whitespace
    assert parsed.offer is None and parsed.offer_uri == "https://issuer.example/offers/abc"


def test_offer_link_from_an_https_universal_link() -> None:
    link = build_credential_offer_uri(_offer(), base="https://wallet.example/offer?src=qr")
    assert link.startswith("https://wallet.example/offer?src=qr&credential_offer=")
    assert parse_credential_offer_uri(link).offer == _offer()


@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    st.text(max_size=40),
)
def test_offer_link_round_trip_property(ids: list[str], code: str) -> None:
    offer = CredentialOffer(
        credential_issuer="https://issuer.example",
        credential_configuration_ids=tuple(ids),
        grants=CredentialOfferGrants(
            pre_authorized_code=PreAuthorizedCodeGrant(pre_authorized_code=code or "x")
        ),
    )
    assert parse_credential_offer_uri(build_credential_offer_uri(offer)).offer == offer


@pytest.mark.parametrize(
    "link",
    [
        "openid-credential-offer://",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa&credential_offer=%7B%7D",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa&credential_offer_uri=https%3A%2F%2Fb",
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.example%2Fo",
        "openid-credential-offer://?credential_offer_uri=file%3A%2F%2F%2Fetc%2Fpasswd",
        "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fa%22%7D",
        "openid-credential-offer://?credential_offer=%FF",
        "not a link at all",
        "",
    ],
)
def test_bad_offer_links(link: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_offer_uri(link)


def test_offer_link_with_bad_json() -> None:
    with pytest.raises(MalformedJson):
        parse_credential_offer_uri(
            "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%2C%22a%22%3A2%7D"
        )


def test_offer_link_too_long() -> None:
    with pytest.raises(TooLarge):
        parse_credential_offer_uri("openid-credential-offer://?credential_offer=" + "a" * 300_000)


def test_loopback_http_reference_only_when_allowed() -> None:
    link = build_credential_offer_uri(offer_uri="http://127.0.0.1:8123/offers/1")
    with pytest.raises(InvalidRequest, match="https"):
        parse_credential_offer_uri(link)
    assert (
        parse_credential_offer_uri(link, allow_loopback_http=True).offer_uri
        == "http://127.0.0.1:8123/offers/1"
    )
    remote = build_credential_offer_uri(offer_uri="http://10.0.0.1/offers/1")
    with pytest.raises(InvalidRequest):
        parse_credential_offer_uri(remote, allow_loopback_http=True)


@pytest.mark.parametrize(
    "raw",
    [
        {"credential_issuer": ISSUER, "credential_configuration_ids": []},
        {"credential_issuer": ISSUER, "credential_configuration_ids": ["a", "a"]},
        {"credential_issuer": ISSUER + "?x=1", "credential_configuration_ids": ["a"]},
        {"credential_issuer": "ftp://issuer", "credential_configuration_ids": ["a"]},
        {"credential_configuration_ids": ["a"]},
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {
                "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                    "pre-authorized_code": "c",
                    "tx_code": {"description": "x" * 301},
                }
            },
        },
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {
                "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                    "pre-authorized_code": "c",
                    "tx_code": {"input_mode": "emoji"},
                }
            },
        },
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"tx_code": {}}},
        },
    ],
)
def test_bad_offers(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_offer(raw)


def test_unknown_offer_members_are_ignored_but_never_built() -> None:
    raw = {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["a"],
        "future": 1,
        "grants": {"x": {}},
    }
    assert parse_credential_offer(raw).credential_configuration_ids == ("a",)
    with pytest.raises(TypeError, match="future"):
        CredentialOffer(credential_issuer=ISSUER, credential_configuration_ids=("a",), future=1)  # type: ignore[call-arg]


# -- metadata ------------------------------------------------------------------------------


def _metadata(**changes: Any) -> dict[str, Any]:
    raw = load_json("openid4vci", "credential_issuer_metadata_sd_jwt_long.json")
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "changes",
    [
        {"batch_credential_issuance": {"batch_size": 1}},
        {"credential_endpoint": "not-a-url"},
        {"credential_configurations_supported": {"x": {"format": "dc+sd-jwt"}}},
        {"credential_configurations_supported": {"x": {"format": "mso_mdoc"}}},
        {"display": [{"name": "a", "locale": "ja"}, {"name": "b", "locale": "ja"}]},
        {"authorization_servers": []},
    ],
)
def test_bad_issuer_metadata(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_issuer_metadata(_metadata(**changes))


@pytest.mark.parametrize(
    "claims",
    [
        [{"path": ["a"]}, {"path": ["a"]}],
        [{"path": ["n", None]}, {"path": ["n", 0]}],
        [{"path": ["n", "x"]}, {"path": ["n", 0]}],
        [{"path": []}],
        [{"path": ["a", -1]}],
    ],
)
def test_repeated_or_contradictory_claim_descriptions(claims: list[dict[str, Any]]) -> None:
    # App. B.3: processing MUST be aborted.
    config = {"format": "dc+sd-jwt", "vct": "v", "credential_metadata": {"claims": claims}}
    with pytest.raises(InvalidRequest):
        parse_credential_issuer_metadata(
            _metadata(credential_configurations_supported={"x": config})
        )


def test_signed_metadata_needs_its_typ_and_sub() -> None:
    token = load_text("openid4vci", "credential_issuer_metadata_sd_jwt_jwt.txt")
    with pytest.raises(InvalidRequest, match="fetched"):
        parse_unverified_signed_metadata(token, credential_issuer="https://other.example")


def test_well_known_locations() -> None:
    assert credential_issuer_metadata_url("https://issuer.example.com/tenant") == (
        "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"
    )
    assert credential_issuer_metadata_url("https://tenant.issuer.example.com") == (
        "https://tenant.issuer.example.com/.well-known/openid-credential-issuer"
    )
    assert authorization_server_metadata_url("https://as.example/") == (
        "https://as.example/.well-known/oauth-authorization-server"
    )
    assert well_known_url("http://127.0.0.1:9/a/b", "x") == "http://127.0.0.1:9/.well-known/x/a/b"


def test_require_https() -> None:
    assert require_https("https://a.example/x") == "https://a.example/x"
    assert require_https("http://localhost:8000/", allow_loopback_http=True)
    for bad in (
        "http://a.example",
        "https://user:pw@a.example",
        "javascript:alert(1)",
        "https:///x",
    ):
        with pytest.raises(InvalidRequest):
            require_https(bad, allow_loopback_http=True)


def test_authorization_server_metadata() -> None:
    raw = {
        "issuer": ISSUER,
        "token_endpoint": f"{ISSUER}/token",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "unknown_future_member": {"a": 1},
    }
    metadata = parse_message(AuthorizationServerMetadata, raw)
    assert metadata.pre_authorized_grant_anonymous_access_supported is True
    assert metadata.to_json()["pre-authorized_grant_anonymous_access_supported"] is True
    assert (
        parse_message(
            AuthorizationServerMetadata, {"issuer": ISSUER}
        ).pre_authorized_grant_anonymous_access_supported
        is False
    )
    with pytest.raises(InvalidRequest):
        parse_message(AuthorizationServerMetadata, {"issuer": ISSUER, "token_endpoint": 5})


# -- token, nonce -----------------------------------------------------------------------------

PRE = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def test_token_request_form_round_trip() -> None:
    request = TokenRequest(
        grant_type=PRE,
        pre_authorized_code="SplxlOBeZQQYbYS6WxSbIA",
        tx_code="493536",
        authorization_details=(
            AuthorizationDetail(
                type="openid_credential", credential_configuration_id="UniversityDegreeCredential"
            ),
        ),
    )
    form = request.to_form()
    assert form["pre-authorized_code"] == "SplxlOBeZQQYbYS6WxSbIA"
    assert json.loads(form["authorization_details"])[0]["type"] == "openid_credential"
    from urllib.parse import urlencode

    assert parse_token_request(urlencode(form).encode()) == request
    assert "493536" not in repr(request) and "SplxlOBe" not in repr(request)


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=a&grant_type=b",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code",
        b"grant_type=authorization_code&code=x&tx_code=1",
        b"grant_type=authorization_code",
        b"grant_type=%FF",
        b"pre-authorized_code=x",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=c&authorization_details=%5B",
    ],
)
def test_bad_token_requests(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_token_request(body)


def test_token_request_too_large() -> None:
    with pytest.raises(TooLarge):
        parse_token_request(b"grant_type=" + b"a" * 20_000)


def test_token_response() -> None:
    response = parse_token_response(
        {
            "access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp..sHQ",
            "token_type": "Bearer",
            "expires_in": 86400,
            "authorization_details": [
                {
                    "type": "openid_credential",
                    "credential_configuration_id": "UniversityDegreeCredential",
                    "credential_identifiers": [
                        "CivilEngineeringDegree-2023",
                        "ElectricalEngineeringDegree-2023",
                    ],
                }
            ],
        }
    )
    assert response.authorization_details is not None
    assert response.authorization_details[0].credential_identifiers == (
        "CivilEngineeringDegree-2023",
        "ElectricalEngineeringDegree-2023",
    )
    assert "eyJhbGci" not in repr(response)
    with pytest.raises(InvalidRequest, match="credential_identifiers"):
        parse_token_response(
            {
                "access_token": "t",
                "token_type": "Bearer",
                "authorization_details": [
                    {"type": "openid_credential", "credential_configuration_id": "x"}
                ],
            }
        )


# -- credential, deferred, notification -----------------------------------------------------


def _request(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"credential_configuration_id": "pid", "proofs": {"jwt": ["a.b.c"]}}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "raw",
    [
        _request(credential_identifier="x"),
        {"proofs": {"jwt": ["a.b.c"]}},
        _request(proofs={"jwt": []}),
        _request(proofs={"jwt": ["a"], "attestation": ["b"]}),
        _request(proofs={"attestation": ["a", "b"]}),
        _request(proofs={"cwt": ["x"]}),
        _request(proofs=["a.b.c"]),
        _request(credential_configuration_id=7),
    ],
)
def test_bad_credential_requests(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidCredentialRequest):
        parse_credential_request(raw)


def test_duplicate_member_is_invalid_credential_request() -> None:
    with pytest.raises(InvalidCredentialRequest, match="duplicate"):
        parse_credential_request(
            b'{"credential_configuration_id":"a","credential_configuration_id":"b"}'
        )


def test_more_proofs_than_the_batch_size_fails_before_parsing() -> None:
    raw = _request(proofs={"jwt": ["x"] * 10_000})
    with pytest.raises(InvalidCredentialRequest, match="batch_size") as info:
        parse_credential_request(raw, max_proofs=8)
    assert info.value.limit == 8  # type: ignore[attr-defined]
    assert (
        parse_credential_request(_request(proofs={"jwt": ["x"] * 8}), max_proofs=8).proofs
        is not None
    )


def test_credential_request_body_over_512_kib() -> None:
    with pytest.raises(TooLarge):
        parse_credential_request(b"{" + b" " * (512 * 1024) + b"}")


@pytest.mark.parametrize(
    "raw",
    [
        {"credentials": [{"credential": "x"}], "transaction_id": "t", "interval": 5},
        {},
        {"credentials": []},
        {"transaction_id": "t"},
        {"transaction_id": "t", "interval": 0},
        {"transaction_id": "t", "interval": 5, "notification_id": "n"},
        {"credentials": [{"credential": "x"}], "interval": 5},
        {"credentials": [{"credential": 5}]},
    ],
)
def test_bad_credential_responses(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_response(raw)


def test_deferred_response_and_request() -> None:
    deferred = parse_credential_response({"transaction_id": "8xLOxBtZp8", "interval": 3600})
    assert deferred.deferred and deferred.interval == 3600
    assert (
        parse_deferred_credential_request({"transaction_id": "8xLOxBtZp8"}).transaction_id
        == "8xLOxBtZp8"
    )
    with pytest.raises(InvalidCredentialRequest):
        parse_deferred_credential_request({"transaction_id": ""})
    issued = CredentialResponse(credentials=({"credential": "abc"},), notification_id="3fwe98js")  # type: ignore[arg-type]
    assert issued.to_json() == {
        "credentials": [{"credential": "abc"}],
        "notification_id": "3fwe98js",
    }
    assert "abc" not in repr(issued)


def test_notification_request() -> None:
    request = parse_notification_request(
        {
            "notification_id": "3fwe98js",
            "event": "credential_failure",
            "event_description": "Could not store the Credential. Out of storage.",
        }
    )
    assert request.event is NotificationEvent.CREDENTIAL_FAILURE
    for bad in (
        {"notification_id": "n", "event": "credential_lost"},
        {"notification_id": "n", "event": "CREDENTIAL_ACCEPTED"},
        {
            "notification_id": "n",
            "event": "credential_deleted",
            "event_description": 'quote " here',
        },
        {
            "notification_id": "n",
            "event": "credential_deleted",
            "event_description": "保存できません",
        },
        {"event": "credential_accepted"},
    ):
        with pytest.raises(InvalidRequest):
            parse_notification_request(bad)
