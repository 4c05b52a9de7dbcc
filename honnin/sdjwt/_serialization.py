"""Compact (RFC 9901 §4) and JWS JSON (RFC 9901 §8) serializations of SD-JWTs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from honnin._slots import slot_setters
from honnin.encoding import json_dumps, json_loads
from honnin.errors import MalformedCredential, TooLarge
from honnin.jose import UnverifiedJws, parse_jws
from honnin.limits import MAX_DISCLOSURES, MAX_SDJWT_SIZE

from ._constants import JSON_DISCLOSURES, JSON_KB_JWT, SEPARATOR


class Serialization(StrEnum):
    """How an SD-JWT is written: compact (RFC 9901 §4) or JWS JSON (RFC 9901 §8)."""

    COMPACT = "compact"
    JSON_FLATTENED = "json-flattened"
    JSON_GENERAL = "json-general"


@dataclass(frozen=True, slots=True)
class JsonSignature:
    """One signature of a JWS JSON serialization, without the SD-JWT unprotected members."""

    protected: str
    signature: str
    header: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SdJwtParts:
    """An SD-JWT split into its parts; nothing in it is verified.

    ``issuer_jwt`` is the compact issuer JWS (of the first signature in general form);
    ``signatures`` holds one parsed JWS per issuer signature (one for compact and
    flattened); ``hash_input`` is the compact ``<JWS>~<D1>~...~<Dn>~`` string over which
    ``sd_hash`` is computed (RFC 9901 §4.3.1, §8.1: the first signature in general form).
    """

    serialization: Serialization
    issuer_jwt: str
    signatures: tuple[UnverifiedJws, ...]
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    hash_input: str
    json_signatures: tuple[JsonSignature, ...] = ()

    def __init__(
        self,
        serialization: Serialization,
        issuer_jwt: str,
        signatures: tuple[UnverifiedJws, ...],
        disclosures: tuple[str, ...],
        kb_jwt: str | None,
        hash_input: str,
        json_signatures: tuple[JsonSignature, ...] = (),
    ) -> None:
        # One per presentation: stored through the slot descriptors (see slot_setters).
        set_serialization, set_issuer_jwt, set_signatures, set_disclosures, set_kb_jwt, \
            set_hash_input, set_json_signatures = _PARTS_SLOTS  # fmt: skip
        set_serialization(self, serialization)
        set_issuer_jwt(self, issuer_jwt)
        set_signatures(self, signatures)
        set_disclosures(self, disclosures)
        set_kb_jwt(self, kb_jwt)
        set_hash_input(self, hash_input)
        set_json_signatures(self, json_signatures)


_PARTS_SLOTS: Final = slot_setters(
    SdJwtParts, "serialization", "issuer_jwt", "signatures", "disclosures", "kb_jwt",
    "hash_input", "json_signatures",
)  # fmt: skip


def split_sd_jwt(text: str) -> SdJwtParts:
    """Split a compact or JWS JSON serialized SD-JWT (with or without KB-JWT).

    Raises:
        TooLarge: over ``MAX_SDJWT_SIZE`` or ``MAX_DISCLOSURES``.
        MalformedCredential: no ``~`` separator, missing trailing ``~``, misplaced members.
        MalformedJws / MalformedBase64url / MalformedJson: a malformed issuer JWS.
    """
    if not isinstance(text, str):
        raise TypeError("an SD-JWT is a str")
    if len(text) > MAX_SDJWT_SIZE:
        raise TooLarge(f"SD-JWT of {len(text)} characters exceeds {MAX_SDJWT_SIZE}")
    if text[:1] == "{":
        return _split_json(text)
    return _split_compact(text)


def _split_compact(text: str) -> SdJwtParts:
    # At most MAX_DISCLOSURES + 2 splits: more parts than that means too many disclosures,
    # and the work and the list stay bounded whatever the input.
    parts = text.split(SEPARATOR, MAX_DISCLOSURES + 2)
    if len(parts) == 1:
        raise MalformedCredential("not an SD-JWT: no '~' separator (RFC 9901 §4)")
    if len(parts) > MAX_DISCLOSURES + 2:
        raise TooLarge(f"more than {MAX_DISCLOSURES} disclosures", limit=MAX_DISCLOSURES)
    last = parts[-1]
    if last and last.count(".") != 2:
        # RFC 9901 §4: an SD-JWT without KB-JWT ends with '~'; the last part is a KB-JWT or empty.
        raise MalformedCredential("SD-JWT is missing its trailing '~' (RFC 9901 §4)")
    jws = parse_jws(parts[0])
    return SdJwtParts(
        serialization=Serialization.COMPACT,
        issuer_jwt=parts[0],
        signatures=(jws,),
        disclosures=tuple(parts[1:-1]),
        kb_jwt=last or None,
        hash_input=text[: len(text) - len(last)],
    )


def _str_member(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise MalformedCredential(f"JWS JSON serialization: {where} '{name}' must be a string")
    return value


def _sd_members(
    header: object, where: str
) -> tuple[dict[str, Any], tuple[str, ...] | None, str | None]:
    if header is None:
        return {}, None, None
    if not isinstance(header, dict):
        raise MalformedCredential(f"JWS JSON serialization: {where} 'header' must be an object")
    rest = dict(header)
    disclosures = rest.pop(JSON_DISCLOSURES, None)
    kb_jwt = rest.pop(JSON_KB_JWT, None)
    if disclosures is not None and (
        not isinstance(disclosures, list) or not all(isinstance(d, str) for d in disclosures)
    ):
        raise MalformedCredential("'disclosures' must be an array of strings (RFC 9901 §8.1)")
    if kb_jwt is not None and not isinstance(kb_jwt, str):
        raise MalformedCredential("'kb_jwt' must be a string (RFC 9901 §8.1)")
    return rest, tuple(disclosures) if disclosures is not None else None, kb_jwt


def _split_json(text: str) -> SdJwtParts:
    doc = json_loads(text, max_size=MAX_SDJWT_SIZE)
    if not isinstance(doc, dict):
        raise MalformedCredential("JWS JSON serialization must be a JSON object")
    payload = _str_member(doc, "payload", "top-level")
    if "signatures" in doc:
        if "signature" in doc or "protected" in doc or "header" in doc:
            raise MalformedCredential("general JWS JSON mixes in flattened members")
        raw = doc["signatures"]
        if not isinstance(raw, list) or not raw:
            raise MalformedCredential("'signatures' must be a non-empty array (RFC 7515 §7.2.1)")
        serialization = Serialization.JSON_GENERAL
    else:
        raw = [doc]
        serialization = Serialization.JSON_FLATTENED
    signatures: list[UnverifiedJws] = []
    json_sigs: list[JsonSignature] = []
    disclosures: tuple[str, ...] = ()
    kb_jwt: str | None = None
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise MalformedCredential("each JWS JSON signature must be an object")
        protected = _str_member(entry, "protected", "signature")
        signature = _str_member(entry, "signature", "signature")
        header, found_disclosures, found_kb = _sd_members(entry.get("header"), "signature")
        if index == 0:
            disclosures = found_disclosures or ()
            kb_jwt = found_kb
        elif found_disclosures is not None or found_kb is not None:
            # RFC 9901 §8.1 / HOSTILE S15: the SD-JWT members live in the first signature only.
            raise MalformedCredential("'disclosures'/'kb_jwt' outside the first signature header")
        signatures.append(parse_jws(f"{protected}.{payload}.{signature}"))
        json_sigs.append(JsonSignature(protected, signature, header))
    if len(disclosures) > MAX_DISCLOSURES:
        raise TooLarge(f"more than {MAX_DISCLOSURES} disclosures", limit=MAX_DISCLOSURES)
    first = json_sigs[0]
    issuer_jwt = f"{first.protected}.{payload}.{first.signature}"
    return SdJwtParts(
        serialization=serialization,
        issuer_jwt=issuer_jwt,
        signatures=tuple(signatures),
        disclosures=disclosures,
        kb_jwt=kb_jwt,
        hash_input=build_compact(issuer_jwt, disclosures),
        json_signatures=tuple(json_sigs),
    )


def build_compact(jws: str, disclosures: Sequence[str], kb_jwt: str = "") -> str:
    """``<JWS>~<D1>~...~<Dn>~[<KB-JWT>]`` (RFC 9901 §4)."""
    if not disclosures:
        return f"{jws}~{kb_jwt}"
    return f"{jws}~{'~'.join(disclosures)}~{kb_jwt}"


def build_json(
    serialization: Serialization,
    payload: str,
    signatures: Sequence[JsonSignature],
    disclosures: Sequence[str],
    kb_jwt: str | None = None,
) -> str:
    """The flattened or general JWS JSON serialization (RFC 9901 §8.1)."""
    entries: list[dict[str, Any]] = []
    for index, sig in enumerate(signatures):
        header = dict(sig.header)
        if index == 0:
            header[JSON_DISCLOSURES] = list(disclosures)
            if kb_jwt is not None:
                header[JSON_KB_JWT] = kb_jwt
        entry: dict[str, Any] = {"protected": sig.protected, "signature": sig.signature}
        if header:
            entry["header"] = header
        entries.append(entry)
    if serialization is Serialization.JSON_FLATTENED:
        if len(entries) != 1:
            raise ValueError("the flattened JWS JSON serialization has exactly one signature")
        return json_dumps({"payload": payload, **entries[0]})
    if serialization is Serialization.JSON_GENERAL:
        return json_dumps({"payload": payload, "signatures": entries})
    raise ValueError(f"not a JWS JSON serialization: {serialization}")
