"""The pseudonym credential type, in the catalogue's file format but outside the issuable
catalogue: it lives in ``spec/self-issued/pseudonym/`` because only a wallet issues it (to
itself), so no issuer advertises it and no trust list entitles an issuer to it."""

from __future__ import annotations

from functools import cache

from honnin.credential_types import Catalogue, CredentialType, spec_directory

from ._constants import PSEUDONYM_TYPE

__all__ = ["pseudonym_type", "self_issued_catalogue"]


@cache
def self_issued_catalogue() -> Catalogue:
    """The self-issued credential types (``spec/self-issued``), loaded once per process."""
    return Catalogue.load(spec_directory() / "self-issued")


def pseudonym_type() -> CredentialType:
    """The pseudonym type: its ``vct``, ja/en names and labels, claims schema (``sub``)."""
    return self_issued_catalogue().get(PSEUDONYM_TYPE)
