"""The issuer's Token Status List registry (draft-ietf-oauth-status-list-20 §12, §13).

Indices are drawn uniformly at random from the unused ones (never sequential: an index must
not reveal issuance order, §12.5, HAIP §6.1, ARF VCR_17), every copy of a batch gets its own
index in the same list (one URI, so the copies share a herd, §13.3), and revocation,
suspension and reinstatement go through the store in one transaction each.

With ``reserve=1`` every allocation is one synced store transaction. A larger ``reserve``
draws random indices in blocks of that many, reserves each block in one synced transaction
and hands its indices out from memory, binding each batch in a lighter transaction (see
``issuer._store``): an index is still never given twice, and a crash of the process wastes
at most the unbound rest of a block. The published
token is rebuilt when the list's version in the store changes, and served from a cache
otherwise.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from honnin.clock import Clock
from honnin.errors import NotFound, StoreUnavailable
from honnin.jose import JwsAlgorithm, PrivateKey
from honnin.status import (
    StatusList,
    StatusReference,
    StatusValue,
    TokenForm,
    ZlibStrategy,
    build_status_list_aggregation,
    build_status_list_cwt,
    build_status_list_jwt,
)

from ._status_allocator import Allocator as _Allocator
from ._store import StatusEntry, StatusStore, StoredStatusList

__all__ = ["PublishedStatusList", "StatusListSigner", "StatusRegistry"]


@dataclass(frozen=True, slots=True)
class StatusListSigner:
    """The key a Status List Token is signed with, and what names it in the header.

    ``x5c`` holds DER certificates, leaf first, without the trust anchor (HAIP §6.1).
    """

    key: PrivateKey
    kid: str | None = None
    x5c: tuple[bytes, ...] = ()
    alg: JwsAlgorithm | None = None
    iss: str | None = None


@dataclass(frozen=True, slots=True)
class PublishedStatusList:
    """A signed Status List Token ready to serve at ``uri`` with ``media_type`` (§8.2)."""

    uri: str
    form: TokenForm
    body: bytes
    media_type: str
    iat: int
    exp: int
    version: int


class StatusRegistry:
    """Allocates status indices, changes statuses and publishes Status List Tokens.

    ``size`` entries per list (2^20 by default, for herd privacy, §12.1), ``bits`` per
    entry (2 by default: VALID, INVALID, SUSPENDED and one application value). A revocation
    is final unless ``revocation_is_final=False``. The token is signed with ``ttl`` (how
    long verifiers may cache it, §5.1) and ``lifetime`` (``exp - iat``); a cached token is
    re-signed once half its lifetime has passed.

    >>> registry = StatusRegistry(SqliteStatusStore("status.db"), signer,
    ...                           base_uri="https://issuer.example/status", clock=clock)
    >>> ref = registry.allocate("credential-1")
    >>> registry.revoke("credential-1")
    >>> registry.publish(registry.list_id_of(ref))
    """

    def __init__(
        self,
        store: StatusStore,
        signer: StatusListSigner,
        *,
        base_uri: str,
        clock: Clock,
        size: int = 1 << 20,
        bits: int = 2,
        ttl: int = 300,
        lifetime: int = 24 * 3600,
        revocation_is_final: bool = True,
        level: int = 9,
        strategy: ZlibStrategy = ZlibStrategy.RLE,
        randbelow: Callable[[int], int] = secrets.randbelow,
        reserve: int = 1,
        aggregation_uri: str | None = None,
    ) -> None:
        if bits not in (1, 2, 4, 8):
            raise ValueError("bits must be 1, 2, 4 or 8 (draft §4.1)")
        if size <= 0 or size * bits > 8 * 16 * 1024 * 1024:
            raise ValueError("size must be positive and the list at most 16 MiB")
        if ttl <= 0 or lifetime <= 0:
            raise ValueError("ttl and lifetime must be positive")
        if reserve < 1:
            raise ValueError("reserve must be at least 1")
        self._store = store
        self._signer = signer
        self._base_uri = base_uri.rstrip("/")
        #: draft §9.2: every published list names the aggregation of all of them.
        self.aggregation_uri = aggregation_uri
        self._clock = clock
        self._size = size
        self._bits = bits
        self._ttl = ttl
        self._lifetime = lifetime
        self._final = frozenset({int(StatusValue.INVALID)}) if revocation_is_final else frozenset()
        self._level = level
        self._strategy = strategy
        self._randbelow = randbelow
        self._reserve = reserve
        #: Per list, reserved indices not yet handed out, in the random order they were drawn.
        self._pools: dict[str, list[int]] = {}
        self._lock = threading.RLock()
        self._allocators: dict[str, _Allocator] = {}
        self._lists: dict[str, StoredStatusList] = {}
        self._built: dict[str, tuple[int, StatusList]] = {}
        self._published: dict[tuple[str, TokenForm], PublishedStatusList] = {}

    # -- allocation ------------------------------------------------------------------------

    def uri_of(self, list_id: str) -> str:
        """The URI a list is published at; Referenced Tokens carry it as ``uri`` (§6.2)."""
        return f"{self._base_uri}/{list_id}"

    def list_id_of(self, reference: StatusReference) -> str:
        """The list id behind a reference this registry made (``NotFound`` otherwise)."""
        prefix = self._base_uri + "/"
        list_id = reference.uri[len(prefix) :] if reference.uri.startswith(prefix) else ""
        if not list_id or self._list(list_id) is None:
            raise NotFound("not a status list of this registry", uri=reference.uri)
        return list_id

    def allocate(self, credential_id: str, *, batch_id: str | None = None) -> StatusReference:
        """A fresh random index for one credential copy (§12.5, §13.4)."""
        return self.allocate_batch([credential_id], batch_id=batch_id)[0]

    def allocate_batch(
        self, credential_ids: Sequence[str], *, batch_id: str | None = None
    ) -> list[StatusReference]:
        """One random index per copy, all in one list and one transaction (§13.3).

        Raises:
            ValueError: a credential id that already holds an index, or more copies than
                a list holds.
            StoreUnavailable: the store failed (nothing was allocated).
        """
        if not credential_ids or len(credential_ids) > self._size:
            raise ValueError(f"a batch has 1 to {self._size} credential ids")
        if self._reserve > 1:
            return self._allocate_reserved(credential_ids, batch_id)
        with self._lock:
            for _attempt in range(8):
                list_id, allocator = self._list_with_room(len(credential_ids))
                chosen: set[int] = set()
                entries = []
                for credential_id in credential_ids:
                    idx = allocator.pick(self._randbelow, chosen)
                    chosen.add(idx)
                    entries.append((idx, credential_id))
                if self._store.allocate(list_id, entries, batch_id=batch_id):
                    for idx in chosen:
                        allocator.mark(idx)
                    uri = self.uri_of(list_id)
                    return [StatusReference(uri=uri, idx=idx) for idx, _ in entries]
                # Another process took one of the indices: re-read the list and draw again.
                self._allocators.pop(list_id, None)
                self._lists.clear()
        raise StoreUnavailable("could not allocate status indices", operation="allocate")

    def _allocate_reserved(
        self, credential_ids: Sequence[str], batch_id: str | None
    ) -> list[StatusReference]:
        if len(set(credential_ids)) != len(credential_ids):
            raise ValueError("credential ids in one allocation must be distinct")
        needed = len(credential_ids)
        with self._lock:
            list_id, pool = self._pool_with(needed)
            indices = pool[-needed:]
            del pool[-needed:]
            try:
                self._store.bind(
                    list_id, list(zip(indices, credential_ids, strict=True)), batch_id=batch_id
                )
            except BaseException:
                pool.extend(indices)  # still reserved: nothing was bound
                raise
            uri = self.uri_of(list_id)
            return [StatusReference(uri=uri, idx=idx) for idx in indices]

    def _pool_with(self, needed: int) -> tuple[str, list[int]]:
        """A list whose reserved pool holds ``needed`` indices, reserving a block if not."""
        for list_id, pool in self._pools.items():
            if len(pool) >= needed:
                return list_id, pool
        for _attempt in range(8):
            list_id, allocator = self._list_with_room(needed)
            pool = self._pools.setdefault(list_id, [])
            count = min(max(self._reserve, needed - len(pool)), allocator.free)
            chosen: set[int] = set()
            drawn = []
            for _ in range(count):
                idx = allocator.pick(self._randbelow, chosen)
                chosen.add(idx)
                drawn.append(idx)
            if self._store.reserve(list_id, drawn):
                for idx in drawn:
                    allocator.mark(idx)
                pool.extend(drawn)
                if len(pool) >= needed:
                    return list_id, pool
                continue
            # Another process took one of the indices: re-read the list and draw again.
            self._allocators.pop(list_id, None)
            self._lists.clear()
        raise StoreUnavailable("could not reserve status indices", operation="allocate")

    def _list_with_room(self, needed: int) -> tuple[str, _Allocator]:
        if not self._lists:
            self._lists = {stored.list_id: stored for stored in self._store.lists()}
        for stored in reversed(list(self._lists.values())):
            if stored.size != self._size or stored.bits != self._bits:
                continue  # lists from an older configuration stay as they are
            loaded = self._allocators.get(stored.list_id)
            spare = len(self._pools.get(stored.list_id, ()))
            free = (loaded.free if loaded else stored.size - stored.allocated) + spare
            if free < needed:
                continue  # full lists are never loaded into memory
            allocator = self._allocator(stored)
            if allocator.free + spare >= needed:
                return stored.list_id, allocator
        list_id = secrets.token_urlsafe(12)  # random: a list id says nothing about order
        self._store.create_list(
            list_id, size=self._size, bits=self._bits, created_at=int(self._clock.now())
        )
        self._lists.clear()
        created = self._list(list_id)
        assert created is not None
        return list_id, self._allocator(created)

    def _allocator(self, stored: StoredStatusList) -> _Allocator:
        allocator = self._allocators.get(stored.list_id)
        if allocator is None:
            taken = self._store.taken_indices(stored.list_id)
            allocator = self._allocators[stored.list_id] = _Allocator(stored.size, taken)
        return allocator

    def _list(self, list_id: str) -> StoredStatusList | None:
        with self._lock:
            if list_id not in self._lists:
                self._lists = {stored.list_id: stored for stored in self._store.lists()}
            return self._lists.get(list_id)

    # -- status changes ----------------------------------------------------------------------

    def revoke(self, credential_id: str) -> None:
        """Set one copy to INVALID (§7.1). ``NotFound`` for an unknown credential id."""
        self._set(StatusValue.INVALID, credential_id=credential_id)

    def suspend(self, credential_id: str) -> None:
        """Set one copy to SUSPENDED (§7.1); needs ``bits >= 2``."""
        self._set(StatusValue.SUSPENDED, credential_id=credential_id)

    def reinstate(self, credential_id: str) -> None:
        """Set one copy back to VALID (§7.1)."""
        self._set(StatusValue.VALID, credential_id=credential_id)

    def revoke_batch(self, batch_id: str) -> None:
        """Revoke every copy of a batch, in one transaction."""
        self._set(StatusValue.INVALID, batch_id=batch_id)

    def suspend_batch(self, batch_id: str) -> None:
        """Suspend every copy of a batch, in one transaction."""
        self._set(StatusValue.SUSPENDED, batch_id=batch_id)

    def reinstate_batch(self, batch_id: str) -> None:
        """Reinstate every copy of a batch, in one transaction."""
        self._set(StatusValue.VALID, batch_id=batch_id)

    def set_status(self, credential_id: str, value: int) -> None:
        """Set any value that fits in ``bits`` (application-specific values, §7.1)."""
        self._set(value, credential_id=credential_id)

    def _set(
        self, value: int, *, credential_id: str | None = None, batch_id: str | None = None
    ) -> None:
        if not 0 <= value < (1 << self._bits):
            raise ValueError(f"status {value:#x} does not fit in {self._bits} bits")
        # A final status (revocation, unless configured otherwise) refuses the change:
        # the store raises PolicyViolation and writes nothing, for one copy or a batch.
        before = self._store.set_status(
            credential_id=credential_id, batch_id=batch_id, status=int(value), final=self._final
        )
        if not before:
            raise NotFound(
                "no status entry for this credential" if credential_id else "no such batch",
                credential_id=credential_id,
                batch_id=batch_id,
            )

    def status_of(self, credential_id: str) -> int:
        """The stored status of one copy (compare with ``StatusValue``)."""
        return self._entry(credential_id).status

    def reference_of(self, credential_id: str) -> StatusReference:
        """The ``status_list`` reference of one copy (§6.2)."""
        entry = self._entry(credential_id)
        return StatusReference(uri=self.uri_of(entry.list_id), idx=entry.idx)

    def _entry(self, credential_id: str) -> StatusEntry:
        found = self._store.entries(credential_id=credential_id)
        if not found:
            raise NotFound("no status entry for this credential", credential_id=credential_id)
        return found[0]

    # -- publication -------------------------------------------------------------------------

    def list_ids(self) -> list[str]:
        """Every list this registry's store holds, oldest first."""
        return [stored.list_id for stored in self._store.lists()]

    def aggregation(self) -> dict[str, Any]:
        """The Status List Aggregation of every list, oldest first (draft §9.3)."""
        return build_status_list_aggregation(self.uri_of(i) for i in self.list_ids())

    def publish(self, list_id: str, form: TokenForm = TokenForm.JWT) -> PublishedStatusList:
        """The current signed Status List Token of ``list_id`` (§5).

        Rebuilt when the store's version of the list changed (a status change anywhere,
        also from another process) or half its lifetime has passed; cached otherwise.

        Raises:
            NotFound: an unknown list id.
            StoreUnavailable: the store failed.
        """
        stored = self._list(list_id)
        if stored is None:
            raise NotFound("no such status list", list_id=list_id)
        now = int(self._clock.now())
        version = self._store.version(list_id)
        cached = self._published.get((list_id, form))
        if (
            cached is not None
            and cached.version == version
            and now < cached.iat + self._lifetime // 2
        ):
            return cached
        version, status_list = self._current_list(stored, version)
        published = self._sign(list_id, form, status_list, version, now)
        self._published[(list_id, form)] = published
        return published

    def _current_list(
        self, stored: StoredStatusList, version: int | None
    ) -> tuple[int, StatusList]:
        built = self._built.get(stored.list_id)
        if built is not None and built[0] == version:
            return built
        version, rows = self._store.snapshot(stored.list_id)
        status_list = StatusList(stored.size, stored.bits, aggregation_uri=self.aggregation_uri)
        for idx, value in rows:
            status_list.set(idx, value)
        self._built[stored.list_id] = (version, status_list)
        return version, status_list

    def _sign(
        self, list_id: str, form: TokenForm, status_list: StatusList, version: int, now: int
    ) -> PublishedStatusList:
        signer = self._signer
        uri = self.uri_of(list_id)
        exp = now + self._lifetime
        if form is TokenForm.JWT:
            body = build_status_list_jwt(
                status_list,
                sub=uri,
                key=signer.key,
                iat=now,
                exp=exp,
                ttl=self._ttl,
                iss=signer.iss,
                kid=signer.kid,
                x5c=signer.x5c,
                alg=signer.alg,
                level=self._level,
                strategy=self._strategy,
            ).encode("ascii")
        else:
            body = build_status_list_cwt(
                status_list,
                sub=uri,
                key=signer.key,
                iat=now,
                exp=exp,
                ttl=self._ttl,
                iss=signer.iss,
                kid=signer.kid.encode() if signer.kid is not None else None,
                x5c=signer.x5c,
                level=self._level,
                strategy=self._strategy,
            )
        return PublishedStatusList(
            uri=uri,
            form=form,
            body=body,
            media_type=form.media_type,
            iat=now,
            exp=exp,
            version=version,
        )
