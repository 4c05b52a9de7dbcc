"""OpenID4VP 1.0 messages: Authorization Request (§5), client_id prefixes (§5.9), the
invocation link (§5.7), Authorization Response and errors (§8)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectors import load_json

import honnin.oid4vp
from honnin.errors import InvalidDcqlQuery, InvalidRequest, MalformedJson, TooLarge
from honnin.jose import generate_key, jwk_from_private_key, jwk_from_public_key
from honnin.jose.jwe import JweEncryption
from honnin.oid4vp import (
    AuthorizationRequest,
    AuthorizationResponse,
    ClientIdPrefix,
    ClientMetadata,
    RequestUriMethod,
    RequestUriPost,
    VpErrorResponse,
    build_authorization_request_uri,
    parse_authorization_request,
    parse_authorization_request_uri,
    parse_authorization_response,
    parse_client_id,
    parse_request_uri_post,
    select_response_encryption,
)

CLIENT_ID = "x509_san_dns:verifier.example"


def _request(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": "https://verifier.example/post",
        "nonce": "n-0S6_WzA2Mj",
        "state": "eyJhb-6-sVA",
        "dcql_query": load_json("dcql", "simple.json"),
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def test_public_api_is_pinned() -> None:
    assert honnin.oid4vp.__all__ == [
        "DEFAULT_TRANSACTION_DATA_HASH",
        "OPENID4VP_SCHEME",
        "REQUEST_OBJECT_MEDIA_TYPE",
        "REQUEST_OBJECT_TYP",
        "SELF_ISSUED_AUDIENCE",
        "TRANSACTION_DATA_HASH_ALGORITHMS",
        "VP_TOKEN",
        "AuthorizationRequest",
        "AuthorizationRequestLink",
        "AuthorizationResponse",
        "ClientId",
        "ClientIdPrefix",
        "ClientMetadata",
        "DirectPostResult",
        "RequestUriMethod",
        "RequestUriPost",
        "ResponseMode",
        "SignedRequestObject",
        "TransactionData",
        "UnverifiedRequestObject",
        "VerifierInfo",
        "VpErrorCode",
        "VpErrorResponse",
        "build_authorization_request_uri",
        "build_request_object",
        "check_client_id_certificate",
        "check_transaction_data_targets",
        "check_uri_host",
        "common_hash_algorithm",
        "encode_transaction_data",
        "invalid_transaction_data",
        "parse_authorization_request",
        "parse_authorization_request_uri",
        "parse_authorization_response",
        "parse_client_id",
        "parse_request_uri_post",
        "parse_transaction_data",
        "parse_unverified_request_object",
        "select_response_encryption",
        "transaction_data_hash",
        "verify_request_object_signature",
        "x509_hash",
        "x509_hash_client_id",
        "x509_san_dns_client_id",
    ]


# -- Authorization Request --------------------------------------------------------------------


def test_request_from_request_object_claims() -> None:
    request = parse_authorization_request(_request(iss="ignored", unknown={"x": 1}))
    assert request.dcql_query is not None
    assert request.dcql_query.credentials[0].id == "my_credential"
    assert not request.encrypted and "iss" not in request.to_json()


def test_request_from_url_parameters_with_json_text() -> None:
    raw = _request(
        client_id="redirect_uri:https://verifier.example/post",
        dcql_query=json.dumps(load_json("dcql", "simple_mdoc.json")),
        client_metadata=json.dumps({"vp_formats_supported": {"mso_mdoc": {}}, "other": 1}),
    )
    request = parse_authorization_request(raw)
    assert request.client_metadata is not None
    assert request.client_metadata.vp_formats_supported == {"mso_mdoc": {}}
    assert request.client_metadata.enc_values == ("A128GCM",)  # §5.1 default


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"response_type": "code"}, "response_type"),
        ({"nonce": None}, "nonce"),
        ({"nonce": "has space"}, "nonce"),
        ({"nonce": "ñ"}, "nonce"),
        ({"state": "a/b"}, "state"),
        ({"dcql_query": None}, "dcql_query"),
        ({"scope": "com.example.pid"}, "dcql_query"),
        ({"redirect_uri": "https://verifier.example/cb"}, "redirect_uri"),
        ({"response_uri": None}, "response_uri"),
        ({"request_uri_method": "post"}, "request_uri"),
        ({"request_uri": "https://v.example/r", "request_uri_method": "PUT"}, "get"),
        ({"client_id": "origin:https://verifier.example"}, "origin"),
        ({"client_id": ""}, "client_id"),
        ({"transaction_data": []}, "transaction_data"),
        ({"verifier_info": []}, "verifier_info"),
        ({"client_metadata": {"encrypted_response_enc_values_supported": []}}, "enc"),
        ({"response_uri": "https://[::1/post"}, "response_uri"),
        ({"response_uri": "https://v.example:port/post"}, "response_uri"),
        ({"response_uri": "javascript:alert(1)"}, "response_uri"),
    ],
)
def test_bad_requests(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidRequest, match=match):
        parse_authorization_request(_request(**changes))


def test_state_required_without_holder_binding() -> None:
    query = load_json("dcql", "simple.json")
    query["credentials"][0]["require_cryptographic_holder_binding"] = False
    with pytest.raises(InvalidRequest, match="state"):
        parse_authorization_request(_request(dcql_query=query, state=None))
    assert parse_authorization_request(_request(dcql_query=query)).state


def test_dcql_errors_keep_their_class() -> None:
    with pytest.raises(InvalidDcqlQuery):
        parse_authorization_request(_request(dcql_query={"credentials": []}))
    with pytest.raises(InvalidDcqlQuery):
        parse_authorization_request(_request(dcql_query="[1]"))
    with pytest.raises(MalformedJson):
        parse_authorization_request(_request(dcql_query='{"credentials": [], "credentials": 1}'))


def test_built_requests_forbid_unknown_members() -> None:
    with pytest.raises(TypeError, match="presentation_definition"):
        AuthorizationRequest(**_request(presentation_definition={}))


# -- client_id prefixes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "prefix", "identifier"),
    [
        ("x509_san_dns:client.example.org", ClientIdPrefix.X509_SAN_DNS, "client.example.org"),
        (
            "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
            ClientIdPrefix.X509_HASH,
            "Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
        ),
        (
            "redirect_uri:https://client.example.org/cb",
            ClientIdPrefix.REDIRECT_URI,
            "https://client.example.org/cb",
        ),
        (
            "decentralized_identifier:did:example:123",
            ClientIdPrefix.DECENTRALIZED_IDENTIFIER,
            "did:example:123",
        ),
        ("example-client", None, "example-client"),
        ("invalid_scheme:abc", None, "invalid_scheme:abc"),  # §5.9.2: pre-registered or refuse
    ],
)
def test_client_id_prefixes(client_id: str, prefix: ClientIdPrefix | None, identifier: str) -> None:
    parsed = parse_client_id(client_id)
    assert (parsed.prefix, parsed.identifier, parsed.raw) == (prefix, identifier, client_id)


@pytest.mark.parametrize(
    "client_id", ["origin:https://a.example", "x509_hash:", "", "x509_san_dns:"]
)
def test_refused_client_ids(client_id: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_client_id(client_id)


# -- invocation link ---------------------------------------------------------------------------


def test_link_round_trip() -> None:
    link = build_authorization_request_uri(
        client_id=CLIENT_ID,
        request_uri="https://verifier.example/r/1",
        request_uri_method=RequestUriMethod.POST,
    )
    assert link.startswith("openid4vp://?client_id=x509_san_dns%3Averifier.example&request_uri=")
    parsed = parse_authorization_request_uri(link)
    assert (parsed.client_id, parsed.request_uri, parsed.request_uri_method) == (
        CLIENT_ID,
        "https://verifier.example/r/1",
        RequestUriMethod.POST,
    )


@given(
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.sampled_from([None, "get", "post"]),
)
def test_link_round_trip_property(identifier: str, method: str | None) -> None:
    client_id = f"x509_hash:{identifier}"
    link = build_authorization_request_uri(
        client_id=client_id,
        request_uri="https://v.example/r?id=1&x=%20",
        request_uri_method=RequestUriMethod(method) if method else None,
    )
    parsed = parse_authorization_request_uri(link)
    assert parsed.client_id == client_id and parsed.request_uri == "https://v.example/r?id=1&x=%20"


def test_unsigned_by_value_link() -> None:
    params = _request(client_id="redirect_uri:https://verifier.example/post")
    params["dcql_query"] = json.dumps(params["dcql_query"])
    link = "https://wallet.example/authorize?" + "&".join(
        f"{k}={quote(v, safe='')}" for k, v in params.items()
    )
    parsed = parse_authorization_request_uri(link)
    assert parsed.request_uri is None and parsed.request is None
    assert parse_authorization_request(parsed.parameters).client_id.startswith("redirect_uri:")


@pytest.mark.parametrize(
    "link",
    [
        "openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr",
        "openid4vp://?client_id=a&client_id=b&request_uri=https%3A%2F%2Fv.example%2Fr",
        "openid4vp://?client_id=a&request=x.y.z&request_uri=https%3A%2F%2Fv.example%2Fr",
        "openid4vp://?client_id=a&request_uri=http%3A%2F%2Fv.example%2Fr",
        "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fv.example%2Fr&request_uri_method=PUT",
        "openid4vp://?client_id=a&request_uri_method=post",
        "openid4vp://?client_id=%FF&request_uri=https%3A%2F%2Fv.example%2Fr",
        "no link here",
        "openid4vp://[::1?client_id=a",
        "openid4vp://?client_id=a&request_uri=https%3A%2F%2F%5B%3A%3A1",
    ],
)
def test_bad_links(link: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_authorization_request_uri(link)


def test_bad_request_uri_method_names_its_error_code() -> None:
    link = (
        "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fv.example%2Fr&request_uri_method=Post"
    )
    with pytest.raises(InvalidRequest) as info:
        parse_authorization_request_uri(link)
    assert info.value.error == "invalid_request_uri_method"  # type: ignore[attr-defined]


def test_loopback_request_uri_when_allowed() -> None:
    link = build_authorization_request_uri(client_id="a", request_uri="http://127.0.0.1:9/r/1")
    assert (
        parse_authorization_request_uri(link, allow_loopback_http=True).request_uri
        == "http://127.0.0.1:9/r/1"
    )


def test_oversized_link() -> None:
    with pytest.raises(TooLarge):
        parse_authorization_request_uri("openid4vp://?client_id=" + "a" * 70_000)


# -- Authorization Response --------------------------------------------------------------------


def test_response_form_round_trip() -> None:
    response = AuthorizationResponse(vp_token={"my_credential": ("eyJhbGci...QMA~",)}, state="s")
    form = response.to_form()
    assert json.loads(form["vp_token"]) == {"my_credential": ["eyJhbGci...QMA~"]}
    assert parse_authorization_response(form) == response
    assert "eyJhbGci" not in repr(response) and "eyJhbGci" not in str(response)


def test_response_from_decrypted_payload_with_objects() -> None:
    payload = {"vp_token": {"ldp": [{"@context": [], "proof": {}}], "sd": ["a~b~"]}}
    assert parse_authorization_response(payload).vp_token["sd"] == ("a~b~",)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"vp_token": "[]"},
        {"vp_token": '{"a": []}', "state": "s"},
        {"vp_token": '{"bad key": ["x"]}'},
        {"vp_token": '{"a": [1]}'},
        {"vp_token": '{"a": "not-an-array"}'},
    ],
)
def test_bad_responses(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        parse_authorization_response(fields)


def test_too_many_presentations_before_any_crypto() -> None:
    token = json.dumps({"a": ["x"] * 10_000})
    with pytest.raises(TooLarge):
        parse_authorization_response({"vp_token": token})


def test_deeply_nested_vp_token() -> None:
    with pytest.raises(MalformedJson):
        parse_authorization_response({"vp_token": '{"a": [' + "[" * 3000 + "]" * 3000 + "]}"})


def test_error_response_form() -> None:
    error = VpErrorResponse(
        error="access_denied", error_description="the person declined", state="s"
    )
    assert error.to_form() == {
        "error": "access_denied",
        "error_description": "the person declined",
        "state": "s",
    }


def test_request_uri_post_form() -> None:
    post = RequestUriPost(
        wallet_metadata={"vp_formats_supported": {"dc+sd-jwt": {}}},
        wallet_nonce="qPmxiNFCR3QTm19POc8u",
    )
    assert parse_request_uri_post(post.to_form()) == post
    with pytest.raises(TooLarge):
        parse_request_uri_post({"wallet_metadata": json.dumps({"x": "a" * 70_000})})
    with pytest.raises(InvalidRequest):
        parse_request_uri_post({"wallet_metadata": "[1]"})


# -- choosing the response encryption key (§8.3, WL-14) ------------------------------------------


def _with_keys(keys: list[dict[str, Any]], encs: list[str] | None = None) -> AuthorizationRequest:
    metadata: dict[str, Any] = {"jwks": {"keys": keys}}
    if encs is not None:
        metadata["encrypted_response_enc_values_supported"] = encs
    return parse_authorization_request(
        _request(response_mode="direct_post.jwt", client_metadata=metadata)
    )


def _jwk(**extra: Any) -> dict[str, Any]:
    return {**jwk_from_public_key(generate_key()), "kid": "k", "alg": "ECDH-ES", **extra}


def test_first_usable_key_is_chosen() -> None:
    good = _jwk(kid="good", use="enc")
    unusable = [
        {
            "kty": "OKP",
            "crv": "X25519",
            "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc",
            "alg": "ECDH-ES",
            "kid": "a",
        },
        {"kty": "PQ", "kid": "pq", "alg": "ML-KEM-768"},
        _jwk(kid="sig", use="sig"),
        _jwk(kid="noalg", alg=None),
        _jwk(kid="kw", alg="ECDH-ES+A128KW"),
        {**jwk_from_private_key(generate_key()), "kid": "private", "alg": "ECDH-ES"},
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "AAAA",
            "y": "AAAA",
            "kid": "off-curve",
            "alg": "ECDH-ES",
        },
    ]
    key, enc = select_response_encryption(
        _with_keys([*unusable, good], ["A128CBC-HS256", "A256GCM"])
    )
    assert key["kid"] == "good" and enc is JweEncryption.A256GCM


def test_no_usable_key_fails_closed() -> None:
    with pytest.raises(InvalidRequest, match="usable"):
        select_response_encryption(_with_keys([_jwk(use="sig")]))
    with pytest.raises(InvalidRequest, match="enc"):
        select_response_encryption(_with_keys([_jwk()], ["A128CBC-HS256"]))
    plain = parse_authorization_request(_request(client_metadata=ClientMetadata().to_json()))
    with pytest.raises(InvalidRequest):
        select_response_encryption(plain)
