"""``honnin mdoc``: decode and verify ISO mdoc DeviceResponse / IssuerSigned files.

FILE may be raw CBOR, hex, or base64url (the OpenID4VCI credential and OpenID4VP
``vp_token`` forms). ``--reader-key`` is the reader's ephemeral private key for a
``deviceMac``: a PEM private key, or a JWK (JSON with ``d``).
"""

from __future__ import annotations

import argparse
import binascii
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from honnin import cbor
from honnin.cli import (
    CommandFailed,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    add_trust_options,
    load_trust,
    print_json,
)
from honnin.encoding import b64url_decode
from honnin.errors import MalformedInput
from honnin.jose import private_key_from_jwk
from honnin.trust import TrustList

from ._constants import MAX_DEVICE_RESPONSE_SIZE
from ._diagnostic import element_json, json_view
from ._transcript import SessionTranscript
from ._verify import verify_device_response, verify_issuer_signed

__all__ = ["register"]

_HEX = re.compile(rb"[0-9a-fA-F\s]+")
_B64URL = re.compile(rb"[A-Za-z0-9_-]+")


def register(subparsers: Subparsers) -> None:
    """Add ``honnin mdoc decode`` and ``honnin mdoc verify``."""
    _, commands = add_group(
        subparsers,
        "mdoc",
        help="decode and verify ISO mdoc (mso_mdoc) data",
        description="Look into ISO/IEC 18013-5 / 23220-2 mdoc data: decode a DeviceResponse "
        "or IssuerSigned to JSON, or verify it (issuer chain, MSO signature, digests, "
        "validity, device authentication) and print the verified elements. FILE may be raw "
        "CBOR, hex or base64url.",
        examples=[
            "honnin mdoc decode response.cbor",
            "honnin mdoc verify response.cbor --trust-anchor iaca.pem "
            "--session-transcript transcript.hex",
        ],
    )

    decode = add_command(
        commands,
        "decode",
        help="show a DeviceResponse or IssuerSigned as diagnostic-style JSON",
        description="Print FILE (raw CBOR, hex or base64url) as JSON in the spirit of CBOR "
        "diagnostic notation: byte strings as h'..', tags as {\"#6.N\": ...}, tag-24 "
        "content and COSE protected headers decoded. Nothing is verified.",
        examples=["honnin mdoc decode response.cbor", "honnin mdoc decode credential.b64"],
    )
    decode.add_argument("file", metavar="FILE", help="raw CBOR, hex or base64url")
    add_json_option(decode, always=True)
    decode.set_defaults(func=_decode)

    verify = add_command(
        commands,
        "verify",
        help="verify a DeviceResponse (or an IssuerSigned) and print its elements",
        description="Verify FILE against the IACA trust anchors (--trust-anchor) or a trust "
        "list (--trust-list: its anchors, and the issuer must be entitled to the docType) "
        "and print the verified elements per document and namespace. A DeviceResponse needs "
        "--session-transcript; a deviceMac also needs --reader-key. An IssuerSigned is "
        "checked for issuer data authentication only.",
        examples=[
            "honnin mdoc verify issuer-signed.b64 --trust-list trust/trust-list.json",
            "honnin mdoc verify response.cbor --trust-anchor iaca.pem --session-transcript "
            "transcript.hex --at 2021-03-01T00:00:00Z",
        ],
    )
    verify.add_argument("file", metavar="FILE", help="raw CBOR, hex or base64url")
    add_trust_options(verify, anchors_for="mdoc issuers (IACA roots)")
    verify.add_argument("--at", metavar="ISO8601", help="validation time (default: now)")
    verify.add_argument(
        "--session-transcript", metavar="HEX_FILE",
        help="SessionTranscriptBytes (tag 24) or SessionTranscript, hex or raw CBOR",
    )  # fmt: skip
    verify.add_argument(
        "--reader-key", metavar="PEM|JWK",
        help="the reader's ephemeral private key, for a deviceMac: PEM or JWK with 'd'",
    )  # fmt: skip
    verify.add_argument("--doctype", metavar="DOCTYPE", help="require this docType")
    add_json_option(verify, always=True)
    verify.set_defaults(func=_verify)


