"""Claims path pointer processing (OpenID4VP 1.0 §7.1.1 for JSON, §7.2.1 for mdoc)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from honnin.errors import ClaimsPathError, InvalidDcqlQuery

from ._models import ClaimsPath, check_claims_path


def _is_array(value: object) -> bool:
    return isinstance(value, list | tuple)


def select_claims(credential: Mapping[str, Any], path: Sequence[str | int | None]) -> list[Any]:
    """Apply a claims path pointer to a JSON credential and return the selected elements.

    ``credential`` is the credential's claim set as JSON (for SD-JWT VC: the payload with
    every disclosure applied). Follows OpenID4VP 1.0 §7.1.1 step by step.

    Raises:
        InvalidDcqlQuery: the pointer itself is malformed (§7, §7.1.1 step 2.4).
        ClaimsPathError: a component meets the wrong JSON type (``reason="type_mismatch"``)
            or the selection ends empty (``reason="not_found"``).

    >>> select_claims({"degrees": [{"type": "BSc"}, {"type": "MSc"}]}, ["degrees", None, "type"])
    ['BSc', 'MSc']
    """
    pointer = check_claims_path(list(path))
    # §7.1.1 step 1: start from the root element, the top-level JSON object.
    if not isinstance(credential, Mapping):
        raise ClaimsPathError(
            "the credential root is not a JSON object", path=list(pointer), reason="type_mismatch"
        )
    selection: list[Any] = [credential]
    for component in pointer:
        if isinstance(component, str):
            # §7.1.1 step 2.1: every selected element must be an object; missing keys drop out.
            _require(selection, Mapping, pointer, "object")
            selection = [element[component] for element in selection if component in element]
        elif component is None:
            # §7.1.1 step 2.2: all elements of every selected array.
            _require(selection, (list, tuple), pointer, "array")
            selection = [item for element in selection for item in element]
        else:
            # §7.1.1 step 2.3: the index in every selected array; short arrays drop out.
            _require(selection, (list, tuple), pointer, "array")
            selection = [element[component] for element in selection if component < len(element)]
    if not selection:
        # §7.1.1 step 3: an empty selection is an error.
        raise ClaimsPathError(
            "the claims path selects nothing in the credential",
            path=list(pointer),
            reason="not_found",
        )
    return selection


def _require(
    selection: list[Any], kind: type | tuple[type, ...], pointer: ClaimsPath, name: str
) -> None:
    for element in selection:
        if not isinstance(element, kind) or isinstance(element, str):
            raise ClaimsPathError(
                f"a claims path component needs a JSON {name} here",
                path=list(pointer),
                reason="type_mismatch",
            )


def select_mdoc_claim(
    namespaces: Mapping[str, Mapping[str, Any]], path: Sequence[str | int | None]
) -> Any:
    """Apply a claims path pointer to an mdoc's namespaces (OpenID4VP 1.0 §7.2.1).

    ``namespaces`` maps namespace → data element identifier → value.

    Raises:
        InvalidDcqlQuery: the pointer is not exactly two strings (§7.2.1 step 1).
        ClaimsPathError: the namespace or data element does not exist (steps 2 and 3).
    """
    pointer = check_claims_path(list(path))
    if len(pointer) != 2 or not all(isinstance(c, str) for c in pointer):
        raise InvalidDcqlQuery("an mdoc claims path is [namespace, data element] (§7.2.1)")
    namespace, element = pointer
    assert isinstance(namespace, str) and isinstance(element, str)
    elements = namespaces.get(namespace)
    if not isinstance(elements, Mapping) or element not in elements:
        raise ClaimsPathError(
            "the mdoc has no such namespace or data element", path=list(pointer), reason="not_found"
        )
    return elements[element]
