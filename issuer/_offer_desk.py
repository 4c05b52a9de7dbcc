"""The back office's desk: make credential offers (one or many), approve deferred issuance.

The claims are checked against the type's schema when the offer is made, so a bad row in
a payroll export fails at the desk, not when the employee scans the QR code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from honnin.clock import Clock
from honnin.credential_types import CredentialType
from honnin.credentials import CredentialFormat
from honnin.errors import UnsupportedCredentialFormat
from honnin.identifiers import new_identifier
from honnin.oid4vci import TxCodeInputMode

from ._codes import new_secret, new_tx_code, secret_hash, tx_code_hash
from ._issuance_store import DeferredRecord, IssuanceStore, OfferRecord
from ._offer_files import read_claims_file
from ._offers import (
    Offer,
    build_authorization_offer_document,
    build_offer_document,
    configuration_id,
    issuer_state_hash,
    offer_uri,
    seal_offer,
)

__all__ = ["OfferDesk"]

TypeLookup = Callable[[str], CredentialType]
ClaimsCheck = Callable[[CredentialType, Mapping[str, Any]], None]


class OfferDesk:
    """Makes offers for one issuer and keeps them in its store."""

    def __init__(
        self,
        credential_issuer: str,
        store: IssuanceStore,
        clock: Clock,
        *,
        type_of: TypeLookup,
        check: ClaimsCheck,
    ) -> None:
        self._credential_issuer = credential_issuer
        self._store = store
        self._clock = clock
        self._type_of = type_of
        self._check = check

    def create_offer(
        self,
        type_id: str,
        claims: Mapping[str, Any],
        *,
        format: CredentialFormat | str = CredentialFormat.SD_JWT_VC,
        tx_code: bool = True,
        tx_code_length: int = 6,
        tx_code_input_mode: TxCodeInputMode | str = TxCodeInputMode.NUMERIC,
        tx_code_description: str | None = None,
        by_reference: bool = False,
        deferred: bool = False,
        lifetime: int = 300,
        flow: str = "pre-authorized_code",
    ) -> Offer:
        """An offer of ``type_id`` with ``claims`` for one person (OpenID4VCI 1.0 §4.1).

        The pre-authorized code lives ``lifetime`` seconds and is single-use; with
        ``tx_code`` the wallet must also send the Transaction Code, which ``Offer.tx_code``
        holds for the back office to send by another channel. ``deferred`` makes the
        credential wait for ``approve(offer)`` (OpenID4VCI 1.0 §9).

        ``flow="authorization_code"`` offers an authorization code grant instead (§3.4): the
        wallet pushes an authorization request with the offer's ``issuer_state`` (PAR, PKCE),
        the person approves at the issuer, and the code is exchanged at the token endpoint.
        There is no ``tx_code`` then; ``lifetime`` bounds the whole flow (the code must be
        exchanged before the offer expires).

        Raises:
            UnknownCredentialType, SchemaViolation, UnsupportedCredentialFormat.
        """
        self._check(self._type_of(type_id), claims)
        return self._make(
            type_id, claims, format=format, tx_code=tx_code, tx_code_length=tx_code_length,
            tx_code_input_mode=TxCodeInputMode(tx_code_input_mode),
            tx_code_description=tx_code_description, by_reference=by_reference,
            deferred=deferred, lifetime=lifetime, flow=flow,
        )  # fmt: skip

    def create_offers(
        self, claims_list: Sequence[Mapping[str, Any]], type_id: str, **options: Any
    ) -> list[Offer]:
        """One offer per claims set; every set is checked before any offer is made."""
        credential_type = self._type_of(type_id)
        for claims in claims_list:
            self._check(credential_type, claims)
        return [self.create_offer(type_id, claims, **options) for claims in claims_list]

    def create_offers_from_file(
        self, path: str | os.PathLike[str], type_id: str, **options: Any
    ) -> list[Offer]:
        """Offers for every person in a JSON (a list of claims objects, or ``{"claims":
        [...]}``) or CSV file (one row per person, dotted column names for nested claims,
        cells coerced by the type's schema).

        Raises:
            MalformedInput: an unreadable file; SchemaViolation: a row that breaks the
            schema (then no offer at all is made).
        """
        schema = self._type_of(type_id).claims_schema()
        return self.create_offers(read_claims_file(path, schema), type_id, **options)

    def _make(
        self,
        type_id: str,
        claims: Mapping[str, Any],
        *,
        format: CredentialFormat | str,
        tx_code: bool,
        tx_code_length: int,
        tx_code_input_mode: TxCodeInputMode,
        tx_code_description: str | None,
        by_reference: bool,
        deferred: bool,
        lifetime: int,
        flow: str = "pre-authorized_code",
    ) -> Offer:
        if flow not in ("pre-authorized_code", "authorization_code"):
            raise ValueError("flow is 'pre-authorized_code' or 'authorization_code'")
        try:
            fmt = CredentialFormat(format)
        except ValueError:
            raise UnsupportedCredentialFormat(
                f"unsupported credential format {format!r}", format=str(format)
            ) from None
        if lifetime <= 0:
            raise ValueError("lifetime must be positive")
        config_id = configuration_id(type_id, fmt)
        code = new_secret()
        if flow == "authorization_code":
            # §4.1.1: issuer_state binds the authorization request to this offer; no tx_code.
            tx = None
            document = build_authorization_offer_document(self._credential_issuer, config_id, code)
            code_hash = issuer_state_hash(code)
        else:
            tx = new_tx_code(tx_code_length, tx_code_input_mode) if tx_code else None
            document = build_offer_document(
                self._credential_issuer, config_id, code,
                tx_code_length=tx_code_length if tx_code else None,
                tx_code_input_mode=tx_code_input_mode, tx_code_description=tx_code_description,
            )  # fmt: skip
            code_hash = secret_hash(code)
        ref = new_secret() if by_reference else None
        now = self._clock.now()
        record = OfferRecord(
            offer_id=new_identifier(12),
            credential_type=type_id,
            configuration_id=config_id,
            format=fmt,
            claims=dict(claims),
            code_hash=code_hash,
            tx_code_hash=tx_code_hash(code, tx) if tx is not None else None,
            created_at=now,
            code_expires_at=now + lifetime,
            deferred=deferred,
        )
        self._store.add_offer(
            record,
            ref_hash=secret_hash(ref) if ref is not None else None,
            sealed=seal_offer(document, ref) if ref is not None else None,
        )
        return Offer(
            offer_id=record.offer_id,
            credential_type=type_id,
            configuration_id=config_id,
            format=fmt,
            uri=offer_uri(document, credential_issuer=self._credential_issuer, ref=ref),
            tx_code=tx,
            expires_at=record.code_expires_at,
            by_reference=by_reference,
            deferred=deferred,
            flow=flow,
        )

    def approve(self, offer: Offer | str) -> int:
        """Approve the deferred issuance of an offer; how many pending requests it released.

        The wallet gets the credential on its next deferred credential request.
        """
        offer_id = offer.offer_id if isinstance(offer, Offer) else offer
        return self._store.approve_deferred(offer_id)

    def pending(self) -> list[DeferredRecord]:
        """Deferred requests waiting for ``approve``."""
        return self._store.pending_deferred()

    def offered(self, offer_ids: Iterable[str]) -> list[OfferRecord]:
        """The stored offers with these ids (unknown ids are skipped)."""
        found = (self._store.offer(offer_id) for offer_id in offer_ids)
        return [record for record in found if record is not None]
