"""Status List Tokens (JWT form) and references (draft-ietf-oauth-status-list-20 §5, §6)."""

from __future__ import annotations

import json

import pytest

from honnin import cbor
from honnin.encoding import b64url_decode, b64url_encode, json_loads
from honnin.errors import (
    Expired,
    InvalidClaim,
    InvalidSignature,
    MalformedJws,
    NotYetValid,
    TooLarge,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from honnin.jose import JwsAlgorithm, generate_key, public_key_of, sign_jws
from honnin.status import (
    ListTokenHeader,
    StatusList,
    StatusReference,
    StatusValue,
    build_status_list_jwt,
    parse_status_reference,
    verify_status_list_jwt,
    verify_status_list_token,
)

URI = "https://issuer.example/status/7"
NOW = 1_800_000_000
KEY = generate_key()


def _list() -> StatusList:
    lst = StatusList(1 << 12, 2)
    lst.set(3, StatusValue.INVALID)
    lst.set(4, StatusValue.SUSPENDED)
    return lst


def _token(**overrides: object) -> str:
    args: dict[str, object] = {"sub": URI, "key": KEY, "iat": NOW - 10, "exp": NOW + 3600}
    args["ttl"] = 300
    args.update(overrides)
    return build_status_list_jwt(_list(), **args)  # type: ignore[arg-type]


def _resign(token: str, header: dict[str, object], claims: dict[str, object]) -> str:
    del token
    return sign_jws(claims, KEY, header=header)


def _parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def test_build_and_verify_roundtrip() -> None:
    token = _token(kid="k1", iss="https://issuer.example")
    verified = verify_status_list_jwt(token, key=public_key_of(KEY), expected_sub=URI, now=NOW)
    assert (verified.status(3), verified.status(4), verified.status(5)) == (1, 2, 0)
    assert (verified.ttl, verified.exp, verified.iss) == (300, NOW + 3600, "https://issuer.example")
    header, claims = _parts(token)
    assert header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": "k1"}
    assert set(claims) == {"sub", "iat", "exp", "ttl", "iss", "status_list"}
    assert (
        verify_status_list_token(
            token.encode(), key=public_key_of(KEY), expected_sub=URI, now=NOW
        ).status_list
        == verified.status_list
    )


def test_key_resolver_sees_x5c_as_der() -> None:
    seen: list[ListTokenHeader] = []

    def resolver(header: ListTokenHeader):  # type: ignore[no-untyped-def]
        seen.append(header)
        return public_key_of(KEY)

    token = _token(x5c=[b"\x30\x03leaf", b"\x30\x03ca!"], kid="k")
    verify_status_list_jwt(token, key=resolver, expected_sub=URI, now=NOW)
    assert seen[0].x5c == (b"\x30\x03leaf", b"\x30\x03ca!")
    assert (seen[0].alg, seen[0].kid) == ("ES256", "k")


def test_resolver_refusal_propagates() -> None:
    def resolver(header: ListTokenHeader):  # type: ignore[no-untyped-def]
        raise UntrustedIssuer("no anchor")

    with pytest.raises(UntrustedIssuer):
        verify_status_list_jwt(_token(), key=resolver, expected_sub=URI, now=NOW)


def test_full_media_type_typ_is_equivalent() -> None:
    header, claims = _parts(_token())
    token = _resign("", {**header, "typ": "application/statuslist+jwt"}, claims)
    assert verify_status_list_jwt(token, key=public_key_of(KEY), expected_sub=URI, now=NOW)


def test_ttl_and_exp_are_optional() -> None:
    token = _token(exp=None, ttl=None)
    verified = verify_status_list_jwt(token, key=public_key_of(KEY), expected_sub=URI, now=NOW)
    assert (verified.exp, verified.ttl) == (None, None)


# -- hostile ----------------------------------------------------------------------------


def test_signed_by_another_key() -> None:
    token = _token(key=generate_key())
    with pytest.raises(InvalidSignature):
        verify_status_list_jwt(token, key=public_key_of(KEY), expected_sub=URI, now=NOW)


def test_sub_does_not_match_referenced_uri() -> None:
    with pytest.raises(InvalidClaim) as info:
        verify_status_list_jwt(_token(), key=public_key_of(KEY), expected_sub=URI + "8", now=NOW)
    assert (info.value.claim, info.value.actual) == ("sub", URI)


def test_expired_list_token() -> None:
    with pytest.raises(Expired) as info:
        verify_status_list_jwt(_token(), key=public_key_of(KEY), expected_sub=URI, now=NOW + 7200)
    assert info.value.exp == NOW + 3600


def test_iat_in_the_future() -> None:
    with pytest.raises(NotYetValid):
        verify_status_list_jwt(
            _token(iat=NOW + 3600, exp=NOW + 7200),
            key=public_key_of(KEY),
            expected_sub=URI,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iat", None),
        ("iat", "yesterday"),
        ("iat", True),
        ("exp", NOW - 100_000),  # before iat
        ("ttl", 0),
        ("ttl", -5),
        ("ttl", "300"),
        ("ttl", True),
        ("sub", None),
        ("sub", 7),
        ("iss", 3),
        ("status_list", None),
        ("status_list", {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}),
    ],
)
def test_bad_claims(claim: str, value: object) -> None:
    header, claims = _parts(_token())
    if value is None:
        claims.pop(claim)
    else:
        claims[claim] = value
    token = _resign("", header, claims)
    with pytest.raises(InvalidClaim):
        verify_status_list_jwt(token, key=public_key_of(KEY), expected_sub=URI, now=NOW)


