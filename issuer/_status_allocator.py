"""Which indices of one status list are taken: a bitmap with per-block free counts, and
uniform random picks among the free ones (draft-ietf-oauth-status-list-20 §12.5)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["Allocator"]

_BLOCK = 4096  # entries per free-count block of the allocator
_POPCOUNT = bytes(bin(b).count("1") for b in range(256))


class Allocator:
    """Which indices of one list are taken, with per-block free counts.

    Rejection sampling is uniform and needs at most 4 draws on average while a quarter of
    the list is free; below that, the r-th free index is found through the block counts,
    which is just as uniform and stays fast on a nearly full list.
    """

    def __init__(self, size: int, taken: Sequence[int]) -> None:
        self.size = size
        self.bitmap = bytearray((size + 7) // 8)
        self.block_free = [min(_BLOCK, size - start) for start in range(0, size, _BLOCK)]
        self.free = size
        for idx in taken:
            self.mark(idx)

    def is_taken(self, idx: int) -> bool:
        return bool(self.bitmap[idx >> 3] & (1 << (idx & 7)))

    def mark(self, idx: int) -> None:
        if not self.is_taken(idx):
            self.bitmap[idx >> 3] |= 1 << (idx & 7)
            self.block_free[idx // _BLOCK] -= 1
            self.free -= 1

    def pick(self, randbelow: Callable[[int], int], exclude: set[int]) -> int:
        if (self.free - len(exclude)) * 4 > self.size:
            while True:
                idx = randbelow(self.size)
                if idx not in exclude and not self.is_taken(idx):
                    return idx
        while True:
            idx = self._nth_free(randbelow(self.free))
            if idx not in exclude:
                return idx

    def _nth_free(self, rank: int) -> int:
        block = 0
        for block, count in enumerate(self.block_free):  # noqa: B007 - block is used below
            if rank < count:
                break
            rank -= count
        start = block * _BLOCK
        for pos in range(start >> 3, (min(start + _BLOCK, self.size) + 7) >> 3):
            byte = self.bitmap[pos]
            free_here = 8 - _POPCOUNT[byte]
            if rank >= free_here:
                rank -= free_here
                continue
            for bit in range(8):
                if not byte & (1 << bit):
                    if rank == 0:
                        return (pos << 3) | bit
                    rank -= 1
        raise AssertionError("free counts and bitmap disagree")  # pragma: no cover
