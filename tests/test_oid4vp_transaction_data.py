"""OpenID4VP 1.0 transaction data (§5.1, §8.4, App. B.3.3) for SD-JWT VC: the protocol
functions, the verifier's request and check, the wallet's consent and KB-JWT, end to end with
real signatures (in process and over HTTP on 127.0.0.1), and the hostile cases."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from test_oid4vp_service_support import bound_socket, serving
from test_wallet_role_support import PURPOSE, SLIP, Parties, parties, resign
from vectors import load_json

import wallet._presenting as presenting
from honnin.encoding import b64url_decode, b64url_encode, json_dumps
from honnin.errors import InvalidKeyBinding, InvalidRequest
from honnin.jose import parse_jws
from honnin.oid4vp import (
    TransactionData,
    encode_transaction_data,
    parse_transaction_data,
    transaction_data_hash,
)
from verifier import Query, VerifierSettings, create_app
from verifier._store_sqlite import SqliteTransactionStore
from wallet import Wallet
from wallet._transaction_data import transaction_data_claims

TYPE = "https://honnin.example/tx/payment-confirmation"
PAYMENT = {"type": TYPE, "credential_ids": ["slip"], "amount": "12000", "currency": "JPY"}
TOKEN = "t" * 40


@pytest.fixture(scope="module")
def world() -> Parties:
    return parties()


def _query() -> Query:
    return Query.of(SLIP, "payment_amount", id="slip")


def _wallet(world: Parties, path: Path, **options: Any) -> Wallet:
    return world.stocked(path, copies=4, **options)


def _kb_claims(presentation: str) -> dict[str, Any]:
    kb = presentation.rsplit("~", 1)[1]
    claims: dict[str, Any] = parse_jws(kb).unverified_claims()
    return claims


def _errors(result: Any) -> list[tuple[str, str | None]]:
    return [(e.code, e.reason) for e in result.errors]


# -- protocol functions ----------------------------------------------------------------------


def test_hash_is_over_the_received_string_not_the_decoded_json() -> None:
    text = encode_transaction_data(PAYMENT)
    want = b64url_encode(hashlib.sha256(text.encode("ascii")).digest())
    assert transaction_data_hash(text) == want
    decoded = b64url_decode(text)
    assert transaction_data_hash(text) != b64url_encode(hashlib.sha256(decoded).digest())
    assert transaction_data_hash(text, "sha-512") == b64url_encode(
        hashlib.sha512(text.encode("ascii")).digest()
    )


def test_vector_kb_jwt_hashes_have_the_sha256_shape() -> None:
    # The spec's KB-JWT example (App. B.3.6) carries a hash whose input the example does not
    # give: what can be checked is that it has the shape transaction_data_hash produces.
    vector = load_json("dcql", "_kb_jwt_unsecured.json")
    (given,) = vector["transaction_data_hashes"]
    ours = transaction_data_hash(encode_transaction_data(PAYMENT))
    assert len(b64url_decode(given)) == len(b64url_decode(ours)) == 32
    assert len(given) == len(ours) == 43


def test_encode_parse_round_trip_keeps_type_specific_members() -> None:
    item = parse_transaction_data(encode_transaction_data(PAYMENT))
    assert item.type == TYPE and item.credential_ids == ("slip",)
    assert item.details == {"amount": "12000", "currency": "JPY"}
    assert item.hash_algorithms == ("sha-256",)
    assert item.to_json() == PAYMENT
    built = TransactionData(type=TYPE, credential_ids=("slip",), details={"amount": "1"})
    assert parse_transaction_data(encode_transaction_data(built)) == built


def test_unsupported_hash_algorithm_is_refused() -> None:
    with pytest.raises(InvalidRequest) as info:
        transaction_data_hash(encode_transaction_data(PAYMENT), "md5")
    assert info.value.fields["error"] == "invalid_transaction_data"


@pytest.mark.parametrize(
    "text",
    [
        "not base64url!",
        b64url_encode(b"{not json"),
        b64url_encode(b"[1, 2]"),
        b64url_encode(json_dumps({"credential_ids": ["slip"]}).encode()),
        b64url_encode(json_dumps({"type": TYPE}).encode()),
        b64url_encode(json_dumps({"type": TYPE, "credential_ids": []}).encode()),
        b64url_encode(json_dumps({"type": 7, "credential_ids": ["slip"]}).encode()),
        b64url_encode(
            json_dumps(
                {"type": TYPE, "credential_ids": ["slip"], "transaction_data_hashes_alg": []}
            ).encode()
        ),
    ],
    ids=[
        "not-b64url",
        "not-json",
        "not-object",
        "no-type",
        "no-ids",
        "empty-ids",
        "int-type",
        "empty-algs",
    ],
)
def test_malformed_transaction_data_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_transaction_data(text)
    assert info.value.fields["error"] == "invalid_transaction_data"
    assert info.value.fields["reason"] == "transaction_data"


# -- end to end (in process) ------------------------------------------------------------------


def test_end_to_end_sd_jwt_vc_carries_the_hashes(world: Parties, tmp_path: Path) -> None:
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=[PAYMENT])
    (sent,) = request.transaction_data
    assert parse_jws(request.request_object).unverified_claims()["transaction_data"] == [sent]
    with _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet:
        consent = wallet.consider(request)
        (shown,) = consent.transaction_data
        assert shown.type == TYPE and shown.details["amount"] == "12000"
        response = wallet.present(consent.approve())
    claims = _kb_claims(response.vp_token["slip"][0])
    assert claims["transaction_data_hashes"] == [transaction_data_hash(sent)]
    assert "transaction_data_hashes_alg" not in claims  # not listed in the request
    result = world.agency.verify(response)
    assert result.verified, result.errors


def test_listed_algorithm_is_used_and_named(world: Parties, tmp_path: Path) -> None:
    item = {**PAYMENT, "transaction_data_hashes_alg": ["sha-384", "sha-256"]}
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=[item, PAYMENT])
    with _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet:
        response = wallet.present(wallet.consider(request).approve())
    claims = _kb_claims(response.vp_token["slip"][0])
    # One algorithm for the KB-JWT: the first every item accepts (sha-256 is the default).
    assert claims["transaction_data_hashes_alg"] == "sha-256"
    assert claims["transaction_data_hashes"] == [
        transaction_data_hash(t) for t in request.transaction_data
    ]
    assert world.agency.verify(response).verified


def test_request_without_transaction_data_has_no_hashes(world: Parties, tmp_path: Path) -> None:
    request = world.agency.request(_query(), purpose=PURPOSE)
    with _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet:
        consent = wallet.consider(request)
        assert consent.transaction_data == ()
        response = wallet.present(consent.approve())
    assert "transaction_data_hashes" not in _kb_claims(response.vp_token["slip"][0])
    assert world.agency.verify(response).verified


# -- hostile: the wallet refuses --------------------------------------------------------------


def test_wallet_not_configured_refuses(world: Parties, tmp_path: Path) -> None:
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=[PAYMENT])
    with _wallet(world, tmp_path / "w") as wallet, pytest.raises(InvalidRequest) as info:
        wallet.consider(request)
    assert info.value.fields["error"] == "invalid_transaction_data"
    pending = world.agency.store.get(request.transaction_id)
    assert pending is not None and pending.result is None  # nothing was sent


def test_wallet_refuses_an_unsupported_type(world: Parties, tmp_path: Path) -> None:
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=[PAYMENT])
    with (
        _wallet(world, tmp_path / "w", transaction_data_types={"other"}) as wallet,
        pytest.raises(InvalidRequest) as info,
    ):
        wallet.consider(request)
    assert info.value.fields["error"] == "invalid_transaction_data"


def _forged(world: Parties, transaction_data: list[str]) -> str:
    """A request object signed by the verifier's own key, with ``transaction_data`` set."""
    request = world.agency.request(_query(), purpose=PURPOSE)
    key = world.agency.identity.private_key
    return resign(request.request_object, key, transaction_data=transaction_data)


