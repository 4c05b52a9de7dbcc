"""Fast construction of frozen slots dataclasses built on hot paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["slot_setters"]


def slot_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot descriptors' setters of a frozen slots dataclass, for its ``__init__``.

    The ``__init__`` dataclasses generate for a frozen class stores each field through
    ``object.__setattr__``, several times the cost of a slot store; objects built once per
    presentation or verification store through the slot descriptors instead. The instances
    stay frozen (``__setattr__`` still refuses).
    """
    return tuple(cls.__dict__[name].__set__ for name in names)
