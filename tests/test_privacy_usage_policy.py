"""Usage policies (once_only, per_verifier, rotate) as a pure planner, and the running-low
signal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from honnin.errors import NotFound
from wallet._usage_policy import CopyChoice, CopyUsage, UsagePlanner, UsagePolicy


def _copies(count: int) -> list[CopyUsage]:
    return [CopyUsage(f"c{i}", f"k{i}") for i in range(count)]


def _apply(copies: list[CopyUsage], choice: CopyChoice, clock: float) -> list[CopyUsage]:
    """What a wallet does with the decision (the planner itself is pure)."""
    out = []
    for copy in copies:
        if copy.id != choice.copy.id:
            out.append(copy)
        elif not choice.delete:
            out.append(
                replace(
                    copy,
                    uses=copy.uses + 1,
                    last_used=clock,
                    verifier=choice.bind_to or copy.verifier,
                )
            )
    return out


def test_policy_names() -> None:
    assert UsagePolicy.parse("once") is UsagePolicy.ONCE_ONLY
    assert UsagePolicy.parse("per_verifier") is UsagePolicy.PER_VERIFIER
    assert UsagePlanner().policy is UsagePolicy.ONCE_ONLY
    assert repr(UsagePlanner("rotate", low_water=1)) == "UsagePlanner('rotate', low_water=1)"
    with pytest.raises(ValueError):
        UsagePolicy.parse("twice")
    with pytest.raises(ValueError):
        UsagePlanner(low_water=-1)


def test_once_only_uses_each_copy_once_then_deletes_it() -> None:
    planner = UsagePlanner(UsagePolicy.ONCE_ONLY, low_water=2)
    copies, used = _copies(4), []
    for step, verifier in enumerate(["a", "a", "b", "c"]):
        choice = planner.choose(copies, verifier)
        assert choice.delete and choice.bind_to is None and not choice.reused
        used.append(choice.copy.id)
        copies = _apply(copies, choice, step)
        assert choice.fresh_left == len(copies)
    assert used == ["c0", "c1", "c2", "c3"]  # four presentations, four distinct copies
    with pytest.raises(NotFound) as info:
        planner.choose(copies, "d")
    assert info.value.fields["policy"] == "once_only"


def test_once_only_ignores_copies_already_shown() -> None:
    planner = UsagePlanner()
    copies = [CopyUsage("used", "k0", uses=1), CopyUsage("bound", "k1", verifier="x")]
    assert planner.available(copies, "a") == 0
    with pytest.raises(NotFound):
        planner.choose(copies, "a")


def test_running_low_signal() -> None:
    planner = UsagePlanner(low_water=2)
    copies = _copies(3)
    first = planner.choose(copies, "a")
    assert first.fresh_left == 2 and not first.running_low
    copies = _apply(copies, first, 1)
    second = planner.choose(copies, "a")
    assert second.fresh_left == 1 and second.running_low
    assert planner.running_low(_apply(copies, second, 2))
    assert not planner.running_low(_copies(2))
    assert UsagePlanner(low_water=0).choose(_copies(1), "a").running_low is False


def test_per_verifier_reuses_its_copy_with_the_same_verifier_only() -> None:
    planner = UsagePlanner(UsagePolicy.PER_VERIFIER)
    copies = _copies(3)
    first = planner.choose(copies, "agency")
    assert first.bind_to == "agency" and not first.delete and not first.reused
    copies = _apply(copies, first, 1)
    again = planner.choose(copies, "agency")
    assert again.copy.id == first.copy.id and again.reused and again.bind_to is None
    other = planner.choose(copies, "employer")
    assert other.copy.id != first.copy.id and other.bind_to == "employer"
    copies = _apply(copies, other, 2)
    assert planner.available(copies, "agency") == 1  # one fresh left, plus its own copy
    assert planner.available(copies, "bank") == 1


def test_per_verifier_with_no_fresh_copy_left_still_serves_known_verifiers() -> None:
    planner = UsagePlanner(UsagePolicy.PER_VERIFIER)
    copies = [CopyUsage("c0", "k0", verifier="agency", uses=3)]
    assert planner.choose(copies, "agency").copy.id == "c0"
    assert planner.available(copies, "agency") == 1
    assert planner.available(copies, "employer") == 0
    with pytest.raises(NotFound):
        planner.choose(copies, "employer")


def test_withdraw_names_the_verifiers_copies() -> None:
    planner = UsagePlanner(UsagePolicy.PER_VERIFIER)
    copies = [
        CopyUsage("c0", "k0", verifier="agency", uses=1),
        CopyUsage("c1", "k1", verifier="employer", uses=1),
        CopyUsage("c2", "k2"),
    ]
    assert [c.id for c in planner.withdraw(copies, "agency")] == ["c0"]
    assert planner.withdraw(copies, "bank") == ()


def test_rotate_spreads_use_and_never_deletes() -> None:
    planner = UsagePlanner(UsagePolicy.ROTATE, low_water=1)
    copies = _copies(3)
    order = []
    for step in range(7):
        choice = planner.choose(copies, f"v{step}")
        assert not choice.delete and choice.bind_to is None
        assert choice.reused == (step >= 3)
        order.append(choice.copy.id)
        copies = _apply(copies, choice, step)
    assert order == ["c0", "c1", "c2", "c0", "c1", "c2", "c0"]
    assert len(copies) == 3 and planner.available(copies, "x") == 3
    assert planner.running_low(copies)


def test_rotate_prefers_least_recently_used_among_equals() -> None:
    planner = UsagePlanner(UsagePolicy.ROTATE)
    copies = [
        CopyUsage("a", "k0", uses=2, last_used=50.0),
        CopyUsage("b", "k1", uses=2, last_used=10.0),
        CopyUsage("c", "k2", uses=3, last_used=1.0),
    ]
    assert planner.choose(copies, "v").copy.id == "b"


def test_rotate_with_no_copies() -> None:
    with pytest.raises(NotFound):
        UsagePlanner(UsagePolicy.ROTATE).choose([], "v")


def test_empty_verifier_tag_is_a_programmer_error() -> None:
    with pytest.raises(ValueError):
        UsagePlanner().choose(_copies(1), "")