def test_wallet_refuses_credential_ids_outside_the_query(world: Parties, tmp_path: Path) -> None:
    jar = _forged(world, [encode_transaction_data({**PAYMENT, "credential_ids": ["nope"]})])
    with (
        _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet,
        pytest.raises(InvalidRequest) as info,
    ):
        wallet.consider(jar)
    assert info.value.fields["error"] == "invalid_transaction_data"
    assert "nope" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "%%%",
        b64url_encode(b"{not json"),
        b64url_encode(json_dumps({"credential_ids": ["slip"]}).encode()),
    ],
    ids=["not-b64url", "not-json", "no-type"],
)
def test_wallet_refuses_malformed_transaction_data(
    world: Parties, tmp_path: Path, text: str
) -> None:
    jar = _forged(world, [text])
    with (
        _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet,
        pytest.raises(InvalidRequest) as info,
    ):
        wallet.consider(jar)
    assert info.value.fields["error"] == "invalid_transaction_data"


def test_wallet_refuses_transaction_data_for_mdoc(world: Parties, tmp_path: Path) -> None:
    mdoc = Query.of(SLIP, "payment_amount", format="mso_mdoc", id="slip")
    request = world.agency.request(mdoc, purpose=PURPOSE)
    jar = resign(
        request.request_object,
        world.agency.identity.private_key,
        transaction_data=[encode_transaction_data(PAYMENT)],
    )
    with (
        _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet,
        pytest.raises(InvalidRequest) as info,
    ):
        wallet.consider(jar)
    assert info.value.fields["error"] == "invalid_transaction_data"


