"""The pseudonym proof: a self-issued SD-JWT VC of the pseudonym type, presented with a KB-JWT
over the verifier's nonce and audience (spec/PROFILE.md "Pairwise pseudonyms").

Issuer-signed JWT (header ``{"alg": "ES256", "typ": "dc+sd-jwt"}``, nothing else)::

    {"iss": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:<t>", "sub": "<t>",
     "vct": "https://honnin.example/vct/pseudonym/v1", "cnf": {"jwk": <pairwise key>}}

where ``<t>`` is the RFC 7638 thumbprint of the pairwise key, which signs both the JWT and
the KB-JWT (RFC 9901 §4.3: ``iat``, ``aud``, ``nonce``, ``sd_hash``). No disclosures. A
verifier checks it with an ordinary SD-JWT VC verifier whose issuer key resolver takes the key
from ``cnf.jwk`` and requires ``iss`` to be that key's thumbprint URI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from honnin.encoding import b64url_encode
from honnin.errors import MalformedCredential
from honnin.jose import JwsAlgorithm, PublicKey, public_key_from_jwk, sign_jws
from honnin.sdjwt import KeyBinding, verify_sd_jwt

from ._constants import (
    KB_JWT_TYP,
    PSEUDONYM_VCT,
    SD_JWT_VC_TYP,
    THUMBPRINT_URI_PREFIX,
)
from ._derive import PairwiseKey, pseudonym_of

__all__ = [
    "VerifiedPseudonym",
    "build_pseudonym_proof",
    "is_pseudonym_query",
    "pseudonym_credential_query",
    "verify_pseudonym_proof",
]

#: The pairwise key is P-256, so ES256 is the only algorithm a proof may use.
_ALGORITHMS: Final = frozenset({JwsAlgorithm.ES256})
_HEADER: Final = frozenset({"alg", "typ"})
_CLAIMS: Final = frozenset({"iss", "sub", "vct", "cnf"})


@dataclass(frozen=True)
class VerifiedPseudonym:
    """A pseudonym proof that verified for this verifier and this request.

    ``pseudonym`` is stable for one wallet and one verifier and unrelated across verifiers;
    ``jwk`` is the pairwise public key; ``iat``, ``nonce`` and ``aud`` come from the KB-JWT.
    """

    pseudonym: str
    jwk: Mapping[str, Any]
    aud: str
    nonce: str
    iat: int


def build_pseudonym_proof(key: PairwiseKey, *, aud: str, nonce: str, iat: int) -> str:
    """The proof of ``key`` for the request of ``aud`` (the verifier's client_id) with
    ``nonce``, at ``iat`` (POSIX seconds): ``<JWT>~<KB-JWT>``.

    Raises:
        ValueError: ``aud`` is not the verifier the key was derived for (a pairwise key is
            never shown to another verifier), or an empty nonce.
    """
    if aud != key.client_id:
        raise ValueError("a pairwise key proves the pseudonym only to its own verifier")
    if not nonce:
        raise ValueError("a pseudonym proof needs the verifier's nonce")
    payload = {
        "iss": key.issuer,
        "sub": key.pseudonym,
        "vct": PSEUDONYM_VCT,
        "cnf": {"jwk": key.public_jwk},
    }
    alg = JwsAlgorithm.ES256
    credential = sign_jws(payload, key.private_key, header={"typ": SD_JWT_VC_TYP}, alg=alg) + "~"
    # RFC 9901 §4.3.1: sd_hash over the exact presented <JWT>~ string.
    digest = b64url_encode(hashlib.sha256(credential.encode("ascii")).digest())
    kb = {"iat": int(iat), "aud": aud, "nonce": nonce, "sd_hash": digest}
    return credential + sign_jws(kb, key.private_key, header={"typ": KB_JWT_TYP}, alg=alg)


def _self_issued_key(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
    # spec/PROFILE.md: a self-issued proof names no issuer key in its header; a header key
    # (x5c, jwk, kid, ...) would make it an issuer-signed credential of another kind.
    if set(header) - _HEADER:
        raise MalformedCredential(
            "a pseudonym proof header carries only alg and typ", reason="header"
        )
    if header.get("typ") != SD_JWT_VC_TYP:
        raise MalformedCredential(
            f"a pseudonym proof has typ {SD_JWT_VC_TYP!r} (SD-JWT VC §3.2.1)", reason="typ"
        )
    if payload.get("vct") != PSEUDONYM_VCT:
        raise MalformedCredential("not a pseudonym credential", reason="vct")
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if (
        not isinstance(jwk, dict)
        or "d" in jwk
        or jwk.get("kty") != "EC"
        or jwk.get("crv") != "P-256"
    ):
        raise MalformedCredential("a pseudonym proof binds a public P-256 key", reason="cnf")
    key = public_key_from_jwk(jwk)
    thumbprint = pseudonym_of(jwk)
    # RFC 9278: iss names the very key that signs, so the proof is self-certifying.
    if payload.get("iss") != THUMBPRINT_URI_PREFIX + thumbprint:
        raise MalformedCredential("iss is not the thumbprint URI of cnf.jwk", reason="iss")
    if payload.get("sub") != thumbprint:
        raise MalformedCredential("sub is not the thumbprint of cnf.jwk", reason="sub")
    return key


def verify_pseudonym_proof(
    proof: str, *, aud: str, nonce: str, now: float, kb_max_age: float = 300.0
) -> VerifiedPseudonym:
    """Verify a pseudonym proof for the verifier ``aud`` and its request ``nonce`` at ``now``.

    Strict: ES256 only; header ``alg``/``typ`` only; exactly the claims ``iss``, ``sub``,
    ``vct``, ``cnf``; no disclosures; ``iss``/``sub`` bound to ``cnf.jwk``; a KB-JWT over
    ``nonce`` and ``aud`` no older than ``kb_max_age`` (RFC 9901 §7.3).

    Raises:
        InvalidKeyBinding: a proof for another verifier (``reason="aud"``), for another
            request or an old one (``reason="nonce"``), stale (``reason="iat"``), or with
            no or a bad KB-JWT.
        InvalidSignature: the JWT does not verify under its own ``cnf`` key.
        MalformedCredential: not a self-issued pseudonym credential (``reason`` names the
            rule).
        UnsupportedAlgorithm / MalformedJws / MalformedInput / TooLarge: malformed input.
    """
    verified = verify_sd_jwt(
        proof,
        _self_issued_key,
        key_binding=KeyBinding.REQUIRED,
        nonce=nonce,
        aud=aud,
        algorithms=_ALGORITHMS,
        kb_algorithms=_ALGORITHMS,
        now=now,
        kb_max_age=kb_max_age,
    )
    if verified.disclosures or set(verified.claims) != _CLAIMS:
        raise MalformedCredential(
            "a pseudonym credential has exactly iss, sub, vct and cnf", reason="claims"
        )
    binding = verified.key_binding
    assert binding is not None  # KeyBinding.REQUIRED
    return VerifiedPseudonym(
        pseudonym=str(verified.claims["sub"]),
        jwk=dict(binding.jwk),
        aud=binding.aud,
        nonce=binding.nonce,
        iat=binding.iat,
    )


def pseudonym_credential_query(query_id: str = "pseudonym") -> dict[str, Any]:
    """The DCQL Credential Query (OpenID4VP 1.0 §6.1) asking for a pseudonym: format
    ``dc+sd-jwt``, ``vct_values`` the pseudonym type, no claims, holder binding required."""
    return {"id": query_id, "format": SD_JWT_VC_TYP, "meta": {"vct_values": [PSEUDONYM_VCT]}}


def _member(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def is_pseudonym_query(credential_query: Any) -> bool:
    """Whether a DCQL Credential Query (a JSON object or a ``honnin.dcql`` model) asks for a
    pseudonym: format ``dc+sd-jwt`` with the pseudonym ``vct`` among its ``vct_values``."""
    if _member(credential_query, "format") != SD_JWT_VC_TYP:
        return False
    values = _member(_member(credential_query, "meta"), "vct_values")
    return isinstance(values, list | tuple) and PSEUDONYM_VCT in values
