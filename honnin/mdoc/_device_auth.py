"""mdoc authentication (ISO/IEC 18013-5 §9.1.3): DeviceAuthentication, the deviceSignature
and the deviceMac with its session key EMacKey (§9.1.3.5)."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import (
    DEFAULT_ALLOWED,
    CoseAlgorithm,
    Signer,
    build_mac0,
    build_sign1,
    parse_mac0,
    parse_sign1,
    verify_mac0,
    verify_sign1,
)
from honnin.errors import InvalidKeyBinding, InvalidSignature, MalformedCredential
from honnin.jose import PrivateKey, PublicKey

from ._constants import DEVICE_AUTHENTICATION, EMAC_KEY_INFO
from ._transcript import SessionTranscript

_DEVICE_AUTHENTICATION_HEAD: Final = b"\x84" + cbor.encode(DEVICE_AUTHENTICATION)
#: DeviceNameSpacesBytes of an empty DeviceNameSpaces: #6.24(h'a0').
EMPTY_DEVICE_NAMESPACES: Final = EncodedCbor(b"\xa0")


def device_authentication_bytes(
    session_transcript: SessionTranscript, doctype: str, device_namespaces: EncodedCbor
) -> bytes:
    """DeviceAuthenticationBytes = ``#6.24(bstr .cbor ["DeviceAuthentication",
    SessionTranscript, DocType, DeviceNameSpacesBytes])`` (§9.1.3.4).

    The transcript and the namespaces are spliced in as received, never re-encoded.
    """
    inner = b"".join(
        (
            _DEVICE_AUTHENTICATION_HEAD,
            session_transcript.encoded,
            cbor.encode(doctype),
            device_namespaces.tagged,
        )
    )
    return EncodedCbor(inner).tagged


def derive_emac_key(
    private_key: ec.EllipticCurvePrivateKey,
    peer_public_key: ec.EllipticCurvePublicKey,
    session_transcript: SessionTranscript,
) -> bytes:
    """EMacKey = HKDF-SHA-256(ECDH(private, peer public), salt = SHA-256(SessionTranscriptBytes),
    info = "EMacKey", 32 bytes) (§9.1.3.5).

    The reader passes its ephemeral private key and the MSO device key; the mdoc passes its
    device private key and the reader's ephemeral public key. Both get the same key.

    Raises:
        InvalidKeyBinding: the keys are not on the same curve.
    """
    if private_key.curve.name != peer_public_key.curve.name:
        raise InvalidKeyBinding(
            "deviceMac: the reader key and the device key are on different curves",
            reason="signature",
        )
    shared = private_key.exchange(ec.ECDH(), peer_public_key)
    salt = hashlib.sha256(session_transcript.tagged).digest()
    return HKDF(hashes.SHA256(), 32, salt, EMAC_KEY_INFO).derive(shared)


def device_signature(
    signer: Signer | PrivateKey,
    session_transcript: SessionTranscript,
    doctype: str,
    device_namespaces: EncodedCbor = EMPTY_DEVICE_NAMESPACES,
) -> dict[str, Any]:
    """DeviceSigned with a ``deviceSignature``: a detached COSE_Sign1 over
    DeviceAuthenticationBytes by the device key (§9.1.3.6)."""
    payload = device_authentication_bytes(session_transcript, doctype, device_namespaces)
    message = build_sign1(payload, signer, detached=True)
    return {"nameSpaces": device_namespaces, "deviceAuth": {"deviceSignature": message.to_array()}}


def device_mac(
    emac_key: bytes,
    session_transcript: SessionTranscript,
    doctype: str,
    device_namespaces: EncodedCbor = EMPTY_DEVICE_NAMESPACES,
) -> dict[str, Any]:
    """DeviceSigned with a ``deviceMac``: a detached COSE_Mac0 (HMAC 256/256) over
    DeviceAuthenticationBytes with EMacKey (§9.1.3.5)."""
    payload = device_authentication_bytes(session_transcript, doctype, device_namespaces)
    message = build_mac0(payload, emac_key, detached=True)
    return {"nameSpaces": device_namespaces, "deviceAuth": {"deviceMac": message.to_array()}}


def verify_device_signed(
    device_signed: object,
    *,
    device_key: PublicKey,
    doctype: str,
    session_transcript: SessionTranscript,
    reader_key: ec.EllipticCurvePrivateKey | None,
    allowed: frozenset[CoseAlgorithm] = DEFAULT_ALLOWED,
) -> str:
    """Check DeviceSigned (§8.3.2.1.2.2, §9.1.3) against the MSO device key and the
    verifier's own SessionTranscript; returns ``"deviceSignature"`` or ``"deviceMac"``.

    Raises:
        MalformedCredential: DeviceSigned of the wrong shape, or device-signed elements
            (honnin accepts issuer-signed elements only, so no keyAuthorizations apply).
        InvalidKeyBinding: no device authentication, a deviceMac without the reader key,
            or a signature / MAC that does not verify over the expected transcript
            (``reason`` "missing" or "signature").
        UnsupportedAlgorithm / MalformedCose: the COSE message breaks the algorithm policy.
    """
    if not isinstance(device_signed, dict) or set(device_signed) != {"nameSpaces", "deviceAuth"}:
        raise MalformedCredential("DeviceSigned must be a map of nameSpaces and deviceAuth")
    namespaces = device_signed["nameSpaces"]
    if not isinstance(namespaces, EncodedCbor):
        raise MalformedCredential("DeviceSigned nameSpaces must be DeviceNameSpacesBytes (tag 24)")
    # The usual content is the empty map h'a0'; anything else is decoded strictly.
    decoded = {} if namespaces.content == b"\xa0" else namespaces.decode()
    if not isinstance(decoded, dict):
        raise MalformedCredential("DeviceNameSpaces must be a map")
    if decoded:
        # M8: device-signed elements need keyAuthorizations in the MSO; honnin returns
        # issuer-signed elements only and refuses what it would otherwise have to ignore.
        raise MalformedCredential("device-signed elements are not accepted", reason="device_ns")
    auth = device_signed["deviceAuth"]
    if not isinstance(auth, dict) or len(auth) != 1:
        raise InvalidKeyBinding(
            "deviceAuth must hold exactly one of deviceSignature and deviceMac", reason="missing"
        )
    payload = device_authentication_bytes(session_transcript, doctype, namespaces)
    try:
        if "deviceSignature" in auth:
            signature = parse_sign1(auth["deviceSignature"], require_tag=False)
            verify_sign1(signature, device_key, allowed=allowed, detached_payload=payload)
            return "deviceSignature"
        if "deviceMac" in auth:
            mac = parse_mac0(auth["deviceMac"], require_tag=False)
            if reader_key is None:
                raise InvalidKeyBinding(
                    "the mdoc authenticated with deviceMac; verifying it needs the reader's"
                    " ephemeral private key",
                    reason="missing",
                )
            if not isinstance(device_key, ec.EllipticCurvePublicKey):
                raise InvalidKeyBinding("deviceMac needs an EC device key", reason="signature")
            key = derive_emac_key(reader_key, device_key, session_transcript)
            verify_mac0(mac, key, detached_payload=payload)
            return "deviceMac"
    except InvalidSignature as exc:
        raise InvalidKeyBinding(
            "the device authentication does not verify with the MSO device key over this"
            " SessionTranscript (another key, or another nonce, client or response URI)",
            reason="signature",
        ) from exc
    raise InvalidKeyBinding(
        "deviceAuth has neither deviceSignature nor deviceMac", reason="missing"
    )
