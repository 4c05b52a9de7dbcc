from __future__ import annotations

import json

import pytest

from honnin.encoding import b64url_encode
from honnin.errors import (
    InvalidSignature,
    MalformedBase64url,
    MalformedInput,
    MalformedJson,
    MalformedJws,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import (
    JwsAlgorithm,
    generate_key,
    jwk_from_private_key,
    jwk_from_public_key,
    jwk_thumbprint,
    parse_jws,
    private_key_from_jwk,
    public_key_from_jwk,
    sign_jws,
    verify_jws,
)


def _forge(header: dict[str, object], payload: bytes = b"{}", sig: bytes = b"x" * 64) -> str:
    h = b64url_encode(json.dumps(header).encode())
    return f"{h}.{b64url_encode(payload)}.{b64url_encode(sig)}"


@pytest.mark.parametrize("alg", list(JwsAlgorithm))
def test_sign_verify_round_trip(alg: JwsAlgorithm) -> None:
    key = generate_key(alg)
    token = sign_jws({"iss": "https://issuer.example"}, key, header={"typ": "JWT"})
    jws = parse_jws(token)
    pub = public_key_from_jwk(jwk_from_public_key(key))
    assert verify_jws(jws, pub) is alg
    assert jws.unverified_claims() == {"iss": "https://issuer.example"}


def test_private_jwk_round_trip() -> None:
    key = generate_key()
    again = private_key_from_jwk(jwk_from_private_key(key))
    assert jwk_from_public_key(again) == jwk_from_public_key(key)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_spelling_is_rejected(alg: str) -> None:
    key = generate_key()
    jws = parse_jws(_forge({"alg": alg}, sig=b"\x00"))
    with pytest.raises(UnsupportedAlgorithm):
        verify_jws(jws, key.public_key())


@pytest.mark.parametrize("alg", ["HS256", "RS256", "PS256", "ES256K", "es256"])
def test_alg_outside_allow_list_is_rejected(alg: str) -> None:
    key = generate_key()
    with pytest.raises(UnsupportedAlgorithm):
        verify_jws(parse_jws(_forge({"alg": alg})), key.public_key())


def test_alg_allowed_but_not_in_callers_list() -> None:
    key = generate_key(JwsAlgorithm.ES384)
    token = sign_jws({}, key)
    with pytest.raises(UnsupportedAlgorithm):
        verify_jws(parse_jws(token), key.public_key(), allowed=frozenset({JwsAlgorithm.ES256}))


def test_es256_header_with_p384_key_is_rejected() -> None:
    key = generate_key(JwsAlgorithm.ES384)
    forged = _forge({"alg": "ES256"}, b"{}", b"\x01" * 64)
    with pytest.raises(UnsupportedAlgorithm):
        verify_jws(parse_jws(forged), key.public_key())


def test_tampered_payload_fails() -> None:
    key = generate_key()
    h, _, s = sign_jws({"a": 1}, key).split(".")
    tampered = b64url_encode(b'{"a":2}')
    with pytest.raises(InvalidSignature):
        verify_jws(parse_jws(f"{h}.{tampered}.{s}"), key.public_key())


@pytest.mark.parametrize("sig", [b"", b"\x00" * 64, b"\x01" * 63, b"\x01" * 65])
def test_bad_signature_shapes(sig: bytes) -> None:
    key = generate_key()
    token = _forge({"alg": "ES256"}, b"{}", sig)
    with pytest.raises((InvalidSignature, MalformedJws)):
        verify_jws(parse_jws(token), key.public_key())


@pytest.mark.parametrize("token", ["a.b", "a.b.c.d", ".e30.AA", "eyJhbGciOiJFUzI1NiJ9.e30."])
def test_segment_errors(token: str) -> None:
    with pytest.raises(MalformedJws):
        parse_jws(token)


def test_whitespace_in_segment() -> None:
    with pytest.raises(MalformedBase64url):
        parse_jws("eyJhbGciOiJFUzI1NiJ9 .e30.AAAA")


def test_duplicate_alg_in_header() -> None:
    h = b64url_encode(b'{"alg":"ES256","alg":"none"}')
    with pytest.raises(MalformedJson):
        parse_jws(f"{h}.e30.AAAA")


def test_unknown_crit() -> None:
    with pytest.raises(MalformedJws, match="critical"):
        parse_jws(_forge({"alg": "ES256", "crit": ["exp"], "exp": 1}))


def test_header_over_16_kib() -> None:
    with pytest.raises(TooLarge):
        parse_jws(_forge({"alg": "ES256", "x": "a" * 17_000}))
    parse_jws(_forge({"alg": "ES256", "x5c": ["a" * 8_000]}))  # a long legitimate x5c passes


def test_thumbprint_matches_rfc7638_example() -> None:
    # RFC 7638 §3.1 example key (RSA): the thumbprint rule is the same for EC.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
            "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
            "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
            "Cur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_bad_jwk() -> None:
    with pytest.raises(MalformedInput):
        public_key_from_jwk({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"})
    with pytest.raises(UnsupportedAlgorithm):
        public_key_from_jwk({"kty": "oct", "k": "AAAA"})
