"""SD-JWT API behaviour: claim paths, issuance options, selection, presentation, results."""

from __future__ import annotations

import json
from typing import Any

import pytest

import honnin.sdjwt as sdjwt
from honnin.encoding import b64url_decode
from honnin.errors import InvalidDisclosure, NoMatchingCredential, TooLarge
from honnin.jose import JwsAlgorithm, generate_key, jwk_from_public_key, parse_jws, sign_bytes
from honnin.sdjwt import (
    HashAlgorithm,
    KeyBinding,
    KeyBindingSigner,
    SdJwt,
    Serialization,
    format_claim_path,
    issue_sd_jwt,
    parse_claim_path,
    parse_sd_jwt,
    receive_sd_jwt,
    verify_sd_jwt,
)

ISSUER = generate_key()
HOLDER = generate_key()
NOW = 1_800_000_000
CLAIMS: dict[str, Any] = {
    "sub": "user-42",
    "given_name": "花子",
    "address": {"locality": "Chiyoda", "region": "Tokyo", "country": "JP"},
    "nationalities": ["JP", "US"],
    "age_equal_or_over": {"18": True, "65": False},
}
ALL_SD = [
    "/given_name",
    "/address",
    "/address/locality",
    "/address/region",
    "/nationalities/0",
    "/nationalities/1",
    "/age_equal_or_over/18",
    "/age_equal_or_over/65",
]


def test_public_api_is_pinned() -> None:
    assert sorted(sdjwt.__all__) == sorted(
        [
            "DEFAULT_HASH_ALGORITHMS",
            "LEGACY_SD_JWT_VC_TYP",
            "NEVER_DISCLOSABLE",
            "SD_JWT_VC_TYP",
            "HolderKey",
            "IssuerKeyPolicy",
            "IssuerKeyResolution",
            "IssuerKeysByIssuer",
            "IssuerMetadataKeys",
            "JwtVcIssuerMetadata",
            "PinnedIssuerKey",
            "VerifiedSdJwtVc",
            "X5cIssuerKeys",
            "issue_sd_jwt_vc",
            "metadata_url",
            "verify_sd_jwt_vc",
            "ClaimPath",
            "Disclosure",
            "HashAlgorithm",
            "IssuerKeyResolver",
            "KeyBinding",
            "KeyBindingSigner",
            "PathSegment",
            "SaltSource",
            "SdJwt",
            "Serialization",
            "UnverifiedDisclosure",
            "UnverifiedSdJwt",
            "VerifiedKeyBinding",
            "VerifiedSdJwt",
            "check_time_claims",
            "format_claim_path",
            "issue_sd_jwt",
            "parse_claim_path",
            "parse_sd_jwt",
            "random_salt",
            "receive_sd_jwt",
            "verify_sd_jwt",
        ]
    )


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("/address/locality", ("address", "locality")),
        ("/nationalities/0", ("nationalities", 0)),
        ("/a~1b/c~0d", ("a/b", "c~d")),
        ("/07", ("07",)),
        ("/", ("",)),
    ],
)
def test_json_pointer_paths(pointer: str, path: tuple[Any, ...]) -> None:
    assert parse_claim_path(pointer) == path
    assert parse_claim_path(format_claim_path(path)) == path


@pytest.mark.parametrize("pointer", ["address", "", "/a~2", "/a~"])
def test_bad_json_pointers(pointer: str) -> None:
    with pytest.raises(ValueError):
        parse_claim_path(pointer)


def _credential(**options: Any) -> SdJwt:
    token = issue_sd_jwt(
        CLAIMS, ISSUER, disclosable=ALL_SD, holder_key=HOLDER.public_key(), **options
    )
    return receive_sd_jwt(token, ISSUER.public_key(), now=NOW)


def test_issued_payload_hides_every_disclosable_claim() -> None:
    credential = _credential()
    payload = credential.payload
    assert set(payload) == {"sub", "nationalities", "age_equal_or_over", "_sd", "_sd_alg", "cnf"}
    assert payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    assert all(set(e) == {"..."} for e in payload["nationalities"])
    assert payload["cnf"] == {"jwk": jwk_from_public_key(HOLDER)}
    assert {k: v for k, v in credential.claims.items() if k != "cnf"} == CLAIMS


def test_salts_have_at_least_128_bits_and_differ() -> None:
    salts = [d.salt for d in _credential().disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(b64url_decode(s)) >= 16 for s in salts)


def test_two_issuances_share_no_disclosure() -> None:
    first = {d.encoded for d in _credential().disclosures}
    second = {d.encoded for d in _credential().disclosures}
    assert not first & second


