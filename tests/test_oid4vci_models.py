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
from vectors import load_json, load_text

import honnin.oauth
import honnin.oid4vci
from honnin.errors import (
    InvalidCredentialRequest,
    InvalidRequest,
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
    TxCode,
    TxCodeInputMode,
    authorization_server_metadata_url,
    credential_issuer_metadata_url,
    parse_credential_issuer_metadata,
    parse_credential_offer,
    parse_credential_request,
    parse_credential_response,
    parse_unverified_signed_metadata,
)

ISSUER = "https://credential-issuer.example.com"


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
        "ATTEST_JWT_CLIENT_AUTH",
        "AuthorizationServerMetadata",
        "CLIENT_ATTESTATION_HEADER",
        "CLIENT_ATTESTATION_POP_HEADER",
        "CLIENT_ATTESTATION_POP_TYP",
        "CLIENT_ATTESTATION_TYP",
        "ClientAttestation",
        "DPOP_MAX_AGE",
        "DPOP_MAX_SKEW",
        "DPOP_TYP",
        "HttpUrl",
        "IssuerIdentifier",
        "JsonWebKeySet",
        "OAuthErrorResponse",
        "VerifiedClientAttestation",
        "VerifiedDpopProof",
        "WireMessage",
        "access_token_hash",
        "build_client_attestation",
        "build_client_attestation_pop",
        "build_dpop_proof",
        "describe",
        "dpop_htu",
        "is_loopback_host",
        "is_parsing",
        "parse_form",
        "parse_message",
        "problem",
        "require_https",
        "split_link",
        "split_url",
        "too_large",
        "verify_client_attestation",
        "verify_dpop_proof",
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
        [{"path": ["a", "b"]}, {"path": ["c"]}, {"path": ["a", "b"]}],
        [{"path": ["n", None]}, {"path": ["n", 0]}],
        [{"path": ["n", "x"]}, {"path": ["n", 0]}],
        [{"path": ["a", "b", "c"]}, {"path": ["d"]}, {"path": ["a", None]}],
        [{"path": ["a", None, 1]}, {"path": ["a", None, "x"]}],
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


def test_claim_descriptions_that_share_prefixes_are_accepted() -> None:
    claims = [{"path": ["a"]}, {"path": ["a", "b"]}, {"path": ["a", "c"]}, {"path": ["n", None]}]
    nested = [{"path": ["n", None, "x"]}, {"path": ["n", None, "y"]}]
    # Names only, with an array element, and with names under the array's elements.
    for described in (claims[:3], claims, claims + nested):
        config = {"format": "dc+sd-jwt", "vct": "v", "credential_metadata": {"claims": described}}
        parsed = parse_credential_issuer_metadata(
            _metadata(credential_configurations_supported={"x": config})
        )
        found = parsed.configuration("x")
        assert found is not None and found.credential_metadata is not None
        assert [c.path for c in found.credential_metadata.claims or ()] == [
            tuple(c["path"]) for c in described
        ]


_COMPONENTS = st.sampled_from(["a", "b", None, 0, 1])


@given(st.lists(st.lists(_COMPONENTS, min_size=1, max_size=4), min_size=1, max_size=6))
def test_claim_descriptions_are_refused_exactly_when_two_describe_one_place(
    paths: list[list[str | int | None]],
) -> None:
    # App. B.3, stated directly: a path twice, or siblings of two kinds (a name beside a null
    # or an index, a null beside an index) under one prefix.
    kinds: dict[tuple[Any, ...], set[type | None]] = {}
    for path in paths:
        for i, component in enumerate(path):
            kinds.setdefault(tuple(path[:i]), set()).add(
                None if component is None else type(component)
            )
    expected = len({tuple(p) for p in paths}) != len(paths) or any(
        len(k) > 1 for k in kinds.values()
    )
    config = {
        "format": "dc+sd-jwt",
        "vct": "v",
        "credential_metadata": {"claims": [{"path": p} for p in paths]},
    }
    document = _metadata(credential_configurations_supported={"x": config})
    if expected:
        with pytest.raises(InvalidRequest, match=r"App\. B\.3"):
            parse_credential_issuer_metadata(document)
    else:
        parse_credential_issuer_metadata(document)


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


@pytest.mark.parametrize(
    "link",
    [
        "openid-credential-offer://?credential_offer_uri=https://i.example/o/1 x",
        "openid4vp://?client_id=x509_san_dns:v.example&request_uri=https://v.example/r\t1",
        "openid4vp://?client_id=x&request_uri=https://v.example/r\u00a01",  # no-break space
        "openid4vp://?client_id=x&request_uri=https://v.example/r\u30001",  # ideographic space
        "?credential_offer_uri=https://i.example/o/1",  # no scheme
    ],
)
def test_a_link_with_whitespace_or_no_scheme_is_refused(link: str) -> None:
    from honnin.oid4vci import parse_credential_offer_uri
    from honnin.oid4vp import parse_authorization_request_uri

    with pytest.raises(InvalidRequest, match="no scheme or contains whitespace"):
        honnin.oauth.split_link(link, what="link")
    parse = parse_authorization_request_uri if "openid4vp" in link else parse_credential_offer_uri
    with pytest.raises(InvalidRequest):
        parse(link)
