"""Cross-device presentation against a real verifier service (uvicorn on 127.0.0.1, reached
as ``localhost`` so that the ``x509_san_dns`` client_id names the response_uri host):
transaction → QR → the wallet fetches the signed request → consent → direct_post.jwt →
the verifier's result holds exactly the approved claims."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, StatusLists, sample

from honnin.errors import FetchError, InvalidRequest, NoMatchingCredential, UntrustedVerifier
from honnin.http import HttpResponse, HttpxFetcher
from issuer import Issuer
from verifier import Query, Verifier, VerifierSettings, create_app
from wallet import Submission, TrustState, Wallet

TOKEN = "t" * 40


def _local(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


@dataclass
class Agency:
    verifier: Verifier
    employer: Issuer
    base: str
    http: httpx.Client

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("purpose", PURPOSE)
        if "dcql_query" not in body:
            body.setdefault("credential_type", SLIP)
        answer = self.http.post(f"{self.base}/transactions", json=body, headers=_auth())
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def result(self, created: dict[str, Any], **params: Any) -> dict[str, Any]:
        answer = self.http.get(created["result"], params=params, headers=_auth())
        assert answer.status_code in (200, 202), answer.text
        found: dict[str, Any] = answer.json()
        return found

    def wallet(self, path: Path, *, copies: int = 2, **options: Any) -> Wallet:
        options.setdefault("trust", [self.employer.certificate, self.verifier.certificate])
        wallet = Wallet.open(path, PIN, kdf=FAST, allow_loopback_http=True, **options)
        for fmt in ("dc+sd-jwt", "mso_mdoc"):
            keys = wallet.binding_keys(copies)
            wallet.accept(self.employer.issue(SLIP, sample(), holder=keys, format=fmt))
        return wallet


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def agency() -> Iterator[Agency]:
    employer = Issuer.create("Example Corp")
    with bound_socket() as (sock, base):
        base = _local(base)
        verifier = Verifier.create(
            "Hello Work",
            trust=[employer.certificate],
            client_id_host="localhost",
            fetcher=StatusLists(employer),
        )
        settings = VerifierSettings(public_url=base, dev=True, api_token=TOKEN)
        with serving(create_app(verifier, settings), sock), httpx.Client(timeout=30) as http:
            yield Agency(verifier, employer, base, http)


def _scan(agency: Agency, created: dict[str, Any]) -> str:
    png = agency.http.get(created["qr_png"], headers=_auth())
    assert png.headers["content-type"] == "image/png"
    (decoded,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert decoded.text == created["uri"]
    return str(decoded.text)


def _present(wallet: Wallet, uri: str, **approve: Any) -> Submission:
    consent = wallet.consider(uri)
    return wallet.present(consent.approve(**approve), post=True)


def test_cross_device_sd_jwt_vc(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount", "withholding_tax"])
    uri = _scan(agency, created)
    with agency.wallet(tmp_path / "w") as wallet:
        consent = wallet.consider(uri)
        assert consent.verifier.trust is TrustState.TRUSTED
        assert consent.client_id == "x509_san_dns:localhost"
        assert consent.verifier.name == "Hello Work" and consent.purpose == PURPOSE
        (choice,) = consent.credentials
        assert choice.format == "dc+sd-jwt"
        submission = wallet.present(consent.approve(), post=True)
        assert submission == Submission(200)
    result = agency.result(created)
    assert result["status"] == "verified" and result["verified"], result
    assert result["claims"] == {
        "payment_amount": sample()["payment_amount"],
        "withholding_tax": sample()["withholding_tax"],
    }


def test_cross_device_mdoc(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount", "payer.name"], format="mso_mdoc")
    with agency.wallet(tmp_path / "w") as wallet:
        assert _present(wallet, _scan(agency, created)).status == 200
    result = agency.result(created)
    assert result["verified"], result
    assert result["claims"] == {
        "payment_amount": sample()["payment_amount"],
        "payer.name": sample()["payer"]["name"],
    }


def test_cross_device_query_needing_both_formats(agency: Agency, tmp_path: Path) -> None:
    query = Query.of(SLIP, "payment_amount", id="slip") & Query.of(
        SLIP, "withholding_tax", format="mso_mdoc", id="slip_mdoc"
    )
    created = agency.create(dcql_query=query.to_dcql(purpose=PURPOSE).to_json())
    with agency.wallet(tmp_path / "w") as wallet:
        consent = wallet.consider(_scan(agency, created))
        assert {c.query_id: c.format for c in consent.credentials} == {
            "slip": "dc+sd-jwt",
            "slip_mdoc": "mso_mdoc",
        }
        assert wallet.present(consent.approve(), post=True).status == 200
    result = agency.result(created)
    assert result["verified"], result
    assert set(result["claims"]) == {"payment_amount", "withholding_tax"}


def test_alternatives_and_a_dropped_optional_claim(agency: Agency, tmp_path: Path) -> None:
    sets = [["payment_amount", "withholding_tax"], ["payment_amount"]]
    sd = Query.of(SLIP, "payment_amount", "withholding_tax", claim_sets=sets)
    either = sd | Query.of(SLIP, "payment_amount", format="mso_mdoc")
    created = agency.create(dcql_query=either.to_dcql(purpose=PURPOSE).to_json())
    with agency.wallet(tmp_path / "w") as wallet:
        assert _present(wallet, created["uri"], drop=["withholding_tax"]).status == 200
    result = agency.result(created)
    assert result["verified"], result
    assert result["claims"] == {"payment_amount": sample()["payment_amount"]}


def test_request_uri_method_post(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount"], request_uri_method="post")
    assert "request_uri_method=post" in created["uri"]
    with agency.wallet(tmp_path / "w") as wallet:
        assert _present(wallet, created["uri"]).status == 200
    assert agency.result(created)["verified"]


def test_same_device_redirect_is_followed(agency: Agency, tmp_path: Path) -> None:
    seen: list[str] = []

    async def done(request: Request) -> PlainTextResponse:
        seen.append(str(request.url))
        return PlainTextResponse("thank you")

    frontend = Starlette(routes=[Route("/done", done)])
    with bound_socket() as (sock, base), serving(frontend, sock):
        created = agency.create(claims=["payment_amount"], redirect_uri=f"{base}/done")
        with agency.wallet(tmp_path / "w") as wallet:
            submission = _present(wallet, created["uri"])
    assert submission.status == 200 and submission.followed_status == 200
    assert submission.redirect_uri is not None
    code = submission.redirect_uri.split("#response_code=", 1)[1]
    assert seen == [f"{base}/done"]  # the fragment stays with the browser
    assert agency.result(created, response_code=code)["verified"]


def test_a_refusal_is_posted_as_access_denied(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount"])
    with agency.wallet(tmp_path / "w") as wallet:
        consent = wallet.consider(created["uri"])
        assert wallet.submit(consent.refuse()).status == 200
        assert [c.copies for c in wallet.credentials()] == [2, 2]
    result = agency.result(created)
    assert not result["verified"] and result["wallet_error"] == "access_denied"


def test_declining_when_nothing_matches(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(credential_type="resident-record", claims=["family_name"])
    with agency.wallet(tmp_path / "w") as wallet:
        with pytest.raises(NoMatchingCredential):
            wallet.consider(created["uri"])
        assert wallet.decline(created["uri"]).status == 200
    result = agency.result(created)
    assert not result["verified"] and result["wallet_error"] == "access_denied"


def test_a_response_posted_twice_is_refused(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount"])
    with agency.wallet(tmp_path / "w") as wallet:
        response = wallet.present(wallet.consider(created["uri"]).approve())
        assert wallet.submit(response).status == 200
        with pytest.raises(InvalidRequest):
            wallet.submit(response)


class _Watching(HttpxFetcher):
    """A real fetcher that notes which thread posts each response, and can lose them."""

    def __init__(self, *, lose: bool = False) -> None:
        super().__init__(timeout=30)
        self.posted_from: list[str] = []
        self.lose = lose

    def post_form(self, url: str, form: Mapping[str, str], **options: Any) -> HttpResponse:
        self.posted_from.append(threading.current_thread().name)
        if self.lose:
            url = url.replace(urlsplit(url).netloc, f"127.0.0.1:{_closed_port()}")
        return super().post_form(url, form, **options)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_posted_presentation_travels_while_the_used_key_is_wiped(
    agency: Agency, tmp_path: Path
) -> None:
    # present(post=True): the response is sent from a request thread once the spent copy is
    # committed; the WAL truncation runs meanwhile and is over when present() returns.
    created = agency.create(claims=["payment_amount"])
    path = tmp_path / "w"
    with _Watching() as fetcher, agency.wallet(path, fetcher=fetcher) as wallet:
        before = {c.id: c.copies for c in wallet.credentials()}
        assert wallet.present(wallet.consider(created["uri"]).approve(), post=True).status == 200
        assert fetcher.posted_from and "MainThread" not in fetcher.posted_from
        assert Path(f"{path}-wal").stat().st_size == 0
        after = {c.id: c.copies for c in wallet.credentials()}
        assert sum(before.values()) - sum(after.values()) == 1  # one copy spent
    assert agency.result(created)["verified"]


def test_a_presentation_that_cannot_be_sent_still_spends_and_wipes_its_copy(
    agency: Agency, tmp_path: Path
) -> None:
    created = agency.create(claims=["payment_amount"])
    path = tmp_path / "w"
    with _Watching(lose=True) as fetcher, agency.wallet(path, fetcher=fetcher) as wallet:
        before = sum(c.copies for c in wallet.credentials())
        approval = wallet.consider(created["uri"]).approve()
        with pytest.raises(FetchError) as info:
            wallet.present(approval, post=True)
        assert info.value.reason == "connect"  # type: ignore[attr-defined]
        # The copy left the wallet's hands once committed: it is not given back (WL-30).
        assert sum(c.copies for c in wallet.credentials()) == before - 1
        assert Path(f"{path}-wal").stat().st_size == 0


def test_a_running_low_callback_runs_once_the_posted_presentation_is_answered(
    agency: Agency, tmp_path: Path
) -> None:
    created = agency.create(claims=["payment_amount"])
    seen: list[str] = []

    def running_low(held: Any) -> None:
        seen.append(agency.result(created)["status"])  # the verifier has answered already
        raise RuntimeError("the top-up failed")

    with agency.wallet(tmp_path / "w", copies=2, on_running_low=running_low) as wallet:
        approval = wallet.consider(created["uri"]).approve()
        with pytest.raises(RuntimeError, match="top-up"):
            wallet.present(approval, post=True)
    assert seen == ["verified"]


# -- hostile over HTTP ----------------------------------------------------------------------


def test_a_request_from_an_untrusted_verifier_is_blocked_and_nothing_sent(
    agency: Agency, tmp_path: Path
) -> None:
    created = agency.create(claims=["payment_amount"])
    with agency.wallet(tmp_path / "w", trust=[agency.employer.certificate]) as wallet:
        consent = wallet.consider(created["uri"])
        assert consent.verifier.trust is TrustState.UNTRUSTED
        with pytest.raises(UntrustedVerifier):
            consent.approve()
        assert [c.copies for c in wallet.credentials()] == [2, 2]
    assert agency.result(created)["status"] == "pending"


def test_an_unknown_request_uri_is_a_fetch_error(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount"])
    uri = created["uri"].replace("%2Frequest%2F", "%2Frequest%2Fx")
    with agency.wallet(tmp_path / "w") as wallet, pytest.raises(FetchError):
        wallet.consider(uri)


def test_http_is_refused_unless_allowed_for_loopback(agency: Agency, tmp_path: Path) -> None:
    created = agency.create(claims=["payment_amount"])
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST) as wallet, pytest.raises(InvalidRequest):
        wallet.consider(created["uri"])


# -- pairwise pseudonyms through the back office ------------------------------------------------


def test_a_sign_in_by_pseudonym_through_the_service(agency: Agency, tmp_path: Path) -> None:
    with agency.wallet(tmp_path / "w") as wallet:
        answers = []
        for _ in range(2):
            created = agency.create(pseudonym=True, purpose="sign in to My Page")
            assert _present(wallet, created["uri"]) == Submission(200)
            answers.append(agency.result(created))
        expected = wallet.pseudonym(agency.verifier.client_id)
    first, again = answers
    assert first["verified"] and first["pseudonym"] == again["pseudonym"] == expected
    assert first["claims"] == {"sub": expected}


def test_a_pseudonym_together_with_claims_through_the_service(
    agency: Agency, tmp_path: Path
) -> None:
    created = agency.create(claims=["payment_amount"], pseudonym=True)
    with agency.wallet(tmp_path / "w") as wallet:
        assert _present(wallet, created["uri"]) == Submission(200)
        expected = wallet.pseudonym(agency.verifier.client_id)
    result = agency.result(created)
    assert result["verified"] and result["pseudonym"] == expected
    assert result["claims"]["payment_amount"] == sample()["payment_amount"]


@pytest.mark.parametrize(
    "body",
    [
        {"pseudonym": False},
        {"dcql_query": {"credentials": []}, "credential_type": SLIP},
        {"dcql_query": {"credentials": [{"id": "q", "format": "dc+sd-jwt"}]}, "pseudonym": True},
    ],
)
def test_a_transaction_body_that_asks_for_nothing_or_too_much_is_refused(
    agency: Agency, body: dict[str, Any]
) -> None:
    answer = agency.http.post(
        f"{agency.base}/transactions", json={"purpose": PURPOSE, **body}, headers=_auth()
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


# -- transaction data over HTTP (OpenID4VP 1.0 §5.1, App. B.3.3) --------------------------------


def test_transaction_data_is_shown_bound_and_checked_over_http(
    agency: Agency, tmp_path: Path
) -> None:
    kind = "https://honnin.example/tx/payment-confirmation"
    item = {"type": kind, "credential_ids": [SLIP], "amount": "12000", "currency": "JPY"}
    created = agency.create(claims=["payment_amount"], transaction_data=[item])
    with agency.wallet(tmp_path / "w", transaction_data_types=[kind]) as wallet:
        consent = wallet.consider(_scan(agency, created))
        (shown,) = consent.transaction_data
        assert shown.type == kind and shown.details == {"amount": "12000", "currency": "JPY"}
        assert wallet.present(consent.approve(), post=True) == Submission(200)
    result = agency.result(created)
    assert result["verified"], result
    assert result["claims"] == {"payment_amount": sample()["payment_amount"]}


def test_a_wallet_without_the_type_sends_nothing_over_http(agency: Agency, tmp_path: Path) -> None:
    item = {"type": "https://honnin.example/tx/unknown", "credential_ids": [SLIP]}
    created = agency.create(claims=["payment_amount"], transaction_data=[item])
    with agency.wallet(tmp_path / "w") as wallet, pytest.raises(InvalidRequest) as refused:
        wallet.consider(created["uri"])
    assert refused.value.fields["error"] == "invalid_transaction_data"
    assert agency.result(created)["status"] == "pending"
