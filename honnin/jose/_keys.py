"""JWK import/export (RFC 7517/7518/8037) and thumbprints (RFC 7638) over ``cryptography``."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeAlias, TypeGuard

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import load_pem_x509_certificate
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from jwt.exceptions import InvalidKeyError, PyJWKError

from honnin.encoding import b64url_decode, b64url_encode
from honnin.errors import MalformedInput, UnsupportedAlgorithm

from ._algorithms import EC_PARAMS, JwsAlgorithm

#: JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4):
#: a key sent in a header (a proof's ``jwk``, a JWE's ``epk``) must have none of them.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


# cryptography's key classes are ABCs over its Rust types, and isinstance() on an ABC runs
# a Python-level __instancecheck__ (~0.6 us, twice per verification). The answer is kept per
# concrete type (a key's class never changes its registration), so the hot paths pay a dict
# lookup instead.
_EC_PUBLIC_TYPES: dict[type, bool] = {}
_EC_PRIVATE_TYPES: dict[type, bool] = {}


def is_ec_public_key(key: object) -> TypeGuard[ec.EllipticCurvePublicKey]:
    """``isinstance(key, ec.EllipticCurvePublicKey)``, answered once per key type."""
    known = _EC_PUBLIC_TYPES.get(type(key))
    if known is None:
        known = _EC_PUBLIC_TYPES[type(key)] = isinstance(key, ec.EllipticCurvePublicKey)
    return known


def is_ec_private_key(key: object) -> TypeGuard[ec.EllipticCurvePrivateKey]:
    """``isinstance(key, ec.EllipticCurvePrivateKey)``, answered once per key type."""
    known = _EC_PRIVATE_TYPES.get(type(key))
    if known is None:
        known = _EC_PRIVATE_TYPES[type(key)] = isinstance(key, ec.EllipticCurvePrivateKey)
    return known


def generate_key(alg: JwsAlgorithm = JwsAlgorithm.ES256) -> PrivateKey:
    """A fresh private key for ``alg`` (randomness from the OS via ``cryptography``)."""
    if alg is JwsAlgorithm.EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(EC_PARAMS[alg].curve())


def algorithm_for_key(key: PrivateKey | PublicKey) -> JwsAlgorithm:
    """The JWS algorithm a key signs with (ES256 for P-256, ...)."""
    if not (is_ec_private_key(key) or is_ec_public_key(key)) and isinstance(
        key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey
    ):
        return JwsAlgorithm.EDDSA
    curve = type(key.curve)
    found = _ALG_BY_CURVE.get(curve)  # the exact class first: the curve classes are ABCs
    if found is not None:
        return found
    for alg, params in EC_PARAMS.items():
        if issubclass(curve, params.curve):
            return alg
    raise UnsupportedAlgorithm(f"no JWS algorithm for curve {key.curve.name}")


_ALG_BY_CURVE: dict[type, JwsAlgorithm] = {params.curve: alg for alg, params in EC_PARAMS.items()}


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    """The public half of ``key`` (or ``key`` itself when already public)."""
    if is_ec_public_key(key):
        return key
    if is_ec_private_key(key) or isinstance(key, _PRIVATE_KEY_TYPES):
        return key.public_key()
    return key


_PRIVATE_KEY_TYPES = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def jwk_from_public_key(key: PublicKey | PrivateKey) -> dict[str, str]:
    """The public JWK of ``key`` with only the required members (RFC 7638 §3.2 order-free)."""
    pub = public_key_of(key)
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    numbers = pub.public_numbers()
    size = (pub.curve.key_size + 7) // 8
    return {
        "kty": "EC",
        "crv": _CURVE_NAMES[pub.curve.name],
        "x": b64url_encode(numbers.x.to_bytes(size, "big")),
        "y": b64url_encode(numbers.y.to_bytes(size, "big")),
    }


def jwk_from_private_key(key: PrivateKey) -> dict[str, str]:
    """The private JWK of ``key`` (includes ``d``: handle as a secret)."""
    jwk = jwk_from_public_key(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        jwk["d"] = b64url_encode(raw)
    else:
        size = (key.curve.key_size + 7) // 8
        jwk["d"] = b64url_encode(key.private_numbers().private_value.to_bytes(size, "big"))
    return jwk


def _load_jwk(jwk: object) -> PrivateKey | PublicKey:
    if not isinstance(jwk, dict):
        raise MalformedInput("a JWK must be a JSON object")
    kty = jwk.get("kty")
    try:
        if kty == "EC":
            if jwk.get("crv") not in ("P-256", "P-384", "P-521"):
                raise UnsupportedAlgorithm(f"unsupported EC curve {jwk.get('crv')!r}")
            for member in ("x", "y", "d"):
                if member in jwk:
                    b64url_decode(jwk[member], what=f"JWK {member}")
            key: Any = ECAlgorithm.from_jwk(jwk)
        elif kty == "OKP":
            if jwk.get("crv") != "Ed25519":
                raise UnsupportedAlgorithm(f"unsupported OKP curve {jwk.get('crv')!r}")
            key = OKPAlgorithm.from_jwk(jwk)
        else:
            raise UnsupportedAlgorithm(f"unsupported JWK kty {kty!r}; EC and OKP are supported")
    except (InvalidKeyError, PyJWKError, ValueError, TypeError, KeyError) as exc:
        raise MalformedInput(f"invalid JWK: {exc}") from exc
    if not isinstance(
        key,
        ec.EllipticCurvePrivateKey
        | ec.EllipticCurvePublicKey
        | ed25519.Ed25519PrivateKey
        | ed25519.Ed25519PublicKey,
    ):
        raise UnsupportedAlgorithm("unsupported key type")
    return key


def public_key_from_jwk(jwk: object) -> PublicKey:
    """Load a public key from a JWK dict; private members, if any, are dropped.

    Raises:
        MalformedInput: not a valid JWK (off-curve points included).
        UnsupportedAlgorithm: a key type or curve honnin does not use.
    """
    if type(jwk) is dict and jwk.get("kty") == "EC" and "d" not in jwk:
        # The common case (a holder's cnf.jwk, an issuer's JWKS entry) goes straight to the
        # uncompressed point; anything else takes the general path below.
        curve = _EC_JWK_CURVES.get(jwk.get("crv"))  # type: ignore[arg-type]
        x, y = jwk.get("x"), jwk.get("y")
        if curve is not None and type(x) is str and type(y) is str:
            return _ec_public_key(curve, x, y)
    return public_key_of(_load_jwk(jwk))


# RFC 7518 §6.2.1: the curves honnin uses, with the exact octet length of x and y.
_EC_JWK_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}


def _ec_public_key(curve: tuple[ec.EllipticCurve, int], x: str, y: str) -> PublicKey:
    params, size = curve
    x_raw = b64url_decode(x, what="JWK x")
    y_raw = b64url_decode(y, what="JWK y")
    if len(x_raw) != size or len(y_raw) != size:
        # RFC 7518 §6.2.1.2-3: x and y are the full-length octet strings of the coordinates.
        raise MalformedInput(f"invalid JWK: coordinates must be {size} bytes for {params.name}")
    try:
        # The point must lie on the curve (checked by OpenSSL when it is decoded).
        return ec.EllipticCurvePublicKey.from_encoded_point(params, b"\x04" + x_raw + y_raw)
    except ValueError as exc:
        raise MalformedInput(f"invalid JWK: {exc}") from exc


def private_key_from_jwk(jwk: object) -> PrivateKey:
    """Load a private key from a JWK dict that carries ``d``.

    Raises:
        MalformedInput: not a valid private JWK.
    """
    key = _load_jwk(jwk)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise MalformedInput("the JWK has no private part ('d')")
    return key


def public_key_from_pem(pem: bytes) -> PublicKey:
    """Load a public key from a PEM public key or a PEM certificate.

    Raises:
        MalformedInput: neither, or a key type honnin does not use.
    """
    try:
        if b"CERTIFICATE" in pem:
            key: Any = load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise MalformedInput(f"not a PEM public key or certificate: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise UnsupportedAlgorithm("only EC and Ed25519 keys are supported")
    return key


def public_jwk_key(jwk: object) -> tuple[PublicKey, str]:
    """A public key sent as a JWK (a proof's ``jwk`` header, a ``cnf.jwk`` claim) and its
    RFC 7638 thumbprint.

    The key is loaded strictly (members, lengths, canonical base64url, a point on the
    curve), so its required members are already the canonical ones: the thumbprint is taken
    from them, without re-encoding the key.

    Raises:
        MalformedInput: not a JWK object, or one with private key members (RFC 7518 §6).
        MalformedInput / UnsupportedAlgorithm: a key honnin cannot load.
    """
    if not isinstance(jwk, dict):
        raise MalformedInput("the key is not a JWK object")
    if PRIVATE_JWK_MEMBERS & set(jwk):
        raise MalformedInput("the JWK carries private key material")
    return public_key_from_jwk(jwk), jwk_thumbprint(jwk)


def jwk_thumbprint(jwk: dict[str, Any], hash_name: str = "sha256") -> str:
    """RFC 7638 JWK thumbprint, base64url. Only the required members, sorted, no spaces."""
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
        "RSA": ("e", "kty", "n"),
    }
    members = required.get(str(jwk.get("kty")))
    if members is None:
        raise UnsupportedAlgorithm(f"no thumbprint rule for kty {jwk.get('kty')!r}")
    try:
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    except KeyError as exc:
        raise MalformedInput(f"JWK lacks required member {exc}") from exc
    return b64url_encode(hashlib.new(hash_name, canonical.encode()).digest())
