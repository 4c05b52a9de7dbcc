"""How the verifier reads the credential type catalogue (``honnin.credential_types``).

A catalogue claim is named by its SD-JWT VC claims path; in ``mso_mdoc`` it is one data
element ``[namespace, element]`` (OpenID4VP 1.0 §7.2), or, for an object mapped member by
member, one element per member. Claims inside one element (an array entry, a member of an
object mapped whole) cannot be selected in mdoc and are refused rather than over-asked.
"""

from __future__ import annotations

from typing import Any, Final

from honnin.credential_types import Catalogue, CredentialType, load_catalogue
from honnin.dcql import ClaimsPath
from honnin.errors import InvalidDcqlQuery, SchemaViolation

from ._result import path_key

__all__ = [
    "FORMATS",
    "MSO_MDOC",
    "SD_JWT_VC",
    "check_claim",
    "claim_key",
    "claim_label",
    "default_catalogue",
    "meta",
    "wire_paths",
]

SD_JWT_VC: Final = "dc+sd-jwt"
MSO_MDOC: Final = "mso_mdoc"
#: Every catalogue type is issued in both formats; SD-JWT VC is the preferred one.
FORMATS: Final = (SD_JWT_VC, MSO_MDOC)


def default_catalogue() -> Catalogue:
    """The catalogue shipped in ``spec/`` (loaded once per process)."""
    return load_catalogue()


def _unknown(credential_type: CredentialType, path: ClaimsPath, why: str) -> InvalidDcqlQuery:
    return InvalidDcqlQuery(
        f"claim {path_key(path)!r} of {credential_type.id!r} {why}",
        credential_type=credential_type.id,
        claim=path_key(path),
    )


def wire_paths(credential_type: CredentialType, path: ClaimsPath, fmt: str) -> list[ClaimsPath]:
    """The DCQL claims paths that ask for catalogue claim ``path`` in format ``fmt``.

    Raises:
        InvalidDcqlQuery: the type has no such claim, or it is not selectable in mdoc.
    """
    if credential_type.claim(path) is None:
        raise _unknown(credential_type, path, "is not defined by the type")
    if fmt != MSO_MDOC:
        return [path]
    elements = credential_type.mdoc_elements_for(path)
    exact = [e for e in elements if credential_type.mdoc.path_for(*e) is not None]
    whole = len(elements) == 1 and credential_type.mdoc.path_for(*elements[0]) == path
    flattened = len(path) == 1 and len(exact) == len(elements) > 0 and not whole
    if not (whole or flattened):
        raise _unknown(credential_type, path, "lies inside an mdoc data element")
    return [tuple(e) for e in elements]


def check_claim(credential_type: CredentialType, path: ClaimsPath, fmt: str) -> None:
    """Raise ``InvalidDcqlQuery`` unless ``path`` can be asked for in ``fmt``."""
    wire_paths(credential_type, path, fmt)


def meta(credential_type: CredentialType, fmt: str) -> dict[str, Any]:
    """DCQL ``meta``: ``vct_values`` (App. B.3.5) or ``doctype_value`` (App. B.2.3)."""
    if fmt == MSO_MDOC:
        return {"doctype_value": credential_type.doctype}
    return {"vct_values": [credential_type.vct]}


def claim_key(credential_type: CredentialType | None, path: ClaimsPath, fmt: str) -> str:
    """The result key of a DCQL claims path: the catalogue claim an mdoc element stands for,
    else the path as text."""
    if fmt == MSO_MDOC and len(path) == 2 and credential_type is not None:
        namespace, element = path
        if isinstance(namespace, str) and isinstance(element, str):
            found = credential_type.mdoc.path_for(namespace, element)
            return path_key(found) if found is not None else element
    if fmt == MSO_MDOC and len(path) == 2:
        return str(path[1])
    return path_key(path)


def claim_label(catalogue: Catalogue, type_id: str, key: str, language: str) -> str | None:
    """The display label of claim ``key`` of ``type_id`` in ``language``, if known."""
    credential_type = catalogue.find(type_id)
    if credential_type is None:
        return None
    parts = tuple(int(p) if p.isdigit() else (None if p == "*" else p) for p in key.split("."))
    try:
        return credential_type.label(parts, language)
    except SchemaViolation:
        return None
