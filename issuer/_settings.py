"""Settings of the OpenID4VCI issuer service (pydantic-settings; ``HONNIN_ISSUER_*``).

Values come from, highest priority first: keyword arguments (the CLI's flags), a
``--config`` file (``from_file``: TOML with an ``[issuer]`` table, or JSON), ``HONNIN_ISSUER_*``
environment variables, the defaults below. Nothing is read at import time (CONVENTIONS 10):
a settings object exists only where ``IssuerSettings()`` is called.

The field names are shared with ``verifier.VerifierSettings`` (``public_url``, ``key_file``,
``chain_file``, ``store_path``, ``host``, ``port``, ``dev``, ``log_level``, ``access_log``);
the names of earlier releases (``RENAMED``) are still read, with a ``FutureWarning`` when a
file or the environment uses them.
"""

from __future__ import annotations

import json
import os
import tomllib
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from honnin.limits import MAX_CREDENTIAL_BODY

__all__ = ["RENAMED", "IssuerSettings", "load_settings_file"]

_ENV_PREFIX: Final = "HONNIN_ISSUER_"
#: Setting names of earlier releases, still accepted (deprecated): old name -> new name.
RENAMED: Final = {"key_path": "key_file", "chain_path": "chain_file"}


def _renamed(new: str) -> AliasChoices:
    return AliasChoices(new, *(old for old, name in RENAMED.items() if name == new))


def _warn_renamed(names: Iterable[str], where: str) -> None:
    for old in sorted(set(names) & RENAMED.keys()):
        warnings.warn(
            f"{where}: setting {old!r} is deprecated, use {RENAMED[old]!r}",
            FutureWarning,
            stacklevel=3,
        )


class IssuerSettings(BaseSettings):
    """How the issuer service runs. Lifetimes are in seconds.

    ``public_url`` is the Credential Issuer Identifier (OpenID4VCI 1.0 §12.2.1); when unset
    the issuer's ``iss`` is used. ``key_file`` and ``chain_file`` are the issuer's PEM
    private key and certificate chain (leaf first). ``insecure_reasons()`` lists what only
    ``dev`` tolerates.
    """

    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX,
        # The prefix applies to the deprecated names too: HONNIN_ISSUER_KEY_PATH, never a
        # bare KEY_PATH from an unrelated program's environment.
        env_prefix_target="all",
        extra="forbid",
        frozen=True,
    )

    name: str = "honnin issuer"
    public_url: str | None = None
    store_path: str | None = None
    key_file: str | None = Field(default=None, validation_alias=_renamed("key_file"))
    chain_file: str | None = Field(default=None, validation_alias=_renamed("chain_file"))
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    dev: bool = False
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = True

    #: OpenID4VCI 1.0 §12.2.4 ``batch_credential_issuance.batch_size``.
    batch_size: int = Field(default=8, ge=1, le=100)
    #: OpenID4VCI 1.0 §4.1.1 ``tx_code``.
    tx_code_length: int = Field(default=6, ge=4, le=16)
    tx_code_input_mode: Literal["numeric", "text"] = "numeric"
    #: OpenID4VCI 1.0 §13.6.3 / HOSTILE-CASES D4: wrong tx_codes before the code is void.
    tx_code_max_attempts: int = Field(default=5, ge=1, le=20)
    #: Pre-authorized codes are short-lived (OpenID4VCI 1.0 §4.1.1, §13.6.1).
    code_lifetime: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    #: OpenID4VCI 1.0 §13.10: bearer tokens beyond 5 min should be sender-constrained.
    access_token_lifetime: int = Field(default=300, ge=10, le=3600)
    #: RFC 9449 DPoP: a token request with a DPoP proof always gets a DPoP-bound token;
    #: ``dpop_required`` refuses token requests without one (HAIP; OpenID4VCI §13.10:
    #: no bearer tokens), ``dpop_nonce`` makes proofs carry a server nonce (§8, §9).
    #: HOSTILE-CASES IS-30: token requests a minute from one client address before 429
    #: (a token bucket; behind a proxy, set uvicorn's ``forwarded_allow_ips``).
    token_requests_per_minute: int = Field(default=300, ge=1, le=1_000_000)
    #: Wallet attestation (OpenID4VCI App. E): PEM files of the wallet providers' anchors
    #: whose attestations are taken at the PAR and token endpoints; with
    #: ``client_attestation_required`` no request without one is served.
    wallet_provider_anchor_files: tuple[str, ...] = ()
    client_attestation_required: bool = False
    dpop_required: bool = False
    dpop_nonce: bool = False
    #: HOSTILE-CASES D1: single-use ``c_nonce`` with a TTL of at most 5 minutes.
    nonce_lifetime: int = Field(default=300, ge=5, le=300)
    #: OpenID4VCI 1.0 App. F.4: proof ``iat`` window (past), and the clock skew (future).
    proof_max_age: int = Field(default=300, ge=10, le=3600)
    clock_skew: int = Field(default=60, ge=0, le=300)
    #: Credential types whose issuance waits for an approval (OpenID4VCI 1.0 §9).
    deferred_types: tuple[str, ...] = ()
    deferred_interval: int = Field(default=5, ge=1, le=3600)
    deferred_lifetime: int = Field(default=7 * 24 * 3600, ge=60)
    #: Validity of issued credentials, counted from the (day-rounded) issuance date.
    credential_lifetime_days: int = Field(default=365, ge=1, le=3650)
    max_body: int = Field(default=MAX_CREDENTIAL_BODY, ge=1024, le=MAX_CREDENTIAL_BODY)

    def insecure_reasons(self) -> list[str]:
        """Why these settings are only fit for ``--dev`` (empty when fit for production)."""
        reasons = []
        if self.public_url is None or urlsplit(self.public_url).scheme != "https":
            # OpenID4VCI 1.0 §12.2.1: the Credential Issuer Identifier is an https URL.
            reasons.append("public_url must be an https URL")
        if self.key_file is None or self.chain_file is None:
            reasons.append("key_file and chain_file must name the issuer's key and chain")
        if self.store_path is None:
            reasons.append("store_path must name a file (state must survive a restart)")
        return reasons

    @classmethod
    def from_environment(cls, **overrides: Any) -> IssuerSettings:
        """Settings from ``HONNIN_ISSUER_*`` variables and the defaults, ``overrides`` on top.

        Raises:
            ValueError: a value pydantic rejects (``ValidationError``).
        """
        _warn_renamed(_environment_names(), "environment")
        return cls(**overrides)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> IssuerSettings:
        """Settings from a TOML or JSON file (an ``issuer`` table, or top-level keys),
        ``overrides`` on top; environment variables fill what neither sets.

        Raises:
            OSError: the file cannot be read.
            ValueError: not JSON/TOML, or a value pydantic rejects (``ValidationError``).
        """
        raw = Path(path).read_bytes()
        data: Any = (
            tomllib.loads(raw.decode("utf-8")) if str(path).endswith(".toml") else json.loads(raw)
        )
        if isinstance(data, dict):
            data = data.get("issuer", data)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: settings must be an object")
        _warn_renamed(data, str(path))
        _warn_renamed(_environment_names(), "environment")
        return cls(**{**data, **overrides})


def _environment_names() -> list[str]:
    return [
        name[len(_ENV_PREFIX) :].lower()
        for name in os.environ
        if name.upper().startswith(_ENV_PREFIX)
    ]


def load_settings_file(path: str | os.PathLike[str], **overrides: Any) -> IssuerSettings:
    """``IssuerSettings.from_file`` (the name of earlier releases)."""
    return IssuerSettings.from_file(path, **overrides)