@pytest.mark.parametrize("typ", [None, "jwt", "dc+sd-jwt", "STATUSLIST+JWT", "statuslist+cwt"])
def test_wrong_typ(typ: str | None) -> None:
    header, claims = _parts(_token())
    header.pop("typ")
    if typ is not None:
        header["typ"] = typ
    with pytest.raises(MalformedJws):
        verify_status_list_jwt(
            _resign("", header, claims), key=public_key_of(KEY), expected_sub=URI, now=NOW
        )


def test_alg_none_and_mac_are_refused() -> None:
    header, claims = _parts(_token())
    for alg in ("none", "HS256"):
        forged = ".".join(
            [
                b64url_encode(json.dumps({**header, "alg": alg}).encode()),
                b64url_encode(json.dumps(claims).encode()),
                b64url_encode(b"sig"),
            ]
        )
        with pytest.raises(UnsupportedAlgorithm):
            verify_status_list_jwt(forged, key=public_key_of(KEY), expected_sub=URI, now=NOW)


def test_alg_outside_the_allow_list() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        verify_status_list_jwt(
            _token(),
            key=public_key_of(KEY),
            expected_sub=URI,
            now=NOW,
            allowed=frozenset({JwsAlgorithm.EDDSA}),
        )


def test_token_over_the_size_limit() -> None:
    with pytest.raises(TooLarge):
        verify_status_list_jwt(
            "a" * (8 * 1024 * 1024), key=public_key_of(KEY), expected_sub=URI, now=NOW
        )


def test_token_not_ascii() -> None:
    with pytest.raises(MalformedJws):
        verify_status_list_jwt(
            "é".encode() + b".a.b", key=public_key_of(KEY), expected_sub=URI, now=NOW
        )


@pytest.mark.parametrize("x5c", ["abc", [], [1], ["not base64!"], ["QUJD" + "\n"]])
def test_bad_x5c_header(x5c: object) -> None:
    header, claims = _parts(_token())
    header["x5c"] = x5c
    with pytest.raises(MalformedJws):
        verify_status_list_jwt(
            _resign("", header, claims), key=public_key_of(KEY), expected_sub=URI, now=NOW
        )


# -- references -------------------------------------------------------------------------


