"""The ``Issuer`` role: keys and certificate, batch issuance, status, offers.

Example::

    from issuer import Issuer
    from honnin.credential_types import load_catalogue

    employer = Issuer.create("Example Corp")
    claims = load_catalogue().get("withholding-slip").sample_claims()
    batch = employer.issue("withholding-slip", claims, holder=wallet.binding_keys(8))
    employer.revoke(batch)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography import x509

from honnin.clock import Clock, SystemClock
from honnin.credential_types import Catalogue, CredentialType, load_catalogue
from honnin.credentials import CredentialBatch, CredentialFormat, HolderKey, holder_jwk
from honnin.errors import NotFound, UnknownCredentialType, UnsupportedCredentialFormat
from honnin.identifiers import new_identifier
from honnin.jose import jwk_thumbprint, public_key_from_jwk
from honnin.status import TokenForm

from ._codes import new_secret
from ._formats import DAY, SdJwtVcSigner, check_claim_names, coarse_day
from ._identity import IssuerIdentity, KeyInput, slug
from ._issuance_sqlite import SqliteIssuanceStore
from ._issuance_store import IssuanceRecord, IssuanceStore, StatusPlace
from ._lookup import status_of_credential
from ._mdoc_signer import MdocSigner
from ._offer_desk import OfferDesk
from ._status import PublishedStatusList, StatusListSigner, StatusRegistry
from ._status_fetcher import StatusListFetcher
from ._store import SqliteStatusStore, StatusStore

__all__ = ["Issuer"]

HolderInput = Sequence[HolderKey | Mapping[str, Any]] | HolderKey | Mapping[str, Any]
#: Where status lists are published, under the issuer identifier.
STATUS_PATH = "/status"
#: Status indices reserved per synced store write; a crash wastes at most this many of a
#: 2^20-entry list, and a batch of 8 copies then costs a synced write once in 32 requests.
STATUS_RESERVE = 256


class Issuer(OfferDesk):
    """An organisation that issues credentials: an employer, a doctor, a school, a city.

    ``certificate`` is the trust anchor to give verifiers. Issued copies carry the issuer
    chain (``x5c`` / ``x5chain``), the holder's key, a random status index each and a
    day-rounded ``iat``; nothing in them identifies the batch or the person beyond the claims.
    """

    def __init__(
        self,
        identity: IssuerIdentity,
        *,
        store: IssuanceStore,
        status_store: StatusStore,
        clock: Clock | None = None,
        types: Iterable[str] | None = None,
        catalogue: Catalogue | None = None,
        credential_lifetime_days: int = 365,
        status_list_size: int = 1 << 20,
    ) -> None:
        self.identity = identity
        self.clock: Clock = clock or SystemClock()
        self.catalogue = catalogue or load_catalogue()
        wanted = tuple(types) if types is not None else self.catalogue.ids
        self._types: dict[str, CredentialType] = {t: self.catalogue.get(t) for t in wanted}
        self.store = store
        self.status_store = status_store
        self.credential_lifetime_days = credential_lifetime_days
        self.status = StatusRegistry(
            status_store,
            StatusListSigner(key=identity.key, x5c=tuple(identity.x5chain()), iss=identity.iss),
            base_uri=identity.iss.rstrip("/") + STATUS_PATH,
            clock=self.clock,
            size=status_list_size,
            reserve=STATUS_RESERVE,
            # The lists' collection resource is their aggregation (draft §9).
            aggregation_uri=identity.iss.rstrip("/") + STATUS_PATH,
        )
        self._sd_jwt = SdJwtVcSigner(identity.key, identity.iss, tuple(identity.x5c()))
        self._mdoc = MdocSigner(identity.key, identity.chain)
        self._not_before = math.ceil(identity.chain[0].not_valid_before_utc.timestamp())
        super().__init__(
            identity.iss, store, self.clock, type_of=self.credential_type, check=self.check_claims
        )

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        name: str,
        *,
        iss: str | None = None,
        types: Iterable[str] | None = None,
        store: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
    ) -> Issuer:
        """A new issuer with a fresh P-256 key, a self-signed root and an issuer leaf.

        ``iss`` is the Credential Issuer Identifier (default
        ``https://<name>.issuer.honnin.example``). ``store`` is the SQLite file for offers,
        tokens, issuance records and status lists; without it the state lives in memory
        and ends with the process (fine for tests and demos, not for a service).
        """
        clock = clock or SystemClock()
        iss = iss or f"https://{slug(name)}.issuer.honnin.example"
        identity = IssuerIdentity.generate(name, iss, clock=clock)
        return cls._with_store(identity, store, clock=clock, types=types)

    @classmethod
    def load(
        cls,
        key: KeyInput,
        chain: Sequence[x509.Certificate] | bytes | str | os.PathLike[str],
        *,
        iss: str | None = None,
        name: str | None = None,
        anchor: x509.Certificate | bytes | str | os.PathLike[str] | None = None,
        types: Iterable[str] | None = None,
        store: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
    ) -> Issuer:
        """An issuer from your own key (PEM, JWK or key object) and chain (leaf first).

        ``iss`` defaults to the leaf's URI SAN; ``anchor`` to the chain's last certificate.

        Raises:
            MalformedInput: an unreadable key or chain, or a chain not for this key.
        """
        identity = IssuerIdentity.from_key(key, chain, iss=iss, name=name, anchor=anchor)
        return cls._with_store(identity, store, clock=clock, types=types)

    @classmethod
    def _with_store(
        cls,
        identity: IssuerIdentity,
        store: str | os.PathLike[str] | None,
        *,
        clock: Clock | None,
        types: Iterable[str] | None,
    ) -> Issuer:
        path = ":memory:" if store is None else os.fspath(store)
        return cls(
            identity,
            store=SqliteIssuanceStore(path),
            status_store=SqliteStatusStore(path),
            clock=clock,
            types=types,
        )

    # -- identity ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The organisation's name."""
        return self.identity.name

    @property
    def iss(self) -> str:
        """The Credential Issuer Identifier (``iss`` of SD-JWT VCs)."""
        return self.identity.iss

    @property
    def certificate(self) -> x509.Certificate:
        """The trust anchor to give verifiers (``Verifier.create(trust=[...])``)."""
        return self.identity.anchor

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The certificates sent with each credential, leaf first, anchor excluded."""
        return self.identity.chain

    @property
    def types(self) -> tuple[CredentialType, ...]:
        """The credential types this issuer issues."""
        return tuple(self._types.values())

    def credential_type(self, type_id: str) -> CredentialType:
        """One of this issuer's types.

        Raises:
            UnknownCredentialType: not a type this issuer issues.
        """
        found = self._types.get(type_id)
        if found is None:
            raise UnknownCredentialType(
                f"{self.name} does not issue {type_id!r}", credential_type=type_id
            )
        return found

    def __repr__(self) -> str:
        return f"Issuer(name={self.name!r}, iss={self.iss!r})"

    # -- issuance ------------------------------------------------------------------------

    def issue(
        self,
        type_id: str,
        claims: Mapping[str, Any],
        holder: HolderInput,
        format: CredentialFormat | str = CredentialFormat.SD_JWT_VC,
    ) -> CredentialBatch:
        """Issue one copy of a credential per holder key (a batch for unlinkability).

        The claims are validated against the type's schema first: on ``SchemaViolation``
        nothing is signed and no status index is taken.

        Raises:
            UnknownCredentialType, SchemaViolation, UnsupportedCredentialFormat,
            MalformedInput (a holder key that is not a public JWK), StoreUnavailable.
        """
        credential_type = self.credential_type(type_id)
        fmt = _credential_format(format)
        self.check_claims(credential_type, claims)
        jwks = holder_jwks(holder)
        batch, _ = self.issue_batch(credential_type, claims, fmt, jwks)
        self.sync()  # the batch's record and status binding survive a power cut from here
        return batch

    def check_claims(self, credential_type: CredentialType, claims: Mapping[str, Any]) -> None:
        """Schema and registered-name checks that run before anything is signed."""
        check_claim_names(credential_type.id, claims)
        credential_type.validate(claims)

    def issue_batch(
        self,
        credential_type: CredentialType,
        claims: Mapping[str, Any],
        fmt: CredentialFormat,
        jwks: Sequence[Mapping[str, Any]],
        *,
        offer_id: str | None = None,
        notification: bool = False,
    ) -> tuple[CredentialBatch, IssuanceRecord]:
        """Sign checked claims for checked holder keys (used by ``issue`` and the service).

        The record and the status binding are committed, not yet synced: call ``sync``
        (or let the service's group commit do it) before handing the batch out.
        """
        # A batch id is printed and typed back ('honnin issuer revoke BATCH_ID'): never '-…'.
        batch_id = new_identifier(16)
        copy_ids = [f"{batch_id}.{n}" for n in range(len(jwks))]
        references = self.status.allocate_batch(copy_ids, batch_id=batch_id)
        now = self.clock.now()
        # Day-rounded (IS-40), but never before the signer's notBefore (18013-5 §9.3.1).
        iat = max(coarse_day(now), self._not_before)
        exp = iat + self.credential_lifetime_days * DAY
        if fmt is CredentialFormat.SD_JWT_VC:
            credentials = self._sd_jwt.sign_batch(
                credential_type, claims, holder_jwks=jwks, statuses=references, iat=iat, exp=exp
            )
        else:
            elements = credential_type.to_mdoc(claims)
            credentials = tuple(
                self._mdoc.sign(
                    credential_type.doctype,
                    elements,
                    holder_jwk=jwk,
                    status=ref,
                    signed=iat,
                    valid_until=exp,
                )
                for jwk, ref in zip(jwks, references, strict=True)
            )
        record = IssuanceRecord(
            batch_id=batch_id,
            credential_type=credential_type.id,
            format=fmt,
            status=tuple(StatusPlace(self.status.list_id_of(r), r.idx) for r in references),
            issued_at=now,
            offer_id=offer_id,
            notification_id=new_secret(16) if notification else None,
        )
        self.store.record_issuance(record)
        batch = CredentialBatch(fmt, credential_type.id, credentials, batch_id, self.name)
        return batch, record

    # -- status ----------------------------------------------------------------------------

    def _batch_id(self, target: CredentialBatch | str) -> str:
        if isinstance(target, CredentialBatch):
            return target.batch_id
        if not _is_credential(target):
            # A batch id: the status registry knows it (and says NotFound when it does not).
            return target
        reference = status_of_credential(target)
        if reference is None:
            raise NotFound("the credential carries no status reference", issuer=self.name)
        prefix = self.status.uri_of("")
        if reference.uri.startswith(prefix):
            found = self.store.batch_of(reference.uri[len(prefix) :], reference.idx)
            if found is not None:
                return found
        raise NotFound("no credential issued by this issuer matches", issuer=self.name)

    def revoke(self, target: CredentialBatch | str) -> None:
        """Revoke every copy of a batch (by ``CredentialBatch``, batch id or one copy).

        Raises:
            NotFound: nothing this issuer issued; StoreUnavailable: nothing was changed.
        """
        self.status.revoke_batch(self._batch_id(target))

    def suspend(self, target: CredentialBatch | str) -> None:
        """Suspend every copy of a batch (Token Status List SUSPENDED, §7.1)."""
        self.status.suspend_batch(self._batch_id(target))

    def reinstate(self, target: CredentialBatch | str) -> None:
        """Set every copy of a suspended batch back to VALID.

        Raises:
            PolicyViolation: the batch was revoked (revocation is final).
        """
        self.status.reinstate_batch(self._batch_id(target))

    def status_list_token(
        self, list_id: str | None = None, *, form: TokenForm | str = TokenForm.JWT
    ) -> PublishedStatusList:
        """The signed Status List Token of ``list_id`` (the newest list when omitted), as
        served at ``{iss}/status/{list_id}`` (draft-ietf-oauth-status-list §8).

        Raises:
            NotFound: no such list, or nothing issued yet.
        """
        if list_id is None:
            ids = self.status.list_ids()
            if not ids:
                raise NotFound("no status list yet: nothing has been issued")
            list_id = ids[-1]
        return self.status.publish(list_id, TokenForm(form))

    def status_fetcher(self) -> StatusListFetcher:
        """A ``honnin.ports.Fetcher`` serving this issuer's status lists in process, for a
        verifier in the same process (``Verifier.create(..., fetcher=...)``)."""
        return StatusListFetcher(self.status)

    def sync(self) -> None:
        """Make every change committed so far durable in both stores (``issue`` does it;
        the service does it once for all the answers waiting, ``issuer._wal``).

        Raises:
            StoreUnavailable: a store could not sync.
        """
        self.store.sync()
        self.status_store.sync()

    def close(self) -> None:
        """Close the stores."""
        self.store.close()
        self.status_store.close()


def _is_credential(text: str) -> bool:
    # Batch ids are 22 base64url characters; SD-JWT VCs have '.' and '~', and an mdoc in
    # wire form is base64url of a few kilobytes of CBOR.
    return "~" in text or "." in text or len(text) > 64


def _credential_format(value: CredentialFormat | str) -> CredentialFormat:
    try:
        return CredentialFormat(value)
    except ValueError:
        raise UnsupportedCredentialFormat(
            f"unsupported credential format {value!r}; use dc+sd-jwt or mso_mdoc",
            format=str(value),
        ) from None


def holder_jwks(holder: HolderInput) -> list[dict[str, Any]]:
    """Public JWKs of the holder keys, checked: valid, public, pairwise distinct.

    Raises:
        MalformedInput / UnsupportedAlgorithm: a key that is not a usable public JWK.
        ValueError: no key, a private key, or the same key twice (copies would be linkable).
    """
    keys: Sequence[HolderKey | Mapping[str, Any]]
    # Cheap checks before the runtime-checkable Protocol (which walks its members): a list
    # or tuple is many keys, and a Mapping is tested before HolderKey.
    if isinstance(holder, list | tuple) or not isinstance(holder, Mapping | HolderKey):
        keys = list(holder)
    else:
        keys = [holder]
    if not keys:
        raise ValueError("at least one holder key is needed")
    jwks = [holder_jwk(k) for k in keys]
    seen: set[str] = set()
    for jwk in jwks:
        public_key_from_jwk(jwk)
        thumbprint = jwk_thumbprint(jwk)
        if thumbprint in seen:
            raise ValueError("the same holder key twice: the copies would be linkable")
        seen.add(thumbprint)
    return jwks