def test_decoys_are_added_and_ignored() -> None:
    credential = _credential(decoys=3)
    top = credential.payload["_sd"]
    assert len(top) == 2 + 3  # given_name, address and three decoys
    verified = verify_sd_jwt(
        credential.present([]), ISSUER.public_key(), key_binding=KeyBinding.FORBIDDEN, now=NOW
    )
    assert verified.claims["nationalities"] == []


@pytest.mark.parametrize("hash_alg", list(HashAlgorithm))
def test_every_hash_algorithm_round_trips(hash_alg: HashAlgorithm) -> None:
    credential = _credential(hash_alg=hash_alg)
    assert credential.payload["_sd_alg"] == hash_alg.value
    text = credential.present(["/given_name"], holder_key=HOLDER, nonce="n", aud="a", iat=NOW)
    verified = verify_sd_jwt(
        text, ISSUER.public_key(), key_binding=KeyBinding.REQUIRED, nonce="n", aud="a", now=NOW
    )
    assert verified.claims["given_name"] == "花子"
    assert verified.hash_alg is hash_alg


def test_header_members_and_typ() -> None:
    token = issue_sd_jwt({"sub": "x"}, ISSUER, header={"typ": "example+sd-jwt", "kid": "k1"})
    assert parse_jws(token.split("~")[0]).header == {
        "alg": "ES256",
        "typ": "example+sd-jwt",
        "kid": "k1",
    }


def test_deterministic_salts_for_tests() -> None:
    counter = iter(range(10_000))

    def salt() -> str:
        return f"salt-{next(counter):04d}-fixed-fixed"

    token = issue_sd_jwt({"a": 1}, ISSUER, disclosable=["/a"], salt_source=salt)
    assert parse_sd_jwt(token).disclosures[0].salt == "salt-0000-fixed-fixed"


