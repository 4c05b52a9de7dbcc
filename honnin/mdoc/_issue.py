"""mdoc issuance (ISO/IEC 18013-5 §9.1.2; ISO/IEC 23220-2): IssuerSignedItems with fresh
salts and random digest IDs, the MobileSecurityObject, and ``issuerAuth`` over it."""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import cbor2
from cryptography import x509

from honnin import cbor
from honnin.cbor import EncodedCbor
from honnin.cose import Signer, build_sign1, cose_key_from_public_key
from honnin.jose import PrivateKey, PublicKey
from honnin.status import StatusReference

from ._constants import DIGEST_ALGORITHMS, DIGEST_ID_SPACE, RANDOM_LENGTH
from ._issuer_signed import IssuerSigned
from ._mso import MobileSecurityObject, ValidityInfo

# IssuerSignedItem map heads, encoded once (§8.3.2.1.2.2; members in CDDL order).
_ITEM_HEAD: Final = b"\xa4" + cbor.encode("digestID")
_RANDOM_KEY: Final = cbor.encode("random") + cbor.head(2, RANDOM_LENGTH)
_IDENTIFIER_KEY: Final = cbor.encode("elementIdentifier")
_VALUE_KEY: Final = cbor.encode("elementValue")


# Element identifiers come from a small vocabulary per doctype (given_name, birth_date, ...):
# their CBOR is kept, up to a bound, instead of encoded for every item of every mdoc.
_NAMES: dict[str, bytes] = {}
_MAX_NAMES: Final = 4096
_ID_MASK: Final = DIGEST_ID_SPACE - 1


def _name_bytes(name: object) -> bytes:
    if type(name) is not str:
        raise TypeError("element identifiers are text strings")
    encoded = _NAMES.get(name)
    if encoded is None:
        encoded = cbor2.dumps(name)
        if len(_NAMES) < _MAX_NAMES:
            _NAMES[name] = encoded
    return encoded


def _value_bytes(value: Any) -> bytes:
    try:
        return cbor2.dumps(value)
    except cbor2.CBOREncodeError:
        return cbor.encode(value)  # EncodedCbor / RawCbor / date inside the value


def _id_head(digest_id: int) -> bytes:
    # Preferred serialization (RFC 8949 §4.2.1): nearly every ID of [0, 2^31) needs 4 bytes.
    return (
        b"\x1a" + digest_id.to_bytes(4, "big") if digest_id >= 0x10000 else cbor.head(0, digest_id)
    )


def _random_draw(count: int) -> tuple[list[int], bytes]:
    """``count`` unique random digest IDs below 2^31 and ``count`` salts, from one
    ``os.urandom`` call.

    Random and unordered, a digest ID reveals neither the element nor its position
    (HOSTILE-CASES M12), and two copies of one credential share none by design.
    """
    raw = os.urandom((4 + RANDOM_LENGTH) * count)
    ids = [value & _ID_MASK for value in struct.unpack(f">{count}I", raw[: 4 * count])]
    if len(set(ids)) != count:
        # A collision in 2^31 (about count^2 / 2^32): draw the missing IDs one by one.
        unique = list(dict.fromkeys(ids))
        while len(unique) < count:
            candidate = int.from_bytes(os.urandom(4), "big") & _ID_MASK
            if candidate not in unique:
                unique.append(candidate)
        ids = unique
    return ids, raw[4 * count :]


def _encode_items(
    elements: Mapping[str, Any], ids: list[int], salts: bytes, hasher: Any
) -> tuple[list[EncodedCbor], dict[int, bytes]]:
    """IssuerSignedItemBytes for ``elements`` and their digests (§9.1.2.5), assembled from
    pre-encoded member names: each step runs over all items at once (the hot loop of
    issuance)."""
    size = RANDOM_LENGTH
    contents = [
        b"".join(
            (
                _ITEM_HEAD,
                _id_head(digest_id),
                _RANDOM_KEY,
                salts[index * size : (index + 1) * size],
                _IDENTIFIER_KEY,
                name,
                _VALUE_KEY,
                value,
            )
        )
        for index, (digest_id, name, value) in enumerate(
            zip(
                ids,
                map(_name_bytes, elements),
                map(_value_bytes, elements.values()),
                strict=False,
            )
        )
    ]
    encoded = list(map(EncodedCbor, contents))
    digests = {
        digest_id: hasher(item.tagged).digest()
        for digest_id, item in zip(ids, encoded, strict=False)
    }
    return encoded, digests


