"""Token Status List vectors (draft-ietf-oauth-status-list-20; vectors/README.md §4)."""

from __future__ import annotations

import cbor2
import pytest
from vectors import load_json, load_text

from honnin import cbor
from honnin.clock import FixedClock
from honnin.cose import verify_sign1
from honnin.encoding import b64url_decode
from honnin.errors import Revoked
from honnin.jose import public_key_from_jwk
from honnin.ports import FetchedResource
from honnin.status import (
    CWT_STATUS,
    MEDIA_TYPE_CWT,
    StatusChecker,
    StatusList,
    StatusReference,
    StatusValue,
    TokenForm,
    parse_status_reference,
    verify_status_list_cwt,
    verify_status_list_jwt,
    verify_status_list_token,
)

# vectors/README.md §4: exp is 2042-08-14; pin the clock inside iat .. exp.
NOW = 1_700_000_000
LIST_URI = "https://example.com/statuslists/1"


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_large_list_every_index(bits: int) -> None:
    vec = load_json("token-status-list", f"status-list-{bits}bit-1048576-entries.json")
    lst = StatusList.from_json({"bits": vec["bits"], "lst": vec["lst_base64url"]})
    assert lst.size == vec["size_entries"]
    assert len(lst.to_bytes()) == vec["uncompressed_bytes"]
    expected = {int(k): v for k, v in vec["expected_status"].items()}
    get = lst.get
    mismatches = [i for i in range(lst.size) if get(i) != expected.get(i, 0)]
    assert mismatches == []
    assert dict(lst.non_valid()) == {i: v for i, v in expected.items() if v}


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_large_list_cbor_form_matches_json_form(bits: int) -> None:
    vec = load_json("token-status-list", f"status-list-{bits}bit-1048576-entries.json")
    from_cbor = StatusList.from_cbor(cbor2.loads(bytes.fromhex(vec["status_list_cbor_hex"])))
    from_json = StatusList.from_json({"bits": bits, "lst": vec["lst_base64url"]})
    assert from_cbor == from_json


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_large_list_reencodes_to_same_bytes(bits: int) -> None:
    vec = load_json("token-status-list", f"status-list-{bits}bit-1048576-entries.json")
    lst = StatusList.from_json({"bits": bits, "lst": vec["lst_base64url"]})
    again = StatusList.decode(lst.encode(), bits)
    assert again.to_bytes() == lst.to_bytes()


def test_small_examples() -> None:
    vec = load_json("token-status-list", "status-list-small-examples.json")
    for case in vec["cases"]:
        bits, statuses = case["bits"], case["statuses"]
        decoded = StatusList.from_json({"bits": bits, "lst": case["lst_base64url"]})
        assert decoded.to_bytes().hex() == case["uncompressed_hex"]
        assert [decoded.get(i) for i in range(len(statuses))] == statuses
        assert StatusList.decode(bytes.fromhex(case["zlib_hex"]), bits) == decoded
        cbor = StatusList.from_cbor(cbor2.loads(bytes.fromhex(case["status_list_cbor_hex"])))
        assert cbor == decoded
        # Our own encoder: same inflated bytes (zlib output itself is not canonical).
        built = StatusList(len(statuses), bits)
        for i, value in enumerate(statuses):
            built.set(i, value)
        assert built.to_bytes().hex() == case["uncompressed_hex"]
        json_form = built.to_json()
        assert json_form["bits"] == bits
        assert StatusList.decode(b64url_decode(json_form["lst"]), bits).to_bytes() == bytes.fromhex(
            case["uncompressed_hex"]
        )


def test_jwt_status_list_token() -> None:
    vec = load_json("token-status-list", "status-list-tokens.json")
    token = load_text("token-status-list", "status-list-token.jwt")
    expected = vec["status-list-token.jwt"]
    verified = verify_status_list_jwt(
        token,
        key=public_key_from_jwk(vec["verification_key_jwk"]),
        expected_sub=LIST_URI,
        now=NOW,
    )
    payload = expected["expected_payload"]
    assert verified.form is TokenForm.JWT
    assert verified.header.raw == expected["expected_header"]
    assert verified.header.kid == "12"
    assert (verified.sub, verified.iat, verified.exp, verified.ttl, verified.iss) == (
        payload["sub"],
        payload["iat"],
        payload["exp"],
        payload["ttl"],
        payload["iss"],
    )
    statuses = expected["decoded_statuses"]
    assert [verified.status(i) for i in range(len(statuses))] == statuses
    assert verified.status(0) == StatusValue.INVALID


def test_cwt_status_list_token() -> None:
    vec = load_json("token-status-list", "status-list-tokens.json")
    token = bytes.fromhex(load_text("token-status-list", "status-list-token.cwt.hex"))
    verified = verify_status_list_cwt(
        token,
        key=public_key_from_jwk(vec["verification_key_jwk"]),
        expected_sub=LIST_URI,
        now=NOW,
    )
    assert verified.form is TokenForm.CWT
    assert (verified.sub, verified.iat, verified.exp, verified.ttl) == (
        LIST_URI,
        1686920170,
        2291720170,
        43200,
    )
    assert verified.header.kid == b"12" and verified.header.alg == -7
    statuses = vec["status-list-token.jwt"]["decoded_statuses"]  # the same list (README §4)
    assert [verified.status(i) for i in range(len(statuses))] == statuses
    assert (
        verify_status_list_token(
            token,
            key=public_key_from_jwk(vec["verification_key_jwk"]),
            expected_sub=LIST_URI,
            now=NOW,
        ).status_list
        == verified.status_list
    )


def test_referenced_cwt_token_is_revoked() -> None:
    vec = load_json("token-status-list", "status-list-tokens.json")
    key = public_key_from_jwk(vec["verification_key_jwk"])
    referenced = bytes.fromhex(load_text("token-status-list", "referenced-token.cwt.hex"))
    claims = cbor.decode(verify_sign1(referenced, key).payload)
    reference = parse_status_reference(claims[CWT_STATUS])
    assert reference == StatusReference(uri=LIST_URI, idx=0)

    list_token = bytes.fromhex(load_text("token-status-list", "status-list-token.cwt.hex"))

    class Served:
        def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
            assert url == LIST_URI and accept == MEDIA_TYPE_CWT
            return FetchedResource(list_token, MEDIA_TYPE_CWT)

    checker = StatusChecker(
        Served(), lambda header: key, clock=FixedClock(NOW), forms=[TokenForm.CWT]
    )
    with pytest.raises(Revoked):
        checker.check(reference)
