"""Presentation requests: the signed OpenID4VP request object and its deep link / QR code.

The request object is a JAR (RFC 9101) with ``typ`` ``oauth-authz-req+jwt`` signed by the
verifier's certificate key, ``x5c`` carrying the chain (OpenID4VP 1.0 §5.9.3). It holds
``response_type=vp_token``, ``response_mode``, ``response_uri``, a fresh ``nonce`` and
``state`` (≥128 bits from ``secrets``, §5.2 / §14.1), the DCQL query, and ``client_metadata``
with the ephemeral ECDH-ES P-256 key for ``direct_post.jwt`` (§8.3; HAIP §5: one key per
request), the accepted ``enc`` values and ``vp_formats_supported`` (§11.1).

Purpose (honnin profile; OpenID4VP 1.0 has no request-level purpose): the text travels in each
DCQL ``credential_sets[].purpose``, in ``client_metadata.purpose`` and, with the verifier's
name, in a ``verifier_info`` entry of format ``honnin_purpose`` (§5.11), so a wallet finds it
whichever it reads.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import ec

from honnin.dcql import DcqlQuery
from honnin.jose import jwk_from_private_key, sign_jws
from honnin.qr import QrCode
from honnin.registration import verifier_info_entry

from ._identity import VerifierIdentity

__all__ = [
    "DIRECT_POST",
    "DIRECT_POST_JWT",
    "ENC_VALUES",
    "REQUEST_TYP",
    "PresentationRequest",
    "authorization_uri",
    "new_encryption_key",
    "random_token",
    "request_claims",
    "sign_request",
]

DIRECT_POST: Final = "direct_post"
DIRECT_POST_JWT: Final = "direct_post.jwt"
#: RFC 9101 §10.8 / OpenID4VP 1.0 §5: the explicit type of a request object.
REQUEST_TYP: Final = "oauth-authz-req+jwt"
#: OpenID4VP 1.0 §5.8: the static-discovery audience of a request object.
SELF_ISSUED_AUD: Final = "https://self-issued.me/v2"
#: HAIP §5 / OpenID4VP 1.0 §8.3: the content encryption algorithms the verifier accepts.
ENC_VALUES: Final = ("A128GCM", "A256GCM")
#: OpenID4VP 1.0 App. B.2.2 / B.3.2: what this verifier verifies, ES256 (COSE -7) only.
VP_FORMATS: Final = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
    "mso_mdoc": {"issuerauth_alg_values": [-7, -9], "deviceauth_alg_values": [-7, -9]},
}
PURPOSE_FORMAT: Final = "honnin_purpose"


def random_token(nbytes: int = 32) -> str:
    """A fresh URL-safe random value (``secrets``; 256 bits by default, §5.2 asks ≥128)."""
    return secrets.token_urlsafe(nbytes)


def new_encryption_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """An ephemeral ECDH-ES P-256 key (HAIP §5) as (private JWK, public JWK); the public
    one has ``kid``, ``use`` ``enc`` and ``alg`` ``ECDH-ES`` (§8.3: ``alg`` MUST be present)."""
    private = jwk_from_private_key(ec.generate_private_key(ec.SECP256R1()))
    kid = random_token(16)
    public = {k: private[k] for k in ("kty", "crv", "x", "y")}
    public.update({"kid": kid, "use": "enc", "alg": "ECDH-ES"})
    return {**public, "d": private["d"]}, public


def request_claims(
    identity: VerifierIdentity,
    *,
    dcql_query: DcqlQuery,
    purpose: str,
    nonce: str,
    state: str,
    response_mode: str,
    response_uri: str,
    encryption_jwk: Mapping[str, Any] | None,
    iat: int,
    exp: int,
    registration: str | None = None,
    transaction_data: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The request object claims (OpenID4VP 1.0 §5.1, §5.2, §8.2, §8.3); ``registration``,
    when given, travels in ``verifier_info`` (§5.11, spec/PROFILE.md); ``transaction_data``
    (encoded strings) in ``transaction_data`` (§5.1) when non-empty."""
    metadata: dict[str, Any] = {
        "vp_formats_supported": VP_FORMATS,
        "client_name": identity.name,
        "purpose": purpose,
    }
    if encryption_jwk is not None:
        metadata["jwks"] = {"keys": [dict(encryption_jwk)]}
        metadata["encrypted_response_enc_values_supported"] = list(ENC_VALUES)
    claims: dict[str, Any] = {
        "iss": identity.client_id,
        "aud": SELF_ISSUED_AUD,
        "iat": iat,
        "exp": exp,
        "client_id": identity.client_id,
        "response_type": "vp_token",
        "response_mode": response_mode,
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query.to_json(),
        "client_metadata": metadata,
        "verifier_info": [
            {"format": PURPOSE_FORMAT, "data": {"name": identity.name, "purpose": purpose}},
            *([verifier_info_entry(registration)] if registration is not None else []),
        ],
    }
    if transaction_data:
        claims["transaction_data"] = list(transaction_data)
    return claims


