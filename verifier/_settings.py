"""Settings of the verifier HTTP service (pydantic-settings; ``HONNIN_VERIFIER_*`` variables,
or a TOML / JSON file given to ``honnin verifier serve --config``).

Values come from, highest priority first: keyword arguments (the CLI's flags), a file
(``from_file``: TOML with a ``[verifier]`` table, or JSON), ``HONNIN_VERIFIER_*`` environment
variables, the defaults below. The field names are shared with ``issuer.IssuerSettings``
(``public_url``, ``key_file``, ``chain_file``, ``store_path``, ``host``, ``port``, ``dev``,
``log_level``, ``access_log``); the names of earlier releases (``RENAMED``) are still read,
with a ``FutureWarning`` when a file or the environment uses them.

Insecure choices are allowed only in development mode (``dev``): plain-HTTP public URLs, no
back-office token, a generated test-PKI verifier key and trusting whatever anchors were
given. ``insecure_reasons()`` names what a production configuration still lacks.
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

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from honnin.limits import MAX_DIRECT_POST_BODY

__all__ = ["RENAMED", "VerifierSettings"]

_MIN_TOKEN = 32
_ENV_PREFIX: Final = "HONNIN_VERIFIER_"
#: Setting names of earlier releases, still accepted (deprecated): old name -> new name.
RENAMED: Final = {
    "public_base_url": "public_url",
    "key_path": "key_file",
    "certificate_file": "chain_file",
    "chain_path": "chain_file",
}


def _renamed(new: str) -> AliasChoices:
    return AliasChoices(new, *(old for old, name in RENAMED.items() if name == new))


def _warn_renamed(names: Iterable[str], where: str) -> None:
    for old in sorted(set(names) & RENAMED.keys()):
        warnings.warn(
            f"{where}: setting {old!r} is deprecated, use {RENAMED[old]!r}",
            FutureWarning,
            stacklevel=3,
        )


class VerifierSettings(BaseSettings):
    """Configuration of ``verifier.create_app`` and ``honnin verifier serve``.

    ``public_url`` is where wallets reach the service: ``request_uri`` and ``response_uri``
    are built from it (OpenID4VP 1.0 §5.10, §8.2); unset, ``http://{host}:{port}`` (only
    ``dev`` accepts that). ``api_token`` protects the back-office endpoints
    (``POST /transactions`` and the result), which OpenID4VP §13.3 requires to be protected.
    ``transaction_lifetime`` bounds how long a request can be fetched and answered; results
    are kept ``result_retention`` seconds after that. ``key_file`` and ``chain_file`` are the
    verifier's own PEM key and certificate chain (leaf first); ``trust_list_file`` or
    ``trust_anchor_files`` say which issuers it trusts. ``registration_files`` hold the
    registrations a registrar signed for this verifier, one JWT per file and purpose; each
    request carries the one for its purpose in ``verifier_info`` (OpenID4VP 1.0 §5.11;
    spec/PROFILE.md "Verifier registrations").
    """

    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX,
        # The prefix applies to the deprecated names too: HONNIN_VERIFIER_PUBLIC_BASE_URL,
        # never a bare PUBLIC_BASE_URL from an unrelated program's environment.
        env_prefix_target="all",
        extra="forbid",
        frozen=True,
    )

    public_url: str | None = Field(default=None, validation_alias=_renamed("public_url"))
    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=0, le=65535)
    store_path: str = "verifier.sqlite3"
    dev: bool = False
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = True
    transaction_lifetime: int = Field(default=300, ge=10, le=3600)
    result_retention: int = Field(default=3600, ge=0, le=30 * 24 * 3600)
    long_poll_max: int = Field(default=60, ge=0, le=300)
    max_body: int = Field(default=MAX_DIRECT_POST_BODY, ge=1024, le=16 * MAX_DIRECT_POST_BODY)
    response_mode: Literal["direct_post", "direct_post.jwt"] = "direct_post.jwt"
    verify_concurrency: int = Field(default=4, ge=1, le=64)
    api_token: SecretStr | None = None
    # The verifier identity, used by ``honnin verifier serve`` to build the Verifier.
    name: str = "honnin verifier"
    client_id_prefix: Literal["x509_san_dns", "x509_hash"] = "x509_san_dns"
    key_file: str | None = Field(default=None, validation_alias=_renamed("key_file"))
    chain_file: str | None = Field(default=None, validation_alias=_renamed("chain_file"))
    trust_list_file: str | None = None
    trust_anchor_files: tuple[str, ...] = ()
    registration_files: tuple[str, ...] = ()
    redirect_uri: str | None = None

    @classmethod
    def from_environment(cls, **overrides: Any) -> VerifierSettings:
        """Settings from ``HONNIN_VERIFIER_*`` variables and the defaults, ``overrides`` on
        top.

        Raises:
            ValueError: a value pydantic rejects (``ValidationError``).
        """
        _warn_renamed(_environment_names(), "environment")
        return cls(**overrides)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> VerifierSettings:
        """Settings from a TOML or JSON file (a ``verifier`` table, or top-level keys);
        ``overrides`` win over the file, environment variables fill what neither sets.

        Raises:
            OSError: the file cannot be read.
            ValueError: not JSON/TOML, or a value pydantic rejects (``ValidationError``).
        """
        file = Path(path)
        raw = file.read_bytes()
        data: Any = (
            tomllib.loads(raw.decode("utf-8")) if file.suffix == ".toml" else json.loads(raw)
        )
        section = data.get("verifier", data) if isinstance(data, dict) else data
        if not isinstance(section, dict):
            raise ValueError(f"{file}: expected a table of verifier settings")
        _warn_renamed(section, str(file))
        _warn_renamed(_environment_names(), "environment")
        return cls(**{**section, **overrides})

    @property
    def base_url(self) -> str:
        """``public_url`` (or ``http://{host}:{port}``) without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def response_uri(self) -> str:
        """Where wallets post their responses (OpenID4VP 1.0 §8.2)."""
        return f"{self.base_url}/response"

    def request_uri(self, request_id: str) -> str:
        """Where wallets fetch the signed request object of ``request_id`` (§5.10)."""
        return f"{self.base_url}/request/{request_id}"

    def service_problems(self) -> list[str]:
        """What makes the HTTP service settings unfit outside development mode."""
        found = []
        url = urlsplit(self.public_url or "")
        if url.scheme != "https" or not url.hostname:
            found.append("public_url must be an https URL (OpenID4VP 1.0 §5.10, §8.2)")
        token = self.api_token.get_secret_value() if self.api_token else ""
        if len(token) < _MIN_TOKEN:
            found.append(f"api_token of at least {_MIN_TOKEN} characters is required")
        if self.redirect_uri is not None and not self.redirect_uri.startswith("https://"):
            found.append("redirect_uri must be https")
        return found

    def identity_problems(self) -> list[str]:
        """What the verifier identity settings (for ``honnin verifier serve``) still lack."""
        found = []
        if self.key_file is None or self.chain_file is None:
            found.append("key_file and chain_file (the verifier's own key) are required")
        if self.trust_list_file is None and not self.trust_anchor_files:
            found.append("trust_list_file or trust_anchor_files is required")
        return found

    def insecure_reasons(self) -> list[str]:
        """Why these settings are only fit for ``dev`` (empty when fit for production)."""
        return self.service_problems() + self.identity_problems()

    def problems(self) -> list[str]:
        """``insecure_reasons()`` (the name of earlier releases)."""
        return self.insecure_reasons()


def _environment_names() -> list[str]:
    return [
        name[len(_ENV_PREFIX) :].lower()
        for name in os.environ
        if name.upper().startswith(_ENV_PREFIX)
    ]