def test_reference_roundtrip() -> None:
    ref = StatusReference(uri=URI, idx=42)
    assert ref.to_claim() == {"status_list": {"idx": 42, "uri": URI}}
    assert parse_status_reference(ref.to_claim()) == ref
    assert StatusReference.parse({"status_list": {"idx": 0, "uri": URI}, "other": {}}).idx == 0


@pytest.mark.parametrize(
    "status",
    [
        None,
        [],
        {},
        {"status_list": []},
        {"status_list": {"uri": URI}},
        {"status_list": {"idx": 1}},
        {"status_list": {"idx": -1, "uri": URI}},
        {"status_list": {"idx": 1.0, "uri": URI}},
        {"status_list": {"idx": True, "uri": URI}},
        {"status_list": {"idx": "1", "uri": URI}},
        {"status_list": {"idx": 2**63, "uri": URI}},
        {"status_list": {"idx": 1, "uri": 5}},
        {"status_list": {"idx": 1, "uri": ""}},
        {"status_list": {"idx": 1, "uri": "relative/path"}},
        {"status_list": {"idx": 1, "uri": "https://x.example/a b"}},
        {"status_list": {"idx": 1, "uri": "https://x.example/" + "a" * 3000}},
    ],
)
def test_reference_hostile(status: object) -> None:
    with pytest.raises(InvalidClaim):
        parse_status_reference(status)


def test_reference_from_mdoc_mso_cbor() -> None:
    # The MSO `status` (ISO/IEC 18013-5 ed. 2, HAIP §5.3.1): the same map, in CBOR.
    mso_status = cbor.decode(cbor.encode({"status_list": {"idx": 412, "uri": URI}}))
    assert parse_status_reference(mso_status) == StatusReference(uri=URI, idx=412)


@pytest.mark.parametrize(
    "idx_cbor",
    ["20", "f93c00", "f5", "1bffffffffffffffff", "3bfffffffffffffffe"],
    ids=["negative", "half-float", "true", "2^64-1", "-2^64+1"],
)
def test_reference_from_cbor_with_hostile_idx(idx_cbor: str) -> None:
    # {"status_list": {"idx": <idx>, "uri": URI}} with the idx item spliced in as raw CBOR.
    uri = cbor.encode(URI)
    raw = bytes.fromhex("a1 6b 7374617475735f6c697374 a2 63 696478".replace(" ", ""))
    raw += bytes.fromhex(idx_cbor) + bytes.fromhex("63757269") + uri
    with pytest.raises(InvalidClaim):
        parse_status_reference(cbor.decode(raw))


def test_reference_from_sd_jwt_vc_json() -> None:
    claims = json_loads(b'{"status": {"status_list": {"idx": 1.0, "uri": "%s"}}}' % URI.encode())
    with pytest.raises(InvalidClaim):
        parse_status_reference(claims["status"])


def test_public_api_is_pinned() -> None:
    import honnin.status
    import issuer

    assert sorted(honnin.status.__all__) == sorted(
        [
            "CWT_STATUS", "CWT_TYP", "JWT_TYP", "MEDIA_TYPE_CWT", "MEDIA_TYPE_JWT",
            "KeyResolver", "ListTokenHeader", "StatusChecker", "StatusList",
            "StatusReference", "StatusResult", "StatusValue", "TokenForm", "UnknownStatus",
            "VerifiedStatusList", "ZlibStrategy", "build_status_list_cwt",
            "build_status_list_jwt", "parse_status_reference", "verify_status_list_cwt",
            "verify_status_list_jwt", "verify_status_list_token", "MAX_AGGREGATED_LISTS",
            "build_status_list_aggregation", "parse_status_list_aggregation",
        ]
    )  # fmt: skip
    status_names = {
        "PublishedStatusList", "SqliteStatusStore", "StatusEntry", "StatusListSigner",
        "StatusRegistry", "StatusStore", "StoredStatusList",
    }  # fmt: skip
    assert status_names <= set(issuer.__all__)
