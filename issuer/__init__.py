"""The issuer role of honnin: sign credentials, run the OpenID4VCI service, manage status.

In process::

    from issuer import Issuer

    employer = Issuer.create("Example Corp")          # key + test-PKI root and leaf
    batch = employer.issue("withholding-slip", claims, holder=holder_keys)
    employer.revoke(batch)

Over HTTP (OpenID4VCI 1.0, pre-authorized code flow)::

    from issuer import Issuer, IssuerSettings, create_app

    employer = Issuer.create("Example Corp", iss="https://issuer.example", store="issuer.db")
    offer = employer.create_offer("withholding-slip", claims)   # offer.uri, offer.tx_code
    offer.qr_png("offer.png")
    app = create_app(employer, IssuerSettings(batch_size=8))    # serve with uvicorn
"""

from ._app import create_app
from ._identity import IssuerIdentity
from ._issuance_sqlite import SqliteIssuanceStore
from ._issuance_store import (
    AccessTokenRecord,
    CodeState,
    DeferredRecord,
    IssuanceRecord,
    IssuanceStore,
    NotificationRecord,
    OfferRecord,
    StatusPlace,
)
from ._issuer import Issuer
from ._offers import Offer, configuration_id
from ._settings import IssuerSettings, load_settings_file
from ._status import PublishedStatusList, StatusListSigner, StatusRegistry
from ._status_fetcher import StatusListFetcher
from ._store import SqliteStatusStore, StatusEntry, StatusStore, StoredStatusList

__all__: list[str] = [
    "AccessTokenRecord",
    "CodeState",
    "DeferredRecord",
    "IssuanceRecord",
    "IssuanceStore",
    "Issuer",
    "IssuerIdentity",
    "IssuerSettings",
    "NotificationRecord",
    "Offer",
    "OfferRecord",
    "PublishedStatusList",
    "SqliteIssuanceStore",
    "SqliteStatusStore",
    "StatusEntry",
    "StatusListFetcher",
    "StatusListSigner",
    "StatusPlace",
    "StatusRegistry",
    "StatusStore",
    "StoredStatusList",
    "configuration_id",
    "create_app",
    "load_settings_file",
]
