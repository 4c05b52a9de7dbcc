"""Which copy of a credential to present: the usage policies (DESIGN "Unlinkability"; ARF
ISSU_37/43-47, WIAM_21; HOSTILE-CASES WL-34..36).

A credential is a batch of copies, each with its own binding key, salts and status index
(OpenID4VCI 1.0 §15.4.1, RFC 9901 §10.1). The policy decides which copy answers a verifier
and what happens to it afterwards:

* ``once_only`` (default): a fresh copy per presentation, deleted with its key right after
  (WIAM_21): two presentations never share a copy, so they share no bytes but the values.
* ``per_verifier``: one copy per verifier, reused with that verifier only. The verifier can
  recognise the person across its own presentations (linkable by design, like a pseudonym);
  two verifiers never get the same copy.
* ``rotate``: copies are reused in turn, least used first, never deleted. The weakest: a
  copy shown to two verifiers links them. For issuers that cannot re-issue.

Pure: the caller passes the copies with their usage records and applies the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from honnin.errors import NotFound

__all__ = ["DEFAULT_LOW_WATER", "CopyChoice", "CopyUsage", "UsagePlanner", "UsagePolicy"]

#: Fewer fresh copies than this and the wallet says it is running low (ARF ISSU_45: keep a
#: reserve and re-request a batch at the limit).
DEFAULT_LOW_WATER: Final = 2


class UsagePolicy(StrEnum):
    """How the copies of a credential are used (see the module docstring)."""

    ONCE_ONLY = "once_only"
    PER_VERIFIER = "per_verifier"
    ROTATE = "rotate"

    @classmethod
    def parse(cls, value: str | UsagePolicy) -> UsagePolicy:
        """The policy named ``value`` (``once`` is accepted for ``once_only``).

        Raises:
            ValueError: an unknown policy name (a programmer mistake).
        """
        if value == "once":
            return cls.ONCE_ONLY
        return cls(value)


@dataclass(frozen=True, slots=True)
class CopyUsage:
    """One copy of a credential and its usage record.

    ``verifier`` is the (keyed) tag of the verifier the copy is bound to under
    ``per_verifier``, else None; ``uses`` how often it was presented; ``last_used`` a
    monotonic counter or time of its last presentation (None: never).
    """

    id: str
    key_id: str
    verifier: str | None = None
    uses: int = 0
    last_used: float | None = None

    @property
    def fresh(self) -> bool:
        """Never presented and bound to no verifier: unlinkable to anything so far."""
        return self.uses == 0 and self.verifier is None


@dataclass(frozen=True, slots=True)
class CopyChoice:
    """The copy to present and what to do with it once the presentation has left.

    * ``delete``: delete the copy and destroy its key (``once_only``);
    * ``bind_to``: bind the copy to this verifier tag (``per_verifier``, first use);
    * ``reused``: the copy was shown before, so this presentation is linkable to those;
    * ``fresh_left``: fresh copies left after this presentation;
    * ``running_low``: ``fresh_left`` is below the planner's low-water mark (top up).
    """

    copy: CopyUsage
    delete: bool
    bind_to: str | None
    reused: bool
    fresh_left: int
    running_low: bool


class UsagePlanner:
    """Applies a ``UsagePolicy`` to the copies of one credential.

    Example::

        planner = UsagePlanner(UsagePolicy.ONCE_ONLY, low_water=2)
        choice = planner.choose(copies, verifier_tag)
        if choice.running_low:
            app.top_up(credential_id)
    """

    __slots__ = ("low_water", "policy")

    def __init__(self, policy: UsagePolicy | str = UsagePolicy.ONCE_ONLY, *, low_water: int = 2):
        if low_water < 0:
            raise ValueError("low_water must be >= 0")
        self.policy = UsagePolicy.parse(policy)
        self.low_water = low_water

    def __repr__(self) -> str:
        return f"UsagePlanner({self.policy.value!r}, low_water={self.low_water})"

    def available(self, copies: Sequence[CopyUsage], verifier: str) -> int:
        """How many presentations to ``verifier`` the copies still allow (``rotate`` and a
        bound ``per_verifier`` copy allow any number: reported as the copy count)."""
        if self.policy is UsagePolicy.ROTATE:
            return len(copies)
        fresh = sum(1 for c in copies if c.fresh)
        if self.policy is UsagePolicy.PER_VERIFIER and any(c.verifier == verifier for c in copies):
            return max(fresh, 1)
        return fresh

    def fresh_left(self, copies: Sequence[CopyUsage]) -> int:
        """Fresh copies (never shown, bound to nobody)."""
        return sum(1 for c in copies if c.fresh)

    def running_low(self, copies: Sequence[CopyUsage]) -> bool:
        """Whether fewer than ``low_water`` fresh copies are left (ARF ISSU_45)."""
        return self.fresh_left(copies) < self.low_water

    def choose(self, copies: Sequence[CopyUsage], verifier: str) -> CopyChoice:
        """The copy to present to ``verifier`` (its tag), and what happens to it after.

        Copies are considered in the order given (oldest first is a good order).

        Raises:
            NotFound: no copy may be used (``once_only`` / ``per_verifier`` with no fresh
                copy left): ask the issuer for a new batch.
            ValueError: an empty verifier tag.
        """
        if not verifier:
            raise ValueError("a verifier tag is needed")
        fresh = [c for c in copies if c.fresh]
        if self.policy is UsagePolicy.PER_VERIFIER:
            bound = next((c for c in copies if c.verifier == verifier), None)
            if bound is not None:
                return self._choice(bound, fresh, delete=False, bind_to=None, reused=True)
            if fresh:
                return self._choice(fresh[0], fresh, delete=False, bind_to=verifier, reused=False)
        elif self.policy is UsagePolicy.ROTATE:
            # A never-shown copy first; else the least used, least recently used one, so
            # reuse is spread thin over the whole batch.
            usable = [c for c in copies if c.verifier is None] or list(copies)
            if usable:
                chosen = min(
                    enumerate(usable),
                    key=lambda item: (
                        item[1].uses,
                        -1.0 if item[1].last_used is None else item[1].last_used,
                        item[0],
                    ),
                )[1]
                return self._choice(
                    chosen, fresh, delete=False, bind_to=None, reused=chosen.uses > 0
                )
        elif fresh:
            return self._choice(fresh[0], fresh, delete=True, bind_to=None, reused=False)
        raise NotFound(
            "no copy of this credential may be presented any more: ask the issuer for a new batch",
            policy=self.policy.value,
        )

    def _choice(
        self,
        chosen: CopyUsage,
        fresh: Sequence[CopyUsage],
        *,
        delete: bool,
        bind_to: str | None,
        reused: bool,
    ) -> CopyChoice:
        left = len(fresh) - (1 if chosen.fresh else 0)
        return CopyChoice(chosen, delete, bind_to, reused, left, left < self.low_water)

    def withdraw(self, copies: Sequence[CopyUsage], verifier: str) -> tuple[CopyUsage, ...]:
        """The copies to destroy (with their keys) when the person withdraws the standing
        relationship with ``verifier``: every copy bound to it."""
        return tuple(c for c in copies if c.verifier == verifier)
