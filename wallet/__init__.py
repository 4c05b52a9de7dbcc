"""The wallet role of honnin: hold credentials, decide what to share, present them.

* ``Wallet`` — open an encrypted wallet, make binding keys, ``accept`` issued copies or
  ``receive`` them over OpenID4VCI, list and delete them, ``consider`` a presentation request
  (a ``ConsentRequest``), ``present`` an ``Approval`` (OpenID4VP 1.0) and ``submit`` it.
* ``Vault`` — the encrypted store underneath (records, binding-key ``Signer``s, PIN policy,
  transactions, backup).

Example::

    from wallet import Wallet

    wallet = Wallet.open("alice.wallet", pin="123456")
    wallet.accept(employer.issue("withholding-slip", claims, holder=wallet.binding_keys(8)))
    consent = wallet.consider(request)
    result = agency.verify(wallet.present(consent.approve()))
"""

from ._choices import CredentialChoice, Refusal, RefusedClaim, RequestedClaim
from ._consent import Approval, ConsentRequest
from ._holdings import CopyPolicy, HeldCredential
from ._issuance import Authorization, Receipt
from ._keywrap import KdfParams, KeyWrapper
from ._presenting import PresentationResponse
from ._request import RequestingVerifier
from ._signer import Signer
from ._trust import TrustState
from ._vault import Vault
from ._vault_records import Entry, Record
from ._wallet import Submission, Wallet

__all__: list[str] = [
    "Approval",
    "Authorization",
    "ConsentRequest",
    "CopyPolicy",
    "CredentialChoice",
    "Entry",
    "HeldCredential",
    "KdfParams",
    "KeyWrapper",
    "PresentationResponse",
    "Receipt",
    "Record",
    "Refusal",
    "RefusedClaim",
    "RequestedClaim",
    "RequestingVerifier",
    "Signer",
    "Submission",
    "TrustState",
    "Vault",
    "Wallet",
]
