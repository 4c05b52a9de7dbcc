"""mdoc presentation (ISO/IEC 18013-5 §8.3.2.1.2.2): a DeviceResponse with the chosen
elements only, each Document device-authenticated over the verifier's SessionTranscript."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from honnin import cbor
from honnin.cose import Signer
from honnin.jose import PrivateKey

from ._constants import STATUS_OK, VERSION
from ._device_auth import device_mac, device_signature
from ._issuer_signed import IssuerSigned, ensure_issuer_signed
from ._transcript import SessionTranscript


@dataclass(frozen=True, slots=True)
class Document:
    """One ``Document`` of a DeviceResponse: docType, the disclosed IssuerSigned and the
    DeviceSigned part (§8.3.2.1.2.2)."""

    doctype: str
    issuer_signed: IssuerSigned
    device_signed: Mapping[str, Any]

    def to_cbor_value(self) -> dict[str, Any]:
        return {
            "docType": self.doctype,
            "issuerSigned": self.issuer_signed.to_cbor_value(),
            "deviceSigned": dict(self.device_signed),
        }

    def encode(self) -> bytes:
        """``honnin.cbor.encode(self.to_cbor_value())``, with the IssuerSigned written from
        its items' tag-24 bytes as they are (``IssuerSigned.encode``)."""
        return b"".join(
            (
                _DOCUMENT_HEAD,
                cbor.encode(self.doctype),
                _ISSUER_SIGNED_KEY,
                self.issuer_signed.encode(),
                _DEVICE_SIGNED_KEY,
                cbor.encode(dict(self.device_signed)),
            )
        )


# §8.3.2.1.2.2 Document and DeviceResponse members, in the order honnin writes them.
_DOCUMENT_HEAD: Final = cbor.head(5, 3) + cbor.encode("docType")
_ISSUER_SIGNED_KEY: Final = cbor.encode("issuerSigned")
_DEVICE_SIGNED_KEY: Final = cbor.encode("deviceSigned")
_RESPONSE_HEAD: Final = (
    cbor.head(5, 3) + cbor.encode("version") + cbor.encode(VERSION) + cbor.encode("documents")
)
_RESPONSE_TAIL: Final = cbor.encode("status") + cbor.encode(STATUS_OK)


def build_document(
    issuer_signed: IssuerSigned | bytes,
    session_transcript: SessionTranscript,
    *,
    device_signer: Signer | PrivateKey | None = None,
    emac_key: bytes | None = None,
    elements: Mapping[str, Collection[str]] | None = None,
) -> Document:
    """A Document disclosing ``elements`` ({namespace: identifiers}; None = all), signed by
    the device key (``device_signer``: a ``Signer`` such as a secure store, or a private
    key) or MACed with an EMacKey (``emac_key``, see ``derive_emac_key``) (§9.1.3).

    The docType comes from the mdoc's own MSO.

    Raises:
        NoMatchingCredential: a requested element is not in the mdoc.
        ValueError: neither or both of ``device_signer`` and ``emac_key``.
    """
    if (device_signer is None) == (emac_key is None):
        raise ValueError("pass exactly one of device_signer and emac_key")
    mdoc = ensure_issuer_signed(issuer_signed)
    doctype = mdoc.unverified_mso().doctype
    disclosed = mdoc if elements is None else mdoc.select(elements)
    if device_signer is not None:
        device_signed = device_signature(device_signer, session_transcript, doctype)
    else:
        assert emac_key is not None
        device_signed = device_mac(emac_key, session_transcript, doctype)
    return Document(doctype, disclosed, device_signed)


def build_device_response(documents: Sequence[Document]) -> bytes:
    """DeviceResponse = ``{"version": "1.0", "documents": [...], "status": 0}`` (§8.3.2.1.2.2).

    Raises:
        ValueError: no documents.
    """
    if not documents:
        raise ValueError("a DeviceResponse needs at least one document")
    # The same bytes as honnin.cbor.encode of the map, assembled without re-encoding items.
    parts = [_RESPONSE_HEAD, cbor.head(4, len(documents))]
    parts += (document.encode() for document in documents)
    parts.append(_RESPONSE_TAIL)
    return b"".join(parts)


def present(
    issuer_signed: IssuerSigned | bytes,
    device_signer: Signer | PrivateKey,
    session_transcript: SessionTranscript,
    *,
    elements: Mapping[str, Collection[str]] | None = None,
) -> bytes:
    """A DeviceResponse with one mdoc disclosing ``elements`` and a ``deviceSignature`` over
    ``session_transcript`` (e.g. ``openid4vp_session_transcript``): the OpenID4VP
    ``vp_token`` entry is its base64url.

    Example::

        transcript = openid4vp_session_transcript(client_id, nonce, response_uri)
        response = present(credential, device_key, transcript,
                           elements={"org.iso.18013.5.1": ["family_name", "age_over_18"]})

    Raises:
        NoMatchingCredential: a requested element is not in the mdoc.
    """
    document = build_document(
        issuer_signed, session_transcript, device_signer=device_signer, elements=elements
    )
    return build_device_response([document])
