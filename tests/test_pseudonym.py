"""Pairwise pseudonyms: derivation (stability, separation, FIPS 186-5 A.2.1 reduction), the
self-issued proof and its strict verification, the DCQL request and the type definition."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin.credential_types import load_catalogue
from honnin.dcql import parse_dcql_query
from honnin.encoding import b64url_encode, json_dumps
from honnin.errors import (
    InvalidKeyBinding,
    InvalidSignature,
    MalformedCredential,
    UnsupportedAlgorithm,
)
from honnin.jose import (
    JwsAlgorithm,
    generate_key,
    jwk_from_private_key,
    jwk_from_public_key,
    sign_bytes,
    sign_jws,
)
from honnin.pseudonym import (
    PSEUDONYM_VCT,
    THUMBPRINT_URI_PREFIX,
    PairwiseKey,
    build_pseudonym_proof,
    derive_pairwise_key,
    is_pseudonym_query,
    pseudonym_credential_query,
    pseudonym_of,
    pseudonym_type,
    verify_pseudonym_proof,
)
from honnin.trust import make_test_pki

NOW = 1_780_000_000
AGENCY = "x509_san_dns:agency.honnin.example"
EMPLOYER = "x509_san_dns:employer.honnin.example"
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SECRET = bytes(range(32))


def _proof(key: PairwiseKey, *, nonce: str = "n-1", iat: int = NOW) -> str:
    return build_pseudonym_proof(key, aud=key.client_id, nonce=nonce, iat=iat)


def _verify(proof: str, *, aud: str = AGENCY, nonce: str = "n-1", now: float = NOW) -> str:
    return verify_pseudonym_proof(proof, aud=aud, nonce=nonce, now=now).pseudonym


# -- derivation -------------------------------------------------------------------------------


def test_same_wallet_same_verifier_same_key() -> None:
    first, second = derive_pairwise_key(SECRET, AGENCY), derive_pairwise_key(SECRET, AGENCY)
    assert first.public_jwk == second.public_jwk
    assert first.pseudonym == second.pseudonym == pseudonym_of(first.public_jwk)
    assert first.issuer == THUMBPRINT_URI_PREFIX + first.pseudonym
    assert "private_key" not in repr(first)


def test_two_verifiers_get_unrelated_keys() -> None:
    agency, employer = derive_pairwise_key(SECRET, AGENCY), derive_pairwise_key(SECRET, EMPLOYER)
    assert agency.pseudonym != employer.pseudonym
    assert agency.public_jwk["x"] != employer.public_jwk["x"]
    # A prefix is part of the client_id: the same host under another prefix is another verifier.
    assert derive_pairwise_key(SECRET, "agency.honnin.example").pseudonym != agency.pseudonym


def test_two_wallets_get_different_keys_for_one_verifier() -> None:
    other = secrets.token_bytes(32)
    assert (
        derive_pairwise_key(other, AGENCY).pseudonym
        != derive_pairwise_key(SECRET, AGENCY).pseudonym
    )


def test_a_relationship_salt_gives_a_new_key() -> None:
    plain = derive_pairwise_key(SECRET, AGENCY)
    salted = derive_pairwise_key(SECRET, AGENCY, relationship=b"\x01" * 16)
    again = derive_pairwise_key(SECRET, AGENCY, relationship=b"\x01" * 16)
    assert salted.pseudonym != plain.pseudonym and salted.pseudonym == again.pseudonym


def test_scalar_is_the_fips_186_5_a21_reduction_of_hkdf_output() -> None:
    client = AGENCY.encode()
    info = (
        b"honnin pseudonym v1 P-256"
        + len(client).to_bytes(4, "big")
        + client
        + (0).to_bytes(4, "big")
    )
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=info).derive(SECRET)
    expected = int.from_bytes(okm, "big") % (N - 1) + 1
    key = derive_pairwise_key(SECRET, AGENCY)
    assert key.private_key.private_numbers().private_value == expected
    assert 0 < expected < N


def test_scalars_are_valid_for_many_verifiers() -> None:
    for i in range(200):
        scalar = derive_pairwise_key(SECRET, f"x509_san_dns:v{i}.example").private_key
        assert 0 < scalar.private_numbers().private_value < N


def test_the_sample_pseudonym_is_a_derived_one() -> None:
    key = derive_pairwise_key(
        b"honnin sample wallet secret 0001", "x509_san_dns:verifier.honnin.example"
    )
    assert pseudonym_type().sample_claims() == {"sub": key.pseudonym}


@pytest.mark.parametrize("secret", [b"", bytes(31), bytes(33)])
def test_secret_must_be_256_bits(secret: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        derive_pairwise_key(secret, AGENCY)


@pytest.mark.parametrize("client_id", ["", "x" * 2049])
def test_client_id_must_be_present_and_short(client_id: str) -> None:
    with pytest.raises(ValueError, match="client_id"):
        derive_pairwise_key(SECRET, client_id)


# -- the proof --------------------------------------------------------------------------------


def test_proof_verifies_to_the_stable_pseudonym() -> None:
    key = derive_pairwise_key(SECRET, AGENCY)
    first = verify_pseudonym_proof(_proof(key), aud=AGENCY, nonce="n-1", now=NOW)
    second = _verify(_proof(key, nonce="n-2", iat=NOW + 100), nonce="n-2", now=NOW + 100)
    assert first.pseudonym == second == key.pseudonym
    assert first.aud == AGENCY and first.nonce == "n-1" and first.iat == NOW
    assert first.jwk == key.public_jwk


def test_pseudonyms_are_separate_per_verifier_and_per_wallet() -> None:
    agency = _verify(_proof(derive_pairwise_key(SECRET, AGENCY)))
    employer = _verify(_proof(derive_pairwise_key(SECRET, EMPLOYER)), aud=EMPLOYER)
    other_wallet = _verify(_proof(derive_pairwise_key(secrets.token_bytes(32), AGENCY)))
    assert len({agency, employer, other_wallet}) == 3


def test_proof_shape() -> None:
    key = derive_pairwise_key(SECRET, AGENCY)
    jwt, kb = _proof(key).split("~")
    assert jwt.count(".") == 2 and kb.count(".") == 2


def test_wallet_refuses_to_prove_to_another_verifier() -> None:
    key = derive_pairwise_key(SECRET, AGENCY)
    with pytest.raises(ValueError, match="own verifier"):
        build_pseudonym_proof(key, aud=EMPLOYER, nonce="n", iat=NOW)
    with pytest.raises(ValueError, match="nonce"):
        build_pseudonym_proof(key, aud=AGENCY, nonce="", iat=NOW)


# -- hostile proofs ---------------------------------------------------------------------------


def test_proof_replayed_to_another_verifier() -> None:
    proof = _proof(derive_pairwise_key(SECRET, AGENCY))
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(proof, aud=EMPLOYER)
    assert info.value.fields["reason"] == "aud"


def test_proof_replayed_with_an_old_nonce() -> None:
    proof = _proof(derive_pairwise_key(SECRET, AGENCY), nonce="old-nonce")
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(proof, nonce="fresh-nonce")
    assert info.value.fields["reason"] == "nonce"


def test_stale_proof() -> None:
    proof = _proof(derive_pairwise_key(SECRET, AGENCY))
    with pytest.raises(InvalidKeyBinding) as info:
        _verify(proof, now=NOW + 3600)
    assert info.value.fields["reason"] == "iat"


def test_proof_without_key_binding() -> None:
    jwt = _proof(derive_pairwise_key(SECRET, AGENCY)).split("~")[0]
    with pytest.raises(InvalidKeyBinding):
        _verify(jwt + "~")


def _self_signed(key: Any, payload: dict[str, Any], **header: Any) -> str:
    jwt = sign_jws(payload, key, header={"typ": "dc+sd-jwt", **header})
    sd = jwt + "~"
    digest = b64url_encode(hashlib.sha256(sd.encode()).digest())
    kb = {"iat": NOW, "aud": AGENCY, "nonce": "n-1", "sd_hash": digest}
    return sd + sign_jws(kb, key, header={"typ": "kb+jwt"})


def _payload(key: Any, **overrides: Any) -> dict[str, Any]:
    jwk = jwk_from_public_key(key)
    thumbprint = pseudonym_of(jwk)
    payload = {
        "iss": THUMBPRINT_URI_PREFIX + thumbprint,
        "sub": thumbprint,
        "vct": PSEUDONYM_VCT,
        "cnf": {"jwk": jwk},
    }
    payload.update(overrides)
    return payload


def test_hand_built_proof_passes() -> None:
    key = generate_key()
    assert _verify(_self_signed(key, _payload(key))) == pseudonym_of(jwk_from_public_key(key))


def test_proof_naming_another_key_as_issuer() -> None:
    key, other = generate_key(), generate_key()
    forged = _payload(key, iss=THUMBPRINT_URI_PREFIX + pseudonym_of(jwk_from_public_key(other)))
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, forged))
    assert info.value.fields["reason"] == "iss"


def test_proof_with_another_sub() -> None:
    key = generate_key()
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, _payload(key, sub="someone-else")))
    assert info.value.fields["reason"] == "sub"


def test_proof_whose_jwt_is_signed_by_another_key() -> None:
    key, thief = generate_key(), generate_key()
    proof = _self_signed(key, _payload(key))
    _, kb = proof.split("~")
    stolen = _self_signed(thief, _payload(key)).split("~")[0]
    with pytest.raises(InvalidSignature):
        _verify(f"{stolen}~{kb}")


def test_issuer_signed_credential_is_not_a_self_issued_pseudonym() -> None:
    pki = make_test_pki(["Example Corp"])
    issuer = pki.issuer("Example Corp")
    key = generate_key()
    proof = _self_signed(key, _payload(key), x5c=issuer.x5c())
    with pytest.raises(MalformedCredential) as info:
        _verify(proof)
    assert info.value.fields["reason"] == "header"


def test_proof_with_a_jwk_header() -> None:
    key = generate_key()
    proof = _self_signed(key, _payload(key), jwk=jwk_from_public_key(key))
    with pytest.raises(MalformedCredential):
        _verify(proof)


def test_proof_with_another_vct() -> None:
    key = generate_key()
    proof = _self_signed(key, _payload(key, vct="https://honnin.example/vct/withholding-slip/v1"))
    with pytest.raises(MalformedCredential) as info:
        _verify(proof)
    assert info.value.fields["reason"] == "vct"


def test_proof_with_extra_claims() -> None:
    key = generate_key()
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, _payload(key, my_number="123456789018")))
    assert info.value.fields["reason"] == "claims"


def test_proof_with_a_private_key_in_cnf() -> None:
    key = generate_key()
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, _payload(key, cnf={"jwk": jwk_from_private_key(key)})))
    assert info.value.fields["reason"] == "cnf"


def test_proof_with_another_curve() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, _payload(key)))
    assert info.value.fields["reason"] == "cnf"


def test_proof_whose_header_names_es384() -> None:
    key = generate_key()
    header = b64url_encode(json_dumps({"alg": "ES384", "typ": "dc+sd-jwt"}).encode())
    body = b64url_encode(json_dumps(_payload(key)).encode())
    signature = b64url_encode(sign_bytes(f"{header}.{body}".encode(), key, JwsAlgorithm.ES256))
    kb = _self_signed(key, _payload(key)).split("~")[1]
    with pytest.raises(UnsupportedAlgorithm):
        _verify(f"{header}.{body}.{signature}~{kb}")


def test_proof_with_another_typ() -> None:
    key = generate_key()
    with pytest.raises(MalformedCredential) as info:
        _verify(_self_signed(key, _payload(key), typ="vc+sd-jwt"))
    assert info.value.fields["reason"] == "typ"


# -- the request and the type -----------------------------------------------------------------


def test_dcql_pseudonym_query() -> None:
    entry = pseudonym_credential_query("who")
    query = parse_dcql_query({"credentials": [entry]})
    (model,) = query.credentials
    assert is_pseudonym_query(entry) and is_pseudonym_query(model)
    other = {"id": "x", "format": "mso_mdoc", "meta": {"doctype_value": "x"}}
    assert not is_pseudonym_query(other)
    assert not is_pseudonym_query({"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": []}})


def test_pseudonym_type_follows_the_catalogue_format() -> None:
    ctype = pseudonym_type()
    assert ctype.vct == PSEUDONYM_VCT and ctype.id == "pseudonym"
    assert ctype.name("ja") != ctype.name("en")
    assert ctype.label(("sub",), "en") == "Pseudonym"
    ctype.validate(ctype.sample_claims())
    assert ctype.from_mdoc(ctype.to_mdoc(ctype.sample_claims())) == ctype.sample_claims()
    # Self-issued: not an issuable catalogue type (no issuer advertises or is entitled to it).
    assert PSEUDONYM_VCT not in load_catalogue()
