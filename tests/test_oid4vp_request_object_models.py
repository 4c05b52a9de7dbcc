"""Signed Request Objects (OpenID4VP 1.0 §5, §5.9.3, §5.10; RFC 9101), HOSTILE-CASES WL-01..08."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from vectors import load_json

from honnin.encoding import b64url_encode
from honnin.errors import (
    InvalidRequest,
    InvalidSignature,
    MalformedJws,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import JwsAlgorithm, generate_key, sign_jws
from honnin.oid4vp import (
    REQUEST_OBJECT_TYP,
    AuthorizationRequest,
    ClientIdPrefix,
    build_request_object,
    check_client_id_certificate,
    parse_authorization_request,
    parse_unverified_request_object,
    verify_request_object_signature,
    x509_hash,
    x509_hash_client_id,
)

KEY = generate_key()
assert isinstance(KEY, ec.EllipticCurvePrivateKey)
DNS = "verifier.example"


def _cert(key: ec.EllipticCurvePrivateKey, dns: str = DNS) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hello Work")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(42)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=400))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


LEAF = _cert(KEY)


def _request(client_id: str = f"x509_san_dns:{DNS}", **changes: Any) -> AuthorizationRequest:
    raw: dict[str, Any] = {
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": f"https://{DNS}/post",
        "nonce": "n-0S6_WzA2Mj",
        "state": "st",
        "dcql_query": load_json("dcql", "simple.json"),
        "client_metadata": {"jwks": {"keys": [{"kty": "EC", "kid": "1"}]}},
    }
    raw.update(changes)
    return parse_authorization_request(raw)


def _signed(request: AuthorizationRequest, key: Any = KEY, leaf: bytes = LEAF) -> str:
    return build_request_object(request, key, x5c=[leaf], now=1_800_000_000, lifetime=600)


@pytest.mark.parametrize("prefix", [ClientIdPrefix.X509_SAN_DNS, ClientIdPrefix.X509_HASH])
def test_build_parse_verify(prefix: ClientIdPrefix) -> None:
    client_id = (
        f"x509_san_dns:{DNS}"
        if prefix is ClientIdPrefix.X509_SAN_DNS
        else x509_hash_client_id(LEAF)
    )
    request = _request(client_id)
    token = _signed(request)
    unverified = parse_unverified_request_object(token, client_id=client_id)
    assert unverified.jws.header["typ"] == REQUEST_OBJECT_TYP
    assert unverified.certificate_chain == (LEAF,)
    signed = verify_request_object_signature(unverified)
    assert signed.client_id.prefix is prefix and signed.algorithm is JwsAlgorithm.ES256
    assert signed.request.nonce == request.nonce and signed.request.dcql_query == request.dcql_query
    assert (signed.request.aud, signed.request.iat, signed.request.exp) == (
        "https://self-issued.me/v2",
        1_800_000_000,
        1_800_000_600,
    )


def test_x509_hash_is_sha256_of_the_der() -> None:
    import hashlib

    assert x509_hash(LEAF) == b64url_encode(hashlib.sha256(LEAF).digest())
    assert x509_hash(x509.load_der_x509_certificate(LEAF)) == x509_hash(LEAF)


def test_wallet_nonce_must_come_back() -> None:
    token = _signed(_request(wallet_nonce="qPmxiNFCR3QTm19POc8u"))
    assert parse_unverified_request_object(token, wallet_nonce="qPmxiNFCR3QTm19POc8u")
    with pytest.raises(InvalidRequest, match="wallet_nonce"):
        parse_unverified_request_object(token, wallet_nonce="another")
    with pytest.raises(InvalidRequest, match="wallet_nonce"):
        parse_unverified_request_object(_signed(_request()), wallet_nonce="qPmxiNFCR3QTm19POc8u")


# -- hostile request objects ---------------------------------------------------------------------


def test_invalid_signature() -> None:  # WL-01
    head, payload, sig = _signed(_request()).split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[0] ^= 0x80
    with pytest.raises(InvalidSignature):
        verify_request_object_signature(
            parse_unverified_request_object(f"{head}.{payload}.{b64url_encode(bytes(raw))}")
        )


def test_signed_by_a_key_other_than_the_leaf() -> None:
    other = generate_key()
    with pytest.raises(InvalidSignature):
        verify_request_object_signature(
            parse_unverified_request_object(_signed(_request(), key=other))
        )


def test_client_id_differs_from_the_url() -> None:  # WL-03
    with pytest.raises(InvalidRequest, match="client_id differs"):
        parse_unverified_request_object(_signed(_request()), client_id="x509_san_dns:evil.example")


def test_x509_hash_not_the_leaf() -> None:  # WL-04
    other_leaf = _cert(generate_key())  # type: ignore[arg-type]
    request = _request(x509_hash_client_id(other_leaf))
    with pytest.raises(InvalidRequest) as info:
        verify_request_object_signature(parse_unverified_request_object(_signed(request)))
    assert info.value.reason == "client_id_binding"  # type: ignore[attr-defined]


def test_san_dns_not_in_the_certificate() -> None:
    request = _request("x509_san_dns:bank.example", response_uri="https://bank.example/post")
    with pytest.raises(InvalidRequest) as info:
        verify_request_object_signature(parse_unverified_request_object(_signed(request)))
    assert info.value.reason == "client_id_binding"  # type: ignore[attr-defined]


def test_response_uri_outside_the_client_id_dns_name() -> None:  # WL-07
    request = _request(response_uri="https://collector.evil.example/post")
    unverified = parse_unverified_request_object(_signed(request))
    with pytest.raises(InvalidRequest) as info:
        verify_request_object_signature(unverified)
    assert info.value.reason == "response_uri_host"  # type: ignore[attr-defined]
    assert verify_request_object_signature(unverified, trusted_client_id=True)


def test_unknown_prefix_is_not_verified() -> None:  # WL-04
    request = _request("invalid_scheme:verifier.example")
    token = sign_jws(
        request.to_json(),
        KEY,
        header={"typ": REQUEST_OBJECT_TYP, "x5c": [base64.b64encode(LEAF).decode()]},
    )
    with pytest.raises(InvalidRequest) as info:
        verify_request_object_signature(parse_unverified_request_object(token))
    assert info.value.reason == "client_id_prefix"  # type: ignore[attr-defined]
    with pytest.raises(InvalidRequest):
        check_client_id_certificate(
            "redirect_uri:https://a.example", x509.load_der_x509_certificate(LEAF)
        )


def test_redirect_uri_requests_cannot_be_signed() -> None:
    request = _request("redirect_uri:https://verifier.example/post")
    with pytest.raises(ValueError, match="x509"):
        build_request_object(request, KEY, x5c=[LEAF])


@pytest.mark.parametrize(
    "typ", [None, "JWT", "jwt", "oauth-authz-req+JWT", "application/oauth-authz-req+jwt"]
)
def test_typ_missing_or_wrong(typ: str | None) -> None:  # WL-08
    header: dict[str, Any] = {"x5c": [base64.b64encode(LEAF).decode()]}
    if typ is not None:
        header["typ"] = typ
    token = sign_jws(_request().to_json(), KEY, header=header)
    with pytest.raises(InvalidRequest, match="typ"):
        parse_unverified_request_object(token)


def test_missing_nonce() -> None:  # WL-05
    claims = _request().to_json()
    del claims["nonce"]
    token = sign_jws(claims, KEY, header={"typ": REQUEST_OBJECT_TYP})
    with pytest.raises(InvalidRequest, match="nonce"):
        parse_unverified_request_object(token)


def test_redirect_uri_with_direct_post() -> None:  # WL-06
    claims = {**_request().to_json(), "redirect_uri": f"https://{DNS}/cb"}
    token = sign_jws(claims, KEY, header={"typ": REQUEST_OBJECT_TYP})
    with pytest.raises(InvalidRequest, match="redirect_uri"):
        parse_unverified_request_object(token)


def test_no_x5c() -> None:
    token = sign_jws(_request().to_json(), KEY, header={"typ": REQUEST_OBJECT_TYP})
    with pytest.raises(InvalidRequest, match="x5c"):
        verify_request_object_signature(parse_unverified_request_object(token))


@pytest.mark.parametrize("x5c", [[], ["%%%"], "MIIB", [7]])
def test_bad_x5c(x5c: Any) -> None:
    token = sign_jws(_request().to_json(), KEY, header={"typ": REQUEST_OBJECT_TYP, "x5c": x5c})
    with pytest.raises(InvalidRequest, match="x5c"):
        parse_unverified_request_object(token)


def test_x5c_not_a_certificate() -> None:
    header = {"typ": REQUEST_OBJECT_TYP, "x5c": [base64.b64encode(b"not DER").decode()]}
    token = sign_jws(_request().to_json(), KEY, header=header)
    with pytest.raises(InvalidRequest, match="DER"):
        verify_request_object_signature(parse_unverified_request_object(token))


def test_alg_none_request() -> None:
    header = b64url_encode(
        json.dumps(
            {"alg": "none", "typ": REQUEST_OBJECT_TYP, "x5c": [base64.b64encode(LEAF).decode()]}
        ).encode()
    )
    payload = b64url_encode(json.dumps(_request().to_json()).encode())
    with pytest.raises(UnsupportedAlgorithm):
        verify_request_object_signature(parse_unverified_request_object(f"{header}.{payload}.AA"))


def test_oversized_request_object() -> None:  # WL-15
    with pytest.raises(TooLarge):
        parse_unverified_request_object("a" * (2 * 1024 * 1024))


def test_not_a_jws() -> None:
    with pytest.raises(MalformedJws):
        parse_unverified_request_object("one.two")


def test_unparseable_response_uri_host() -> None:
    from honnin.oid4vp import check_uri_host, parse_client_id

    with pytest.raises(InvalidRequest):
        check_uri_host(parse_client_id(f"x509_san_dns:{DNS}"), "https://[::1/post")
    with pytest.raises(InvalidRequest):
        check_uri_host(parse_client_id(f"x509_san_dns:{DNS}"), None)
