"""Shared pieces for the wallet role tests: an issuer, a verifier that can check the issuer's
status lists in process, wallets, and helpers to re-sign request objects. Holds no tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from honnin.credential_types import load_catalogue
from honnin.errors import FetchError
from honnin.jose import parse_jws, sign_jws
from honnin.ports import FetchedResource
from issuer import Issuer
from verifier import Verifier
from wallet import KdfParams, Wallet

PIN = "314159"
FAST = KdfParams.INSECURE_TEST_ONLY
SLIP = "withholding-slip"
PURPOSE = "unemployment benefit application"


def sample(type_id: str = SLIP) -> dict[str, Any]:
    """The catalogue's realistic sample claims of ``type_id``."""
    return load_catalogue().get(type_id).sample_claims()


class StatusLists:
    """A ``Fetcher`` serving an issuer's status list tokens from the issuer object itself
    (the in-process stand-in for ``GET {iss}/status/{id}``)."""

    def __init__(self, *issuers: Issuer) -> None:
        self.issuers = issuers

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        for issuer in self.issuers:
            prefix = issuer.iss.rstrip("/") + "/status/"
            if url.startswith(prefix):
                token = issuer.status_list_token(url[len(prefix) :])
                return FetchedResource(token.body, token.media_type)
        raise FetchError(f"{url}: not served here", reason="status", status=404)


@dataclass
class Parties:
    """An employer, an agency trusting it, and the status fetcher between them."""

    employer: Issuer
    agency: Verifier

    def wallet(self, path: Path, *, trust: Any = "both", **options: Any) -> Wallet:
        """A fresh wallet; ``trust`` "both" trusts the employer and the agency."""
        if trust == "both":
            trust = [self.employer.certificate, self.agency.certificate]
        return Wallet.open(path, PIN, kdf=FAST, trust=trust, **options)

    def stocked(
        self, path: Path, *, copies: int = 4, fmt: str = "dc+sd-jwt", **options: Any
    ) -> Wallet:
        """A wallet holding one withholding slip in ``copies`` copies."""
        wallet = self.wallet(path, **options)
        batch = self.employer.issue(SLIP, sample(), holder=wallet.binding_keys(copies), format=fmt)
        wallet.accept(batch)
        return wallet


def parties(name: str = "Hello Work", **verifier_options: Any) -> Parties:
    employer = Issuer.create("Example Corp")
    agency = Verifier.create(
        name, trust=[employer.certificate], fetcher=StatusLists(employer), **verifier_options
    )
    return Parties(employer, agency)


def resign(jar: str, key: Any, *, header: dict[str, Any] | None = None, **changes: Any) -> str:
    """``jar`` with its claims changed (``None`` deletes) and signed again by ``key``."""
    jws = parse_jws(jar)
    claims = jws.unverified_claims()
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    new_header = {k: v for k, v in jws.header.items() if k != "alg"}
    new_header.update(header or {})
    return sign_jws(claims, key, header=new_header)