def sign_request(identity: VerifierIdentity, claims: Mapping[str, Any]) -> str:
    """Sign request object ``claims`` as a JAR (ES256, ``typ``, ``x5c``; §5.9.3)."""
    header = {"typ": REQUEST_TYP, "x5c": list(identity.x5c)}
    return sign_jws(claims, identity.private_key, header=header)


def authorization_uri(
    client_id: str,
    *,
    request_uri: str | None = None,
    request_uri_method: str | None = None,
    request: str | None = None,
) -> str:
    """``openid4vp://?client_id=...&request_uri=...`` (by reference, RFC 9101 §5.2) or
    ``...&request=<JAR>`` (by value, §5.1); the full client_id, prefix included (§5.10)."""
    params: dict[str, str] = {"client_id": client_id}
    if request_uri is not None:
        params["request_uri"] = request_uri
        if request_uri_method is not None:
            params["request_uri_method"] = request_uri_method
    elif request is not None:
        params["request"] = request
    else:
        raise ValueError("authorization_uri needs request_uri or request")
    return "openid4vp://?" + urlencode(params)


@dataclass(frozen=True)
class PresentationRequest:
    """A presentation request: the signed request object and how a wallet reaches it.

    ``uri`` is the ``openid4vp://`` deep link (§9): by reference (``request_uri``) once the
    request is served over HTTP, else by value (``request``). ``qr_png`` / ``qr_svg`` /
    ``qr_text`` render it for cross-device use.

    >>> request = agency.request(Query.of("withholding-slip", "payment_amount"), purpose="...")
    >>> request.request_object            # the JAR a wallet verifies
    """

    transaction_id: str
    request_object: str = field(repr=False)
    client_id: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    response_mode: str
    response_uri: str
    expires_at: float
    dcql_query: DcqlQuery = field(repr=False)
    purpose: str
    request_uri: str | None = None
    request_uri_method: str | None = None
    #: The ``transaction_data`` strings sent (§5.1), empty without transaction data.
    transaction_data: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        """The ``openid4vp://`` authorization request URI (§5.10 / RFC 9101 §5)."""
        if self.request_uri is None:
            return authorization_uri(self.client_id, request=self.request_object)
        return authorization_uri(
            self.client_id,
            request_uri=self.request_uri,
            request_uri_method=self.request_uri_method,
        )

    def qr_png(self, path: str | os.PathLike[str] | None = None, *, scale: int = 8) -> bytes:
        """The URI as a PNG QR code (``honnin.qr.QrCode``); also written to ``path`` when
        given."""
        png = QrCode.encode(self.uri).png(scale=scale)
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def qr_svg(self) -> str:
        """The URI as an SVG QR code."""
        return QrCode.encode(self.uri).svg()

    def qr_text(self) -> str:
        """The URI as a QR code drawn with Unicode half blocks, for a terminal."""
        return QrCode.encode(self.uri).text()
