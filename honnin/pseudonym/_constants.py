"""Constants of honnin's pairwise pseudonyms (spec/PROFILE.md "Pairwise pseudonyms")."""

from __future__ import annotations

from typing import Final

#: The catalogue id and ``vct`` of the pseudonym credential type (spec/self-issued/pseudonym).
PSEUDONYM_TYPE: Final = "pseudonym"
PSEUDONYM_VCT: Final = "https://honnin.example/vct/pseudonym/v1"
#: RFC 9278 §3: the JWK Thumbprint URI prefix for SHA-256 thumbprints. A self-issued proof
#: names its own key as ``iss``: self-certifying, and never an issuer's identifier.
THUMBPRINT_URI_PREFIX: Final = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
#: SD-JWT VC §3.2.1 / RFC 9901 §4.3: the JOSE ``typ`` of the credential and of its KB-JWT.
SD_JWT_VC_TYP: Final = "dc+sd-jwt"
KB_JWT_TYP: Final = "kb+jwt"
#: The wallet secret is 256 bits (a vault secret).
SECRET_SIZE: Final = 32
#: FIPS 186-5 Appendix A.2.1 needs at least N + 64 = 320 random bits for P-256; 384 are
#: drawn so that reducing them modulo n - 1 leaves a bias below 2^-128.
DERIVED_BYTES: Final = 48
#: RFC 5869 §3.2 ``info``: the version label binds the key to this derivation scheme; a new
#: scheme gets a new label (and with it new pseudonyms).
DERIVATION_LABEL: Final = b"honnin pseudonym v1 P-256"
#: The order n of the P-256 group (SEC 2 §2.4.2; FIPS 186-5 / SP 800-186 §3.2.1.3).
P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: The longest client_id a derivation accepts (OpenID4VP client ids are short strings).
MAX_CLIENT_ID: Final = 2048
