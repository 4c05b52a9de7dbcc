"""Transaction data in the wallet (OpenID4VP 1.0 §5.1, §8.4; App. B.3.3 for SD-JWT VC).

A request with ``transaction_data`` is accepted only when the wallet was opened with
``transaction_data_types`` naming every item's type, and every item names Credential Queries
of the DCQL query that are holder-bound ``dc+sd-jwt`` ones (OpenID4VP 1.0 leaves mdoc
transaction data to profiles; spec/PROFILE.md). Anything else refuses the whole request with
``invalid_transaction_data`` before the person is asked.

When presenting, each item is authorized by one credential (§5.1 "only one of the
referenced Credentials"): the first id of its ``credential_ids`` the response answers, the
same rule as honnin's verifier. The KB-JWT of that credential carries
``transaction_data_hashes`` over the strings as received, in request order, and
``transaction_data_hashes_alg`` when an item listed algorithms (App. B.3.3).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from honnin.oid4vp import (
    AuthorizationRequest,
    TransactionData,
    check_transaction_data_targets,
    common_hash_algorithm,
    invalid_transaction_data,
    parse_transaction_data,
    transaction_data_hash,
)

__all__ = ["check_transaction_data", "transaction_data_claims"]


def check_transaction_data(
    request: AuthorizationRequest, supported_types: frozenset[str]
) -> tuple[TransactionData, ...]:
    """The request's transaction data, parsed and checked (see the module docstring).

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): not supported by this
            wallet, a malformed item, an unsupported type, an id not in the query, a query
            that is not a holder-bound dc+sd-jwt one, or no supported hash algorithm.
    """
    if request.transaction_data is None:
        return ()
    if not supported_types:
        # §5.1: a wallet that does not support transaction data MUST refuse the request.
        raise invalid_transaction_data("transaction_data is not supported by this wallet")
    if request.dcql_query is None:
        raise invalid_transaction_data(
            "transaction_data needs a DCQL query to name credentials in (§5.1)"
        )
    items = []
    for text in request.transaction_data:
        item = parse_transaction_data(text)
        if item.type not in supported_types:
            # §5.1: even one unrecognised type refuses the request.
            raise invalid_transaction_data(
                f"transaction data type {item.type[:64]!r} is not supported"
            )
        check_transaction_data_targets(item, request.dcql_query)
        items.append(item)
    return tuple(items)


def transaction_data_claims(
    items: tuple[TransactionData, ...], strings: tuple[str, ...], answered: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Per answered Credential Query id, the KB-JWT claims binding its transaction data.

    Raises:
        InvalidRequest (``error`` ``invalid_transaction_data``): an item no answered query
            can authorize, or items of one credential with no hash algorithm in common.
    """
    owned: dict[str, list[tuple[str, TransactionData]]] = {}
    for index, (text, item) in enumerate(zip(strings, items, strict=True)):
        owner = next((c for c in item.credential_ids if c in answered), None)
        if owner is None:
            raise invalid_transaction_data(
                f"no presented credential can authorize transaction_data[{index}]"
            )
        owned.setdefault(owner, []).append((text, item))
    claims: dict[str, dict[str, Any]] = {}
    for query_id, assigned in owned.items():
        alg = common_hash_algorithm([item for _, item in assigned])
        found: dict[str, Any] = {
            "transaction_data_hashes": [transaction_data_hash(text, alg) for text, _ in assigned]
        }
        if any(item.transaction_data_hashes_alg is not None for _, item in assigned):
            # App. B.3.3: REQUIRED when the request listed algorithms.
            found["transaction_data_hashes_alg"] = alg
        claims[query_id] = found
    return claims
