"""``verifier.VerifierClient``: the verifier service's back office from Python, over real HTTP
(uvicorn on 127.0.0.1). The wallet is played with the verifier test support, as in
test_oid4vp_service; hostile answers come from small ASGI apps served the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_oid4vp_service_support import bound_socket, serving
from test_verifier_support import (
    SLIP,
    Holder,
    encrypted_slip_answer,
    encryption_jwk,
    issue_sd_jwt_vc,
    pki_at,
    present_sd_jwt,
    request_claims,
    response_payload,
)

from honnin.clock import SystemClock
from honnin.errors import (
    FetchError,
    HonninError,
    InvalidClient,
    InvalidRequest,
    MalformedInput,
    NotFound,
)
from honnin.http import HttpxFetcher
from honnin.jose.jwe import encrypt_response
from verifier import (
    CreatedTransaction,
    MemoryTransactionStore,
    Transaction,
    Verifier,
    VerifierClient,
    VerifierSettings,
    create_app,
)

TOKEN = "k" * 40
CLAIMS = ["payment_amount", "withholding_tax"]


class _CountingStore(MemoryTransactionStore):
    def __init__(self) -> None:
        super().__init__()
        self.added = 0

    def add(self, transaction: Transaction) -> None:
        super().add(transaction)
        self.added += 1


@dataclass
class Agency:
    verifier: Verifier
    base: str
    pki: Any
    store: _CountingStore

    def answer(self, created: CreatedTransaction) -> dict[str, Any]:
        """The wallet's part: fetch the signed request, post a slip's two amounts encrypted."""
        with httpx.Client(timeout=30) as http:
            claims = request_claims(http.get(created.request_uri).text)
            answer = encrypted_slip_answer(self.pki, SystemClock(), claims)
            posted = http.post(claims["response_uri"], data=answer)
            assert posted.status_code == 200, posted.text
            body: dict[str, Any] = posted.json()
            return body


@pytest.fixture
def agency() -> Iterator[Agency]:
    pki = pki_at(SystemClock())
    store = _CountingStore()
    verifier = Verifier.create("Hello Work", trust=[pki.root.certificate], store=store)
    with bound_socket() as (sock, base):
        settings = VerifierSettings(public_url=base, dev=True, api_token=TOKEN)
        with serving(create_app(verifier, settings), sock):
            yield Agency(verifier, base, pki, store)


@pytest.fixture
def office(agency: Agency) -> Iterator[VerifierClient]:
    with VerifierClient(agency.base, api_token=TOKEN) as client:
        yield client


def test_request_then_result_gives_the_verified_claims(
    agency: Agency, office: VerifierClient
) -> None:
    created = office.request(SLIP, CLAIMS, purpose="unemployment benefit application")
    assert created.client_id == agency.verifier.client_id
    query = parse_qs(urlsplit(created.uri).query)
    assert query["request_uri"] == [created.request_uri]
    assert created.result.endswith(f"/transactions/{created.transaction_id}/result")
    assert created.qr_png.endswith("/qr.png") and created.qr_svg.endswith("/qr.svg")
    assert office.result(created.transaction_id) is None  # pending: no response yet
    agency.answer(created)
    result = office.result(created.transaction_id)
    assert result is not None and result.verified
    assert result.transaction_id == created.transaction_id
    assert result.claims == {"payment_amount": 5_000_000, "withholding_tax": 93_900}
    assert result["payment_amount"] == 5_000_000
    # The labels come from the catalogue, as Verifier.result gives them in process.
    in_process = agency.verifier.result(created.transaction_id)
    assert in_process is not None
    assert result.form(labels="ja") == in_process.form(labels="ja")
    assert [label for label, _ in result.form(labels="ja")] != CLAIMS


def test_a_failed_verification_is_a_result_with_its_errors_and_no_claims(
    agency: Agency, office: VerifierClient
) -> None:
    created = office.request(SLIP, CLAIMS, purpose="benefit")
    with httpx.Client(timeout=30) as http:
        claims = request_claims(http.get(created.request_uri).text)
        holder = Holder()
        token = issue_sd_jwt_vc(agency.pki, SLIP, holder, now=SystemClock().now())
        paths = [("payment_amount",), ("withholding_tax",)]
        presentation = present_sd_jwt(
            token, holder, paths, claims, aud="x509_san_dns:elsewhere.example"
        )
        payload = response_payload({SLIP: [presentation]}, claims["state"])
        jwe = encrypt_response(payload, encryption_jwk(claims))
        assert http.post(claims["response_uri"], data={"response": jwe}).status_code == 400
    result = office.result(created.transaction_id)
    assert result is not None and result.verified is False
    assert result.claims == {} and result.credentials == {}
    codes = [(e.code, e.query_id) for e in result.errors]
    assert codes == [("invalid_key_binding", SLIP), ("required_credential_missing", SLIP)]


def test_a_long_poll_returns_when_the_wallet_answers(
    agency: Agency, office: VerifierClient
) -> None:
    created = office.request(SLIP, CLAIMS, purpose="benefit")
    polled: list[Any] = []
    waiter = threading.Thread(
        target=lambda: polled.append(office.result(created.transaction_id, wait=20))
    )
    waiter.start()
    agency.answer(created)
    waiter.join(timeout=20)
    assert polled and polled[0] is not None and polled[0].verified


def test_same_device_results_need_the_response_code_once(
    agency: Agency, office: VerifierClient
) -> None:
    created = office.request(
        SLIP, CLAIMS, purpose="benefit", redirect_uri="https://agency.example/done"
    )
    redirect = agency.answer(created)["redirect_uri"]
    code = redirect.split("#response_code=", 1)[1]
    with pytest.raises(InvalidRequest):  # OpenID4VP 1.0 §13.3
        office.result(created.transaction_id)
    with pytest.raises(InvalidRequest):
        office.result(created.transaction_id, response_code="wrong")
    result = office.result(created.transaction_id, response_code=code)
    assert result is not None and result.verified
    with pytest.raises(InvalidRequest):  # VS-30: the code is used once
        office.result(created.transaction_id, response_code=code)


def test_a_raw_dcql_query_and_the_request_options_reach_the_service(
    agency: Agency, office: VerifierClient
) -> None:
    query = {
        "credentials": [
            {
                "id": "slip",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [agency.verifier.catalogue.get(SLIP).vct]},
                "claims": [{"path": ["payment_amount"]}],
            }
        ]
    }
    created = office.request(
        dcql_query=query, purpose="benefit", response_mode="direct_post", request_uri_method="post"
    )
    assert parse_qs(urlsplit(created.uri).query)["request_uri_method"] == ["post"]
    stored = agency.verifier.store.get(created.transaction_id)
    assert stored is not None and stored.response_mode == "direct_post"
    assert [c["id"] for c in stored.dcql_query["credentials"]] == ["slip"]


def test_the_wrong_token_or_none_is_invalid_client(agency: Agency) -> None:
    for token in ("x" * 40, None):
        with VerifierClient(agency.base, api_token=token) as client:
            with pytest.raises(InvalidClient):
                client.request(SLIP, CLAIMS, purpose="benefit")
            with pytest.raises(InvalidClient):
                client.result("anything")
    assert agency.store.added == 0  # nothing was created


def test_an_unknown_transaction_is_not_found(office: VerifierClient) -> None:
    with pytest.raises(NotFound):
        office.result("no-such-transaction")
    with pytest.raises(NotFound):  # an id that is not a path segment stays one
        office.result("../../transactions")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.request("no-such-type", [], purpose="x"),
        lambda c: c.request(SLIP, ["nope"], purpose="x"),
        lambda c: c.request(purpose="x"),
        lambda c: c.request(SLIP, CLAIMS, purpose=""),
    ],
)
def test_a_request_the_service_refuses_is_invalid_request(
    agency: Agency, office: VerifierClient, call: Callable[[VerifierClient], Any]
) -> None:
    with pytest.raises(InvalidRequest):
        call(office)
    assert agency.store.added == 0


@pytest.mark.parametrize(
    "base",
    [
        "http://agency.example",  # the token would travel in clear
        "ftp://127.0.0.1",
        "https://",
        "https://agency.example/?x=1",
        "https://agency.example/#f",
        "not a url",
    ],
)
def test_an_insecure_or_broken_base_url_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="https"):
        VerifierClient(base, api_token=TOKEN)


def test_claims_without_a_type_are_refused_before_any_request(
    agency: Agency, office: VerifierClient
) -> None:
    with pytest.raises(ValueError, match="credential_type"):
        office.request(claims=CLAIMS, purpose="x")
    assert agency.store.added == 0


def test_the_token_is_not_in_the_repr(office: VerifierClient) -> None:
    assert TOKEN not in repr(office) and "VerifierClient" in repr(office)


@pytest.mark.parametrize("wait", [-1.0, float("nan"), float("inf")])
def test_a_bad_wait_is_refused_before_any_request(office: VerifierClient, wait: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        office.result("t", wait=wait)


# -- a hostile or broken service ------------------------------------------------------------


def _app(status: int, body: bytes, *, delay: float = 0.0) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if delay:
            await asyncio.sleep(delay)
        headers = [(b"content-type", b"application/json")]
        if status in (301, 302):
            headers.append((b"location", b"http://127.0.0.1:1/elsewhere"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@contextmanager
def _service(app: Any) -> Iterator[str]:
    with bound_socket() as (sock, base), serving(app, sock):
        yield base


_TRANSACTION = (
    b'{"transaction_id":"t","client_id":"c","uri":"openid4vp://?x","request_uri":"http://r",'
    b'"qr_png":"q","qr_svg":"s","result":"http://res","expires_at":1}'
)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (201, b"<html>not json</html>", MalformedInput),
        (201, b'{"transaction_id":"t"}', MalformedInput),
        (201, b"[1, 2]", MalformedInput),
        (201, _TRANSACTION.replace(b'"expires_at":1', b'"expires_at":"1"'), MalformedInput),
        (201, _TRANSACTION.replace(b'"expires_at":1', b'"expires_at":true'), MalformedInput),
        (201, _TRANSACTION.replace(b'"uri":"openid4vp://?x"', b'"uri":""'), MalformedInput),
        (201, b'{"a":1,"a":2}', MalformedInput),  # duplicate member (strict JSON)
        (201, b"[" * 5000, MalformedInput),
        (201, b'{"x":"' + b"a" * 70_000 + b'"}', FetchError),  # over the 64 KiB bound
        (302, b"", MalformedInput),  # a redirect is not followed
        (204, b"", MalformedInput),
        (500, b"", FetchError),
        (503, b'{"error":"temporarily_unavailable"}', HonninError),
    ],
)
def test_a_broken_service_answer_to_request_is_a_typed_error(
    status: int, body: bytes, error: type[HonninError]
) -> None:
    with (
        _service(_app(status, body)) as base,
        VerifierClient(base, api_token=TOKEN) as client,
        pytest.raises(error),
    ):
        client.request(SLIP, CLAIMS, purpose="x")


def test_a_well_formed_transaction_answer_parses() -> None:
    with _service(_app(201, _TRANSACTION)) as base, VerifierClient(base, api_token=TOKEN) as c:
        created = c.request(SLIP, CLAIMS, purpose="x")
    assert created == CreatedTransaction("t", "c", "openid4vp://?x", "http://r", "q", "s",
                                         "http://res", 1)  # fmt: skip


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"status":"verified"}', MalformedInput),
        (b'{"verified":"true","transaction_id":"t"}', MalformedInput),
        (b'{"verified":true}', MalformedInput),  # no transaction_id
        (b'{"verified":true,"transaction_id":"t","credentials":{"q":[{"x":1}]}}', MalformedInput),
        (b'{"verified":true,"transaction_id":"t","errors":[5]}', MalformedInput),
        (b"null", MalformedInput),
    ],
)
def test_a_malformed_result_is_malformed_input(body: bytes, error: type[HonninError]) -> None:
    with (
        _service(_app(200, body)) as base,
        VerifierClient(base, api_token=TOKEN) as client,
        pytest.raises(error),
    ):
        client.result("t")


def test_a_result_over_the_bound_is_refused() -> None:
    huge = b'{"verified":true,"x":"' + b"a" * (4 * 1024 * 1024) + b'"}'
    with (
        _service(_app(200, huge)) as base,
        VerifierClient(base, api_token=TOKEN) as client,
        pytest.raises(FetchError) as raised,
    ):
        client.result("t")
    assert raised.value.fields.get("reason") == "too_large"


def test_a_long_poll_outlasts_the_fetchers_read_timeout() -> None:
    # The service answers after 1.5 s; the client's read timeout is 0.5 s, but a result
    # waited for gets wait + a margin.
    with (
        _service(_app(202, b'{"status":"pending"}', delay=1.5)) as base,
        VerifierClient(base, api_token=TOKEN, timeout=0.5) as client,
    ):
        with pytest.raises(FetchError) as raised:
            client.result("t")
        assert raised.value.fields.get("reason") == "timeout"
        assert client.result("t", wait=1.5) is None


def test_a_shared_fetcher_stays_open() -> None:
    with _service(_app(202, b'{"status":"pending"}')) as base, HttpxFetcher() as fetcher:
        with VerifierClient(base, api_token=TOKEN, fetcher=fetcher) as client:
            assert client.result("t") is None
        assert not fetcher.closed
        assert fetcher.request("GET", base, max_bytes=1000).status == 202
