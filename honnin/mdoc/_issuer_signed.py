"""IssuerSigned (ISO/IEC 18013-5 §8.3.2.1.2.2): ``{nameSpaces: {ns: [IssuerSignedItemBytes]},
issuerAuth: COSE_Sign1}``, the mdoc an issuer hands out and a wallet keeps.

The tag-24 items are kept exactly as issued: a presentation copies the chosen ones
verbatim, so their digests still match (§9.1.2.5).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Final

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import CoseSign1, parse_sign1
from honnin.errors import MalformedCredential, NoMatchingCredential

from ._constants import MAX_ISSUER_SIGNED_SIZE
from ._mso import IssuerSignedItem, MobileSecurityObject, item_fields

_NAMESPACES_KEY: Final = cbor.encode("nameSpaces")
_TAGGED: Final = attrgetter("tagged")
_ISSUER_AUTH_KEY: Final = cbor.encode("issuerAuth")


@dataclass(frozen=True, slots=True)
class IssuerSigned:
    """An mdoc's issuer-signed part. Parsed or built; nothing in it is verified until
    ``verify_issuer_signed`` (or ``verify_device_response``) says so."""

    namespaces: Mapping[str, tuple[EncodedCbor, ...]]
    issuer_auth: CoseSign1

    def to_cbor_value(self) -> dict[str, Any]:
        """The IssuerSigned map (``nameSpaces`` omitted when nothing is disclosed)."""
        out: dict[str, Any] = {}
        if self.namespaces:
            out["nameSpaces"] = {ns: list(items) for ns, items in self.namespaces.items()}
        out["issuerAuth"] = self.issuer_auth.to_array()
        return out

    def encode(self) -> bytes:
        """The IssuerSigned CBOR (the OpenID4VCI ``mso_mdoc`` credential is its base64url).

        Assembled from the items' tag-24 bytes as they are, with the same result as
        ``honnin.cbor.encode(self.to_cbor_value())``.
        """
        parts = [cbor.head(5, 2 if self.namespaces else 1)]
        if self.namespaces:
            parts += (_NAMESPACES_KEY, cbor.head(5, len(self.namespaces)))
            for ns, items in self.namespaces.items():
                parts += (cbor.encode(ns), cbor.head(4, len(items)))
                parts += map(_TAGGED, items)
        parts += (_ISSUER_AUTH_KEY, cbor.encode(self.issuer_auth.to_array()))
        return b"".join(parts)

    def unverified_mso(self) -> MobileSecurityObject:
        """The MSO as carried, signature NOT checked (for a wallet's display and selection).

        Raises:
            MalformedCredential / MalformedCbor: no MSO in the issuerAuth payload.
        """
        if self.issuer_auth.payload is None:
            raise MalformedCredential("issuerAuth has a detached payload; the MSO is missing")
        # Not yet authenticated: the strict decoder (the verified path uses decode_mso, which
        # trusts what a verified signer wrote).
        content = cbor.unwrap_tag24(self.issuer_auth.payload)
        if content is None:
            raise MalformedCredential(
                "the issuerAuth payload is not MobileSecurityObjectBytes (tag 24)"
            )
        return MobileSecurityObject.from_cbor_value(cbor.decode(content))

    def unverified_items(self) -> dict[str, list[IssuerSignedItem]]:
        """Every IssuerSignedItem decoded, by namespace; digests NOT checked."""
        return {
            ns: [IssuerSignedItem.from_cbor_value(item.decode()) for item in items]
            for ns, items in self.namespaces.items()
        }

    def select(self, elements: Mapping[str, Collection[str]]) -> IssuerSigned:
        """A copy that discloses only ``elements`` ({namespace: identifiers}), items verbatim.

        Raises:
            NoMatchingCredential: a requested namespace or element is not in this mdoc.
        """
        chosen: dict[str, tuple[EncodedCbor, ...]] = {}
        for ns, wanted in elements.items():
            if ns not in self.namespaces:
                raise NoMatchingCredential(f"the mdoc has no namespace {ns!r}", namespace=ns)
            # Only the identifiers are needed: each item is decoded strictly and checked
            # (§8.3.2.1.2.2), but no IssuerSignedItem is built for it.
            by_name = {item_fields(item.decode())[1]: item for item in self.namespaces[ns]}
            missing = [name for name in wanted if name not in by_name]
            if missing:
                raise NoMatchingCredential(
                    f"the mdoc has no element(s) {missing} in {ns!r}", namespace=ns
                )
            if wanted:
                chosen[ns] = tuple(by_name[name] for name in wanted)
        return IssuerSigned(chosen, self.issuer_auth)


def issuer_signed_from_cbor_value(value: object) -> IssuerSigned:
    """Check an IssuerSigned map's shape (§8.3.2.1.2.2) and build it.

    Raises:
        MalformedCredential: wrong members or types; an item that is not tag 24 (§8.3.2.1.2.2
            IssuerSignedItemBytes = #6.24(bstr .cbor IssuerSignedItem)).
        MalformedCose: issuerAuth is not an untagged COSE_Sign1.
    """
    if not isinstance(value, dict) or "issuerAuth" not in value:
        raise MalformedCredential("IssuerSigned must be a map with issuerAuth")
    if not set(value) <= {"nameSpaces", "issuerAuth"}:
        raise MalformedCredential(f"unexpected IssuerSigned members {sorted(map(str, value))}")
    raw_namespaces = value.get("nameSpaces", {})
    if not isinstance(raw_namespaces, dict):
        raise MalformedCredential("IssuerSigned nameSpaces must be a map")
    namespaces: dict[str, tuple[EncodedCbor, ...]] = {}
    for ns, items in raw_namespaces.items():
        if not isinstance(ns, str) or not isinstance(items, list) or not items:
            raise MalformedCredential("nameSpaces maps a namespace to a non-empty item array")
        for item in items:
            if not isinstance(item, EncodedCbor):
                raise MalformedCredential(
                    f"an item in {ns!r} is not IssuerSignedItemBytes (tag 24)", namespace=ns
                )
        namespaces[ns] = tuple(items)
    issuer_auth = parse_sign1(value["issuerAuth"], require_tag=False)
    return IssuerSigned(namespaces, issuer_auth)


def parse_issuer_signed(data: bytes, *, max_size: int = MAX_ISSUER_SIGNED_SIZE) -> IssuerSigned:
    """Parse IssuerSigned CBOR strictly (the credential of OpenID4VCI ``mso_mdoc``).

    Raises:
        MalformedCbor / TooLarge: not strict CBOR or over ``max_size``.
        MalformedCredential / MalformedCose: not an IssuerSigned.
    """
    return issuer_signed_from_cbor_value(cbor.decode(data, max_size=max_size))


def ensure_issuer_signed(value: IssuerSigned | bytes) -> IssuerSigned:
    """``value`` parsed if it is bytes."""
    if isinstance(value, IssuerSigned):
        return value
    if isinstance(value, bytes):
        return parse_issuer_signed(value)
    raise TypeError("expected IssuerSigned or its CBOR bytes")
