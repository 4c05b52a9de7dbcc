"""COSE_Key (RFC 9052 §7, RFC 9053 §7.1-7.2) to and from ``cryptography`` keys.

EC2 keys on P-256, P-384 and P-521 and OKP keys on Ed25519. Loading checks every member's
type and length and that the point is on the curve; anything else is ``MalformedCose`` or
``UnsupportedAlgorithm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.errors import MalformedCose, UnsupportedAlgorithm
from honnin.jose import PrivateKey, PublicKey, is_ec_public_key, public_key_of

# RFC 9052 §7.1 / RFC 9053 §7.1-7.2 labels and values.
KTY: Final = 1
KTY_OKP: Final = 1
KTY_EC2: Final = 2
CRV: Final = -1
X: Final = -2
Y: Final = -3
D: Final = -4

_EC2_CURVES: Final[dict[int, ec.EllipticCurve]] = {
    1: ec.SECP256R1(),
    2: ec.SECP384R1(),
    3: ec.SECP521R1(),
}
_CRV_BY_NAME: Final[dict[str, int]] = {c.name: n for n, c in _EC2_CURVES.items()}
_ED25519: Final = 6


def _size(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def cose_key_from_public_key(key: PublicKey | PrivateKey) -> dict[int, Any]:
    """The public COSE_Key of ``key`` with only the required members (RFC 9053 §7.1.1, §7.2)."""
    pub = public_key_of(key)
    if not is_ec_public_key(pub) and isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {KTY: KTY_OKP, CRV: _ED25519, X: raw}
    crv = _CRV_BY_NAME.get(pub.curve.name)
    if crv is None:
        raise UnsupportedAlgorithm(f"no COSE curve for {pub.curve.name}")
    # SEC 1 §2.3.3 uncompressed point 04 || x || y, each coordinate padded to the curve size
    # as RFC 9053 §7.1.1 wants them (one call, no integers built).
    point = pub.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    size = _size(pub.curve)
    return {KTY: KTY_EC2, CRV: crv, X: point[1 : size + 1], Y: point[size + 1 :]}


def cose_key_from_private_key(key: PrivateKey) -> dict[int, Any]:
    """The private COSE_Key of ``key`` (includes ``d``: handle as a secret)."""
    out = cose_key_from_public_key(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        out[D] = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    else:
        out[D] = key.private_numbers().private_value.to_bytes(_size(key.curve), "big")
    return out


def _member(key: Mapping[Any, Any], label: int, what: str) -> Any:
    if label not in key:
        raise MalformedCose(f"COSE_Key has no {what} (label {label})")
    return key[label]


def _octets(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise MalformedCose(f"COSE_Key {what} must be a {size}-byte string")
    return value


def _ec2_public(curve: ec.EllipticCurve, x: bytes, y: bytes | bool) -> ec.EllipticCurvePublicKey:
    # RFC 9053 §7.1.1: y may be the sign bit of a compressed point.
    point = (b"\x03" if y else b"\x02") + x if type(y) is bool else b"\x04" + x + y
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except ValueError as exc:
        raise MalformedCose(f"COSE_Key point is not on {curve.name}") from exc


def _load(key: object, private: bool) -> PublicKey | PrivateKey:
    if type(key) is not dict and not isinstance(key, Mapping):
        raise MalformedCose("a COSE_Key must be a map (RFC 9052 §7)")
    kty = _member(key, KTY, "kty")
    crv = _member(key, CRV, "crv")
    if type(kty) is not int or type(crv) is not int:
        raise MalformedCose("COSE_Key kty and crv must be integers (RFC 9053 §7)")
    if kty == KTY_EC2 and crv in _EC2_CURVES:
        curve = _EC2_CURVES[crv]
        size = (curve.key_size + 7) // 8
        x = key.get(X)
        y = key.get(Y)
        if type(x) is not bytes or len(x) != size:
            raise MalformedCose(f"COSE_Key x must be a {size}-byte string")
        if type(y) is not bool and (type(y) is not bytes or len(y) != size):
            raise MalformedCose(f"COSE_Key y must be a {size}-byte string or a sign bit")
        public = _ec2_public(curve, x, y)
        if not private:
            return public
        d = int.from_bytes(_octets(_member(key, D, "d"), size, "d"), "big")
        try:
            secret = ec.derive_private_key(d, curve)
        except ValueError as exc:
            raise MalformedCose("COSE_Key d is out of range") from exc
        if secret.public_key().public_numbers() != public.public_numbers():
            raise MalformedCose("COSE_Key d does not belong to x, y")
        return secret
    if kty == KTY_OKP and crv == _ED25519:
        x = _octets(_member(key, X, "x"), 32, "x")
        pub = ed25519.Ed25519PublicKey.from_public_bytes(x)
        if not private:
            return pub
        okp = ed25519.Ed25519PrivateKey.from_private_bytes(_octets(_member(key, D, "d"), 32, "d"))
        if okp.public_key() != pub:
            raise MalformedCose("COSE_Key d does not belong to x")
        return okp
    if kty not in (KTY_EC2, KTY_OKP):
        raise UnsupportedAlgorithm(f"COSE_Key kty {kty!r} is not supported (EC2 and OKP are)")
    raise UnsupportedAlgorithm(f"COSE_Key curve {crv!r} is not supported for kty {kty}")


def public_key_from_cose_key(key: object) -> PublicKey:
    """Load the public key of a COSE_Key map; a private ``d``, if any, is ignored.

    Raises:
        MalformedCose: missing or ill-typed members, wrong lengths, a point off the curve.
        UnsupportedAlgorithm: a key type or curve honnin does not use.
    """
    # _load builds only public keys when private is False (no isinstance on the key ABCs
    # here: each costs ~0.6 us, and this runs for every presented document).
    return cast(PublicKey, _load(key, private=False))


def private_key_from_cose_key(key: object) -> PrivateKey:
    """Load a private key from a COSE_Key map that carries ``d`` matching its public part.

    Raises:
        MalformedCose / UnsupportedAlgorithm: as ``public_key_from_cose_key``; no ``d``.
    """
    loaded = _load(key, private=True)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
    return loaded
