"""Key Binding JWT (RFC 9901 §4.3): building by the holder, verification by the verifier."""

from __future__ import annotations

import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, Final, Protocol, TypeAlias, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin._slots import slot_setters
from honnin.encoding import b64url_encode
from honnin.errors import HonninError, InvalidKeyBinding
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    algorithm_for_key,
    is_ec_private_key,
    jwk_from_public_key,
    parse_jws,
    public_key_from_jwk,
    sign_bytes,
    verify_jws,
)

from ._constants import KB_JWT_TYP, HashAlgorithm
from ._disclosure import encode_json


class KeyBinding(Enum):
    """The verifier's key binding policy (RFC 9901 §7.3; never "check it if present", §9.5)."""

    #: A KB-JWT signed by the ``cnf`` key over the expected nonce and audience is required.
    REQUIRED = "required"
    #: The presentation must not carry a KB-JWT (a plain SD-JWT ending in ``~``).
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class VerifiedKeyBinding:
    """A KB-JWT that verified under the credential's ``cnf.jwk`` (RFC 9901 §7.3 step 5)."""

    jwk: Mapping[str, Any]
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    algorithm: JwsAlgorithm
    iat: int
    nonce: str
    aud: str

    def __init__(
        self,
        jwk: Mapping[str, Any],
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        algorithm: JwsAlgorithm,
        iat: int,
        nonce: str,
        aud: str,
    ) -> None:
        # One per verification: stored through the slot descriptors (see slot_setters).
        set_jwk, set_header, set_claims, set_alg, set_iat, set_nonce, set_aud = _KB_SLOTS
        set_jwk(self, jwk)
        set_header(self, header)
        set_claims(self, claims)
        set_alg(self, algorithm)
        set_iat(self, iat)
        set_nonce(self, nonce)
        set_aud(self, aud)


_KB_SLOTS: Final = slot_setters(
    VerifiedKeyBinding, "jwk", "header", "claims", "algorithm", "iat", "nonce", "aud"
)


def sd_hash(hash_input: str, hash_alg: HashAlgorithm) -> str:
    """``sd_hash`` over the exact ``<JWS>~<D1>~...~<Dn>~`` string (RFC 9901 §4.3.1)."""
    return b64url_encode(hash_alg.new(hash_input.encode("ascii")).digest())


@runtime_checkable
class KeyBindingSigner(Protocol):
    """A holder key the caller cannot hand out (a wallet vault, a secure element).

    ``sign`` returns the raw JWS signature (R||S for ECDSA, RFC 7518 §3.4), as
    ``honnin.jose.sign_bytes`` does for a key object.
    """

    @property
    def algorithm(self) -> JwsAlgorithm:
        """The JWS algorithm of the key."""
        ...

    @property
    def public_jwk(self) -> Mapping[str, Any]:
        """The public key as a JWK: it must be the credential's ``cnf.jwk``."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature over ``data``."""
        ...


#: What signs a KB-JWT: a private key object, or a ``KeyBindingSigner``.
HolderKey: TypeAlias = PrivateKey | KeyBindingSigner


