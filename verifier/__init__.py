"""The verifier role of honnin: ask for credentials over OpenID4VP 1.0 and verify them.

* ``Query`` — what to ask for: a catalogue credential type and claims (or raw DCQL),
  combined with ``&`` / ``|`` / ``.optional()``.
* ``Verifier`` — ``create`` / ``load`` a verifier, ``request`` a presentation (a signed
  request object, ``PresentationRequest`` with ``uri`` and QR codes), ``verify`` the answer
  into a ``VerificationResult`` (verified claims by path, issuer trust, per-credential
  errors).
* ``create_app`` / ``VerifierSettings`` — the OpenID4VP verifier HTTP service.
* ``VerifierClient`` — that service's back office from Python: ``request`` a presentation
  (``CreatedTransaction`` with the ``uri`` to show as a QR code), read its ``result`` (a
  ``VerificationResult``; ``wait`` long-polls).
* ``TransactionStore`` / ``SqliteTransactionStore`` (the service's durable default) /
  ``MemoryTransactionStore`` (the in-process default) — where transactions live.

Example::

    agency = Verifier.create("Hello Work", trust=[employer.certificate])
    request = agency.request(Query.of("withholding-slip", "payment_amount"),
                             purpose="unemployment benefit application")
    result = agency.verify(response)
    result["payment_amount"]
"""

from ._app import create_app
from ._client import CreatedTransaction, VerifierClient
from ._query import ClaimSpec, Query
from ._receive import Outcome
from ._request import PresentationRequest
from ._result import (
    CredentialError,
    FlaggedClaim,
    TrustDecision,
    VerificationResult,
    VerifiedCredential,
)
from ._settings import VerifierSettings
from ._store import MemoryTransactionStore, Transaction, TransactionStatus, TransactionStore
from ._store_sqlite import SqliteTransactionStore
from ._verifier import Verifier

__all__ = [
    "ClaimSpec",
    "CreatedTransaction",
    "CredentialError",
    "FlaggedClaim",
    "MemoryTransactionStore",
    "Outcome",
    "PresentationRequest",
    "Query",
    "SqliteTransactionStore",
    "Transaction",
    "TransactionStatus",
    "TransactionStore",
    "TrustDecision",
    "VerificationResult",
    "VerifiedCredential",
    "Verifier",
    "VerifierClient",
    "VerifierSettings",
    "create_app",
]
