"""JWS and COSE signatures made with binding keys the caller never sees (``Signer``).

Key proofs (OpenID4VCI 1.0 App. F.1), KB-JWTs (RFC 9901 §4.3) and mdoc DeviceAuth (ISO/IEC
18013-5 §9.1.3) are all signed through the vault's ``Signer``, so an HSM or a secure element
can stand in for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from honnin.cose import CoseAlgorithm
from honnin.encoding import b64url_encode, json_dumps
from honnin.jose import JwsAlgorithm
from honnin.oid4vci import PROOF_JWT_TYP
from honnin.sdjwt import HashAlgorithm

from ._signer import Signer

__all__ = ["CoseSigner", "build_kb_jwt", "build_proof", "sign_jws_with"]

#: RFC 9901 §4.3: the typ of a Key Binding JWT.
KB_JWT_TYP: Final = "kb+jwt"
_COSE: Final = {JwsAlgorithm.ES256: CoseAlgorithm.ES256}


def sign_jws_with(signer: Signer, claims: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    """A compact JWS over ``claims`` signed by ``signer`` (RFC 7515 §3.1); ``alg`` from it."""
    protected = {**header, "alg": signer.algorithm.value}
    signing_input = (
        f"{b64url_encode(json_dumps(protected).encode())}."
        f"{b64url_encode(json_dumps(dict(claims)).encode())}"
    )
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def build_proof(signer: Signer, *, audience: str, nonce: str | None, now: float) -> str:
    """A ``jwt`` key proof (OpenID4VCI 1.0 App. F.1): ``typ`` openid4vci-proof+jwt, the
    public key in ``jwk``, ``aud`` the Credential Issuer, ``iat``, and the ``c_nonce``. No
    ``iss``: the pre-authorized flow is anonymous (App. F.1)."""
    claims: dict[str, Any] = {"aud": audience, "iat": int(now)}
    if nonce is not None:
        claims["nonce"] = nonce
    return sign_jws_with(signer, claims, {"typ": PROOF_JWT_TYP, "jwk": signer.public_jwk})


def build_kb_jwt(
    signer: Signer,
    hash_input: str,
    hash_alg: HashAlgorithm,
    *,
    nonce: str,
    aud: str,
    iat: int,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A KB-JWT over the presentation ``<JWS>~<D1>~...~`` (RFC 9901 §4.3; ``sd_hash`` per
    §4.3.1; OpenID4VP App. B.3.6: ``aud`` is the full client_id, ``nonce`` the request's);
    ``extra`` adds claims such as ``transaction_data_hashes`` (App. B.3.3)."""
    sd_hash = b64url_encode(hash_alg.new(hash_input.encode("ascii")).digest())
    claims: dict[str, Any] = {**(extra or {})}
    claims.update({"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash})
    return sign_jws_with(signer, claims, {"typ": KB_JWT_TYP})


class CoseSigner:
    """A ``honnin.cose.Signer`` over a vault ``Signer`` (raw R||S for ECDSA is the same in
    JWS and COSE: RFC 7518 §3.4, RFC 9053 §2.1)."""

    __slots__ = ("_signer",)

    def __init__(self, signer: Signer) -> None:
        if signer.algorithm not in _COSE:
            raise ValueError(f"no COSE algorithm for {signer.algorithm.value}")
        self._signer = signer

    @property
    def algorithm(self) -> CoseAlgorithm:
        return _COSE[self._signer.algorithm]

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data)
