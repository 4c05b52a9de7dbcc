"""Claim paths of type metadata (SD-JWT VC §5.6.1): member names, array indices and ``None``
for every element of an array (the same shape as OpenID4VP 1.0 §7 claims path pointers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

__all__ = ["ClaimPath", "expand", "matches", "pattern_of", "render"]

#: A claim path: ``("payer", "name")``, ``("dependents", 0)`` or ``("dependents", None)``.
ClaimPath: TypeAlias = tuple[str | int | None, ...]


def matches(pattern: ClaimPath, path: ClaimPath) -> bool:
    """Whether concrete (or pattern) ``path`` is selected by ``pattern`` (``None`` matches any
    index, and itself)."""
    if len(pattern) != len(path):
        return False
    for want, got in zip(pattern, path, strict=True):
        if want is None:
            if got is not None and not (isinstance(got, int) and not isinstance(got, bool)):
                return False
        elif want != got or type(want) is not type(got):
            return False
    return True


def pattern_of(path: ClaimPath) -> ClaimPath:
    """``path`` with every array index replaced by ``None``."""
    return tuple(None if isinstance(p, int) and not isinstance(p, bool) else p for p in path)


def expand(pattern: ClaimPath, claims: Any) -> Iterator[tuple[ClaimPath, Any]]:
    """Every concrete path in ``claims`` that ``pattern`` selects, with its value (document
    order; paths that do not exist are skipped)."""
    stack: list[tuple[int, ClaimPath, Any]] = [(0, (), claims)]
    while stack:
        depth, prefix, node = stack.pop()
        if depth == len(pattern):
            yield prefix, node
            continue
        step = pattern[depth]
        if isinstance(step, str):
            if isinstance(node, dict) and step in node:
                stack.append((depth + 1, (*prefix, step), node[step]))
        elif isinstance(node, list):
            indices = range(len(node)) if step is None else [step]
            for index in reversed(indices):
                if 0 <= index < len(node):
                    stack.append((depth + 1, (*prefix, index), node[index]))


def render(path: ClaimPath) -> str:
    """A readable path for messages: ``payer.name``, ``dependents[0].name``, ``dependents[*]``."""
    out = ""
    for step in path:
        if step is None:
            out += "[*]"
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + step
    return out or "(root)"