def _read_input(path: str, limit: int = MAX_DEVICE_RESPONSE_SIZE * 2) -> bytes:
    raw = Path(path).read_bytes()
    if len(raw) > limit:
        raise CommandFailed(f"{path}: larger than {limit} bytes")
    text = raw.strip()
    if text and _HEX.fullmatch(text):
        try:
            return binascii.unhexlify(re.sub(rb"\s+", b"", text))
        except binascii.Error as exc:
            raise MalformedInput(f"{path}: odd-length hex") from exc
    if text and _B64URL.fullmatch(text):
        return b64url_decode(text.decode("ascii"), what=path)
    return raw


def _decode(args: argparse.Namespace) -> int:
    print_json(json_view(cbor.decode(_read_input(args.file))))
    return 0


def _reader_key(path: str) -> ec.EllipticCurvePrivateKey:
    raw = Path(path).read_bytes()
    if raw.lstrip().startswith(b"{"):
        try:
            key: Any = private_key_from_jwk(json.loads(raw))
        except ValueError as exc:
            raise MalformedInput(f"{path}: not a JWK: {exc}") from exc
    else:
        try:
            key = serialization.load_pem_private_key(raw, password=None)
        except (ValueError, TypeError) as exc:
            raise MalformedInput(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise MalformedInput(f"{path}: the reader key must be an EC private key")
    return key


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandFailed(f"--at {text!r} is not ISO 8601", code=2) from exc
    if moment.tzinfo is None:
        raise CommandFailed("--at needs a time zone (e.g. 2021-01-01T00:00:00Z)", code=2)
    return moment


def _document_view(doc: Any, device_auth: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "docType": doc.doctype,
        "issuer": doc.chain.leaf.subject.rfc4514_string(),
        "trustAnchor": doc.chain.anchor.subject.rfc4514_string(),
        "validityInfo": {
            "signed": doc.validity.signed.isoformat(),
            "validFrom": doc.validity.valid_from.isoformat(),
            "validUntil": doc.validity.valid_until.isoformat(),
        },
        "digestAlgorithm": doc.digest_algorithm,
    }
    if device_auth is not None:
        out["deviceAuth"] = device_auth
    if doc.status is not None:
        out["status"] = {"idx": doc.status.idx, "uri": doc.status.uri}
    out["elements"] = {
        ns: {name: element_json(value) for name, value in elements.items()}
        for ns, elements in doc.elements.items()
    }
    return out


def _verify(args: argparse.Namespace) -> int:
    data = _read_input(args.file)
    trust = load_trust(args, required=True)
    trust_list = trust if isinstance(trust, TrustList) else None
    anchors = list(trust.anchors) if isinstance(trust, TrustList) else list(trust or [])
    now = _at(args.at)
    top = cbor.decode(data, max_size=MAX_DEVICE_RESPONSE_SIZE)
    if isinstance(top, dict) and "documents" in top:
        if args.session_transcript is None:
            raise CommandFailed(
                "a DeviceResponse is verified against a SessionTranscript: give"
                " --session-transcript", code=2,
            )  # fmt: skip
        transcript = SessionTranscript.from_bytes(_read_input(args.session_transcript))
        reader_key = _reader_key(args.reader_key) if args.reader_key else None
        result = verify_device_response(
            data, trust_anchors=anchors, session_transcript=transcript, now=now,
            reader_key=reader_key, expected_doctype=args.doctype,
        )  # fmt: skip
        if trust_list is not None:
            for document in result.documents:
                trust_list.check_entitlement(document.chain, document.doctype)
        print_json({"documents": [_document_view(d, d.device_auth) for d in result.documents]})
        return 0
    issuer = verify_issuer_signed(
        data, trust_anchors=anchors, now=now, expected_doctype=args.doctype
    )
    if trust_list is not None:
        # A trust list also says who may issue what: the docType itself proves nothing.
        trust_list.check_entitlement(issuer.chain, issuer.doctype)
    print_json({"documents": [_document_view(issuer, None)]})
    return 0
