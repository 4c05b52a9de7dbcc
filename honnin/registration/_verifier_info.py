"""The ``verifier_info`` form of a registration (OpenID4VP 1.0 §5.11): an attestation object
``{"format": "honnin_registration", "data": "<registration JWT>"}`` in the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from honnin.errors import MalformedInput

from ._constants import VERIFIER_INFO_FORMAT

__all__ = ["registration_from_verifier_info", "verifier_info_entry"]


def verifier_info_entry(token: str) -> dict[str, str]:
    """The ``verifier_info`` entry carrying the registration ``token`` (§5.11: ``format`` and
    ``data``; no ``credential_ids``, since it concerns the whole request)."""
    return {"format": VERIFIER_INFO_FORMAT, "data": token}


def _member(entry: Any, name: str) -> Any:
    # Accepts the pydantic ``honnin.oid4vp.VerifierInfo`` and plain JSON objects alike, so
    # this format module needs no protocol import.
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def registration_from_verifier_info(entries: Iterable[Any] | None) -> str | None:
    """The registration JWT in a request's ``verifier_info``, or None when there is none.

    Entries of other formats are ignored (§5.11 lets ecosystems define their own).

    Raises:
        MalformedInput: more than one registration, or one whose ``data`` is not a string.
    """
    found = [e for e in entries or () if _member(e, "format") == VERIFIER_INFO_FORMAT]
    if not found:
        return None
    if len(found) > 1:
        raise MalformedInput(
            "a request carries more than one verifier registration", field="verifier_info"
        )
    data = _member(found[0], "data")
    if not isinstance(data, str) or not data:
        raise MalformedInput(
            "a verifier registration in verifier_info is a JWT string", field="verifier_info"
        )
    return data
