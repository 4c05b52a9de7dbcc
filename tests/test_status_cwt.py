"""Status List Tokens in CWT form and their hostile variants (draft -20 §5.2, SECURITY T1)."""

from __future__ import annotations

import cbor2
import pytest

from honnin import cbor
from honnin.clock import FixedClock
from honnin.cose import build_mac0, sign1
from honnin.errors import (
    Expired,
    InvalidClaim,
    InvalidSignature,
    MalformedCbor,
    MalformedCose,
    MalformedInput,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import JwsAlgorithm, generate_key, public_key_of
from honnin.ports import FetchedResource
from honnin.status import (
    CWT_TYP,
    MEDIA_TYPE_CWT,
    MEDIA_TYPE_JWT,
    StatusChecker,
    StatusList,
    StatusReference,
    TokenForm,
    build_status_list_cwt,
    build_status_list_jwt,
    verify_status_list_cwt,
    verify_status_list_token,
)

URI = "https://issuer.example/status/9"
NOW = 1_800_000_000
KEY = generate_key()
PUB = public_key_of(KEY)


def _list() -> StatusList:
    lst = StatusList(256, 1)
    lst.set(200, 1)
    return lst


def _claims(**changes: object) -> dict[int, object]:
    claims: dict[int, object] = {
        2: URI,
        6: NOW - 5,
        4: NOW + 3600,
        65534: 600,
        65533: _list().to_cbor(),
    }
    for key, value in changes.items():
        label = {"sub": 2, "iat": 6, "exp": 4, "ttl": 65534, "status_list": 65533}[key]
        if value is None:
            claims.pop(label)
        else:
            claims[label] = value
    return claims


def _signed(claims: object, *, protected: dict[int, object] | None = None, key=KEY) -> bytes:  # type: ignore[no-untyped-def]
    return sign1(
        cbor.encode(claims), key, protected={16: CWT_TYP} if protected is None else protected
    )


def _verify(token: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"key": PUB, "expected_sub": URI, "now": NOW}
    args.update(kwargs)
    return verify_status_list_cwt(token, **args)  # type: ignore[arg-type]


def test_build_and_verify_roundtrip() -> None:
    token = build_status_list_cwt(
        _list(), sub=URI, key=KEY, iat=NOW, exp=NOW + 60, ttl=30, kid=b"k1", x5c=[b"\x30\x00"]
    )
    message = cbor2.loads(token)
    assert message.tag == 18
    verified = _verify(token)
    assert (verified.status(200), verified.status(199), verified.ttl) == (1, 0, 30)
    assert verified.header.kid == b"k1" and verified.header.x5c == (b"\x30\x00",)
    assert verified.form is TokenForm.CWT


def test_esp256_is_accepted_as_es256() -> None:
    token = build_status_list_cwt(_list(), sub=URI, key=KEY, iat=NOW)
    assert _verify(token, allowed=frozenset({JwsAlgorithm.ES256})).sub == URI
    with pytest.raises(UnsupportedAlgorithm):
        _verify(token, allowed=frozenset({JwsAlgorithm.EDDSA}))


def test_signed_by_another_key() -> None:
    with pytest.raises(InvalidSignature):
        _verify(_signed(_claims(), key=generate_key()))


def test_sub_not_the_referenced_uri() -> None:
    with pytest.raises(InvalidClaim) as info:
        _verify(_signed(_claims(sub="https://issuer.example/status/10")))
    assert info.value.claim == "sub"


def test_expired() -> None:
    with pytest.raises(Expired):
        _verify(_signed(_claims(iat=NOW - 7200, exp=NOW - 3600)))


@pytest.mark.parametrize(
    "protected",
    [{}, {16: "application/statuslist+jwt"}, {16: "statuslist+cwt"}, {16: 12345}],
    ids=["missing", "jwt-type", "short-form", "content-format"],
)
def test_wrong_or_missing_typ(protected: dict[int, object]) -> None:
    with pytest.raises(MalformedCose):
        _verify(_signed(_claims(), protected=protected))


def test_typ_only_in_the_unprotected_header() -> None:
    token = sign1(cbor.encode(_claims()), KEY, unprotected={16: CWT_TYP})
    with pytest.raises(MalformedCose):
        _verify(token)


def test_untagged_cose_sign1() -> None:
    token = sign1(cbor.encode(_claims()), KEY, protected={16: CWT_TYP}, tagged=False)
    with pytest.raises(MalformedCose):
        _verify(token)


def test_cwt_tag_61_is_refused() -> None:
    inner = cbor2.loads(_signed(_claims()))
    with pytest.raises(MalformedCbor):
        _verify(cbor2.dumps(cbor2.CBORTag(61, inner)))


def test_mac0_is_refused() -> None:
    mac = build_mac0(cbor.encode(_claims()), b"k" * 32, protected={16: CWT_TYP})
    with pytest.raises(MalformedCose):
        _verify(mac.encode())


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ([1, 2], InvalidClaim),
        (_claims(status_list=None), InvalidClaim),
        (_claims(status_list={"bits": 1, "lst": "eNrbuRgAAhcBXQ"}), InvalidClaim),
        (_claims(status_list={"bits": 3, "lst": b"x"}), InvalidClaim),
        (_claims(status_list={"bits": 1, "lst": b"not zlib"}), MalformedInput),
        (_claims(iat=None), InvalidClaim),
        (_claims(ttl=-1), InvalidClaim),
        (_claims(sub=b"bytes"), InvalidClaim),
    ],
    ids=["not-a-map", "no-list", "text-lst", "bits", "bad-zlib", "no-iat", "ttl", "sub-bytes"],
)
def test_bad_claims(claims: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        _verify(_signed(claims))


def test_zlib_bomb() -> None:
    import zlib

    bomb = zlib.compress(bytes(17 * 1024 * 1024), 9)
    with pytest.raises(TooLarge):
        _verify(_signed(_claims(status_list={"bits": 8, "lst": bomb})))


def test_token_over_the_size_limit() -> None:
    with pytest.raises(TooLarge):
        _verify(b"\xd2" + bytes(8 * 1024 * 1024))


def test_text_token_cannot_be_a_cwt() -> None:
    with pytest.raises(MalformedInput):
        verify_status_list_token("abc", form=TokenForm.CWT, key=PUB, expected_sub=URI, now=NOW)


def test_checker_accepts_both_forms_by_media_type() -> None:
    served: dict[str, FetchedResource] = {}

    class Fetcher:
        def __init__(self) -> None:
            self.accepts: list[str | None] = []

        def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
            self.accepts.append(accept)
            return served[url]

    revoked = _list()
    served[URI] = FetchedResource(
        build_status_list_cwt(revoked, sub=URI, key=KEY, iat=NOW), MEDIA_TYPE_CWT
    )
    other = URI + "-jwt"
    served[other] = FetchedResource(
        build_status_list_jwt(revoked, sub=other, key=KEY, iat=NOW).encode(), MEDIA_TYPE_JWT
    )
    fetcher = Fetcher()
    checker = StatusChecker(
        fetcher, lambda header: PUB, clock=FixedClock(NOW), forms=[TokenForm.JWT, TokenForm.CWT]
    )
    assert checker.check(StatusReference(URI, 3)).status == 0
    assert checker.check(StatusReference(other, 3)).status == 0
    assert fetcher.accepts[0] == f"{MEDIA_TYPE_JWT}, {MEDIA_TYPE_CWT}"
    assert checker.status_list(URI).form is TokenForm.CWT
    assert checker.status_list(other).form is TokenForm.JWT
