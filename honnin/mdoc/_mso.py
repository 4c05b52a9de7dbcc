"""IssuerSignedItem and MobileSecurityObject (ISO/IEC 18013-5 §8.3.2.1.2.2, §9.1.2.4): build
and read, with every member's type checked. Nothing here verifies a signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from honnin import cbor
from honnin.errors import MalformedCredential
from honnin.status import StatusReference, parse_status_reference

from ._constants import MIN_RANDOM_LENGTH, VERSION

_ITEM_KEYS = frozenset({"digestID", "random", "elementIdentifier", "elementValue"})


@dataclass(frozen=True, slots=True)
class IssuerSignedItem:
    """``IssuerSignedItem`` (§8.3.2.1.2.2): one data element with its digest ID and salt."""

    digest_id: int
    random: bytes = field(repr=False)
    element_identifier: str
    element_value: Any = field(repr=False)

    def to_cbor_value(self) -> dict[str, Any]:
        """The map, members in the order of the CDDL."""
        return {
            "digestID": self.digest_id,
            "random": self.random,
            "elementIdentifier": self.element_identifier,
            "elementValue": self.element_value,
        }

    @classmethod
    def from_cbor_value(cls, value: object) -> IssuerSignedItem:
        """Check the decoded map's shape (§8.3.2.1.2.2) and build the item.

        Raises:
            MalformedCredential: see ``item_fields``.
        """
        digest_id, name, element = item_fields(value)
        assert isinstance(value, dict)
        return cls(digest_id, value["random"], name, element)


def item_fields(value: object) -> tuple[int, str, Any]:
    """``(digestID, elementIdentifier, elementValue)`` of a decoded IssuerSignedItem.

    Raises:
        MalformedCredential: not a map of exactly the four members with their types, or a
            ``random`` shorter than 16 bytes (§9.1.2.5).
    """
    if type(value) is not dict or value.keys() != _ITEM_KEYS:
        raise MalformedCredential(
            "an IssuerSignedItem is a map of digestID, random, elementIdentifier and elementValue"
        )
    digest_id, salt, name = value["digestID"], value["random"], value["elementIdentifier"]
    if type(digest_id) is not int or digest_id < 0:
        raise MalformedCredential("IssuerSignedItem digestID must be an unsigned integer")
    if type(salt) is not bytes or len(salt) < MIN_RANDOM_LENGTH:
        raise MalformedCredential(
            f"IssuerSignedItem random must be at least {MIN_RANDOM_LENGTH} bytes (§9.1.2.5)"
        )
    if type(name) is not str:
        raise MalformedCredential("IssuerSignedItem elementIdentifier must be a text string")
    return digest_id, name, value["elementValue"]


@dataclass(frozen=True, slots=True)
class ValidityInfo:
    """``validityInfo`` of the MSO (§9.1.2.4), aware UTC datetimes."""

    signed: datetime
    valid_from: datetime
    valid_until: datetime
    expected_update: datetime | None = None

    def to_cbor_value(self) -> dict[str, Any]:
        out = {
            "signed": cbor.tdate(self.signed),
            "validFrom": cbor.tdate(self.valid_from),
            "validUntil": cbor.tdate(self.valid_until),
        }
        if self.expected_update is not None:
            out["expectedUpdate"] = cbor.tdate(self.expected_update)
        return out

    def encode(self) -> bytes:
        """``honnin.cbor.encode(self.to_cbor_value())``, with the tdates written directly
        (cbor2 spends more time formatting three datetimes than on the rest of an MSO)."""
        parts = [
            b"\xa3" if self.expected_update is None else b"\xa4",
            _SIGNED,
            _tdate_bytes(self.signed),
            _VALID_FROM,
            _tdate_bytes(self.valid_from),
            _VALID_UNTIL,
            _tdate_bytes(self.valid_until),
        ]
        if self.expected_update is not None:
            parts += (_EXPECTED_UPDATE, _tdate_bytes(self.expected_update))
        return b"".join(parts)


def _tdate_bytes(moment: datetime) -> bytes:
    """Tag 0 around ``YYYY-MM-DDTHH:MM:SSZ`` (RFC 8949 §3.4.1), as cbor2 writes the UTC
    datetime of whole seconds that ``tdate`` makes of ``moment``."""
    if moment.tzinfo is not UTC:
        moment = cbor.tdate(moment)
    # 'YYYY-MM-DDTHH:MM:SS+00:00': timespec drops the fraction as tdate's replace does.
    return b"\xc0\x74" + moment.isoformat(timespec="seconds")[:19].encode("ascii") + b"Z"


_SIGNED = cbor.encode("signed")
_VALID_FROM = cbor.encode("validFrom")
_VALID_UNTIL = cbor.encode("validUntil")
_EXPECTED_UPDATE = cbor.encode("expectedUpdate")


@dataclass(frozen=True, slots=True)
class MobileSecurityObject:
    """The MSO (§9.1.2.4) as read; trusted only after ``issuerAuth`` verified."""

    digest_algorithm: str
    value_digests: Mapping[str, Mapping[int, bytes]] = field(repr=False)
    device_key: Mapping[int, Any] = field(repr=False)
    doctype: str
    validity: ValidityInfo
    status: StatusReference | None = None

    def to_cbor_value(self) -> dict[str, Any]:
        """The MSO map; digests ordered by digest ID so the map order tells nothing."""
        out: dict[str, Any] = {
            "version": VERSION,
            "digestAlgorithm": self.digest_algorithm,
            "valueDigests": {
                ns: dict(sorted(digests.items())) for ns, digests in self.value_digests.items()
            },
            "deviceKeyInfo": {"deviceKey": dict(self.device_key)},
            "docType": self.doctype,
            "validityInfo": self.validity.to_cbor_value(),
        }
        if self.status is not None:
            # Token Status List draft §6.3 / ISO/IEC 18013-5 ed. 2: MSO "status".
            out["status"] = self.status.to_claim()
        return out

    def encode(self) -> bytes:
        """``honnin.cbor.encode(self.to_cbor_value())``, assembled member by member."""
        parts = [
            cbor.head(5, 6 if self.status is None else 7),
            _VERSION_MEMBER,
            _DIGEST_ALGORITHM,
            cbor.encode(self.digest_algorithm),
            _VALUE_DIGESTS,
            cbor.encode(
                {ns: dict(sorted(digests.items())) for ns, digests in self.value_digests.items()}
            ),
            _DEVICE_KEY_INFO,
            cbor.encode({"deviceKey": dict(self.device_key)}),
            _DOCTYPE,
            cbor.encode(self.doctype),
            _VALIDITY_INFO,
            self.validity.encode(),
        ]
        if self.status is not None:
            parts += (_STATUS, cbor.encode(self.status.to_claim()))
        return b"".join(parts)

    @classmethod
    def from_cbor_value(cls, value: object) -> MobileSecurityObject:
        """Check the MSO's shape (§9.1.2.4) and build it.

        Raises:
            MalformedCredential: a missing or ill-typed member, an unknown version.
            InvalidClaim: a malformed ``status`` reference.
        """
        if not isinstance(value, dict):
            raise MalformedCredential("the MobileSecurityObject is not a map")
        version = value.get("version")
        if type(version) is not str or not (version == VERSION or version.startswith("1.")):
            raise MalformedCredential(f"unsupported MSO version {version!r}")
        digest_algorithm = value.get("digestAlgorithm")
        if not isinstance(digest_algorithm, str):
            raise MalformedCredential("MSO digestAlgorithm must be a text string")
        doctype = value.get("docType")
        if not isinstance(doctype, str):
            raise MalformedCredential("MSO docType must be a text string")
        key_info = value.get("deviceKeyInfo")
        if not isinstance(key_info, dict) or not isinstance(key_info.get("deviceKey"), dict):
            raise MalformedCredential("MSO deviceKeyInfo.deviceKey must be a COSE_Key map")
        status = value.get("status")
        return cls(
            digest_algorithm=digest_algorithm,
            value_digests=_value_digests(value.get("valueDigests")),
            device_key=key_info["deviceKey"],
            doctype=doctype,
            validity=_validity(value.get("validityInfo")),
            status=None if status is None else parse_status_reference(status),
        )


_VERSION_MEMBER = cbor.encode("version") + cbor.encode(VERSION)
_DIGEST_ALGORITHM = cbor.encode("digestAlgorithm")
_VALUE_DIGESTS = cbor.encode("valueDigests")
_DEVICE_KEY_INFO = cbor.encode("deviceKeyInfo")
_DOCTYPE = cbor.encode("docType")
_VALIDITY_INFO = cbor.encode("validityInfo")
_STATUS = cbor.encode("status")


def _value_digests(value: object) -> dict[str, dict[int, bytes]]:
    if type(value) is not dict or not value:
        raise MalformedCredential("MSO valueDigests must be a non-empty map of namespaces")
    for ns, digests in value.items():
        if type(ns) is not str or type(digests) is not dict:
            raise MalformedCredential("MSO valueDigests maps namespace text to a digest map")
        # ISO 18013-5 §9.1.2.4: DigestIDs are uint, digests bstr. Checked here so that even a
        # validly signed but ill-formed MSO ends in a typed error, not in a later TypeError.
        for digest_id, digest in digests.items():
            if type(digest_id) is not int or digest_id < 0 or type(digest) is not bytes:
                raise MalformedCredential(
                    f"MSO valueDigests[{ns!r}] must map unsigned DigestIDs to byte strings"
                )
    return value


def _validity(value: object) -> ValidityInfo:
    if not isinstance(value, dict):
        raise MalformedCredential("MSO validityInfo must be a map")
    moments: dict[str, datetime | None] = {}
    for name in ("signed", "validFrom", "validUntil", "expectedUpdate"):
        moment = value.get(name)
        if moment is None and name == "expectedUpdate":
            moments[name] = None
            continue
        # §9.1.2.4: tdate, i.e. tag 0 (decoded to an aware datetime by honnin.cbor).
        if not isinstance(moment, datetime):
            raise MalformedCredential(f"MSO validityInfo.{name} must be a tdate (tag 0)")
        moments[name] = moment
    signed, valid_from, valid_until = moments["signed"], moments["validFrom"], moments["validUntil"]
    assert signed is not None and valid_from is not None and valid_until is not None
    if valid_from > valid_until:
        raise MalformedCredential("MSO validFrom is after validUntil")
    return ValidityInfo(signed, valid_from, valid_until, moments["expectedUpdate"])


def decode_mso(payload: bytes) -> MobileSecurityObject:
    """The MSO from a verified ``issuerAuth`` payload, ``#6.24(bstr .cbor MSO)`` (§9.1.2.4).

    Raises:
        MalformedCredential: the payload is not tag 24 around an MSO.
        MalformedCbor / TooLarge: bad CBOR.
    """
    content = cbor.unwrap_tag24(payload)
    if content is None:
        raise MalformedCredential(
            "the issuerAuth payload is not MobileSecurityObjectBytes (tag 24)"
        )
    return MobileSecurityObject.from_cbor_value(cbor.decode_authenticated(content))
