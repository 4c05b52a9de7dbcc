"""Settings of the verifier HTTP service (pydantic-settings; ``HONNIN_VERIFIER_*`` variables,
or a TOML / JSON file given to ``honnin verifier serve --config``).

Insecure choices are allowed only in development mode (``dev``): plain-HTTP public URLs, no
back-office token, a generated test-PKI verifier key and trusting whatever anchors were
given. ``problems()`` names what a production configuration still lacks.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from honnin.limits import MAX_DIRECT_POST_BODY

__all__ = ["VerifierSettings"]

_MIN_TOKEN = 32


class VerifierSettings(BaseSettings):
    """Configuration of ``verifier.create_app`` and ``honnin verifier serve``.

    ``public_base_url`` is where wallets reach the service: ``request_uri`` and
    ``response_uri`` are built from it (OpenID4VP 1.0 §5.10, §8.2). ``api_token`` protects
    the back-office endpoints (``POST /transactions`` and the result), which OpenID4VP §13.3
    requires to be protected. ``transaction_lifetime`` bounds how long a request can be
    fetched and answered; results are kept ``result_retention`` seconds after that.
    """

    model_config = SettingsConfigDict(env_prefix="HONNIN_VERIFIER_", extra="forbid", frozen=True)

    public_base_url: str = "http://127.0.0.1:8400"
    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=0, le=65535)
    store_path: str = "verifier.sqlite3"
    transaction_lifetime: int = Field(default=300, ge=10, le=3600)
    result_retention: int = Field(default=3600, ge=0, le=30 * 24 * 3600)
    long_poll_max: int = Field(default=60, ge=0, le=300)
    max_body: int = Field(default=MAX_DIRECT_POST_BODY, ge=1024, le=16 * MAX_DIRECT_POST_BODY)
    response_mode: Literal["direct_post", "direct_post.jwt"] = "direct_post.jwt"
    verify_concurrency: int = Field(default=4, ge=1, le=64)
    api_token: SecretStr | None = None
    dev: bool = False
    # The verifier identity, used by ``honnin verifier serve`` to build the Verifier.
    name: str = "honnin verifier"
    client_id_prefix: Literal["x509_san_dns", "x509_hash"] = "x509_san_dns"
    key_file: str | None = None
    certificate_file: str | None = None
    trust_list_file: str | None = None
    trust_anchor_files: tuple[str, ...] = ()
    redirect_uri: str | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> VerifierSettings:
        """Settings from a TOML (``.toml``) or JSON file; ``overrides`` win over the file,
        environment variables fill what neither sets."""
        file = Path(path)
        raw = file.read_bytes()
        data: dict[str, Any] = (
            tomllib.loads(raw.decode("utf-8")) if file.suffix == ".toml" else json.loads(raw)
        )
        section = data.get("verifier", data)
        if not isinstance(section, dict):
            raise ValueError(f"{file}: expected a table of verifier settings")
        return cls(**{**section, **overrides})

    @property
    def base_url(self) -> str:
        """``public_base_url`` without a trailing slash."""
        return self.public_base_url.rstrip("/")

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
        url = urlsplit(self.public_base_url)
        if url.scheme != "https" or not url.hostname:
            found.append("public_base_url must be an https URL (OpenID4VP 1.0 §5.10, §8.2)")
        token = self.api_token.get_secret_value() if self.api_token else ""
        if len(token) < _MIN_TOKEN:
            found.append(f"api_token of at least {_MIN_TOKEN} characters is required")
        if self.redirect_uri is not None and not self.redirect_uri.startswith("https://"):
            found.append("redirect_uri must be https")
        return found

    def identity_problems(self) -> list[str]:
        """What the verifier identity settings (for ``honnin verifier serve``) still lack."""
        found = []
        if self.key_file is None or self.certificate_file is None:
            found.append("key_file and certificate_file (the verifier's own key) are required")
        if self.trust_list_file is None and not self.trust_anchor_files:
            found.append("trust_list_file or trust_anchor_files is required")
        return found

    def problems(self) -> list[str]:
        """Everything that makes this configuration unfit outside development mode."""
        return self.service_problems() + self.identity_problems()
