"""JWE for ``direct_post.jwt`` (OpenID4VP 1.0 §8.3), HOSTILE-CASES VS-10."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk

from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import (
    DecryptionFailed,
    MalformedBase64url,
    MalformedInput,
    MalformedJson,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import JwsAlgorithm, generate_key, jwk_from_private_key, jwk_from_public_key
from honnin.jose import jwe as jwe_module
from honnin.jose.jwe import JweEncryption, decrypt_response, encrypt_response

VERIFIER = generate_key()
assert isinstance(VERIFIER, ec.EllipticCurvePrivateKey)
JWK = {**jwk_from_public_key(VERIFIER), "kid": "req-1", "use": "enc", "alg": "ECDH-ES"}
PAYLOAD = {
    "vp_token": {"pid": ["eyJhbGciOiJFUzI1NiJ9.e30.sig~WyJzYWx0IiwibmFtZSIsIua1hSJd~"]},
    "state": "s",
}


def _header(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0]))
    return header


def _with_header(token: str, **changes: Any) -> str:
    header = {**_header(token), **changes}
    return ".".join([b64url_encode(json.dumps(header).encode()), *token.split(".")[1:]])


def test_public_api_is_pinned() -> None:
    assert jwe_module.__all__ == [
        "DEFAULT_ALGS",
        "DEFAULT_ENCS",
        "JweAlgorithm",
        "JweEncryption",
        "decrypt_response",
        "encrypt_response",
    ]


@pytest.mark.parametrize("enc", list(JweEncryption))
def test_round_trip(enc: JweEncryption) -> None:
    token = encrypt_response(PAYLOAD, JWK, enc=enc)
    header = _header(token)
    assert (header["alg"], header["enc"], header["kid"]) == ("ECDH-ES", enc.value, "req-1")
    assert header["epk"]["crv"] == "P-256" and "d" not in header["epk"]
    assert "apu" not in header and "apv" not in header  # OpenID4VP 1.0 sets neither
    assert token.split(".")[1] == ""  # direct key agreement: no encrypted key
    assert decrypt_response(token, VERIFIER, expected_kid="req-1") == PAYLOAD


def test_private_key_as_jwk_and_fresh_ephemeral_keys() -> None:
    first, second = encrypt_response(PAYLOAD, JWK), encrypt_response(PAYLOAD, JWK)
    assert _header(first)["epk"] != _header(second)["epk"]
    assert decrypt_response(second, jwk_from_private_key(VERIFIER)) == PAYLOAD


@pytest.mark.parametrize("curve", [JwsAlgorithm.ES384, JwsAlgorithm.ES512])
def test_other_curves(curve: JwsAlgorithm) -> None:
    key = generate_key(curve)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    token = encrypt_response(PAYLOAD, jwk_from_public_key(key), kid="x")
    assert decrypt_response(token, key) == PAYLOAD


def test_apu_apv_when_a_profile_asks_for_them() -> None:
    token = encrypt_response(PAYLOAD, JWK, apu=b"mdoc-nonce", apv=b"n-0S6_WzA2Mj")
    assert b64url_decode(_header(token)["apv"]) == b"n-0S6_WzA2Mj"
    assert decrypt_response(token, VERIFIER) == PAYLOAD
    # apv is bound: authenticated as protected header and part of the key derivation.
    with pytest.raises(DecryptionFailed):
        decrypt_response(_with_header(token, apv=b64url_encode(b"another-nonce")), VERIFIER)


# -- hostile JWEs --------------------------------------------------------------------------------


def test_wrong_key() -> None:
    other = generate_key()
    assert isinstance(other, ec.EllipticCurvePrivateKey)
    with pytest.raises(DecryptionFailed) as info:
        decrypt_response(encrypt_response(PAYLOAD, JWK), other)
    assert info.value.oauth_error == "invalid_request"


def test_other_kid() -> None:
    with pytest.raises(DecryptionFailed):
        decrypt_response(encrypt_response(PAYLOAD, JWK), VERIFIER, expected_kid="req-2")


@pytest.mark.parametrize("segment", [2, 3, 4])
def test_tampered_iv_ciphertext_or_tag(segment: int) -> None:
    parts = encrypt_response(PAYLOAD, JWK).split(".")
    raw = bytearray(b64url_decode(parts[segment]))
    raw[0] ^= 0x01
    parts[segment] = b64url_encode(bytes(raw))
    with pytest.raises(DecryptionFailed):
        decrypt_response(".".join(parts), VERIFIER)


def test_tampered_header() -> None:
    token = encrypt_response(PAYLOAD, JWK)
    with pytest.raises(DecryptionFailed):
        decrypt_response(_with_header(token, kid="req-1 "), VERIFIER)


def _foreign(alg: str, key: jwcrypto_jwk.JWK, enc: str = "A128GCM") -> str:
    token = jwcrypto_jwe.JWE(b"{}", protected=json.dumps({"alg": alg, "enc": enc}), recipient=key)
    compact: str = token.serialize(compact=True)
    return compact


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        (
            "RSA-OAEP",
            jwcrypto_jwk.JWK.from_pyca(
                rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
            ),
        ),
        ("dir", jwcrypto_jwk.JWK.generate(kty="oct", size=128)),
        ("A128KW", jwcrypto_jwk.JWK.generate(kty="oct", size=128)),
        ("ECDH-ES+A128KW", jwcrypto_jwk.JWK.from_pyca(VERIFIER.public_key())),
    ],
)
def test_algorithms_outside_the_allow_list(alg: str, key: jwcrypto_jwk.JWK) -> None:
    with pytest.raises(UnsupportedAlgorithm) as info:
        decrypt_response(_foreign(alg, key), VERIFIER)
    assert info.value.alg == alg  # type: ignore[attr-defined]


@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A192GCM"])
def test_encryption_outside_the_allow_list(enc: str) -> None:
    token = _foreign("ECDH-ES", jwcrypto_jwk.JWK.from_pyca(VERIFIER.public_key()), enc=enc)
    with pytest.raises(UnsupportedAlgorithm):
        decrypt_response(token, VERIFIER)


def test_caller_allow_list_is_honoured() -> None:
    token = encrypt_response(PAYLOAD, JWK, enc=JweEncryption.A128GCM)
    with pytest.raises(UnsupportedAlgorithm):
        decrypt_response(token, VERIFIER, allowed_encs=frozenset({JweEncryption.A256GCM}))


def test_compressed_payload_is_refused() -> None:
    token = _foreign("ECDH-ES", jwcrypto_jwk.JWK.from_pyca(VERIFIER.public_key()))
    with pytest.raises(UnsupportedAlgorithm, match="zip"):
        decrypt_response(_with_header(token, zip="DEF"), VERIFIER)


def test_oversize() -> None:
    token = encrypt_response({"vp_token": {"a": ["x" * 5000]}}, JWK)
    with pytest.raises(TooLarge):
        decrypt_response(token, VERIFIER, max_size=4096)
    with pytest.raises(TooLarge):
        decrypt_response("a" * (2 * 1024 * 1024 + 1), VERIFIER)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("a.b.c.d", MalformedInput),
        ("a.b.c.d.e.f", MalformedInput),
        ("!!.x.y.z.w", MalformedBase64url),
        (b64url_encode(b"not json") + "...x.y", MalformedJson),
        (b64url_encode(b"[1]") + "....", MalformedInput),
    ],
)
def test_malformed(token: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        decrypt_response(token, VERIFIER)


def test_encrypted_key_segment_must_be_empty() -> None:
    parts = encrypt_response(PAYLOAD, JWK).split(".")
    parts[1] = "AAAA"
    with pytest.raises(MalformedInput, match="encrypted key"):
        decrypt_response(".".join(parts), VERIFIER)


@pytest.mark.parametrize(
    "epk",
    [
        None,
        {"kty": "OKP", "crv": "X25519", "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(b"\x01" * 32),
            "y": b64url_encode(b"\x02" * 32),
        },
        jwk_from_private_key(generate_key()),
    ],
)
def test_bad_ephemeral_key(epk: Any) -> None:
    token = _with_header(encrypt_response(PAYLOAD, JWK), epk=epk)
    with pytest.raises(MalformedInput):
        decrypt_response(token, VERIFIER)


def test_crit_is_refused() -> None:
    with pytest.raises(MalformedInput, match="critical"):
        decrypt_response(_with_header(encrypt_response(PAYLOAD, JWK), crit=["x"]), VERIFIER)


def test_payload_must_be_an_object() -> None:
    token = jwcrypto_jwe.JWE(
        b"[1]",
        protected=json.dumps({"alg": "ECDH-ES", "enc": "A128GCM"}),
        recipient=jwcrypto_jwk.JWK.from_pyca(VERIFIER.public_key()),
    ).serialize(compact=True)
    with pytest.raises(MalformedInput, match="object"):
        decrypt_response(token, VERIFIER)


@pytest.mark.parametrize(
    ("jwk", "error"),
    [
        ({**JWK, "alg": "ECDH-ES+A128KW"}, UnsupportedAlgorithm),
        ({**JWK, "use": "sig"}, UnsupportedAlgorithm),
        (
            {"kty": "OKP", "crv": "X25519", "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc"},
            UnsupportedAlgorithm,
        ),
        ({**JWK, "crv": "P-192"}, UnsupportedAlgorithm),
        (jwk_from_private_key(VERIFIER), MalformedInput),
        ({**JWK, "x": "AAAA"}, MalformedInput),
    ],
)
def test_unusable_recipient_keys(jwk: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        encrypt_response(PAYLOAD, jwk)


@pytest.mark.parametrize(("alg", "enc"), [("RSA-OAEP", "A128GCM"), ("ECDH-ES", "A128CBC-HS256")])
def test_unsupported_algorithms_when_encrypting(alg: str, enc: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        encrypt_response(PAYLOAD, JWK, alg=alg, enc=enc)


def test_wrong_private_key_type() -> None:
    token = encrypt_response(PAYLOAD, JWK)
    with pytest.raises(UnsupportedAlgorithm):
        decrypt_response(token, jwk_from_private_key(generate_key(JwsAlgorithm.EDDSA)))


@pytest.mark.parametrize(("segment", "size"), [(2, 8), (2, 16), (4, 12), (4, 0)])
def test_iv_and_tag_sizes_are_fixed(segment: int, size: int) -> None:
    # RFC 7518 §5.3: a 96-bit IV and a 128-bit tag, nothing else.
    parts = encrypt_response(PAYLOAD, JWK).split(".")
    parts[segment] = b64url_encode(bytes(size))
    with pytest.raises(MalformedInput, match="96-bit IV"):
        decrypt_response(".".join(parts), VERIFIER)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"apu": 5}, MalformedInput),
        ({"apv": ["n"]}, MalformedInput),
        ({"apv": "bm9uY2U="}, MalformedBase64url),
    ],
)
def test_bad_party_info(changes: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        decrypt_response(_with_header(encrypt_response(PAYLOAD, JWK), **changes), VERIFIER)


def _epk_with(**changes: Any) -> dict[str, Any]:
    epk = {**_header(encrypt_response(PAYLOAD, JWK))["epk"], **changes}
    return {k: v for k, v in epk.items() if v is not None}


@pytest.mark.parametrize(
    "epk",
    [
        _epk_with(x=b64url_encode(bytes(31))),  # RFC 7518 §6.2.1.2: full-size coordinates
        _epk_with(y=b64url_encode(bytes(33))),
        _epk_with(y=None),
        _epk_with(x=123),
        _epk_with(kty="OKP"),
        _epk_with(x=b64url_encode(bytes(32)), y=b64url_encode(bytes(32))),  # not on P-256
    ],
)
def test_more_bad_ephemeral_keys(epk: dict[str, Any]) -> None:
    token = _with_header(encrypt_response(PAYLOAD, JWK), epk=epk)
    with pytest.raises(MalformedInput):
        decrypt_response(token, VERIFIER)


def test_ephemeral_key_on_another_curve_than_the_recipient() -> None:
    other = generate_key(JwsAlgorithm.ES384)
    assert isinstance(other, ec.EllipticCurvePrivateKey)
    token = encrypt_response(PAYLOAD, jwk_from_public_key(other))
    with pytest.raises(MalformedInput, match="curve"):
        decrypt_response(token, VERIFIER)


def test_empty_plaintext_is_not_a_payload() -> None:
    token = jwcrypto_jwe.JWE(
        b"",
        protected=json.dumps({"alg": "ECDH-ES", "enc": "A256GCM"}),
        recipient=jwcrypto_jwk.JWK.from_pyca(VERIFIER.public_key()),
    ).serialize(compact=True)
    with pytest.raises(MalformedJson):
        decrypt_response(token, VERIFIER)
