"""Group commit for the SQLite stores: one fsync of the write-ahead log makes every
transaction committed before it durable.

The stores commit with ``synchronous=NORMAL`` (WAL): a commit is written to the ``-wal`` file
but not synced, so it survives a crash of the process and not yet a power cut. SQLite's
own ``synchronous=FULL`` is exactly an fsync of that file at each commit; ``WalSync`` does
the same fsync once for all the commits that are waiting, without holding SQLite's write lock
(https://sqlite.org/wal.html, https://sqlite.org/pragma.html#pragma_synchronous: with
NORMAL the log is synced before each checkpoint and the database after it, so frames that a
checkpoint copied and the log then reuses are already synced in the database file).
``SyncGroup`` lets the issuer service hold an answer until a sync that began after its
commit has finished, sharing one fsync among every answer waiting for it.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable

from honnin.errors import StoreUnavailable

__all__ = ["SyncGroup", "WalSync"]


class WalSync:
    """fsync of the ``-wal`` file of the SQLite database at ``path`` (nothing for
    ``:memory:``). Open it once the database is in WAL mode and has been written to."""

    def __init__(self, path: str) -> None:
        self._fd: int | None = None
        if path != ":memory:":
            try:
                self._fd = os.open(path + "-wal", os.O_RDONLY)
            except OSError as exc:
                raise StoreUnavailable(f"cannot open the log of {path!r}: {exc}") from exc

    def sync(self) -> None:
        """Make every transaction committed so far durable.

        Raises:
            StoreUnavailable: the fsync failed (nothing can be promised).
        """
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise StoreUnavailable(f"cannot sync the store: {exc}", operation="sync") from exc

    def close(self) -> None:
        """Close the file descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SyncGroup:
    """Waits for durability in groups: ``await durable()`` returns once a ``sync`` that
    began after the call has finished; one sync (in a worker thread, off the event loop)
    serves every caller waiting when it begins.

    Under load (the previous sync began less than ``busy`` seconds ago) a sync waits
    ``gather`` seconds before it begins, so that the answers being computed meanwhile join
    it (PostgreSQL's ``commit_delay`` idea): with 32 wallets the server is busy anyway, and
    fewer syncs leave more of the core to the answers. An idle service syncs at once.
    """

    def __init__(
        self, sync: Callable[[], None], *, gather: float = 0.004, busy: float = 0.02
    ) -> None:
        self._sync = sync
        self._gather = gather
        self._busy = busy
        self._began = 0  # syncs whose fsync has begun
        self._finished = 0  # the latest generation known durable
        self._last_began = -math.inf
        self._next: asyncio.Future[None] | None = None

    async def durable(self) -> None:
        """Return when everything committed before this call is durable.

        Raises:
            StoreUnavailable: the sync failed.
        """
        wanted = self._began + 1  # the first sync to begin after this call
        while self._finished < wanted:
            if self._next is None:
                self._next = asyncio.ensure_future(self._run())
            # Shielded: one caller going away must not cancel the sync the others wait for.
            await asyncio.shield(self._next)

    async def _run(self) -> None:
        # The state changes before this task is done, so a caller that finds it done also
        # finds ``_finished`` (or a free slot) up to date.
        try:
            loop = asyncio.get_running_loop()
            if loop.time() - self._last_began < self._busy:
                await asyncio.sleep(self._gather)
            self._last_began = loop.time()
            self._began += 1
            generation = self._began
            await loop.run_in_executor(None, self._sync)
            self._finished = max(self._finished, generation)
        finally:
            self._next = None
