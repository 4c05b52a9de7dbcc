"""The OpenID4VP verifier service over real HTTP (uvicorn on 127.0.0.1).

The wallet side is played here with httpx and honnin.sdjwt / honnin.mdoc / honnin.jose.jwe
directly, following what the verifier's own signed request object says.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image
from test_oid4vp_service_support import bound_socket, serving
from test_verifier_support import (
    Holder,
    catalogue_type,
    encryption_jwk,
    issue_mdoc_credential,
    issue_sd_jwt_vc,
    pki_at,
    present_mdoc,
    present_sd_jwt,
    request_claims,
    response_payload,
)

from honnin.clock import SystemClock
from honnin.encoding import json_dumps
from honnin.jose import parse_jws, verify_jws
from honnin.jose.jwe import encrypt_response
from honnin.trust import certificates_from_x5c
from verifier import SqliteTransactionStore, Verifier, VerifierSettings, create_app

SLIP = "withholding-slip"
TOKEN = "t" * 40


@dataclass
class Service:
    agency: Verifier
    base: str
    http: httpx.Client
    pki: Any

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("purpose", "unemployment benefit application")
        if "dcql_query" not in body:
            body.setdefault("credential_type", SLIP)
            body.setdefault("claims", ["payment_amount", "withholding_tax"])
        answer = self.http.post(f"{self.base}/transactions", json=body, headers=_auth())
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def fetch_request(self, created: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.get(created["request_uri"])
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/oauth-authz-req+jwt"
        return request_claims(answer.text)

    def respond(self, claims: dict[str, Any], vp_token: dict[str, list[str]]) -> httpx.Response:
        jwe = encrypt_response(response_payload(vp_token, claims["state"]), encryption_jwk(claims))
        return self.http.post(claims["response_uri"], data={"response": jwe})

    def result(self, created: dict[str, Any], **params: Any) -> httpx.Response:
        return self.http.get(created["result"], params=params, headers=_auth())


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def service() -> Iterator[Service]:
    pki = pki_at(SystemClock())
    agency = Verifier.create("Hello Work", trust=[pki.root.certificate])
    with bound_socket() as (sock, base):
        settings = VerifierSettings(public_url=base, dev=True, api_token=TOKEN)
        with serving(create_app(agency, settings), sock), httpx.Client(timeout=30) as http:
            yield Service(agency, base, http, pki)


def _slip_presentation(service: Service, claims: dict[str, Any]) -> str:
    holder = Holder()
    token = issue_sd_jwt_vc(service.pki, SLIP, holder, now=SystemClock().now())
    return present_sd_jwt(token, holder, [("payment_amount",), ("withholding_tax",)], claims)


# -- cross-device flow -------------------------------------------------------------------


def test_cross_device_sd_jwt_vc_flow(service: Service) -> None:
    created = service.create()
    # The QR code decodes to the openid4vp:// URI, which names the request_uri.
    qr = service.http.get(created["qr_png"], headers=_auth())
    assert qr.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(qr.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [d.text for d in decoded] == [created["uri"]]
    query = parse_qs(urlsplit(created["uri"]).query)
    assert query["client_id"] == [service.agency.client_id]
    assert query["request_uri"] == [created["request_uri"]]
    svg = service.http.get(created["qr_svg"], headers=_auth())
    assert svg.headers["content-type"].startswith("image/svg+xml")
    # The signed request object verifies with its x5c leaf.
    jar = service.http.get(created["request_uri"]).text
    jws = parse_jws(jar)
    assert jws.header["typ"] == "oauth-authz-req+jwt"
    verify_jws(jws, certificates_from_x5c(jws.header["x5c"])[0].public_key())  # type: ignore[arg-type]
    claims = request_claims(jar)
    assert claims["response_uri"] == f"{service.base}/response"
    assert claims["response_mode"] == "direct_post.jwt"
    assert service.result(created).status_code == 202
    answer = service.respond(claims, {SLIP: [_slip_presentation(service, claims)]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    result = service.result(created).json()
    assert result["status"] == "verified" and result["verified"] is True
    assert result["claims"] == {"payment_amount": 5_000_000, "withholding_tax": 93_900}
    # D2: once answered, the request object is no longer served.
    assert service.http.get(created["request_uri"]).status_code == 404


def test_the_request_object_is_served_again_until_answered(service: Service) -> None:
    created = service.create()
    first = service.http.get(created["request_uri"]).text
    second = service.http.get(created["request_uri"]).text
    assert first == second


def test_request_uri_method_post_echoes_the_wallet_nonce(service: Service) -> None:
    created = service.create(request_uri_method="post")
    assert parse_qs(urlsplit(created["uri"]).query)["request_uri_method"] == ["post"]
    answer = service.http.post(
        created["request_uri"],
        data={
            "wallet_nonce": "qPmxiNFCR3QTm19POc8u",
            "wallet_metadata": '{"vp_formats_supported": {}}',
        },
        headers={"Accept": "application/oauth-authz-req+jwt"},
    )
    assert answer.status_code == 200
    assert request_claims(answer.text)["wallet_nonce"] == "qPmxiNFCR3QTm19POc8u"


@pytest.mark.parametrize(
    "metadata",
    [
        "[]",
        "{",
        '{"vp_formats_supported": 3}',
        '{"request_object_signing_alg_values_supported": ["RS256"]}',
        "x" * 70_000,
    ],
)
def test_bad_wallet_metadata_is_refused(service: Service, metadata: str) -> None:
    created = service.create(request_uri_method="post")
    answer = service.http.post(created["request_uri"], data={"wallet_metadata": metadata})
    assert answer.status_code in (400, 413)
    assert "error" in answer.json()


def test_an_unknown_request_id_is_404_with_an_empty_body(service: Service) -> None:
    answer = service.http.get(f"{service.base}/request/no-such-request")
    assert answer.status_code == 404 and answer.content == b""


def test_mdoc_over_http(service: Service) -> None:
    holder = Holder()
    credential = issue_mdoc_credential(service.pki, SLIP, holder, now=SystemClock().now())
    created = service.create(claims=["payment_amount"], format="mso_mdoc")
    claims = service.fetch_request(created)
    namespace = catalogue_type(SLIP).namespaces[0]
    presentation = present_mdoc(
        credential, holder, {namespace: ["payment_amount"]}, claims,
        encrypted_to=encryption_jwk(claims),
    )  # fmt: skip
    query_id = claims["dcql_query"]["credentials"][0]["id"]
    assert service.respond(claims, {query_id: [presentation]}).status_code == 200
    assert service.result(created).json()["claims"] == {"payment_amount": 5_000_000}


def test_a_dcql_query_needing_both_credentials(service: Service) -> None:
    holder = Holder()
    now = SystemClock().now()
    token = issue_sd_jwt_vc(service.pki, SLIP, holder, now=now)
    birth = issue_mdoc_credential(service.pki, "birth-certificate", holder, now=now)
    (namespace, element), _ = catalogue_type("birth-certificate").mdoc.elements[0]
    dcql = {
        "credentials": [
            {"id": "slip", "format": "dc+sd-jwt",
             "meta": {"vct_values": [catalogue_type(SLIP).vct]},
             "claims": [{"path": ["payment_amount"]}]},
            {"id": "birth", "format": "mso_mdoc",
             "meta": {"doctype_value": catalogue_type("birth-certificate").doctype},
             "claims": [{"path": [namespace, element]}]},
        ],
        "credential_sets": [{"options": [["slip", "birth"]]}],
    }  # fmt: skip
    created = service.create(dcql_query=dcql)
    claims = service.fetch_request(created)
    slip = present_sd_jwt(token, holder, [("payment_amount",)], claims)
    mdoc = present_mdoc(
        birth, holder, {namespace: [element]}, claims, encrypted_to=encryption_jwk(claims)
    )
    assert service.respond(claims, {"slip": [slip], "birth": [mdoc]}).status_code == 200
    result = service.result(created).json()
    assert result["verified"] and set(result["credentials"]) == {"slip", "birth"}
    # Only the slip is missing: the required set is not satisfied, 400 naming the query.
    created = service.create(dcql_query=dcql)
    claims = service.fetch_request(created)
    slip = present_sd_jwt(token, holder, [("payment_amount",)], claims)
    answer = service.respond(claims, {"slip": [slip]})
    assert answer.status_code == 400
    assert [(e["code"], e["query_id"]) for e in answer.json()["errors"]] == [
        ("required_credential_missing", "birth")
    ]


def test_long_poll_returns_when_the_response_arrives(service: Service) -> None:
    created = service.create()
    claims = service.fetch_request(created)
    polled: list[httpx.Response] = []
    waiter = threading.Thread(target=lambda: polled.append(service.result(created, wait=20)))
    waiter.start()
    assert service.respond(claims, {SLIP: [_slip_presentation(service, claims)]}).status_code == 200
    waiter.join(timeout=20)
    assert polled and polled[0].status_code == 200 and polled[0].json()["verified"] is True


def test_same_device_redirect_carries_a_response_code(service: Service) -> None:
    created = service.create(redirect_uri="https://agency.example/done")
    claims = service.fetch_request(created)
    answer = service.respond(claims, {SLIP: [_slip_presentation(service, claims)]})
    redirect = answer.json()["redirect_uri"]
    assert redirect.startswith("https://agency.example/done#response_code=")
    code = redirect.split("=", 1)[1]
    assert service.result(created).status_code == 400  # §13.3: needs the response_code
    assert service.result(created, response_code="wrong").status_code == 400
    assert service.result(created, response_code=code).json()["verified"] is True
    assert service.result(created, response_code=code).status_code == 400  # VS-30: once


# -- hostile answers at the response endpoint: each a 4xx, nothing accepted -------------------


def test_unknown_state_is_400(service: Service) -> None:
    answer = service.http.post(
        f"{service.base}/response", data={"vp_token": "{}", "state": "no-such-state"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_an_answered_transaction_cannot_be_answered_again(service: Service) -> None:
    created = service.create()
    claims = service.fetch_request(created)
    vp_token = {SLIP: [_slip_presentation(service, claims)]}
    assert service.respond(claims, vp_token).status_code == 200
    again = service.respond(claims, vp_token)
    assert again.status_code == 400 and again.json()["code"] in ("replay_detected", "not_found")
    assert service.result(created).json()["verified"] is True


def test_twenty_concurrent_posts_of_one_response_accept_exactly_one(service: Service) -> None:
    created = service.create(response_mode="direct_post")
    claims = service.fetch_request(created)
    vp_token = json_dumps({SLIP: [_slip_presentation(service, claims)]})
    body = {"vp_token": vp_token, "state": claims["state"]}
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def post() -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            statuses.append(client.post(claims["response_uri"], data=body).status_code)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [400] * 19


def test_kb_jwt_for_another_audience_is_400_naming_the_credential(service: Service) -> None:
    created = service.create()
    claims = service.fetch_request(created)
    holder = Holder()
    token = issue_sd_jwt_vc(service.pki, SLIP, holder, now=SystemClock().now())
    presentation = present_sd_jwt(
        token, holder, [("payment_amount",), ("withholding_tax",)], claims,
        aud="x509_san_dns:elsewhere.example",
    )  # fmt: skip
    answer = service.respond(claims, {SLIP: [presentation]})
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert (error["code"], error["reason"], error["query_id"]) == (
        "invalid_key_binding", "aud", SLIP,
    )  # fmt: skip
    assert service.result(created).json()["verified"] is False


def test_a_body_over_two_mebibytes_is_413(service: Service) -> None:
    answer = service.http.post(
        f"{service.base}/response",
        content=b"response=" + b"a" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "invalid_request"


def test_a_jwe_to_another_key_is_400(service: Service) -> None:
    created = service.create()
    other = service.fetch_request(service.create())
    claims = service.fetch_request(created)
    key = dict(encryption_jwk(other), kid=encryption_jwk(claims)["kid"])
    payload = response_payload({SLIP: [_slip_presentation(service, claims)]}, claims["state"])
    answer = service.http.post(
        claims["response_uri"], data={"response": encrypt_response(payload, key)}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "decryption_failed"
    assert service.result(created).status_code == 202  # still pending: nothing stored


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("vp_token=%7B%7D&state=a&state=b", "application/x-www-form-urlencoded"),
        ('{"vp_token": {}}', "application/json"),
        ("state=%FF", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_forms_are_400(service: Service, body: str, content_type: str) -> None:
    answer = service.http.post(
        f"{service.base}/response", content=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == 400


def test_the_back_office_needs_the_token(service: Service) -> None:
    created = service.create()
    assert service.http.get(created["result"]).status_code == 401
    assert service.http.post(f"{service.base}/transactions", json={}).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 40}
    assert service.http.get(created["result"], headers=wrong).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "x", "credential_type": "no-such-type"},
        {"purpose": "x", "credential_type": SLIP, "claims": ["nope"]},
        {"purpose": "x"},
        {"purpose": "x", "dcql_query": {"credentials": []}},
        {"purpose": "x", "credential_type": SLIP, "request_uri_method": "put"},
        {"credential_type": SLIP},
        {"purpose": "x", "credential_type": SLIP, "surprise": 1},
    ],
)
def test_bad_transaction_requests_are_400(service: Service, body: dict[str, Any]) -> None:
    answer = service.http.post(f"{service.base}/transactions", json=body, headers=_auth())
    assert answer.status_code == 400, answer.text


def test_insecure_settings_are_refused_outside_dev_mode(tmp_path: Any) -> None:
    agency = Verifier.create(
        "Hello Work",
        trust=[],
        client_id_host="verifier.example",
        store=SqliteTransactionStore(tmp_path / "v.sqlite3"),
    )
    with pytest.raises(ValueError, match="public_url"):
        create_app(agency, VerifierSettings(public_url="http://verifier.example"))
    with pytest.raises(ValueError, match="api_token"):
        create_app(agency, VerifierSettings(public_url="https://verifier.example"))
    with pytest.raises(ValueError, match="host"):
        create_app(
            agency,
            VerifierSettings(public_url="https://other.example", api_token=TOKEN),
        )
    good = VerifierSettings(public_url="https://verifier.example", api_token=TOKEN)
    assert create_app(agency, good)
    in_memory = Verifier.create("Hello Work", trust=[], client_id_host="verifier.example")
    with pytest.raises(ValueError, match="durable store"):
        create_app(in_memory, good)
