"""The wallet role of honnin."""

from ._keywrap import KdfParams, KeyWrapper
from ._signer import Signer
from ._vault import Vault
from ._vault_records import Entry, Record

__all__: list[str] = ["Entry", "KdfParams", "KeyWrapper", "Record", "Signer", "Vault"]