def holder_public_jwk(holder_key: HolderKey) -> Mapping[str, Any]:
    """The public JWK of a holder key or signer."""
    if isinstance(holder_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return jwk_from_public_key(holder_key)
    return holder_key.public_jwk


def holder_algorithm(holder_key: HolderKey) -> JwsAlgorithm:
    """The JWS algorithm a holder key or signer signs with."""
    if isinstance(holder_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return algorithm_for_key(holder_key)
    return holder_key.algorithm


def build_kb_jwt(
    hash_input: str,
    hash_alg: HashAlgorithm,
    holder_key: HolderKey,
    *,
    nonce: str,
    aud: str,
    iat: int,
    alg: JwsAlgorithm | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    digest: str | None = None,
) -> str:
    """Sign a KB-JWT (``typ`` kb+jwt; ``iat``, ``aud``, ``nonce``, ``sd_hash``; §4.3).

    ``digest`` is ``sd_hash(hash_input, hash_alg)`` when the caller has it already.
    """
    if type(iat) is not int:
        raise TypeError("KB-JWT 'iat' is an integer NumericDate")
    alg = alg or holder_algorithm(holder_key)
    header = _KB_HEADERS.get(alg)
    if header is None:
        text = encode_json({"alg": alg.value, "typ": KB_JWT_TYP})
        header = _KB_HEADERS[alg] = b64url_encode(text.encode()).encode("ascii") + b"."
    if digest is None:
        digest = sd_hash(hash_input, hash_alg)
    if extra_claims:
        claims = {**extra_claims, "iat": iat, "aud": aud, "nonce": nonce, "sd_hash": digest}
        body = encode_json(claims)
    else:
        body = (
            f'{{"iat":{iat},"aud":{encode_basestring(aud)},'
            f'"nonce":{encode_basestring(nonce)},"sd_hash":"{digest}"}}'
        )
    # Built as bytes (as sign_jws does): the signing input is what gets signed and, with
    # the signature, the token.
    signing_input = header + _b64url(body.encode("utf-8"))
    if is_ec_private_key(holder_key) or isinstance(holder_key, _PRIVATE_KEY_TYPES):
        signature = sign_bytes(signing_input, holder_key, alg)
    else:
        signature = holder_key.sign(signing_input)
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


def _b64url(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


_PRIVATE_KEY_TYPES = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)

#: The base64url KB-JWT protected header and its '.' per algorithm (it never changes).
_KB_HEADERS: dict[JwsAlgorithm, bytes] = {}


@lru_cache(maxsize=256)
def _cnf_key(kty: str, crv: str, x: str, y: str | None) -> PublicKey:
    jwk = {"kty": kty, "crv": crv, "x": x}
    if y is not None:
        jwk["y"] = y
    return public_key_from_jwk(jwk)


def holder_key_of(payload: Mapping[str, Any]) -> tuple[dict[str, Any], PublicKey]:
    """The holder's public key from ``cnf.jwk`` (RFC 7800 §3.2, RFC 9901 §4.1.2).

    Raises:
        InvalidKeyBinding: ``reason="cnf"`` when ``cnf.jwk`` is missing, unusable or private.
    """
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise InvalidKeyBinding("the credential has no 'cnf.jwk' holder key", reason="cnf")
    if "d" in jwk:
        # HOSTILE S13: a confirmation key with private parts is a broken credential.
        raise InvalidKeyBinding("'cnf.jwk' contains private key material", reason="cnf")
    kty, crv, x, y = jwk.get("kty"), jwk.get("crv"), jwk.get("x"), jwk.get("y")
    if not (isinstance(kty, str) and isinstance(crv, str) and isinstance(x, str)) or not (
        y is None or isinstance(y, str)
    ):
        raise InvalidKeyBinding("'cnf.jwk' is not a usable EC or OKP key", reason="cnf")
    try:
        return jwk, _cnf_key(kty, crv, x, y)
    except HonninError as exc:
        raise InvalidKeyBinding(f"'cnf.jwk' is not usable: {exc.message}", reason="cnf") from exc


def verify_kb_jwt(
    kb_jwt: str,
    payload: Mapping[str, Any],
    hash_input: str,
    hash_alg: HashAlgorithm,
    *,
    nonce: str,
    aud: str,
    now: float,
    max_age: float,
    skew: float,
    algorithms: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
) -> VerifiedKeyBinding:
    """Verify a KB-JWT per RFC 9901 §7.3 step 5; every failure is ``InvalidKeyBinding``.

    ``reason`` is one of ``malformed``, ``typ``, ``alg``, ``cnf``, ``signature``, ``iat``,
    ``nonce``, ``aud``, ``sd_hash``.
    """
    jwk, key = holder_key_of(payload)
    try:
        jws = parse_jws(kb_jwt)
        claims = jws.unverified_claims()
    except HonninError as exc:
        raise InvalidKeyBinding(f"malformed KB-JWT: {exc.message}", reason="malformed") from exc
    if jws.header.get("typ") != KB_JWT_TYP:
        # RFC 9901 §7.3 step 5.c: explicit typing stops other JWTs passing as KB-JWTs.
        raise InvalidKeyBinding("KB-JWT 'typ' must be 'kb+jwt'", reason="typ")
    try:
        algorithm = verify_jws(jws, key, allowed=algorithms)
    except HonninError as exc:
        reason = "signature" if exc.code == "invalid_signature" else "alg"
        raise InvalidKeyBinding(
            f"KB-JWT does not verify under 'cnf.jwk': {exc.message}", reason=reason
        ) from exc
    iat = claims.get("iat")
    if type(iat) is not int:
        # HOSTILE-CASES D6: a finite integer NumericDate; NaN, floats, strings are refused.
        raise InvalidKeyBinding("KB-JWT 'iat' must be an integer", reason="iat")
    # RFC 9901 §7.3 step 5.e: 'iat' within the window [now - max_age, now + skew].
    if iat > now + skew:
        raise InvalidKeyBinding("KB-JWT 'iat' is in the future", reason="iat")
    if iat < now - max_age:
        raise InvalidKeyBinding("KB-JWT 'iat' is too old", reason="iat")
    got_nonce = claims.get("nonce")
    if not isinstance(got_nonce, str) or not hmac.compare_digest(
        got_nonce.encode(), nonce.encode()
    ):
        raise InvalidKeyBinding("KB-JWT 'nonce' does not match", reason="nonce")
    got_aud = claims.get("aud")
    if not isinstance(got_aud, str) or got_aud != aud:
        # RFC 9901 §4.3: 'aud' is a single string; arrays are not accepted.
        raise InvalidKeyBinding("KB-JWT 'aud' does not match", reason="aud")
    got_hash = claims.get("sd_hash")
    if not isinstance(got_hash, str) or not hmac.compare_digest(
        got_hash.encode(), sd_hash(hash_input, hash_alg).encode()
    ):
        raise InvalidKeyBinding(
            "KB-JWT 'sd_hash' does not match the presentation", reason="sd_hash"
        )
    return VerifiedKeyBinding(
        jwk=jwk,
        header=jws.header,
        claims=claims,
        algorithm=algorithm,
        iat=iat,
        nonce=got_nonce,
        aud=got_aud,
    )
