"""What a consent shows and what a refusal sends: the requested and refused claims, the
credentials that would answer, and the ``access_denied`` answer (OpenID4VP 1.0 §8.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from honnin.oid4vp import VpErrorCode

from ._request import ResolvedRequest

__all__ = ["CredentialChoice", "Refusal", "RefusedClaim", "RequestedClaim"]


def _pick(texts: Mapping[str, str], lang: str, fallback: str) -> str:
    return texts.get(lang) or texts.get(lang.split("-")[0]) or next(iter(texts.values()), fallback)


@dataclass(frozen=True)
class RequestedClaim:
    """A claim that would be sent: ``key`` (``payer.name``), the requested ``path``, labels
    by locale, whether the verifier requires it, and the value(s) (kept out of ``repr``)."""

    key: str
    path: tuple[str | int | None, ...]
    labels: Mapping[str, str]
    required: bool
    value: Any = field(repr=False, default=None)

    def label(self, lang: str = "ja") -> str:
        """The display label in ``lang`` (``ja`` or ``en``)."""
        return _pick(self.labels, lang, self.key)


@dataclass(frozen=True)
class RefusedClaim:
    """A requested claim the wallet will not send, and why.

    ``reason``: ``restricted`` (the trust framework releases it only to verifiers registered
    for it, spec/PROFILE.md §8 rule 3), ``explicit_request_only`` (it is released only when
    a request names it, rule 2; a request for the enclosing object gets the object without
    it) or ``not_registered`` (outside the verifier's registration, ARF RPRC_21: sent only
    with ``approve(allow_unregistered=True)``).
    """

    query_id: str
    key: str
    labels: Mapping[str, str]
    reason: str
    message: str

    def label(self, lang: str = "ja") -> str:
        """The display label in ``lang``."""
        return _pick(self.labels, lang, self.key)


@dataclass(frozen=True)
class CredentialChoice:
    """One credential that would be presented for the Credential Query ``query_id``."""

    query_id: str
    credential_id: str
    credential_type: str
    names: Mapping[str, str]
    format: str
    issuer_name: str
    issuer_trust: str
    copies_left: int
    required: bool
    claims: tuple[RequestedClaim, ...]
    #: Claims of an SD-JWT VC that are never selectively disclosable: always visible.
    always_disclosed: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()

    def name(self, lang: str = "ja") -> str:
        """The credential type's display name in ``lang``."""
        return _pick(self.names, lang, self.credential_type)


@dataclass(frozen=True)
class Refusal:
    """The person's (or the wallet's) "no": an ``access_denied`` error response (§8.5),
    indistinguishable from having no matching credential (ARF RPA_11)."""

    request: ResolvedRequest = field(repr=False)
    #: The request's ``state``, echoed back (§8.5).
    state: str | None = field(repr=False)
    error: str = VpErrorCode.ACCESS_DENIED.value
    error_description: str | None = None

    def to_form(self) -> dict[str, str]:
        """The error response as form fields (OpenID4VP §8.2, §8.5)."""
        form = {"error": self.error}
        if self.error_description:
            form["error_description"] = self.error_description
        if self.state is not None:
            form["state"] = self.state
        return form
