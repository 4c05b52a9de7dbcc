"""SessionTranscript (ISO/IEC 18013-5 §9.1.5.1) and the OpenID4VP handovers (OpenID4VP 1.0
Appendix B.2.6): pure functions, byte-exact with the specification's examples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.encoding import b64url_decode
from honnin.errors import MalformedCredential
from honnin.jose import jwk_thumbprint

from ._constants import OPENID4VP_DC_API_HANDOVER, OPENID4VP_HANDOVER


@dataclass(frozen=True, slots=True)
class SessionTranscript:
    """A SessionTranscript, ``[DeviceEngagementBytes, EReaderKeyBytes, Handover]``.

    ``encoded`` is its CBOR encoding, kept as built or received: DeviceAuthentication embeds
    exactly these bytes (§9.1.3.4), and the deviceMac key derivation hashes ``tagged``
    (SessionTranscriptBytes, §9.1.5.1).
    """

    encoded: bytes

    @property
    def tagged(self) -> bytes:
        """SessionTranscriptBytes = ``#6.24(bstr .cbor SessionTranscript)``."""
        return EncodedCbor(self.encoded).tagged

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionTranscript:
        """Read SessionTranscriptBytes (tag 24) or a bare SessionTranscript array.

        Raises:
            MalformedCbor: not strict CBOR.
            MalformedCredential: not a three-element array.
        """
        value = cbor.decode(data)
        if isinstance(value, EncodedCbor):
            data = value.content
            value = cbor.decode(data)
        if not isinstance(value, list) or len(value) != 3:
            raise MalformedCredential("a SessionTranscript is an array of three elements")
        return cls(data)

    @classmethod
    def of(cls, value: list[Any]) -> SessionTranscript:
        """Encode a SessionTranscript array built by the caller."""
        return cls(cbor.encode(value))


def _thumbprint_bytes(
    jwk_thumbprint_value: bytes | None, encryption_jwk: dict[str, Any] | None
) -> bytes | None:
    if encryption_jwk is not None:
        if jwk_thumbprint_value is not None:
            raise ValueError("pass either jwk_thumbprint or encryption_jwk, not both")
        # RFC 7638 SHA-256 thumbprint of the verifier's encryption key, as raw bytes.
        return b64url_decode(jwk_thumbprint(encryption_jwk))
    return jwk_thumbprint_value


def openid4vp_handover_info(
    client_id: str,
    nonce: str,
    response_uri: str,
    *,
    jwk_thumbprint: bytes | None = None,
    encryption_jwk: dict[str, Any] | None = None,
) -> bytes:
    """CBOR of ``OpenID4VPHandoverInfo = [clientId, nonce, jwkThumbprint / null,
    responseUri]`` (OpenID4VP 1.0 Appendix B.2.6.1).

    ``response_uri`` is the ``response_uri`` (``direct_post``) or the ``redirect_uri``;
    the thumbprint is that of the verifier's response encryption key, null when the
    response is not encrypted. ``encryption_jwk`` computes it from the JWK.
    """
    thumb = _thumbprint_bytes(jwk_thumbprint, encryption_jwk)
    return cbor.encode([client_id, nonce, thumb, response_uri])


def openid4vp_handover(
    client_id: str,
    nonce: str,
    response_uri: str,
    *,
    jwk_thumbprint: bytes | None = None,
    encryption_jwk: dict[str, Any] | None = None,
) -> list[Any]:
    """``["OpenID4VPHandover", sha-256(OpenID4VPHandoverInfoBytes)]`` (Appendix B.2.6.1)."""
    info = openid4vp_handover_info(
        client_id, nonce, response_uri, jwk_thumbprint=jwk_thumbprint, encryption_jwk=encryption_jwk
    )
    return [OPENID4VP_HANDOVER, hashlib.sha256(info).digest()]


def openid4vp_session_transcript(
    client_id: str,
    nonce: str,
    response_uri: str,
    *,
    jwk_thumbprint: bytes | None = None,
    encryption_jwk: dict[str, Any] | None = None,
) -> SessionTranscript:
    """The SessionTranscript of an OpenID4VP redirect / cross-device presentation:
    ``[null, null, OpenID4VPHandover]`` (OpenID4VP 1.0 Appendix B.2.6.1).

    Values come from the (signed) authorization request: the full ``client_id`` with its
    prefix, the ``nonce``, the ``response_uri`` (or ``redirect_uri``) and the thumbprint of
    the response encryption key when the response is encrypted.

    >>> openid4vp_session_transcript("x509_san_dns:example.com", "n", "https://e/r").encoded[:3]
    b'\\x83\\xf6\\xf6'
    """
    handover = openid4vp_handover(
        client_id, nonce, response_uri, jwk_thumbprint=jwk_thumbprint, encryption_jwk=encryption_jwk
    )
    return SessionTranscript.of([None, None, handover])


def openid4vp_dc_api_handover_info(
    origin: str,
    nonce: str,
    *,
    jwk_thumbprint: bytes | None = None,
    encryption_jwk: dict[str, Any] | None = None,
) -> bytes:
    """CBOR of ``OpenID4VPDCAPIHandoverInfo = [origin, nonce, jwkThumbprint / null]``
    (OpenID4VP 1.0 Appendix B.2.6.2)."""
    thumb = _thumbprint_bytes(jwk_thumbprint, encryption_jwk)
    return cbor.encode([origin, nonce, thumb])


def openid4vp_dc_api_session_transcript(
    origin: str,
    nonce: str,
    *,
    jwk_thumbprint: bytes | None = None,
    encryption_jwk: dict[str, Any] | None = None,
) -> SessionTranscript:
    """The SessionTranscript of an OpenID4VP presentation over the Digital Credentials API:
    ``[null, null, ["OpenID4VPDCAPIHandover", sha-256(OpenID4VPDCAPIHandoverInfoBytes)]]``
    (OpenID4VP 1.0 Appendix B.2.6.2); ``origin`` is the verifier's web origin."""
    info = openid4vp_dc_api_handover_info(
        origin, nonce, jwk_thumbprint=jwk_thumbprint, encryption_jwk=encryption_jwk
    )
    return SessionTranscript.of(
        [None, None, [OPENID4VP_DC_API_HANDOVER, hashlib.sha256(info).digest()]]
    )
