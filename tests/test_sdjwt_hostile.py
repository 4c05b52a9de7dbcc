"""Hostile SD-JWT inputs (RFC 9901 §7; HOSTILE-CASES S1-S16, PX-12..PX-23): each one its
own test, asserting the exact error class (and the ``reason`` where there is one)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from honnin.encoding import b64url_encode
from honnin.errors import (
    Expired,
    InvalidClaim,
    InvalidDisclosure,
    InvalidKeyBinding,
    InvalidSignature,
    MalformedBase64url,
    MalformedCredential,
    MalformedJson,
    NonUniqueDigests,
    NotYetValid,
    TooLarge,
    UnsupportedAlgorithm,
)
from honnin.jose import JwsAlgorithm, PrivateKey, generate_key, jwk_from_public_key, sign_jws
from honnin.sdjwt import (
    HashAlgorithm,
    KeyBinding,
    SdJwt,
    Serialization,
    issue_sd_jwt,
    receive_sd_jwt,
    verify_sd_jwt,
)

ISSUER = generate_key()
HOLDER = generate_key()
OTHER = generate_key()
NOW = 1_800_000_000
NONCE = "n-0S6_WzA2Mj"
AUD = "https://verifier.example.org"


def disclosure(*items: Any) -> str:
    return b64url_encode(json.dumps(list(items)).encode())


def digest(encoded: str) -> str:
    return b64url_encode(hashlib.sha256(encoded.encode()).digest())


def forge(payload: dict[str, Any], disclosures: list[str], key: PrivateKey = ISSUER) -> str:
    """A correctly signed SD-JWT over any payload: hostile content, valid signature."""
    return sign_jws(payload, key) + "~" + "".join(d + "~" for d in disclosures)


def verify(text: str, **options: Any) -> Any:
    options.setdefault("key_binding", KeyBinding.FORBIDDEN)
    options.setdefault("now", NOW)
    return verify_sd_jwt(text, ISSUER.public_key(), **options)


def verify_kb(text: str, **options: Any) -> Any:
    options = {"nonce": NONCE, "aud": AUD, "key_binding": KeyBinding.REQUIRED, **options}
    return verify(text, **options)


def credential(**claims: Any) -> SdJwt:
    token = issue_sd_jwt(
        {"iss": "https://issuer.example", "given_name": "Taro", "family_name": "Yamada", **claims},
        ISSUER,
        disclosable=["/given_name", "/family_name"],
        holder_key=HOLDER.public_key(),
    )
    return receive_sd_jwt(token, ISSUER.public_key(), now=NOW)


def presented(**kb: Any) -> str:
    return credential().present(
        ["/given_name"],
        **{"holder_key": HOLDER, "nonce": NONCE, "aud": AUD, "iat": NOW, **kb},
    )


def kb_jwt_over(prefix: str, key: PrivateKey = HOLDER, **claims: Any) -> str:
    """A KB-JWT over ``prefix``; ``claims`` override the correct ones."""
    body = {
        "iat": NOW,
        "aud": AUD,
        "nonce": NONCE,
        "sd_hash": b64url_encode(hashlib.sha256(prefix.encode()).digest()),
        **claims,
    }
    return sign_jws(body, key, header={"typ": "kb+jwt"})


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    h = b64url_encode(json.dumps(header).encode())
    p = b64url_encode(json.dumps(payload).encode())
    return f"{h}.{p}"


# -- issuer signature and algorithms (RFC 9901 §7.1 step 2) --------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_spelling(alg: str) -> None:
    token = _unsigned({"alg": alg}, {"sub": "x"}) + ".AA~"
    with pytest.raises(UnsupportedAlgorithm):
        verify(token)


def test_alg_outside_the_allow_list() -> None:
    key = generate_key(JwsAlgorithm.ES384)
    token = issue_sd_jwt({"sub": "x"}, key)
    with pytest.raises(UnsupportedAlgorithm):
        verify_sd_jwt(
            token,
            key.public_key(),
            key_binding=KeyBinding.FORBIDDEN,
            algorithms=frozenset({JwsAlgorithm.ES256}),
            now=NOW,
        )


def test_hmac_with_the_public_key_as_secret() -> None:
    secret = ISSUER.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256"}, {"sub": "x"})
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(UnsupportedAlgorithm):
        verify(f"{signing_input}.{b64url_encode(mac)}~")


def test_tampered_payload() -> None:
    header, _, signature = issue_sd_jwt({"sub": "alice"}, ISSUER)[:-1].split(".")
    other = b64url_encode(json.dumps({"sub": "mallory"}).encode())
    with pytest.raises(InvalidSignature):
        verify(f"{header}.{other}.{signature}~")


def test_tampered_signature() -> None:
    token = issue_sd_jwt({"sub": "alice"}, ISSUER)
    head, _, signature = token[:-1].rpartition(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    with pytest.raises(InvalidSignature):
        verify(f"{head}.{flipped}~")


def test_signed_by_another_issuer() -> None:
    with pytest.raises(InvalidSignature):
        verify(issue_sd_jwt({"sub": "alice"}, OTHER))


# -- disclosures and digests (RFC 9901 §7.1 steps 3 to 5) -----------------------------


def test_disclosure_not_referenced() -> None:
    orphan = disclosure("salt-salt-salt-salt", "email", "x@example.com")
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": []}, [orphan]))
    assert caught.value.reason == "unreferenced"


def test_disclosure_lifted_from_another_credential() -> None:
    mine = credential().serialize()
    lifted = credential().disclosures[0].encoded  # same issuer and holder, other salts
    with pytest.raises(InvalidDisclosure) as caught:
        verify(mine + lifted + "~")
    assert caught.value.reason == "unreferenced"


def test_tampered_disclosure_value() -> None:
    good = disclosure("salt-salt-salt-salt", "age", 20)
    bad = disclosure("salt-salt-salt-salt", "age", 99)
    with pytest.raises(InvalidDisclosure):
        verify(forge({"_sd": [digest(good)]}, [bad]))


def test_same_disclosure_twice() -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d, d]))
    assert caught.value.reason == "duplicate"


def test_two_equal_digests_in_one_sd_array() -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    with pytest.raises(NonUniqueDigests):
        verify(forge({"_sd": [digest(d), digest(d)]}, [d]))


def test_equal_digests_in_sd_and_array() -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    with pytest.raises(NonUniqueDigests):
        verify(forge({"_sd": [digest(d)], "list": [{"...": digest(d)}]}, []))


def test_equal_decoy_digests() -> None:
    decoy = digest("decoy")
    with pytest.raises(NonUniqueDigests):
        verify(forge({"_sd": [decoy], "address": {"_sd": [decoy]}}, []))


def test_digest_repeated_through_a_recursive_disclosure() -> None:
    inner = disclosure("salt-inner-inner-00", "street", "1 Main St")
    outer = disclosure("salt-outer-outer-00", "address", {"_sd": [digest(inner)]})
    with pytest.raises(NonUniqueDigests):
        verify(forge({"_sd": [digest(outer), digest(inner)]}, [outer, inner]))


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_named_sd_or_ellipsis(name: str) -> None:
    d = disclosure("salt-salt-salt-salt", name, ["x"])
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "name"


def test_disclosure_overwriting_a_plain_claim() -> None:
    d = disclosure("salt-salt-salt-salt", "iss", "https://evil.example")
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"iss": "https://issuer.example", "_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "exists"


def test_two_disclosures_with_the_same_name() -> None:
    a = disclosure("salt-aaaa-aaaa-aaaa", "age", 20)
    b = disclosure("salt-bbbb-bbbb-bbbb", "age", 99)
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(a), digest(b)]}, [a, b]))
    assert caught.value.reason == "exists"


def test_array_element_disclosure_referenced_from_sd() -> None:
    d = disclosure("salt-salt-salt-salt", "DE")
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "shape"


def test_object_disclosure_referenced_from_array() -> None:
    d = disclosure("salt-salt-salt-salt", "name", "DE")
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"list": [{"...": digest(d)}]}, [d]))
    assert caught.value.reason == "shape"


@pytest.mark.parametrize("items", [["only-salt"], ["s", "n", "v", "extra"], []])
def test_disclosure_with_wrong_arity(items: list[Any]) -> None:
    d = disclosure(*items)
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "shape"


def test_disclosure_not_an_array() -> None:
    d = b64url_encode(b'{"salt": "x"}')
    with pytest.raises(InvalidDisclosure):
        verify(forge({"_sd": [digest(d)]}, [d]))


@pytest.mark.parametrize("salt", [12345, None, ["s"]])
def test_non_string_salt(salt: Any) -> None:
    d = disclosure(salt, "age", 20)
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "salt"


def test_non_string_claim_name() -> None:
    d = disclosure("salt-salt-salt-salt", 7, 20)
    with pytest.raises(InvalidDisclosure) as caught:
        verify(forge({"_sd": [digest(d)]}, [d]))
    assert caught.value.reason == "name"


@pytest.mark.parametrize("sd", ["digest", {"a": "b"}, [1, 2], [["x"]], [None]])
def test_sd_not_an_array_of_strings(sd: Any) -> None:
    with pytest.raises(MalformedCredential):
        verify(forge({"_sd": sd}, []))


def test_array_digest_with_extra_members() -> None:
    d = disclosure("salt-salt-salt-salt", "DE")
    with pytest.raises(MalformedCredential):
        verify(forge({"list": [{"...": digest(d), "extra": 1}]}, [d]))


def test_array_digest_not_a_string() -> None:
    with pytest.raises(MalformedCredential):
        verify(forge({"list": [{"...": 42}]}, []))


def test_ellipsis_member_outside_an_array() -> None:
    with pytest.raises(MalformedCredential):
        verify(forge({"claim": {"...": "x"}}, []))


@pytest.mark.parametrize("alg", ["md5", "sha-256-32", "SHA-256", "sha3-256", 256])
def test_unknown_or_weak_sd_alg(alg: Any) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        verify(forge({"_sd_alg": alg, "_sd": []}, []))


def test_sd_alg_outside_the_callers_allow_list() -> None:
    token = issue_sd_jwt({"sub": "x"}, ISSUER, hash_alg=HashAlgorithm.SHA512)
    with pytest.raises(UnsupportedAlgorithm):
        verify(token, hash_algorithms=frozenset({HashAlgorithm.SHA256}))


def test_nested_sd_alg() -> None:
    with pytest.raises(MalformedCredential):
        verify(forge({"address": {"_sd_alg": "sha-256"}}, []))


# -- encodings and limits (CONVENTIONS 12; HOSTILE PX-12, PX-22) ----------------------


@pytest.mark.parametrize("bad", ["!", "=", "+", "/", " "])
def test_disclosure_outside_the_base64url_alphabet(bad: str) -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    with pytest.raises(MalformedBase64url):
        verify(forge({"_sd": [digest(d)]}, [d[:-1] + bad]))


def test_disclosure_with_padding() -> None:
    d = b64url_encode(json.dumps(["salt-salt-salt-sal", "a", 1]).encode())
    padded = d + "=" * (-len(d) % 4 or 4)
    with pytest.raises(MalformedBase64url):
        verify(forge({"_sd": [digest(padded)]}, [padded]))


def test_jws_header_with_padding() -> None:
    token = issue_sd_jwt({"sub": "x"}, ISSUER)
    header, rest = token.split(".", 1)
    with pytest.raises(MalformedBase64url):
        verify(header + "==." + rest)


def test_duplicate_json_keys_in_payload() -> None:
    token = sign_jws(b'{"sub": "alice", "sub": "mallory"}', ISSUER)
    with pytest.raises(MalformedJson):
        verify(token + "~")


def test_duplicate_json_keys_in_disclosure() -> None:
    d = b64url_encode(b'["salt-salt-salt-salt", "address", {"city": "A", "city": "B"}]')
    with pytest.raises(MalformedJson):
        verify(forge({"_sd": [digest(d)]}, [d]))


def test_payload_nested_deeper_than_32() -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"n": deep}
    with pytest.raises(MalformedJson):
        verify(forge({"deep": deep}, []))


def test_disclosure_nested_deeper_than_32() -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = [deep]
    d = disclosure("salt-salt-salt-salt", "deep", deep)
    with pytest.raises(MalformedJson):
        verify(forge({"_sd": [digest(d)]}, [d]))


def test_nesting_built_up_through_recursive_disclosures() -> None:
    # Each part is shallow; together the processed claims would nest 60 deep.
    deep: Any = {"_sd": []}
    chain: list[str] = []
    for level in range(30):
        d = disclosure(f"salt-{level:04d}-salt-salt", "n", {"m": deep})
        chain.append(d)
        deep = {"_sd": [digest(d)]}
    with pytest.raises(TooLarge):
        verify(forge({"top": deep}, chain))


def test_more_than_2000_disclosures() -> None:
    with pytest.raises(TooLarge):
        verify(forge({"_sd": []}, ["WyJhIiwiYiJd"] * 2001))


def test_header_over_16_kib() -> None:
    token = issue_sd_jwt({"sub": "x"}, ISSUER, header={"pad": "x" * (17 * 1024)})
    with pytest.raises(TooLarge):
        verify(token)


def test_whole_sd_jwt_over_the_size_limit() -> None:
    with pytest.raises(TooLarge):
        verify("e" * (4 * 1024 * 1024 + 1) + "~")


def test_missing_trailing_tilde() -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    token = forge({"_sd": [digest(d)]}, [d])
    with pytest.raises(MalformedCredential):
        verify(token[:-1])


def test_no_tilde_at_all() -> None:
    with pytest.raises(MalformedCredential):
        verify(issue_sd_jwt({"sub": "x"}, ISSUER)[:-1])


def test_empty_disclosure() -> None:
    d = disclosure("salt-salt-salt-salt", "age", 20)
    token = forge({"_sd": [digest(d)]}, [d])
    with pytest.raises(InvalidDisclosure) as caught:
        verify(token.replace("~", "~~", 1))
    assert caught.value.reason == "empty"


# -- key binding (RFC 9901 §7.3) -------------------------------------------------------


def test_valid_key_binding_is_accepted() -> None:
    verified = verify_kb(presented())
    assert verified.key_binding is not None
    assert verified.claims["given_name"] == "Taro"


def test_kb_wrong_nonce() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(presented(nonce="another-nonce"))
    assert caught.value.reason == "nonce"


def test_kb_wrong_aud() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(presented(aud="https://other.example"))
    assert caught.value.reason == "aud"


def test_kb_aud_as_array() -> None:
    prefix = credential().present(["/given_name"])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb_jwt_over(prefix, aud=[AUD]))
    assert caught.value.reason == "aud"


def test_kb_wrong_sd_hash_after_adding_a_disclosure() -> None:
    kb = presented().rpartition("~")[2]
    more = credential().present(["/given_name", "/family_name"])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(more + kb)
    assert caught.value.reason == "sd_hash"


def test_kb_sd_hash_without_the_trailing_tilde() -> None:
    prefix = credential().present(["/given_name"])
    kb = kb_jwt_over(prefix[:-1])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb)
    assert caught.value.reason == "sd_hash"


def test_kb_disclosures_reordered_after_signing() -> None:
    cred = credential()
    text = cred.present(
        ["/given_name", "/family_name"], holder_key=HOLDER, nonce=NONCE, aud=AUD, iat=NOW
    )
    jwt, first, second, kb = text.split("~")
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(f"{jwt}~{second}~{first}~{kb}")
    assert caught.value.reason == "sd_hash"


def test_kb_stale_iat() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(presented(iat=NOW - 301))
    assert caught.value.reason == "iat"


def test_kb_future_iat() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(presented(iat=NOW + 61))
    assert caught.value.reason == "iat"


def test_kb_iat_a_year_away() -> None:
    for iat in (NOW - 365 * 86400, NOW + 365 * 86400):
        with pytest.raises(InvalidKeyBinding):
            verify_kb(presented(iat=iat))


def test_kb_iat_inside_the_window_is_accepted() -> None:
    assert verify_kb(presented(iat=NOW - 299)).key_binding is not None
    assert verify_kb(presented(iat=NOW + 59)).key_binding is not None


@pytest.mark.parametrize("iat", ["1800000000", 1.8e9, True, None])
def test_kb_iat_not_an_integer(iat: Any) -> None:
    prefix = credential().present(["/given_name"])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb_jwt_over(prefix, iat=iat))
    assert caught.value.reason == "iat"


def test_kb_iat_overflowing_to_infinity() -> None:
    prefix = credential().present(["/given_name"])
    sd_hash = b64url_encode(hashlib.sha256(prefix.encode()).digest())
    body = f'{{"iat": 1e400, "aud": "{AUD}", "nonce": "{NONCE}", "sd_hash": "{sd_hash}"}}'
    kb = sign_jws(body.encode(), HOLDER, header={"typ": "kb+jwt"})
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb)
    assert caught.value.reason == "iat"


@pytest.mark.parametrize("typ", ["jwt", "JWT", "KB+JWT", None])
def test_kb_wrong_typ(typ: str | None) -> None:
    prefix = credential().present(["/given_name"])
    header = {} if typ is None else {"typ": typ}
    kb = sign_jws(
        {
            "iat": NOW,
            "aud": AUD,
            "nonce": NONCE,
            "sd_hash": b64url_encode(hashlib.sha256(prefix.encode()).digest()),
        },
        HOLDER,
        header=header,
    )
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb)
    assert caught.value.reason == "typ"


def test_kb_signed_by_a_key_other_than_cnf() -> None:
    prefix = credential().present(["/given_name"])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb_jwt_over(prefix, key=OTHER))
    assert caught.value.reason == "signature"


def test_kb_alg_none() -> None:
    prefix = credential().present(["/given_name"])
    kb = _unsigned({"alg": "none", "typ": "kb+jwt"}, {"iat": NOW}) + ".AA"
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + kb)
    assert caught.value.reason == "alg"


def test_kb_present_when_forbidden() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        verify(presented())
    assert caught.value.reason == "forbidden"


def test_kb_absent_when_required() -> None:
    stripped = presented().rpartition("~")[0] + "~"
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(stripped)
    assert caught.value.reason == "missing"


def test_kb_required_without_cnf() -> None:
    token = issue_sd_jwt({"sub": "x"}, ISSUER)
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(token + kb_jwt_over(token))
    assert caught.value.reason == "cnf"


def test_kb_cnf_with_private_key_material() -> None:
    jwk = {**jwk_from_public_key(HOLDER), "d": "c2VjcmV0"}
    token = forge({"cnf": {"jwk": jwk}}, [])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(token + kb_jwt_over(token))
    assert caught.value.reason == "cnf"


def test_kb_malformed() -> None:
    prefix = credential().present(["/given_name"])
    with pytest.raises(InvalidKeyBinding) as caught:
        verify_kb(prefix + "eyJhbGciOiJFUzI1NiJ9.e30.!!")
    assert caught.value.reason == "malformed"


def test_holder_rejects_an_issued_sd_jwt_with_kb() -> None:
    with pytest.raises(InvalidKeyBinding) as caught:
        receive_sd_jwt(presented(), ISSUER.public_key(), now=NOW)
    assert caught.value.reason == "forbidden"


# -- time claims (RFC 9901 §7.1 step 6) ------------------------------------------------


def test_expired() -> None:
    with pytest.raises(Expired):
        verify(issue_sd_jwt({"exp": NOW - 61}, ISSUER))


def test_not_yet_valid() -> None:
    with pytest.raises(NotYetValid):
        verify(issue_sd_jwt({"nbf": NOW + 61}, ISSUER))


def test_issued_in_the_future() -> None:
    with pytest.raises(NotYetValid):
        verify(issue_sd_jwt({"iat": NOW + 61}, ISSUER))


@pytest.mark.parametrize("exp", [1.8e9 + 0.5, "1900000000", True])
def test_exp_not_an_integer(exp: Any) -> None:
    with pytest.raises(InvalidClaim):
        verify(forge({"exp": exp}, []))


def test_exp_overflowing_to_infinity() -> None:
    with pytest.raises(InvalidClaim):
        verify(sign_jws(b'{"exp": 1e400}', ISSUER) + "~")


def test_required_claim_hidden_and_not_disclosed() -> None:
    token = issue_sd_jwt({"exp": NOW + 600, "sub": "x"}, ISSUER, disclosable=["/exp"])
    without = token.split("~")[0] + "~"
    with pytest.raises(InvalidClaim):
        verify(without, required_claims=["exp"])


# -- JWS JSON serialization (RFC 9901 §8; HOSTILE S15) ---------------------------------


def test_json_disclosures_outside_the_first_signature() -> None:
    token = json.loads(
        issue_sd_jwt(
            {"sub": "x", "a": 1},
            ISSUER,
            disclosable=["/a"],
            serialization=Serialization.JSON_GENERAL,
        )
    )
    first = token["signatures"][0]
    token["signatures"].append({**first, "header": {"disclosures": first["header"]["disclosures"]}})
    with pytest.raises(MalformedCredential):
        verify(json.dumps(token))


def test_json_general_one_invalid_signature_is_accepted() -> None:
    token = json.loads(issue_sd_jwt({"sub": "x"}, ISSUER, serialization=Serialization.JSON_GENERAL))
    other = json.loads(issue_sd_jwt({"sub": "x"}, OTHER, serialization=Serialization.JSON_GENERAL))
    token["signatures"].insert(0, {**other["signatures"][0], "header": {"disclosures": []}})
    token["signatures"][1]["header"] = {"kid": "second"}
    assert verify(json.dumps(token)).claims == {"sub": "x"}


def test_json_all_signatures_invalid() -> None:
    with pytest.raises(InvalidSignature):
        verify(issue_sd_jwt({"sub": "x"}, OTHER, serialization=Serialization.JSON_FLATTENED))
