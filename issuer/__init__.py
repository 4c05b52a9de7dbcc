"""The issuer role of honnin."""

from ._status import PublishedStatusList, StatusListSigner, StatusRegistry
from ._store import SqliteStatusStore, StatusEntry, StatusStore, StoredStatusList

__all__: list[str] = [
    "PublishedStatusList",
    "SqliteStatusStore",
    "StatusEntry",
    "StatusListSigner",
    "StatusRegistry",
    "StatusStore",
    "StoredStatusList",
]
