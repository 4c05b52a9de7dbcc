"""The wallet's pairwise pseudonyms (spec/PROFILE.md "Pairwise pseudonyms"; DESIGN
"Pseudonyms").

A verifier asks for the pseudonym type in its DCQL query; the wallet answers with a
self-issued proof from the key it derives for that verifier alone
(``honnin.pseudonym.derive_pairwise_key``): HKDF from the wallet secret
(``Vault.secret``), the verifier's client_id and a per-relationship random salt. The salt is
made when the pseudonym is first presented and stored under a keyed tag of the verifier (no
verifier name in the vault); withdrawing the relationship deletes it, and the old key can
never be derived again. Considering a request writes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final

from honnin.errors import WalletCorrupted
from honnin.pseudonym import (
    PSEUDONYM_TYPE,
    PSEUDONYM_VCT,
    PairwiseKey,
    build_pseudonym_proof,
    derive_pairwise_key,
    is_pseudonym_query,
    pseudonym_type,
)

from ._holdings import HeldCredential
from ._vault import Vault

__all__ = ["PSEUDONYM_ID", "Pseudonyms", "is_pseudonym_query"]

#: The id of the pseudonym in consents and plans (never a stored credential's id: those are
#: random base64url of 16 characters).
PSEUDONYM_ID: Final = "pseudonym"
_SECRET: Final = "wallet.pseudonym"  # noqa: S105 - a secret's name, not a secret
_RELATIONSHIP_KIND: Final = "pseudonym_relationship"
_SALT_SIZE: Final = 16


class Pseudonyms:
    """Pairwise keys and proofs over an open ``Vault``; ``tag_of`` maps a client_id to the
    keyed verifier tag the holdings use."""

    def __init__(self, vault: Vault, tag_of: Callable[[str], str]) -> None:
        self._vault = vault
        self._tag_of = tag_of
        self._pending: dict[str, bytes] = {}

    def _salt(self, tag: str) -> tuple[bytes, bool]:
        """The relationship salt and whether it is stored already."""
        record = self._vault.get(_RELATIONSHIP_KIND, tag)
        if record is not None:
            if not isinstance(record.value, bytes) or len(record.value) != _SALT_SIZE:
                raise WalletCorrupted(
                    "a pseudonym relationship is malformed", record=f"{_RELATIONSHIP_KIND}/{tag}"
                )
            return bytes(record.value), True
        pending = self._pending.setdefault(tag, secrets.token_bytes(_SALT_SIZE))
        return pending, False

    def key_for(self, client_id: str) -> PairwiseKey:
        """The pairwise key of ``client_id`` (nothing is written)."""
        salt, _ = self._salt(self._tag_of(client_id))
        return derive_pairwise_key(self._vault.secret(_SECRET), client_id, relationship=salt)

    def held(self, client_id: str) -> HeldCredential:
        """The pseudonym as a held credential, for matching and the consent screen."""
        ctype = pseudonym_type()
        return HeldCredential(
            id=PSEUDONYM_ID,
            credential_type=PSEUDONYM_TYPE,
            format="dc+sd-jwt",
            type_value=PSEUDONYM_VCT,
            issuer="self",
            issuer_name="this wallet",
            trust="self_issued",
            copies=1,
            accepted_at=0.0,
            valid_until=None,
            names={lang: ctype.name(lang) for lang in ("ja", "en")},
            claims={"sub": self.key_for(client_id).pseudonym},
            authorities={},  # self-issued: no issuer chain (OpenID4VP 1.0 §6.1.1)
        )

    def proof(self, client_id: str, nonce: str, iat: int) -> str:
        """The proof for one request; a new relationship's salt is stored now (inside the
        caller's transaction, with the presentation)."""
        tag = self._tag_of(client_id)
        salt, stored = self._salt(tag)
        if not stored:
            self._vault.put(_RELATIONSHIP_KIND, tag, salt)
            self._pending.pop(tag, None)
        key = derive_pairwise_key(self._vault.secret(_SECRET), client_id, relationship=salt)
        return build_pseudonym_proof(key, aud=client_id, nonce=nonce, iat=iat)

    def forget(self, client_id: str) -> bool:
        """Delete the relationship salt (its key cannot be derived again); ``False`` when
        there was none."""
        tag = self._tag_of(client_id)
        self._pending.pop(tag, None)
        return self._vault.delete(_RELATIONSHIP_KIND, tag)