@pytest.mark.parametrize(
    ("claims", "paths", "error"),
    [
        ({"a": 1}, ["/b"], ValueError),
        ({"a": [1]}, ["/a/3"], ValueError),
        ({"a": 1}, ["/a/b"], ValueError),
        ({"_sd": 1}, [], ValueError),
        ({"a": {"...": 1}}, [], ValueError),
        ({"a": float("nan")}, [], ValueError),
        ({"a": {1: "x"}}, [], TypeError),
        ({"a": object()}, [], TypeError),
    ],
)
def test_issuance_refuses_programmer_mistakes(
    claims: dict[str, Any], paths: list[str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        issue_sd_jwt(claims, ISSUER, disclosable=paths)


def test_issuance_refuses_claims_deeper_than_the_limit() -> None:
    deep: Any = 1
    for _ in range(40):
        deep = {"n": deep}
    with pytest.raises(TooLarge):
        issue_sd_jwt({"deep": deep}, ISSUER)


def test_wildcard_makes_every_element_disclosable() -> None:
    token = issue_sd_jwt({"list": [1, 2, 3]}, ISSUER, disclosable=[("list", None)])
    credential = SdJwt.parse(token)
    assert [d.path for d in credential.disclosures] == [("list", 0), ("list", 1), ("list", 2)]


def test_numeric_pointer_segment_names_an_object_member() -> None:
    credential = _credential()
    chosen = credential.select(["/age_equal_or_over/18"])
    assert [d.name for d in chosen] == ["18"]


def test_select_releases_ancestors_and_descendants_only() -> None:
    credential = _credential()
    assert {d.path for d in credential.select(["/address/locality"])} == {
        ("address",),
        ("address", "locality"),
    }
    assert {d.path for d in credential.select(["/address"])} == {
        ("address",),
        ("address", "locality"),
        ("address", "region"),
    }
    assert {d.path for d in credential.select(["/address/country"])} == {("address",)}
    assert credential.select(["/sub"]) == ()
    assert {d.path for d in credential.select([("nationalities", None)])} == {
        ("nationalities", 0),
        ("nationalities", 1),
    }


@pytest.mark.parametrize("path", ["/nothing", "/address/street", "/nationalities/5", "/sub/0"])
def test_select_of_a_missing_claim(path: str) -> None:
    with pytest.raises(NoMatchingCredential):
        _credential().select([path])


def test_select_with_a_hostile_path_length() -> None:
    with pytest.raises(NoMatchingCredential):
        _credential().select([("address",) * 5000])


def test_presentation_verifies_to_exactly_the_selection() -> None:
    credential = _credential()
    text = credential.present(
        ["/address/locality", "/nationalities/1"], holder_key=HOLDER, nonce="n", aud="a", iat=NOW
    )
    verified = verify_sd_jwt(
        text, ISSUER.public_key(), key_binding=KeyBinding.REQUIRED, nonce="n", aud="a", now=NOW
    )
    assert verified.claims == {
        "sub": "user-42",
        "address": {"locality": "Chiyoda", "country": "JP"},
        "nationalities": ["US"],
        "age_equal_or_over": {},
        "cnf": {"jwk": jwk_from_public_key(HOLDER)},
    }
    assert {d.path for d in verified.disclosures} == {
        ("address",),
        ("address", "locality"),
        ("nationalities", 0),
    }
    assert verified.key_binding is not None
    assert verified.key_binding.nonce == "n"


def test_present_disclosures_requires_the_enclosing_disclosure() -> None:
    credential = _credential()
    locality = next(d for d in credential.disclosures if d.name == "locality")
    with pytest.raises(InvalidDisclosure):
        credential.present_disclosures([locality])


def test_present_disclosures_refuses_foreign_ones() -> None:
    foreign = _credential().disclosures[0]
    with pytest.raises(InvalidDisclosure):
        _credential().present_disclosures([foreign])


class VaultSigner:
    """A holder key behind a signing interface (as a wallet vault provides)."""

    def __init__(self) -> None:
        self._key = HOLDER

    @property
    def algorithm(self) -> JwsAlgorithm:
        return JwsAlgorithm.ES256

    @property
    def public_jwk(self) -> dict[str, str]:
        return jwk_from_public_key(self._key)

    def sign(self, data: bytes) -> bytes:
        return sign_bytes(data, self._key, JwsAlgorithm.ES256)


def test_present_with_a_key_binding_signer() -> None:
    signer = VaultSigner()
    assert isinstance(signer, KeyBindingSigner)
    text = _credential().present(["/given_name"], holder_key=signer, nonce="n", aud="a", iat=NOW)
    verified = verify_sd_jwt(
        text, ISSUER.public_key(), key_binding=KeyBinding.REQUIRED, nonce="n", aud="a", now=NOW
    )
    assert verified.claims["given_name"] == "花子"


def test_present_with_a_key_other_than_cnf() -> None:
    with pytest.raises(ValueError):
        _credential().present([], holder_key=generate_key(), nonce="n", aud="a")


def test_present_with_key_but_without_nonce() -> None:
    with pytest.raises(ValueError):
        _credential().present([], holder_key=HOLDER, aud="a")


def test_required_policy_needs_nonce_and_aud() -> None:
    with pytest.raises(ValueError):
        verify_sd_jwt("x~", ISSUER.public_key(), key_binding=KeyBinding.REQUIRED)


@pytest.mark.parametrize("serialization", list(Serialization))
def test_serializations_round_trip(serialization: Serialization) -> None:
    token = issue_sd_jwt(
        CLAIMS,
        ISSUER,
        disclosable=ALL_SD,
        holder_key=HOLDER.public_key(),
        serialization=serialization,
    )
    credential = SdJwt.parse(token)
    assert credential.serialization is serialization
    assert credential.serialize() == token
    text = credential.present(["/given_name"], holder_key=HOLDER, nonce="n", aud="a", iat=NOW)
    if serialization is not Serialization.COMPACT:
        assert "kb_jwt" in json.dumps(json.loads(text))
    verified = verify_sd_jwt(
        text, ISSUER.public_key(), key_binding=KeyBinding.REQUIRED, nonce="n", aud="a", now=NOW
    )
    assert verified.serialization is serialization
    assert verified.claims["given_name"] == "花子"


def test_json_credential_presented_in_compact_form() -> None:
    token = issue_sd_jwt(
        CLAIMS, ISSUER, disclosable=ALL_SD, serialization=Serialization.JSON_GENERAL
    )
    text = SdJwt.parse(token).present(["/given_name"], serialization=Serialization.COMPACT)
    verified = verify_sd_jwt(text, ISSUER.public_key(), key_binding=KeyBinding.FORBIDDEN, now=NOW)
    assert verified.claims["given_name"] == "花子"


def test_resolver_gets_header_and_unverified_payload() -> None:
    token = issue_sd_jwt({"iss": "https://issuer.example"}, ISSUER, header={"kid": "k1"})
    seen: list[tuple[Any, Any]] = []

    def resolve(header: Any, payload: Any) -> Any:
        seen.append((header["kid"], payload["iss"]))
        return ISSUER.public_key()

    verify_sd_jwt(token, resolve, key_binding=KeyBinding.FORBIDDEN, now=NOW)
    assert seen == [("k1", "https://issuer.example")]


def test_parse_sd_jwt_is_marked_unverified() -> None:
    unverified = parse_sd_jwt(_credential().serialize())
    assert unverified.unverified_payload["sub"] == "user-42"
    assert len(unverified.disclosures) == len(ALL_SD)
    assert unverified.kb_jwt is None