def test_verifier_refuses_to_request_for_mdoc_or_unknown_ids(world: Parties) -> None:
    mdoc = Query.of(SLIP, "payment_amount", format="mso_mdoc", id="slip")
    with pytest.raises(InvalidRequest):
        world.agency.request(mdoc, purpose=PURPOSE, transaction_data=[PAYMENT])
    with pytest.raises(InvalidRequest):
        world.agency.request(
            _query(), purpose=PURPOSE, transaction_data=[{**PAYMENT, "credential_ids": ["x"]}]
        )


# -- hostile: the verifier rejects -----------------------------------------------------------


def _tampered(
    world: Parties,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Any,
    items: list[dict[str, Any]] | None = None,
) -> Any:
    """A genuine wallet's response whose KB-JWT claims ``change`` rewrote before signing."""
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=items or [PAYMENT])
    real = transaction_data_claims

    def rewritten(*args: Any) -> dict[str, dict[str, Any]]:
        changed: dict[str, dict[str, Any]] = change(real(*args))
        return changed

    monkeypatch.setattr(presenting, "transaction_data_claims", rewritten)
    with _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet:
        response = wallet.present(wallet.consider(request).approve())
    return world.agency.verify(response)


def test_kb_jwt_without_hashes_is_rejected(
    world: Parties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _tampered(world, tmp_path, monkeypatch, lambda claims: {})
    assert not result.verified
    assert _errors(result)[0] == ("invalid_key_binding", "transaction_data")
    assert result.errors[0].query_id == "slip" and result.credentials == {}


def test_kb_jwt_with_a_wrong_hash_is_rejected(
    world: Parties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = transaction_data_hash(encode_transaction_data({**PAYMENT, "amount": "1"}))
    result = _tampered(
        world, tmp_path, monkeypatch, lambda c: {"slip": {"transaction_data_hashes": [wrong]}}
    )
    assert not result.verified
    assert _errors(result)[0] == ("invalid_key_binding", "transaction_data")


def test_kb_jwt_with_hashes_in_another_order_is_rejected(
    world: Parties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = {**PAYMENT, "amount": "99"}

    def reverse(claims: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        hashes = claims["slip"]["transaction_data_hashes"]
        assert len(hashes) == 2
        return {"slip": {"transaction_data_hashes": hashes[::-1]}}

    result = _tampered(world, tmp_path, monkeypatch, reverse, [PAYMENT, second])
    assert not result.verified
    assert _errors(result)[0] == ("invalid_key_binding", "transaction_data")


def test_kb_jwt_with_an_unlisted_algorithm_is_rejected(
    world: Parties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sha512(claims: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        text = encode_transaction_data(PAYMENT)
        return {
            "slip": {
                "transaction_data_hashes": [transaction_data_hash(text, "sha-512")],
                "transaction_data_hashes_alg": "sha-512",
            }
        }

    result = _tampered(world, tmp_path, monkeypatch, sha512)
    assert _errors(result)[0] == ("invalid_key_binding", "transaction_data")


def test_replay_to_other_transaction_data_is_rejected(world: Parties, tmp_path: Path) -> None:
    first = world.agency.request(
        _query(), purpose=PURPOSE, response_mode="direct_post", transaction_data=[PAYMENT]
    )
    other = {**PAYMENT, "amount": "999999"}
    second = world.agency.request(
        _query(), purpose=PURPOSE, response_mode="direct_post", transaction_data=[other]
    )
    with _wallet(world, tmp_path / "w", transaction_data_types={TYPE}) as wallet:
        response = wallet.present(wallet.consider(first).approve())
    assert world.agency.verify(response).verified
    # The same presentation (its KB-JWT binds the first transaction data) replayed to the
    # second transaction, under the second transaction's state.
    replay = {"vp_token": dict(response.vp_token), "state": second.state}
    result = world.agency.verify(replay)
    assert not result.verified and result.credentials == {}
    assert result.errors[0].code == "invalid_key_binding"


def test_wallet_without_types_still_answers_plain_requests(world: Parties, tmp_path: Path) -> None:
    # No transaction data in the request: the check does not run, the nonce binds as usual.
    request = world.agency.request(_query(), purpose=PURPOSE)
    with _wallet(world, tmp_path / "w") as wallet:
        response = wallet.present(wallet.consider(request).approve())
    assert world.agency.verify(response).verified


# -- the service -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(world: Parties) -> Iterator[tuple[str, httpx.Client]]:
    with bound_socket() as (sock, base):
        base = base.replace("127.0.0.1", "localhost")
        settings = VerifierSettings(public_url=base, dev=True, api_token=SecretStr(TOKEN))
        with serving(create_app(world.agency, settings), sock), httpx.Client(timeout=30) as http:
            yield base, http


def test_service_transaction_with_transaction_data(
    world: Parties, service: tuple[str, httpx.Client], tmp_path: Path
) -> None:
    base, http = service
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {
        "purpose": PURPOSE,
        "dcql_query": _query().to_dcql(purpose=PURPOSE).to_json(),
        "transaction_data": [PAYMENT],
    }
    created = http.post(f"{base}/transactions", json=body, headers=auth)
    assert created.status_code == 201, created.text
    jar = http.get(created.json()["request_uri"]).text
    (sent,) = parse_jws(jar).unverified_claims()["transaction_data"]
    assert parse_transaction_data(sent).details == {"amount": "12000", "currency": "JPY"}
    bad = http.post(
        f"{base}/transactions",
        json={**body, "transaction_data": [{**PAYMENT, "credential_ids": ["x"]}]},
        headers=auth,
    )
    assert bad.status_code == 400


def test_sqlite_store_keeps_transaction_data(world: Parties, tmp_path: Path) -> None:
    store = SqliteTransactionStore(tmp_path / "t.sqlite3")
    request = world.agency.request(_query(), purpose=PURPOSE, transaction_data=[PAYMENT])
    transaction = world.agency.store.get(request.transaction_id)
    assert transaction is not None and transaction.transaction_data == request.transaction_data
    store.add(transaction)
    again = store.get(transaction.id)
    assert again is not None and again.transaction_data == request.transaction_data
    store.close()


@pytest.mark.parametrize(
    "claims",
    [
        {"transaction_data_hashes": "not-an-array"},
        {"transaction_data_hashes": [1]},
        {"transaction_data_hashes": [{"h": "x"}]},
        {"transaction_data_hashes": None},
        {"transaction_data_hashes": [], "transaction_data_hashes_alg": 256},
        {"transaction_data_hashes": [], "transaction_data_hashes_alg": "md5"},
    ],
)
def test_hostile_kb_jwt_hash_claims_are_a_key_binding_error(claims: dict[str, Any]) -> None:
    from verifier._transaction_data import check_hashes

    text = encode_transaction_data(PAYMENT)
    with pytest.raises(InvalidKeyBinding) as refused:
        check_hashes(claims, [(text, parse_transaction_data(text))])
    assert refused.value.fields["reason"] == "transaction_data"
