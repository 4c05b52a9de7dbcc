"""DPoP proofs (RFC 9449 §4): ``build_dpop_proof`` and every §4.3 check of
``verify_dpop_proof``, each refusal a typed ``InvalidDpopProof`` naming the check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from honnin.encoding import b64url_encode
from honnin.errors import InvalidDpopProof
from honnin.jose import (
    JwsAlgorithm,
    generate_key,
    jwk_from_private_key,
    jwk_from_public_key,
    jwk_thumbprint,
    sign_jws,
)
from honnin.oauth import (
    DPOP_MAX_AGE,
    DPOP_MAX_SKEW,
    DPOP_TYP,
    access_token_hash,
    build_dpop_proof,
    dpop_htu,
    verify_dpop_proof,
)

NOW = 1_800_000_000.0
URL = "https://issuer.example/credential"
TOKEN = "tok-" + "a" * 40
KEY = generate_key()
JKT = jwk_thumbprint(jwk_from_public_key(KEY))


def _decode(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _forged(
    claims: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    *,
    key: Any = KEY,
    drop: tuple[str, ...] = (),
) -> str:
    body: dict[str, Any] = {
        "jti": "j-1", "htm": "POST", "htu": URL, "iat": int(NOW),
        "ath": access_token_hash(TOKEN),
    }  # fmt: skip
    body.update(claims or {})
    head: dict[str, Any] = {"typ": DPOP_TYP, "jwk": jwk_from_public_key(key)}
    head.update(header or {})
    for name in drop:
        body.pop(name, None)
        head.pop(name, None)
    return sign_jws(body, key, header=head)


def _refused(proof: Any, reason: str, **options: Any) -> InvalidDpopProof:
    arguments: dict[str, Any] = {"htm": "POST", "htu": URL, "now": NOW, "access_token": TOKEN}
    arguments.update(options)
    with pytest.raises(InvalidDpopProof) as caught:
        verify_dpop_proof(proof, **arguments)
    assert caught.value.fields["reason"] == reason, caught.value.message
    assert caught.value.http_status == 400 and caught.value.oauth_error == "invalid_dpop_proof"
    return caught.value


def test_a_built_proof_verifies_and_names_its_key() -> None:
    proof = build_dpop_proof(KEY, htm="POST", htu=URL + "?x=1#f", now=NOW, access_token=TOKEN)
    header, claims = (_decode(p) for p in proof.split(".")[:2])
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    # §4.2: htu without query and fragment, ath the base64url SHA-256 of the token.
    assert claims["htu"] == URL and claims["htm"] == "POST" and claims["iat"] == int(NOW)
    digest = hashlib.sha256(TOKEN.encode()).digest()
    assert claims["ath"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert len(base64.urlsafe_b64decode(claims["jti"] + "==")) >= 12  # ≥ 96 bits
    verified = verify_dpop_proof(
        proof, htm="POST", htu=URL, now=NOW + 5, access_token=TOKEN, jkt=JKT
    )
    assert verified.jkt == JKT and verified.jti == claims["jti"] and verified.nonce is None
    assert verified.issued_at == int(NOW)


def test_each_proof_has_its_own_jti_and_carries_a_nonce_when_given() -> None:
    first = build_dpop_proof(KEY, htm="POST", htu=URL, now=NOW, nonce="n-1")
    second = build_dpop_proof(KEY, htm="POST", htu=URL, now=NOW)
    assert _decode(first.split(".")[1])["jti"] != _decode(second.split(".")[1])["jti"]
    assert verify_dpop_proof(first, htm="POST", htu=URL, now=NOW).nonce == "n-1"
    assert "ath" not in _decode(second.split(".")[1])


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Issuer.Example:443/credential?q=1#frag", "https://issuer.example/credential"),
        ("http://127.0.0.1:80", "http://127.0.0.1/"),
        ("http://127.0.0.1:8080/token", "http://127.0.0.1:8080/token"),
        ("https://[::1]:8443/t", "https://[::1]:8443/t"),
    ],
)
def test_htu_is_normalized_as_rfc_3986_says(url: str, normal: str) -> None:
    assert dpop_htu(url) == normal


@pytest.mark.parametrize(
    "url", ["issuer.example/credential", "ftp://x/y", "https://", "https://h:99999/"]
)
def test_htu_of_a_non_http_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidDpopProof):
        dpop_htu(url)


def test_a_proof_to_an_equivalent_url_is_accepted() -> None:
    proof = _forged({"htu": "HTTPS://ISSUER.example:443/credential"})
    assert verify_dpop_proof(proof, htm="POST", htu=URL, now=NOW, access_token=TOKEN).jkt == JKT


@pytest.mark.parametrize(
    "proof",
    [
        "",
        "not a jwt",
        "a.b.c",
        "é." * 3,
        "x" * 9000,
        _forged() + "." + "x",
    ],
)
def test_what_is_not_one_compact_jwt_is_malformed(proof: str) -> None:
    _refused(proof, "malformed")


def test_a_non_string_proof_is_malformed() -> None:
    _refused(None, "malformed")


@pytest.mark.parametrize("typ", [None, "jwt", "JWT", "DPOP+JWT", "openid4vci-proof+jwt"])
def test_another_typ_is_refused(typ: str | None) -> None:
    _refused(_forged(header={"typ": typ} if typ else {}, drop=() if typ else ("typ",)), "typ")


def test_a_missing_or_private_jwk_is_refused() -> None:
    _refused(_forged(drop=("jwk",)), "jwk")
    _refused(_forged(header={"jwk": "not-an-object"}), "jwk")
    # §4.3 step 7: a private key in the header.
    _refused(_forged(header={"jwk": jwk_from_private_key(KEY)}), "jwk")
    _refused(_forged(header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}), "jwk")
    _refused(_forged(header={"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}), "jwk")


def test_a_signature_by_another_key_is_refused() -> None:
    other = generate_key()
    _refused(_forged(header={"jwk": jwk_from_public_key(other)}), "signature")


def test_alg_none_and_macs_and_other_curves_are_refused() -> None:
    header = base64.urlsafe_b64encode(
        json.dumps({"typ": DPOP_TYP, "alg": "none", "jwk": jwk_from_public_key(KEY)}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(
        json.dumps({"jti": "j", "htm": "POST", "htu": URL, "iat": int(NOW)}).encode()
    ).rstrip(b"=")
    # An unsecured JWS has no signature segment: not a compact JWS at all; with one, the
    # algorithm is refused before any key is used.
    _refused(f"{header.decode()}.{body.decode()}.", "malformed", access_token=None)
    _refused(f"{header.decode()}.{body.decode()}.c2ln", "signature", access_token=None)
    # HS256 over the public key's bytes: a MAC is never a DPoP proof (§4.3 step 5).
    signing_input = (
        b64url_encode(
            json.dumps({"typ": DPOP_TYP, "alg": "HS256", "jwk": jwk_from_public_key(KEY)}).encode()
        )
        + "."
        + body.decode()
    )
    mac = hmac.new(b"k", signing_input.encode(), hashlib.sha256).digest()
    _refused(f"{signing_input}.{b64url_encode(mac)}", "signature", access_token=None)
    p384 = ec.generate_private_key(ec.SECP384R1())
    _refused(_forged(key=p384), "signature")
    _refused(_forged(key=ed25519.Ed25519PrivateKey.generate()), "signature")
    # An algorithm allowed by the caller passes (the allow-list is the caller's).
    proof = _forged(key=p384)
    allowed = frozenset({JwsAlgorithm.ES384})
    assert verify_dpop_proof(
        proof, htm="POST", htu=URL, now=NOW, access_token=TOKEN, allowed=allowed
    )


@pytest.mark.parametrize("jti", [None, "", 7, "j" * 257])
def test_a_missing_or_unusable_jti_is_refused(jti: Any) -> None:
    _refused(_forged({"jti": jti}) if jti is not None else _forged(drop=("jti",)), "jti")


def test_htm_must_be_the_request_method() -> None:
    _refused(_forged({"htm": "GET"}), "htm")
    _refused(_forged({"htm": "post"}), "htm")
    _refused(_forged(drop=("htm",)), "htm")


@pytest.mark.parametrize(
    "htu",
    [None, "https://issuer.example/token", "https://other.example/credential", "/credential", 5],
)
def test_htu_must_be_the_request_uri(htu: Any) -> None:
    _refused(_forged({"htu": htu}) if htu is not None else _forged(drop=("htu",)), "htu")


@pytest.mark.parametrize(
    "iat",
    [
        None,
        "1800000000",
        True,
        NOW - DPOP_MAX_AGE - DPOP_MAX_SKEW - 1,
        NOW + DPOP_MAX_SKEW + 1,
    ],
)
def test_iat_must_be_a_number_inside_the_window(iat: Any) -> None:
    _refused(_forged({"iat": iat}) if iat is not None else _forged(drop=("iat",)), "iat")


def test_the_window_edges_are_accepted() -> None:
    for iat in (NOW - DPOP_MAX_AGE - DPOP_MAX_SKEW, NOW + DPOP_MAX_SKEW):
        assert verify_dpop_proof(
            _forged({"iat": int(iat)}), htm="POST", htu=URL, now=NOW, access_token=TOKEN
        )


def test_ath_must_be_the_tokens_hash_and_the_key_the_bound_one() -> None:
    _refused(_forged(drop=("ath",)), "ath")
    _refused(_forged({"ath": access_token_hash("another-token")}), "ath")
    _refused(_forged(), "key", jkt=jwk_thumbprint(jwk_from_public_key(generate_key())))
    # At the token endpoint there is no token: ath is not asked for.
    assert verify_dpop_proof(_forged(drop=("ath",)), htm="POST", htu=URL, now=NOW).jkt == JKT


def test_a_nonce_must_be_a_non_empty_string() -> None:
    _refused(_forged({"nonce": 5}), "nonce")
    _refused(_forged({"nonce": ""}), "nonce")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = ["jti", "htm", "htu", "iat", "ath", "nonce"]


@settings(max_examples=150, deadline=None)
@given(
    claims=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=4),
    header=st.dictionaries(st.sampled_from(["typ", "jwk", "kid", "x5c"]), _JSON, max_size=2),
    dropped=st.lists(st.sampled_from([*_FIELDS, "typ", "jwk"]), max_size=2),
)
def test_any_re_signed_proof_is_accepted_or_refused_with_invalid_dpop_proof(
    claims: dict[str, Any], header: dict[str, Any], dropped: list[str]
) -> None:
    # The holder controls its own key: a fuzzed proof is re-signed so the checks past the
    # signature are reached (HOSTILE-CASES §3.4 re-signing harness).
    proof = _forged(claims, header, drop=tuple(dropped))
    try:
        verified = verify_dpop_proof(proof, htm="POST", htu=URL, now=NOW, access_token=TOKEN)
    except InvalidDpopProof:
        return
    # Accepted only when every checked member is what the request needs.
    body = _decode(proof.split(".")[1])
    assert body["htm"] == "POST" and dpop_htu(body["htu"]) == URL
    assert body["ath"] == access_token_hash(TOKEN) and verified.jkt


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_is_refused_with_invalid_dpop_proof(text: str) -> None:
    with pytest.raises(InvalidDpopProof):
        verify_dpop_proof(text, htm="POST", htu=URL, now=NOW)


def test_the_thumbprint_is_of_the_canonical_key_and_non_canonical_encodings_are_refused() -> None:
    jwk = jwk_from_public_key(KEY)
    extra = {**jwk, "kid": "k1", "use": "sig"}  # members outside RFC 7638 §3.2 do not count
    proof = _forged(header={"jwk": extra})
    assert verify_dpop_proof(proof, htm="POST", htu=URL, now=NOW, access_token=TOKEN).jkt == JKT
    # The same point with the unused bits of the last base64url character set: another text
    # for the same key would give another thumbprint, so it is refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(jwk["x"][-1])
    odd = jwk["x"][:-1] + alphabet[last ^ 1]
    _refused(_forged(header={"jwk": {**jwk, "x": odd}}, key=KEY), "jwk")
