"""Core types the roles exchange in process: credential formats, holder keys, batches.

Over HTTP the same values travel as OpenID4VCI credential responses; these types are the
in-process form of that wire data, so the issuer, wallet and verifier packages (which never
import each other) can hand credentials to each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

__all__ = ["CredentialBatch", "CredentialFormat", "HolderKey", "holder_jwk"]


class CredentialFormat(StrEnum):
    """Credential format identifiers (OpenID4VCI 1.0 Appendix A; OpenID4VP 1.0 Appendix B)."""

    SD_JWT_VC = "dc+sd-jwt"
    MSO_MDOC = "mso_mdoc"


@runtime_checkable
class HolderKey(Protocol):
    """Anything that names a holder's public binding key as a JWK."""

    @property
    def public_jwk(self) -> Mapping[str, Any]:
        """The public JWK (RFC 7517) of the binding key."""
        ...


def holder_jwk(key: HolderKey | Mapping[str, Any]) -> dict[str, Any]:
    """The public JWK of ``key``; private members are refused (a holder key is public)."""
    # A Mapping first: isinstance against a runtime-checkable Protocol walks its members
    # (tens of microseconds), and a JWK dict is the common case.
    jwk = dict(key) if isinstance(key, Mapping) else dict(key.public_jwk)
    if "d" in jwk:
        raise ValueError("a holder binding key must be public; the JWK carries 'd'")
    return jwk


@dataclass(frozen=True, slots=True)
class CredentialBatch:
    """Copies of one credential, each bound to its own holder key.

    ``credentials`` hold the OpenID4VCI credential-response form of each copy: the SD-JWT VC
    compact serialization, or for ``mso_mdoc`` the base64url of the IssuerSigned CBOR
    (OpenID4VCI 1.0 Appendix A.2.4). ``batch_id`` lets the issuer revoke every copy together.
    """

    format: CredentialFormat
    credential_type: str
    credentials: tuple[str, ...]
    batch_id: str
    issuer_name: str = ""

    def __len__(self) -> int:
        return len(self.credentials)

    def __repr__(self) -> str:
        return (
            f"CredentialBatch(format={self.format.value!r}, credential_type="
            f"{self.credential_type!r}, copies={len(self.credentials)}, batch_id={self.batch_id!r})"
        )
