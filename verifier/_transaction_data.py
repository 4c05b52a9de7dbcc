"""Transaction data on the verifier side (OpenID4VP 1.0 §5.1, §8.4, App. B.3.3).

The request carries the encoded strings; the transaction keeps them as sent, so the response
check recomputes the hashes from exactly those strings. Each item is authorized by one
presented credential (§5.1: "only one of the referenced Credentials"): honnin's rule, the
same in its wallet, is the first id of ``credential_ids`` the VP Token answers. Every SD-JWT
VC presentation of that query must carry, in its KB-JWT, ``transaction_data_hashes`` equal
to the hashes of its items in request order and, when an item listed algorithms,
``transaction_data_hashes_alg`` (App. B.3.3).
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from honnin.dcql import DcqlQuery
from honnin.errors import InvalidKeyBinding
from honnin.oid4vp import (
    DEFAULT_TRANSACTION_DATA_HASH,
    TRANSACTION_DATA_HASH_ALGORITHMS,
    TransactionData,
    check_transaction_data_targets,
    encode_transaction_data,
    invalid_transaction_data,
    parse_transaction_data,
    transaction_data_hash,
)

__all__ = ["Assigned", "assign", "check_hashes", "encode_for_request"]

#: One item as the check needs it: its request string and its parsed object.
Assigned = tuple[str, TransactionData]


def encode_for_request(
    items: Iterable[TransactionData | Mapping[str, Any]], query: DcqlQuery
) -> tuple[str, ...]:
    """Encode ``items`` for a request on ``query`` (§5.1), refusing what honnin's wallet
    would refuse: an id not in the query, a non-SD-JWT VC query (mdoc transaction data is
    left to profiles), a query without holder binding (App. B.3.3 binds through the KB-JWT),
    or no supported hash algorithm.

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): as above.
    """
    encoded = []
    for item in items:
        text = encode_transaction_data(item)
        check_transaction_data_targets(parse_transaction_data(text), query)
        encoded.append(text)
    if not encoded:
        raise invalid_transaction_data("transaction_data must be non-empty when given (§5.1)")
    return tuple(encoded)


def assign(
    transaction_data: Sequence[str], answered: Collection[str]
) -> tuple[dict[str, list[Assigned]], list[int]]:
    """Per answered Credential Query id, the items it authorizes (request order), and the
    indexes of items no answered query authorizes (§5.1: one referenced credential)."""
    by_query: dict[str, list[Assigned]] = {}
    orphans: list[int] = []
    for index, text in enumerate(transaction_data):
        item = parse_transaction_data(text)  # built by this verifier; parsed again to check
        owner = next((c for c in item.credential_ids if c in answered), None)
        if owner is None:
            orphans.append(index)
        else:
            by_query.setdefault(owner, []).append((text, item))
    return by_query, orphans


def check_hashes(kb_claims: Mapping[str, Any] | None, assigned: Sequence[Assigned]) -> None:
    """Check a KB-JWT's ``transaction_data_hashes`` / ``_alg`` against ``assigned``
    (App. B.3.3).

    Raises:
        InvalidKeyBinding (``reason`` ``transaction_data``): no KB-JWT, hashes missing, of
            another algorithm, in another order, or of other transaction data.
    """
    if kb_claims is None:
        raise _mismatch("transaction data needs a KB-JWT (App. B.3.3)")
    alg = kb_claims.get("transaction_data_hashes_alg")
    listed = any(item.transaction_data_hashes_alg is not None for _, item in assigned)
    if alg is None:
        if listed:
            # App. B.3.3: REQUIRED when the request listed algorithms.
            raise _mismatch("transaction_data_hashes_alg is missing")
        alg = DEFAULT_TRANSACTION_DATA_HASH
    if not isinstance(alg, str) or alg not in TRANSACTION_DATA_HASH_ALGORITHMS:
        raise _mismatch("transaction_data_hashes_alg is not a supported algorithm")
    if any(alg not in item.hash_algorithms for _, item in assigned):
        # §5.1: one of the item's algorithms (sha-256 when it lists none).
        raise _mismatch(f"{alg!r} is not accepted for this transaction data")
    hashes = kb_claims.get("transaction_data_hashes")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise _mismatch("transaction_data_hashes is missing or not an array of strings")
    expected = [transaction_data_hash(text, alg) for text, _ in assigned]
    if len(hashes) != len(expected) or not all(
        hmac.compare_digest(got.encode(), want.encode())
        for got, want in zip(hashes, expected, strict=True)
    ):
        raise _mismatch("transaction_data_hashes do not match the transaction data sent")


def _mismatch(message: str) -> InvalidKeyBinding:
    return InvalidKeyBinding(message, reason="transaction_data")
