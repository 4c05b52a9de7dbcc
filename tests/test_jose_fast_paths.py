"""Shortcuts of the JWS parser and of batched disclosure JSON against the plain computation.

The parsed protected headers kept by their base64url text, and the batch of disclosure
texts scanned as one string, must accept, reject and return exactly what parsing each
text on its own does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from honnin.encoding import b64url_encode, json_from_b64url, json_from_b64url_all
from honnin.errors import InvalidSignature, MalformedJws, TooLarge, UnsupportedAlgorithm
from honnin.jose import JwsAlgorithm, generate_key, parse_jws, sign_jws, verify_jws
from honnin.jose._jws import der_ecdsa_signature, raw_ecdsa_signature, sign_bytes, verify_bytes

_HASHES = {
    JwsAlgorithm.ES256: hashes.SHA256,
    JwsAlgorithm.ES384: hashes.SHA384,
    JwsAlgorithm.ES512: hashes.SHA512,
}
_SIZES = {JwsAlgorithm.ES256: 32, JwsAlgorithm.ES384: 48, JwsAlgorithm.ES512: 66}


def _token(header: dict[str, Any], payload: bytes = b"{}") -> str:
    h64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return f"{h64}.{b64url_encode(payload)}.{b64url_encode(b'x' * 64)}"


def test_a_kept_header_is_a_fresh_copy_for_each_token() -> None:
    token = _token({"alg": "ES256", "typ": "kb+jwt"})
    first = parse_jws(token)
    first.header["alg"] = "none"
    first.header["extra"] = 1
    second = parse_jws(token)
    assert second.header == {"alg": "ES256", "typ": "kb+jwt"}
    assert second.header is not parse_jws(token).header


def test_a_kept_header_still_obeys_a_smaller_header_limit() -> None:
    token = _token({"alg": "ES256", "typ": "example+jwt"})
    parse_jws(token)
    with pytest.raises(TooLarge):
        parse_jws(token, max_header=8)


def test_a_header_with_nested_members_is_parsed_each_time() -> None:
    token = _token({"alg": "ES256", "x5c": ["MIIB"]})
    first = parse_jws(token)
    first.header["x5c"].append("tampered")
    assert parse_jws(token).header == {"alg": "ES256", "x5c": ["MIIB"]}


def test_an_unknown_crit_is_rejected_every_time() -> None:
    token = _token({"alg": "ES256", "crit": ["exp"], "exp": 1})
    for _ in range(2):
        with pytest.raises(MalformedJws):
            parse_jws(token)


def test_the_signing_input_is_the_header_and_payload_as_received() -> None:
    key = generate_key()
    token = sign_jws({"sub": "alice"}, key, header={"typ": "example+jwt"})
    for _ in range(2):
        jws = parse_jws(token)
        assert jws.signing_input == token.rsplit(".", 1)[0].encode()
        assert verify_jws(jws, key.public_key()) is JwsAlgorithm.ES256


def test_a_key_of_another_curve_is_refused_for_signing_and_verifying() -> None:
    p384 = generate_key(JwsAlgorithm.ES384)
    with pytest.raises(UnsupportedAlgorithm):
        sign_bytes(b"data", p384, JwsAlgorithm.ES256)
    signature = sign_bytes(b"data", p384, JwsAlgorithm.ES384)
    with pytest.raises(UnsupportedAlgorithm):
        verify_bytes(b"data", signature, p384.public_key(), JwsAlgorithm.ES256)


def _b64(text: str) -> str:
    return b64url_encode(text.encode("utf-8"))


def _one_by_one(texts: list[str]) -> list[Any]:
    return [json_from_b64url(text, what="t") for text in texts]


@pytest.mark.parametrize(
    "decoded",
    [
        ['["s","n",1]', '["t",2]'],
        ['"a scalar"', "[1]"],  # a scalar text is returned as one-by-one does
        ['["s","Müller","日本"]', '["t",{"a":"é"}]'],  # non-ASCII texts
        ['[{"\\\\uD":null}]', '["x"]'],  # an escaped backslash before "uD" is no surrogate
        ["[" * 32 + "]" * 32, "[" * 20 + "]" * 20],  # many openers, each under the limit
    ],
)
def test_batched_texts_give_the_values_of_one_by_one(decoded: list[str]) -> None:
    texts = [_b64(text) for text in decoded]
    assert json_from_b64url_all(texts) == _one_by_one(texts)


@pytest.mark.parametrize(
    "decoded",
    [
        ["1", "2"],  # a number that would run into the next text
        ['["a"],["b"', '"c"]'],  # values across the boundary of two texts
        ['["s","n",1],[["t"', "[2]]]"],  # two well-formed values across two texts
        ["[1] ", "[2]"],  # trailing whitespace
        ["[1]", " [2]"],  # leading whitespace
        ["[1]", "\ufeff[2]"],  # a byte order mark on a later text
        ['["\\ud800"]', "[1]"],  # a lone surrogate escape
        ["[" * 33 + "]" * 33, "[]"],  # too deep
    ],
)
def test_batches_the_strict_path_must_decide_are_left_to_it(decoded: list[str]) -> None:
    assert json_from_b64url_all([_b64(text) for text in decoded]) is None


def test_a_text_that_is_not_utf8_alone_is_left_to_the_strict_path() -> None:
    # "é" split across two texts: the joined bytes are UTF-8, each text is not.
    raw = '["é"]'.encode()
    texts = [b64url_encode(raw[:3]), b64url_encode(raw[3:])]
    assert json_from_b64url_all(texts) is None


_EDGE_VALUES = [
    1,
    0x7F,
    0x80,
    0xFF,
    0x0100,
    2**255,  # high bit of a 32-byte value
    2**255 - 1,
    2**248 - 1,  # a leading zero byte
    2**200 + 12345,  # several leading zero bytes
]


@pytest.mark.parametrize("size", [32, 48, 66])
@pytest.mark.parametrize("r", _EDGE_VALUES)
@pytest.mark.parametrize("s", [1, 0x80, 2**255 - 19])
def test_der_and_raw_signatures_convert_as_the_generic_codec_does(
    size: int, r: int, s: int
) -> None:
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    der = encode_dss_signature(r, s)
    assert der_ecdsa_signature(raw, size) == der
    assert raw_ecdsa_signature(der, size) == raw


@pytest.mark.parametrize("alg", [JwsAlgorithm.ES256, JwsAlgorithm.ES384, JwsAlgorithm.ES512])
def test_signatures_made_and_checked_through_the_direct_conversions(alg: JwsAlgorithm) -> None:
    key = generate_key(alg)
    for index in range(40):
        data = b"message %d" % index
        signature = sign_bytes(data, key, alg)
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_HASHES[alg]())))
        assert len(signature) == 2 * _SIZES[alg]
        verify_bytes(data, signature, key.public_key(), alg)
        assert raw_ecdsa_signature(encode_dss_signature(r, s), _SIZES[alg]) == r.to_bytes(
            _SIZES[alg], "big"
        ) + s.to_bytes(_SIZES[alg], "big")


@pytest.mark.parametrize("raw", [bytes(64), bytes(32) + b"\x01" * 32, b"\x01" * 32 + bytes(32)])
def test_a_zero_r_or_s_is_an_invalid_signature(raw: bytes) -> None:
    with pytest.raises(InvalidSignature):
        der_ecdsa_signature(raw, 32)
    with pytest.raises(InvalidSignature):
        verify_bytes(b"data", raw, generate_key().public_key(), JwsAlgorithm.ES256)


def test_many_shallow_texts_are_batched_and_one_deep_text_among_them_is_not() -> None:
    shallow = [_b64(f'["s{i}","n{i}",{{"a":[{i}]}}]') for i in range(40)]
    assert json_from_b64url_all(shallow) == _one_by_one(shallow)
    deep = _b64("[" * 33 + "]" * 33)
    assert json_from_b64url_all([*shallow[:5], deep, *shallow[5:]]) is None
    at_limit = _b64("[" * 32 + "]" * 32)
    assert json_from_b64url_all([*shallow, at_limit]) == _one_by_one([*shallow, at_limit])


@pytest.mark.parametrize(
    ("token", "segments"),
    [("abc", 1), ("abc.def", 2), ("a.b.c.d", 4), ("a..b.c", 4), ("...", 4), ("a.b.c.", 4)],
)
def test_a_compact_jws_needs_exactly_three_segments(token: str, segments: int) -> None:
    with pytest.raises(MalformedJws, match=f"has {segments} segments"):
        parse_jws(token)


@pytest.mark.parametrize("token", [".e30.c2ln", "eyJhbGciOiJFUzI1NiJ9.e30."])
def test_an_empty_header_or_signature_segment_is_refused(token: str) -> None:
    with pytest.raises(MalformedJws, match="empty header or signature"):
        parse_jws(token)
