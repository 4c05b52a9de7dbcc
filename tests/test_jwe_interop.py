"""``honnin.jose.jwe`` against jwcrypto, both directions, and the RFC 7518 App. C example.

honnin implements ECDH-ES + AES-GCM itself (over ``cryptography``); jwcrypto, an independent
implementation, must read what honnin writes and honnin must read what jwcrypto writes, for
every curve, ``enc`` and with and without ``apu`` / ``apv``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk

from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import DecryptionFailed
from honnin.jose import JwsAlgorithm, generate_key, jwk_from_private_key, jwk_from_public_key
from honnin.jose.jwe import JweEncryption, decrypt_response, encrypt_response

PAYLOAD = {
    "vp_token": {"slip": ["eyJhbGciOiJFUzI1NiJ9.e30.sig~WyJzYWx0IiwibmFtZSIsIua1hSJd~"]},
    "state": "取引-1",
}
CURVES = [JwsAlgorithm.ES256, JwsAlgorithm.ES384, JwsAlgorithm.ES512]
PARTY_INFO = [(None, None), (b"mdoc-nonce", b"n-0S6_WzA2Mj"), (None, b"only-apv")]


def _key(curve: JwsAlgorithm) -> ec.EllipticCurvePrivateKey:
    key = generate_key(curve)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _jwcrypto_encrypt(
    key: ec.EllipticCurvePrivateKey, enc: str, apu: bytes | None, apv: bytes | None
) -> str:
    header: dict[str, Any] = {"alg": "ECDH-ES", "enc": enc, "kid": "k"}
    if apu is not None:
        header["apu"] = b64url_encode(apu)
    if apv is not None:
        header["apv"] = b64url_encode(apv)
    token = jwcrypto_jwe.JWE(
        json.dumps(PAYLOAD).encode(),
        protected=json.dumps(header),
        recipient=jwcrypto_jwk.JWK.from_pyca(key.public_key()),
    )
    compact: str = token.serialize(compact=True)
    return compact


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("enc", list(JweEncryption))
@pytest.mark.parametrize(("apu", "apv"), PARTY_INFO)
def test_jwcrypto_encrypts_honnin_decrypts(
    curve: JwsAlgorithm, enc: JweEncryption, apu: bytes | None, apv: bytes | None
) -> None:
    key = _key(curve)
    token = _jwcrypto_encrypt(key, enc.value, apu, apv)
    assert decrypt_response(token, key, expected_kid="k") == PAYLOAD
    assert decrypt_response(token, jwk_from_private_key(key)) == PAYLOAD


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("enc", list(JweEncryption))
@pytest.mark.parametrize(("apu", "apv"), PARTY_INFO)
def test_honnin_encrypts_jwcrypto_decrypts(
    curve: JwsAlgorithm, enc: JweEncryption, apu: bytes | None, apv: bytes | None
) -> None:
    key = _key(curve)
    token = encrypt_response(PAYLOAD, jwk_from_public_key(key), enc=enc, apu=apu, apv=apv)
    reader = jwcrypto_jwe.JWE(algs=["ECDH-ES", enc.value])
    reader.deserialize(token, key=jwcrypto_jwk.JWK.from_pyca(key))
    assert json.loads(reader.payload) == PAYLOAD
    assert reader.jose_header["enc"] == enc.value


def test_jwcrypto_token_for_another_key_fails() -> None:
    token = _jwcrypto_encrypt(_key(JwsAlgorithm.ES256), "A128GCM", None, None)
    with pytest.raises(DecryptionFailed):
        decrypt_response(token, _key(JwsAlgorithm.ES256))


# RFC 7518 Appendix C: the ECDH-ES key agreement example (Alice -> Bob, A128GCM, apu "Alice",
# apv "Bob"), whose derived content encryption key is given there.
_ALICE_EPHEMERAL = {
    "kty": "EC",
    "crv": "P-256",
    "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
    "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
}
_BOB = {
    "kty": "EC",
    "crv": "P-256",
    "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
    "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
    "d": "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw",
}
_DERIVED_KEY = "VqqN6vgjbSBcIijNcacQGg"


def _rfc7518_appendix_c_token(plaintext: bytes) -> str:
    header = {"alg": "ECDH-ES", "enc": "A128GCM", "apu": "QWxpY2U", "apv": "Qm9i",
              "epk": _ALICE_EPHEMERAL}  # fmt: skip
    protected = b64url_encode(json.dumps(header).encode())
    iv = bytes(range(12))
    sealed = AESGCM(b64url_decode(_DERIVED_KEY)).encrypt(iv, plaintext, protected.encode())
    parts = (
        protected,
        "",
        b64url_encode(iv),
        b64url_encode(sealed[:-16]),
        b64url_encode(sealed[-16:]),
    )
    return ".".join(parts)


def test_rfc7518_appendix_c_key_agreement() -> None:
    # A token sealed under the RFC's derived key opens with Bob's key only if the Concat KDF
    # (AlgorithmID, PartyUInfo, PartyVInfo, SuppPubInfo) is computed exactly as §4.6.2 says.
    token = _rfc7518_appendix_c_token(json.dumps(PAYLOAD).encode())
    assert decrypt_response(token, _BOB) == PAYLOAD
