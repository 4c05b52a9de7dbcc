"""JOSE for honnin: JWK, JWS and the algorithm registry (RFC 7515, 7517, 7518, 7638, 8037).

JWE for OpenID4VP ``direct_post.jwt`` (ECDH-ES, A128GCM/A256GCM over ``cryptography``) lives in
``honnin.jose.jwe``.
"""

from ._algorithms import DEFAULT_ALLOWED, JwsAlgorithm, algorithm_from_header
from ._jws import UnverifiedJws, parse_jws, sign_bytes, sign_jws, verify_bytes, verify_jws
from ._keys import (
    PRIVATE_JWK_MEMBERS,
    PrivateKey,
    PublicKey,
    algorithm_for_key,
    generate_key,
    is_ec_private_key,
    is_ec_public_key,
    jwk_from_private_key,
    jwk_from_public_key,
    jwk_thumbprint,
    private_key_from_jwk,
    public_jwk_key,
    public_key_from_jwk,
    public_key_from_pem,
    public_key_of,
)

__all__ = [
    "DEFAULT_ALLOWED",
    "PRIVATE_JWK_MEMBERS",
    "JwsAlgorithm",
    "PrivateKey",
    "PublicKey",
    "UnverifiedJws",
    "algorithm_for_key",
    "algorithm_from_header",
    "generate_key",
    "is_ec_private_key",
    "is_ec_public_key",
    "jwk_from_private_key",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "parse_jws",
    "private_key_from_jwk",
    "public_jwk_key",
    "public_key_from_jwk",
    "public_key_from_pem",
    "public_key_of",
    "sign_bytes",
    "sign_jws",
    "verify_bytes",
    "verify_jws",
]
