"""COSE_Sign1, COSE_Mac0 and COSE_Key (RFC 9052 / 9053 / 9360): vectors, round trips, hostile."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from vectors import load_json, load_text

import honnin.cose
from honnin import cbor
from honnin.cose import (
    CoseAlgorithm,
    CoseSign1,
    KeySigner,
    MacAlgorithm,
    build_mac0,
    build_sign1,
    certificates_of,
    cose_key_from_private_key,
    cose_key_from_public_key,
    parse_mac0,
    parse_sign1,
    private_key_from_cose_key,
    public_key_from_cose_key,
    sign1,
    verify_mac0,
    verify_sign1,
)
from honnin.errors import (
    InvalidSignature,
    MalformedCbor,
    MalformedCose,
    UnsupportedAlgorithm,
)
from honnin.jose import JwsAlgorithm, generate_key, public_key_from_jwk

ALL_KEYS = [
    (CoseAlgorithm.ES256, JwsAlgorithm.ES256),
    (CoseAlgorithm.ES384, JwsAlgorithm.ES384),
    (CoseAlgorithm.ES512, JwsAlgorithm.ES512),
    (CoseAlgorithm.EDDSA, JwsAlgorithm.EDDSA),
]


def test_public_api_is_pinned() -> None:
    assert set(honnin.cose.__all__) == {
        "ALG", "CONTENT_TYPE", "CRIT", "DEFAULT_ALLOWED", "DEFAULT_MAC_ALLOWED", "KID",
        "MAC0_TAG", "SIGN1_TAG", "TYP", "X5CHAIN", "CoseAlgorithm", "CoseMac0", "CoseSign1",
        "KeySigner", "MacAlgorithm", "Signer", "VerifiedSign1", "as_signer", "build_mac0",
        "build_sign1", "certificates_of", "cose_algorithm_for", "cose_key_from_private_key",
        "cose_key_from_public_key", "parse_mac0", "parse_sign1", "private_key_from_cose_key",
        "public_key_from_cose_key", "sign1", "verify_mac0", "verify_sign1",
    }  # fmt: skip


# -- vectors ---------------------------------------------------------------------------------


def test_status_list_cwt_vector_verifies() -> None:
    meta = load_json("token-status-list", "status-list-tokens.json")
    key = public_key_from_jwk(meta["verification_key_jwk"])
    token = bytes.fromhex(load_text("token-status-list", "status-list-token.cwt.hex"))
    message = parse_sign1(token, require_tag=True)
    verified = verify_sign1(message, key, allowed=frozenset({CoseAlgorithm.ES256}))
    assert verified.alg is CoseAlgorithm.ES256
    assert verified.protected[16] == "application/statuslist+cwt"
    claims = cbor.decode(verified.payload)
    assert claims[2] == "https://example.com/statuslists/1"


def test_annex_d_issuer_auth_verifies_with_the_document_signer() -> None:
    raw = bytes.fromhex(load_json("mdoc", "iso18013-5-annex-d.json")["hex"]["device_response"])
    issuer_auth = cbor.decode(raw)["documents"][0]["issuerSigned"]["issuerAuth"]
    message = parse_sign1(issuer_auth, require_tag=False)
    (ds,) = certificates_of(message)
    assert ds.subject.rfc4514_string() == "C=US,CN=utopia ds"
    verified = verify_sign1(message, ds.public_key())  # type: ignore[arg-type]
    assert isinstance(cbor.decode(verified.payload), cbor.EncodedCbor)


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(("cose_alg", "jws_alg"), ALL_KEYS)
@pytest.mark.parametrize("tagged", [True, False])
def test_sign_verify_round_trip(
    cose_alg: CoseAlgorithm, jws_alg: JwsAlgorithm, tagged: bool
) -> None:
    key = generate_key(jws_alg)
    token = sign1(b"payload", key, tagged=tagged, external_aad=b"aad")
    assert token[0] == (0xD2 if tagged else 0x84)
    verified = verify_sign1(token, key.public_key(), external_aad=b"aad")
    assert verified.payload == b"payload"
    assert verified.alg is cose_alg


def test_fully_specified_esp256() -> None:
    key = generate_key()
    token = sign1(b"x", KeySigner(key, CoseAlgorithm.ESP256))
    assert verify_sign1(token, key.public_key()).alg is CoseAlgorithm.ESP256


def test_detached_payload() -> None:
    key = generate_key()
    message = build_sign1(b"detached", key, detached=True)
    assert message.payload is None
    parsed = parse_sign1(message.encode())
    assert verify_sign1(parsed, key.public_key(), detached_payload=b"detached").payload == (
        b"detached"
    )


def test_x5chain_single_and_several() -> None:
    key = generate_key()
    one = parse_sign1(sign1(b"x", key, x5chain=[b"a"]))
    assert one.unprotected[33] == b"a" and one.x5chain == (b"a",)
    two = parse_sign1(sign1(b"x", key, x5chain=[b"a", b"b"]))
    assert two.x5chain == (b"a", b"b")


def test_custom_signer_protocol() -> None:
    key = generate_key(JwsAlgorithm.ES384)

    class SecureElement:
        algorithm = CoseAlgorithm.ES384

        def sign(self, data: bytes) -> bytes:
            return KeySigner(key).sign(data)

    token = sign1(b"x", SecureElement())
    assert verify_sign1(token, key.public_key()).alg is CoseAlgorithm.ES384


# -- hostile COSE_Sign1 ----------------------------------------------------------------------


def _resign(
    key: ec.EllipticCurvePrivateKey,
    protected: dict[object, object],
    unprotected: dict[object, object],
) -> CoseSign1:
    """A message whose headers are exactly as given (signature over them, ES256)."""
    prot = cbor.encode(protected) if protected else b""
    tbs = b"\x84\x6aSignature1" + cbor.encode(prot) + b"\x40" + cbor.encode(b"p")
    sig = KeySigner(key).sign(tbs)
    return CoseSign1(prot, protected, unprotected, b"p", sig)  # type: ignore[arg-type]


def test_alg_only_in_unprotected_header() -> None:
    key = generate_key()
    message = _resign(key, {}, {1: -7})
    assert verify_sign1(_resign(key, {1: -7}, {}), key.public_key()).payload == b"p"
    with pytest.raises(UnsupportedAlgorithm, match="unprotected"):
        verify_sign1(message, key.public_key())


def test_alg_missing() -> None:
    key = generate_key()
    with pytest.raises(UnsupportedAlgorithm, match="missing"):
        verify_sign1(_resign(key, {4: b"kid"}, {}), key.public_key())


def test_alg_does_not_match_key() -> None:
    p256 = generate_key()
    p384 = generate_key(JwsAlgorithm.ES384)
    token = sign1(b"x", KeySigner(p384))
    with pytest.raises(UnsupportedAlgorithm):
        verify_sign1(token, p256.public_key())
    with pytest.raises(UnsupportedAlgorithm):
        verify_sign1(sign1(b"x", p256), generate_key(JwsAlgorithm.EDDSA).public_key())


def test_alg_outside_allow_list() -> None:
    key = generate_key(JwsAlgorithm.ES384)
    with pytest.raises(UnsupportedAlgorithm):
        verify_sign1(sign1(b"x", key), key.public_key(), allowed=frozenset({CoseAlgorithm.ES256}))


@pytest.mark.parametrize("alg", [0, -257, 5, "ES256", -6])
def test_unknown_or_wrong_kind_of_alg(alg: object) -> None:
    key = generate_key()
    with pytest.raises(UnsupportedAlgorithm):
        verify_sign1(_resign(key, {1: alg}, {}), key.public_key())


def test_protected_header_tampered() -> None:
    key = generate_key()
    message = parse_sign1(sign1(b"x", key, protected={4: b"kid1"}))
    forged_prot = cbor.encode({1: -7, 4: b"kid2"})
    forged = CoseSign1(forged_prot, cbor.decode(forged_prot), {}, b"x", message.signature)
    with pytest.raises(InvalidSignature):
        verify_sign1(forged, key.public_key())


def test_payload_tampered() -> None:
    key = generate_key()
    message = parse_sign1(sign1(b"x", key))
    forged = CoseSign1(message.protected_bytes, message.protected, {}, b"y", message.signature)
    with pytest.raises(InvalidSignature):
        verify_sign1(forged, key.public_key())


def test_external_aad_mismatch() -> None:
    key = generate_key()
    with pytest.raises(InvalidSignature):
        verify_sign1(sign1(b"x", key, external_aad=b"a"), key.public_key(), external_aad=b"b")


def test_signature_by_another_key() -> None:
    with pytest.raises(InvalidSignature):
        verify_sign1(sign1(b"x", generate_key()), generate_key().public_key())


def test_der_signature_rejected() -> None:
    key = generate_key()
    message = parse_sign1(sign1(b"x", key))
    der = key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    for signature in (der, b"", message.signature[:63], message.signature + b"\x00"):
        forged = CoseSign1(message.protected_bytes, message.protected, {}, b"x", signature)
        with pytest.raises(InvalidSignature):
            verify_sign1(forged, key.public_key())


def test_label_in_both_buckets() -> None:
    token = cbor.encode(cbor2.CBORTag(18, [cbor.encode({1: -7, 4: b"a"}), {4: b"b"}, b"x", b"s"]))
    with pytest.raises(MalformedCose, match="both"):
        parse_sign1(token)


def test_unknown_crit() -> None:
    key = generate_key()
    token = sign1(b"x", key, protected={2: [99], 99: 1})
    with pytest.raises(MalformedCose, match="critical"):
        verify_sign1(token, key.public_key())
    assert verify_sign1(token, key.public_key(), understood_crit=frozenset({99})).payload == b"x"


def test_crit_in_unprotected_header() -> None:
    token = cbor.encode([cbor.encode({1: -7}), {2: [4]}, b"x", b"s"])
    with pytest.raises(MalformedCose, match="crit"):
        parse_sign1(token)


def test_attached_payload_where_detached_expected() -> None:
    key = generate_key()
    with pytest.raises(MalformedCose, match="detached"):
        verify_sign1(sign1(b"x", key), key.public_key(), detached_payload=b"x")


def test_detached_payload_missing() -> None:
    key = generate_key()
    with pytest.raises(MalformedCose, match="detached"):
        verify_sign1(sign1(b"x", key, detached=True), key.public_key())


def test_tag_policy() -> None:
    key = generate_key()
    with pytest.raises(MalformedCose, match="tagged"):
        parse_sign1(sign1(b"x", key, tagged=False), require_tag=True)
    with pytest.raises(MalformedCose, match="untagged"):
        parse_sign1(sign1(b"x", key), require_tag=False)
    mac = build_mac0(b"x", b"k" * 32).encode()
    with pytest.raises(MalformedCose, match="tag 17"):
        parse_sign1(mac)


@pytest.mark.parametrize(
    "array",
    [
        [b"", {}, b"x"],
        [b"", {}, b"x", b"s", b"extra"],
        ["", {}, b"x", b"s"],
        [b"", [], b"x", b"s"],
        [b"", {}, "x", b"s"],
        [b"", {}, b"x", None],
        [cbor.encode([1]), {}, b"x", b"s"],
        [b"", {1.5: 1}, b"x", b"s"],
    ],
)
def test_malformed_shapes(array: list[object]) -> None:
    with pytest.raises((MalformedCose, MalformedCbor)):
        parse_sign1(cbor.encode(array))


@pytest.mark.parametrize("x5chain", [7, [], [b"a", 7], "pem"])
def test_malformed_x5chain(x5chain: object) -> None:
    message = parse_sign1(cbor.encode([b"", {33: x5chain}, b"x", b"s"]))
    with pytest.raises(MalformedCose, match="x5chain"):
        _ = message.x5chain


def test_protected_header_with_duplicate_labels() -> None:
    prot = b"\xa2\x01\x26\x01\x27"
    with pytest.raises(MalformedCbor):
        parse_sign1(cbor.encode([prot, {}, b"x", b"s"]))


def test_not_cbor() -> None:
    with pytest.raises(MalformedCbor):
        parse_sign1(b"\xd2\x84\x40")


# -- COSE_Mac0 -------------------------------------------------------------------------------


def test_mac0_round_trip_and_wrong_key() -> None:
    key = b"k" * 32
    message = build_mac0(b"payload", key, external_aad=b"a")
    assert verify_mac0(message.encode(), key, external_aad=b"a") == b"payload"
    with pytest.raises(InvalidSignature):
        verify_mac0(message, b"j" * 32, external_aad=b"a")


def test_mac0_alg_policy() -> None:
    unprotected_alg = cbor.encode([b"", {1: 5}, b"x", b"t" * 32])
    with pytest.raises(UnsupportedAlgorithm, match="unprotected"):
        verify_mac0(unprotected_alg, b"k")
    with pytest.raises(UnsupportedAlgorithm):
        verify_mac0(cbor.encode([cbor.encode({1: 6}), {}, b"x", b"t"]), b"k")
    with pytest.raises(UnsupportedAlgorithm):
        verify_mac0(cbor.encode([cbor.encode({1: -7}), {}, b"x", b"t"]), b"k")
    assert MacAlgorithm.HMAC_256_256 == 5


def test_mac0_detached() -> None:
    message = parse_mac0(build_mac0(b"p", b"k", detached=True).encode(tagged=False))
    assert verify_mac0(message, b"k", detached_payload=b"p") == b"p"
    with pytest.raises(MalformedCose):
        verify_mac0(message, b"k")


# -- COSE_Key --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cose_alg", "jws_alg"), ALL_KEYS)
def test_cose_key_round_trip(cose_alg: CoseAlgorithm, jws_alg: JwsAlgorithm) -> None:
    key = generate_key(jws_alg)
    public = public_key_from_cose_key(cbor.decode(cbor.encode(cose_key_from_public_key(key))))
    assert public == key.public_key()
    private = private_key_from_cose_key(cose_key_from_private_key(key))
    assert private.public_key() == key.public_key()


def test_cose_key_compressed_point() -> None:
    key = generate_key()
    full = cose_key_from_public_key(key)
    compressed = {1: 2, -1: 1, -2: full[-2], -3: key.public_key().public_numbers().y % 2 == 1}
    assert public_key_from_cose_key(compressed) == key.public_key()


def test_annex_d_device_key() -> None:
    vector = load_json("mdoc", "iso18013-5-annex-d.json")
    mso = cbor.decode(bytes.fromhex(vector["expected"]["mso"]["mso_bytes_hex"]))
    key = public_key_from_cose_key(mso["deviceKeyInfo"]["deviceKey"])
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.public_numbers().x == int(vector["hex"]["static_device_key_x"], 16)


@pytest.mark.parametrize(
    ("cose_key", "error"),
    [
        ({1: 2, -1: 1, -2: b"\x00" * 31, -3: b"\x00" * 32}, MalformedCose),
        ({1: 2, -1: 1, -2: b"\x01" * 32, -3: b"\x01" * 32}, MalformedCose),  # off the curve
        ({1: 2, -1: 1, -2: b"\x01" * 32}, MalformedCose),
        ({1: 2, -1: 4, -2: b"\x01" * 32, -3: b"\x01" * 32}, UnsupportedAlgorithm),
        ({1: 3, -1: 1}, UnsupportedAlgorithm),
        ({1: 1, -1: 7, -2: b"\x01" * 32}, UnsupportedAlgorithm),
        ({1: True, -1: 6, -2: b"\x01" * 32}, MalformedCose),
        ({1: 2, -1: "P-256", -2: b"\x01" * 32}, MalformedCose),
        ([1, 2], MalformedCose),
        ({-1: 1}, MalformedCose),
    ],
)
def test_hostile_cose_keys(cose_key: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        public_key_from_cose_key(cose_key)


def test_private_cose_key_with_mismatched_d() -> None:
    key = cose_key_from_private_key(generate_key())
    key[-4] = cose_key_from_private_key(generate_key())[-4]
    with pytest.raises(MalformedCose):
        private_key_from_cose_key(key)
