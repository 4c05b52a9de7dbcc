"""Transaction data (OpenID4VP 1.0 §5.1 ``transaction_data``, §8.4; App. B.3.3 for SD-JWT VC).

A request's ``transaction_data`` is a non-empty array of strings, each the base64url encoding
of a JSON object with ``type``, ``credential_ids`` and optionally
``transaction_data_hashes_alg``; the other members are defined by the ``type``. A wallet
that does not support a type, or finds an object that breaks these rules, refuses the whole
request with ``invalid_transaction_data`` (§5.1, §8.5).

For an SD-JWT VC the KB-JWT binds the transaction: ``transaction_data_hashes`` holds the
hash of each string *as received* (no base64url decoding before hashing, App. B.3.3) and
``transaction_data_hashes_alg`` names the hash when the request gave a list of algorithms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from pydantic import Field, StrictStr, model_validator

from honnin.dcql import DcqlQuery
from honnin.encoding import b64url_encode, json_dumps, json_from_b64url
from honnin.errors import InvalidRequest, MalformedInput
from honnin.oauth import WireMessage, parse_message, problem

from ._constants import VpErrorCode

__all__ = [
    "DEFAULT_TRANSACTION_DATA_HASH",
    "TRANSACTION_DATA_HASH_ALGORITHMS",
    "TransactionData",
    "check_transaction_data_targets",
    "common_hash_algorithm",
    "encode_transaction_data",
    "invalid_transaction_data",
    "parse_transaction_data",
    "transaction_data_hash",
]

#: §5.1: without ``transaction_data_hashes_alg`` the hash is ``sha-256``, which every
#: implementation MUST support.
DEFAULT_TRANSACTION_DATA_HASH: Final = "sha-256"
#: The IANA "Named Information Hash Algorithm" names honnin computes (§5.1 refers to them).
_HASHES: Final[dict[str, Callable[[bytes], Any]]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
TRANSACTION_DATA_HASH_ALGORITHMS: Final = frozenset(_HASHES)
#: A transaction data string beyond this is refused (a request object is bounded anyway).
MAX_TRANSACTION_DATA: Final = 64 * 1024
_KNOWN: Final = frozenset({"type", "credential_ids", "transaction_data_hashes_alg"})
_SD_JWT_VC: Final = "dc+sd-jwt"


def invalid_transaction_data(message: str) -> InvalidRequest:
    """The error for transaction data a party refuses: ``InvalidRequest`` with the OpenID4VP
    error code ``invalid_transaction_data`` (§8.5) and ``reason`` ``transaction_data``."""
    return InvalidRequest(
        message, error=VpErrorCode.INVALID_TRANSACTION_DATA.value, reason="transaction_data"
    )


class TransactionData(WireMessage):
    """One ``transaction_data`` object (OpenID4VP 1.0 §5.1).

    ``type`` names the kind of transaction; ``credential_ids`` (non-empty) the Credential
    Query ids that may authorize it; ``transaction_data_hashes_alg`` (non-empty when given)
    the hash algorithms the verifier accepts, ``sha-256`` when absent. ``details`` holds the
    type-specific members, which travel at the top level of the JSON object beside these.
    """

    type: StrictStr = Field(min_length=1)
    credential_ids: tuple[StrictStr, ...]
    transaction_data_hashes_alg: tuple[StrictStr, ...] | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> TransactionData:
        if not self.credential_ids or any(not c for c in self.credential_ids):
            raise problem("credential_ids must be a non-empty array of ids (§5.1)")
        if self.transaction_data_hashes_alg is not None and not self.transaction_data_hashes_alg:
            raise problem("transaction_data_hashes_alg must be non-empty when present (§5.1)")
        clash = _KNOWN.intersection(self.details)
        if clash:
            raise problem(f"details must not repeat the members {sorted(clash)}")
        return self

    @property
    def hash_algorithms(self) -> tuple[str, ...]:
        """The algorithms one of which hashes this item (§5.1: ``sha-256`` by default)."""
        return self.transaction_data_hashes_alg or (DEFAULT_TRANSACTION_DATA_HASH,)

    def to_json(self) -> dict[str, Any]:
        """The JSON object as it travels: ``details`` spread beside the defined members."""
        out: dict[str, Any] = dict(self.details)
        out["type"] = self.type
        out["credential_ids"] = list(self.credential_ids)
        if self.transaction_data_hashes_alg is not None:
            out["transaction_data_hashes_alg"] = list(self.transaction_data_hashes_alg)
        return out


def encode_transaction_data(item: TransactionData | Mapping[str, Any]) -> str:
    """One ``transaction_data`` string: the base64url (no padding) of the item's JSON (§5.1).

    A mapping is read as the wire JSON object (type-specific members at the top level).

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): the mapping is not a valid
            transaction data object.
    """
    if not isinstance(item, TransactionData):
        item = _from_object(item)
    return b64url_encode(json_dumps(item.to_json()).encode("utf-8"))


def _from_object(data: Mapping[str, Any]) -> TransactionData:
    fields = {k: v for k, v in data.items() if k in _KNOWN}
    fields["details"] = {str(k): v for k, v in data.items() if k not in _KNOWN}
    try:
        return parse_message(TransactionData, fields)
    except InvalidRequest as exc:
        raise invalid_transaction_data(f"transaction data: {exc.message}") from exc


def parse_transaction_data(text: str) -> TransactionData:
    """Parse one received ``transaction_data`` string strictly (§5.1).

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``, ``reason``
            ``transaction_data``): not a string, not strict base64url, not strict JSON, not
            an object, or ``type`` / ``credential_ids`` missing or of the wrong kind.
    """
    if not isinstance(text, str) or not text:
        raise invalid_transaction_data("a transaction_data entry must be a non-empty string (§5.1)")
    if len(text) > MAX_TRANSACTION_DATA:
        raise invalid_transaction_data(
            f"a transaction_data entry exceeds {MAX_TRANSACTION_DATA} characters"
        )
    try:
        data = json_from_b64url(text, what="transaction_data")
    except MalformedInput as exc:
        raise invalid_transaction_data(
            f"transaction_data is not base64url JSON: {exc.message}"
        ) from exc
    if not isinstance(data, dict):
        raise invalid_transaction_data("a transaction_data entry must encode a JSON object (§5.1)")
    return _from_object(data)


def transaction_data_hash(text: str, alg: str = DEFAULT_TRANSACTION_DATA_HASH) -> str:
    """The base64url hash of one ``transaction_data`` string as received (App. B.3.3: over
    the string's ASCII, base64url decoding is not performed before hashing).

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): ``alg`` is not one of
            ``sha-256``, ``sha-384``, ``sha-512``, or ``text`` is not ASCII.
    """
    new = _HASHES.get(alg)
    if new is None:
        raise invalid_transaction_data(f"transaction data hash algorithm {alg!r} is not supported")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise invalid_transaction_data("a transaction_data entry is base64url, so ASCII") from exc
    return b64url_encode(new(raw).digest())


def common_hash_algorithm(items: Sequence[TransactionData]) -> str:
    """The first algorithm, in the first item's order, that every item accepts and honnin
    computes: the one ``transaction_data_hashes_alg`` of a KB-JWT covering them all.

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): there is none.
    """
    if not items:
        return DEFAULT_TRANSACTION_DATA_HASH
    for alg in items[0].hash_algorithms:
        if alg in _HASHES and all(alg in item.hash_algorithms for item in items[1:]):
            return alg
    raise invalid_transaction_data(
        "no supported hash algorithm is accepted by every transaction data item"
    )


def check_transaction_data_targets(item: TransactionData, query: DcqlQuery) -> None:
    """Check what ``item`` binds to in ``query``, as honnin's verifier and wallet both do:
    every id of ``credential_ids`` is a Credential Query of the request (§5.1), each a
    holder-bound ``dc+sd-jwt`` one (App. B.3.3 binds through the KB-JWT; OpenID4VP 1.0
    leaves mdoc transaction data to profiles), and one of its hash algorithms is computed
    here.

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): any of those fails.
    """
    queries = {q.id: q for q in query.credentials}
    for credential_id in item.credential_ids:
        found = queries.get(credential_id)
        if found is None:
            raise invalid_transaction_data(
                f"credential_ids names {credential_id[:64]!r}, not in the query"
            )
        if found.format != _SD_JWT_VC or not found.require_cryptographic_holder_binding:
            raise invalid_transaction_data(
                f"{credential_id[:64]!r}: transaction data is supported for holder-bound"
                " dc+sd-jwt credentials only"
            )
    if not TRANSACTION_DATA_HASH_ALGORITHMS.intersection(item.hash_algorithms):
        raise invalid_transaction_data("none of transaction_data_hashes_alg is supported")
