"""The ``jwt`` key proof (OpenID4VCI 1.0 App. F.1 / F.4), including HOSTILE-CASES IS-03..IS-14."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from honnin.encoding import b64url_encode
from honnin.errors import InvalidNonce, InvalidProof
from honnin.jose import (
    JwsAlgorithm,
    generate_key,
    jwk_from_private_key,
    jwk_from_public_key,
    jwk_thumbprint,
    sign_jws,
)
from honnin.oid4vci import PROOF_JWT_TYP, build_proof_jwt, verify_proof_jwt

ISSUER = "https://issuer.example"
NOW = 1_800_000_000.0
NONCE = "wKI4LT17ac15ES9bw8ac4"
KEY = generate_key()


def _verify(token: str, **options: Any) -> Any:
    options = {"audience": ISSUER, "now": NOW, "expected_nonce": NONCE, **options}
    return verify_proof_jwt(token, **options)


def _forge(header: dict[str, Any], claims: dict[str, Any] | bytes, key: Any = KEY) -> str:
    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    return sign_jws(payload, key, header=header)


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"aud": ISSUER, "iat": int(NOW), "nonce": NONCE}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _header(**changes: Any) -> dict[str, Any]:
    header: dict[str, Any] = {"typ": PROOF_JWT_TYP, "jwk": jwk_from_public_key(KEY)}
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None}


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value).encode())


def _reason(token: str, **options: Any) -> str:
    with pytest.raises(InvalidProof) as info:
        _verify(token, **options)
    assert info.value.oauth_error == "invalid_proof"
    return str(info.value.reason)  # type: ignore[attr-defined]


def test_round_trip() -> None:
    token = build_proof_jwt(KEY, audience=ISSUER, nonce=NONCE, now=NOW)
    proof = _verify(token)
    assert proof.jwk == jwk_from_public_key(KEY)
    assert proof.thumbprint == jwk_thumbprint(jwk_from_public_key(KEY))
    assert (proof.nonce, proof.issued_at, proof.client_id) == (NONCE, int(NOW), None)
    assert proof.algorithm is JwsAlgorithm.ES256 and proof.certificate_chain == ()


@pytest.mark.parametrize("alg", [JwsAlgorithm.ES384, JwsAlgorithm.EDDSA])
def test_other_curves(alg: JwsAlgorithm) -> None:
    key = generate_key(alg)
    token = build_proof_jwt(key, audience=ISSUER, nonce=NONCE, now=NOW, client_id="wallet-1")
    assert _verify(token).client_id == "wallet-1"


def test_the_caller_may_check_the_nonce_itself() -> None:
    token = build_proof_jwt(KEY, audience=ISSUER, nonce="from-store", now=NOW)
    assert _verify(token, expected_nonce=None).nonce == "from-store"


def test_no_nonce_endpoint_no_nonce_needed() -> None:
    token = build_proof_jwt(KEY, audience=ISSUER, nonce=None, now=NOW)
    assert _verify(token, expected_nonce=None, nonce_required=False).nonce is None


def _self_signed(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wallet key")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_x5c_key() -> None:
    assert isinstance(KEY, ec.EllipticCurvePrivateKey)
    der = _self_signed(KEY)
    token = build_proof_jwt(KEY, audience=ISSUER, nonce=NONCE, now=NOW, x5c=[der])
    proof = _verify(token)
    assert proof.certificate_chain == (der,) and proof.jwk == jwk_from_public_key(KEY)


# -- hostile proofs --------------------------------------------------------------------------


def test_flipped_signature_bit() -> None:  # IS-03
    token = build_proof_jwt(KEY, audience=ISSUER, nonce=NONCE, now=NOW)
    head, payload, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[10] ^= 0x01
    assert _reason(f"{head}.{payload}.{b64url_encode(bytes(raw))}") == "signature"


def test_signed_by_a_key_other_than_its_jwk() -> None:
    other = generate_key()
    assert _reason(_forge(_header(), _claims(), key=other)) == "signature"


@pytest.mark.parametrize("alg", ["none", "None"])
def test_alg_none(alg: str) -> None:  # IS-04
    header = b64url_encode(json.dumps({**_header(), "alg": alg}).encode())
    payload = b64url_encode(json.dumps(_claims()).encode())
    assert _reason(f"{header}.{payload}.") == "malformed"  # empty signature segment
    assert _reason(f"{header}.{payload}.AAAA") == "signature"


def test_hs256_with_its_own_jwk_as_the_secret() -> None:  # IS-05
    jwk = jwk_from_public_key(KEY)
    header = {"typ": PROOF_JWT_TYP, "alg": "HS256", "jwk": jwk}
    signing_input = f"{_segment(header)}.{_segment(_claims())}"
    secret = json.dumps(jwk).encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert _reason(f"{signing_input}.{b64url_encode(mac)}") == "signature"
    oct_header = {
        "typ": PROOF_JWT_TYP,
        "alg": "HS256",
        "jwk": {"kty": "oct", "k": b64url_encode(secret)},
    }
    oct_input = f"{_segment(oct_header)}.{_segment(_claims())}"
    oct_mac = hmac.new(secret, oct_input.encode(), hashlib.sha256).digest()
    assert _reason(f"{oct_input}.{b64url_encode(oct_mac)}") == "private_key"


def test_private_key_in_the_jwk_header() -> None:  # IS-06
    token = _forge(_header(jwk=jwk_from_private_key(KEY)), _claims())
    with pytest.raises(InvalidProof) as info:
        _verify(token)
    assert info.value.reason == "private_key"  # type: ignore[attr-defined]
    assert jwk_from_private_key(KEY)["d"] not in str(info.value) + repr(info.value)


@pytest.mark.parametrize(
    "typ", ["JWT", "kb+jwt", "OPENID4VCI-PROOF+JWT", "application/openid4vci-proof+jwt", None]
)
def test_wrong_typ(typ: str | None) -> None:  # IS-07
    assert _reason(_forge(_header(typ=typ), _claims())) == "typ"


@pytest.mark.parametrize("aud", ["https://other.example", None, [ISSUER], ISSUER + "/"])
def test_wrong_or_missing_aud(aud: Any) -> None:  # IS-08
    assert _reason(_forge(_header(), _claims(aud=aud))) == "aud"


def test_nonce_not_issued() -> None:  # IS-09
    with pytest.raises(InvalidNonce) as info:
        _verify(_forge(_header(), _claims(nonce="never-issued")))
    assert info.value.oauth_error == "invalid_nonce"


def test_missing_nonce_with_a_nonce_endpoint() -> None:  # IS-10: invalid_proof, not invalid_nonce
    assert _reason(_forge(_header(), _claims(nonce=None))) == "nonce"
    assert _reason(_forge(_header(), _claims(nonce=None)), expected_nonce=None) == "nonce"


def test_non_string_nonce() -> None:
    assert _reason(_forge(_header(), _claims(nonce=123))) == "nonce"


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(59, True), (60, True), (61, False), (3600, False), (-86400, False), (-300, True)],
)
def test_iat_window(offset: int, ok: bool) -> None:  # IS-13
    token = _forge(_header(), _claims(iat=int(NOW) + offset))
    if ok:
        assert _verify(token).issued_at == int(NOW) + offset
    else:
        assert _reason(token) == "iat"


@pytest.mark.parametrize(
    "iat", [b"NaN", b"Infinity", b"1e400", b'"123"', b"true", b"1800000000.5", b"null"]
)
def test_iat_not_an_integer(iat: bytes) -> None:  # IS-14
    payload = (
        b'{"aud":"' + ISSUER.encode() + b'","nonce":"' + NONCE.encode() + b'","iat":' + iat + b"}"
    )
    assert _reason(_forge(_header(), payload)) in ("iat", "malformed")


def test_missing_iat() -> None:
    assert _reason(_forge(_header(), _claims(iat=None))) == "iat"


def test_key_must_come_from_exactly_one_header() -> None:
    both = _header(kid="did:example:123#1")
    assert _reason(_forge(both, _claims())) == "key"
    only_kid = _header(jwk=None, kid="did:example:123#1")
    assert _reason(_forge(only_kid, _claims())) == "key"
    assert _reason(_forge(_header(jwk=None), _claims())) == "key"


@pytest.mark.parametrize("x5c", [[], ["***"], [b64url_encode(b"not a cert")], "MIIB", [1]])
def test_bad_x5c(x5c: Any) -> None:
    assert _reason(_forge(_header(jwk=None, x5c=x5c), _claims())) == "key"


def test_rsa_x5c_is_refused() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = _header(jwk=None, x5c=[base64.b64encode(_self_signed(rsa_key)).decode()])
    assert _reason(_forge(header, _claims())) == "key"


def test_alg_outside_the_allow_list() -> None:
    token = build_proof_jwt(KEY, audience=ISSUER, nonce=NONCE, now=NOW)
    assert _reason(token, allowed_algs=frozenset({JwsAlgorithm.EDDSA})) == "signature"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.!!.!!", "eyJ9.e30.AAAA"])
def test_malformed_tokens(token: str) -> None:
    assert _reason(token) == "malformed"


def test_non_object_payload() -> None:
    assert _reason(_forge(_header(), b"[1,2]")) == "malformed"


def test_crit_header_is_refused() -> None:
    assert _reason(_forge(_header(crit=["exp"]), _claims())) == "malformed"


def test_repr_shows_no_key_material() -> None:
    proof = _verify(build_proof_jwt(KEY, audience=ISSUER, nonce=NONCE, now=NOW))
    assert jwk_from_public_key(KEY)["x"] not in repr(proof)