def issue_mdoc(
    doctype: str,
    namespaces: Mapping[str, Mapping[str, Any]],
    issuer_key: PrivateKey | Signer,
    issuer_chain: Sequence[x509.Certificate],
    device_key: PublicKey,
    *,
    valid_from: datetime,
    valid_until: datetime,
    signed: datetime,
    expected_update: datetime | None = None,
    status: StatusReference | None = None,
    digest_algorithm: str = "SHA-256",
    decoys: int = 0,
) -> IssuerSigned:
    """Issue an mdoc: ``namespaces`` ({namespace: {element identifier: value}}) signed for
    ``doctype`` and bound to the holder's ``device_key`` (ISO/IEC 18013-5 §9.1.2.4).

    Each element becomes an IssuerSignedItem with a fresh 32-byte salt (§9.1.2.5: at least
    16) and a random digest ID, wrapped in tag 24; the MSO carries their digests, the
    holder's COSE_Key, the validity (tdate, whole seconds, UTC) and, when given, the Token
    Status List reference; ``issuerAuth`` is a COSE_Sign1 over the tag-24 MSO with the
    issuer's chain (leaf first, no root) in ``x5chain``. ``decoys`` adds digests no item
    matches, hiding how many elements the issuer signed.

    Values are CBOR as ``honnin.cbor.encode`` writes it: ``date`` becomes full-date (tag 1004),
    aware ``datetime`` tdate (tag 0).

    Example::

        mdoc = issue_mdoc("org.iso.18013.5.1.mDL", {"org.iso.18013.5.1": {"family_name": "Doe"}},
                          ds_key, [ds_cert], holder_public_key, valid_from=now,
                          valid_until=now + timedelta(days=365), signed=now)
        credential = mdoc.encode()

    Raises:
        ValueError: an empty doctype or namespace, no certificate, validFrom after
            validUntil, an unknown digest algorithm (programmer mistakes).
    """
    hasher = DIGEST_ALGORITHMS.get(digest_algorithm)
    if hasher is None:
        raise ValueError(f"unknown digest algorithm {digest_algorithm!r}")
    if not doctype or not namespaces or any(not ns for ns in namespaces):
        raise ValueError("an mdoc needs a doctype and at least one named namespace")
    if not issuer_chain:
        raise ValueError("issuerAuth needs the document signer certificate (x5chain)")
    if valid_from > valid_until:
        raise ValueError("valid_from is after valid_until")
    if decoys < 0:
        raise ValueError("decoys must not be negative")
    items: dict[str, tuple[EncodedCbor, ...]] = {}
    value_digests: dict[str, dict[int, bytes]] = {}
    for ns, elements in namespaces.items():
        ids, salts = _random_draw(len(elements) + decoys)
        encoded, digests = _encode_items(elements, ids, salts, hasher)
        for index in range(len(elements), len(ids)):
            # A decoy: the digest of a salt no item carries (§9.1.2.5 allows unused IDs).
            digests[ids[index]] = hasher(
                salts[index * RANDOM_LENGTH : (index + 1) * RANDOM_LENGTH]
            ).digest()
        items[ns] = tuple(encoded)
        value_digests[ns] = digests
    mso = MobileSecurityObject(
        digest_algorithm=digest_algorithm,
        value_digests=value_digests,
        device_key=cose_key_from_public_key(device_key),
        doctype=doctype,
        validity=ValidityInfo(signed, valid_from, valid_until, expected_update),
        status=status,
    )
    # §9.1.2.4: the payload is MobileSecurityObjectBytes = #6.24(bstr .cbor MSO).
    payload = EncodedCbor(mso.encode()).tagged
    issuer_auth = build_sign1(payload, issuer_key, x5chain=list(issuer_chain))
    return IssuerSigned(items, issuer_auth)
