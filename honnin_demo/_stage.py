"""The demo's world on embedded defaults: a test PKI and trust list, an issuer service and a
verifier service on loopback HTTP, their state in SQLite files in one directory.

Nothing here is demo-only technology: the issuer is ``issuer.Issuer`` served by
``issuer.create_app``, the verifier ``verifier.Verifier`` served by ``verifier.create_app``,
each in development mode (plain HTTP on 127.0.0.1, test-PKI keys). With ``register=True``
the verifier also carries a registration the trust framework's registrar signed for the
scenario's purpose and required claims (spec/PROFILE.md "Verifier registrations").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from honnin.clock import Clock, SystemClock, as_datetime
from honnin.http import HttpxFetcher
from honnin.registration import VerifiedRegistration, build_registration, verify_registration
from honnin.trust import TestPki, TrustList, make_test_pki
from issuer import Issuer, IssuerSettings
from issuer import create_app as issuer_app
from verifier import SqliteTransactionStore, Verifier, VerifierSettings
from verifier import create_app as verifier_app

from ._loopback import LoopbackServer
from ._scenarios import Scenario

__all__ = ["REGISTRATION_LIFETIME", "VERIFIER_HOST", "Stage"]

#: The verifier's DNS name: its client_id is ``x509_san_dns:localhost`` and its
#: response_uri must be on that host (OpenID4VP 1.0 §5.9.3).
VERIFIER_HOST: Final = "localhost"
#: How long the registrar's registration lasts (spec/PROFILE.md: at most 12 months).
REGISTRATION_LIFETIME: Final = 180 * 86_400


def _register(
    scenario: Scenario, pki: TestPki, trust: TrustList, now: float
) -> VerifiedRegistration:
    """The registrar signs what the verifier's procedure needs: the scenario's purpose and
    required claims, nothing more (its optional claims, e.g. the My Number, are left out)."""
    issued_at = int(now)
    token = build_registration(
        client_id=f"x509_san_dns:{VERIFIER_HOST}",
        name=scenario.verifier_name,
        purpose=scenario.purpose,
        lang="en",
        entitlements={scenario.credential_type: [k.split(".") for k in scenario.required]},
        key=pki.registrar.private_key,
        chain=pki.registrar.chain,
        issued_at=issued_at,
        expires_at=issued_at + REGISTRATION_LIFETIME,
    )
    # Verified as a wallet will: against the trust list's registrars, for this client_id.
    return verify_registration(
        token,
        registrar_anchors=trust.registrar_anchors,
        client_id=f"x509_san_dns:{VERIFIER_HOST}",
        now=now,
    )


@dataclass
class Stage:
    """The running issuer and verifier of one scenario (``Stage.open`` ... ``close``).

    ``registration`` is the verifier's registration as the trust list's registrar anchors
    verify it (None when the stage was opened without ``register``).
    """

    scenario: Scenario
    directory: Path
    pki: TestPki
    trust: TrustList
    issuer: Issuer
    verifier: Verifier
    issuer_server: LoopbackServer
    verifier_server: LoopbackServer
    transactions: SqliteTransactionStore
    api_token: str = field(repr=False)
    registration: VerifiedRegistration | None = None
    #: The verifier's status-list client (its connections are closed with the stage).
    status_fetcher: HttpxFetcher | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        scenario: Scenario,
        directory: Path,
        *,
        clock: Clock | None = None,
        register: bool = False,
        issuer_settings: IssuerSettings | None = None,
    ) -> Stage:
        """Generate the PKI and trust list into ``directory`` and start both services.

        With ``register`` the verifier carries a registrar-signed registration for the
        scenario's purpose and required claims, and refuses any request beyond it
        (HOSTILE-CASES VS-37). ``issuer_settings`` replace the issuer service's development
        defaults.
        """
        clock = clock or SystemClock()
        issuer_server = LoopbackServer()
        verifier_server = LoopbackServer(VERIFIER_HOST)
        try:
            return cls._build(
                scenario, directory, clock, issuer_server, verifier_server, register,
                issuer_settings or IssuerSettings(dev=True),
            )  # fmt: skip
        except BaseException:
            issuer_server.stop()
            verifier_server.stop()
            raise

    @classmethod
    def _build(
        cls,
        scenario: Scenario,
        directory: Path,
        clock: Clock,
        issuer_server: LoopbackServer,
        verifier_server: LoopbackServer,
        register: bool,
        issuer_settings: IssuerSettings,
    ) -> Stage:
        # One trust framework: a root CA for issuers (each entitled to its credential type
        # only), an access CA for verifiers, and the default restricted claims (My Number).
        pki = make_test_pki(
            [scenario.issuer_name],
            issuer_urls={scenario.issuer_name: issuer_server.url},
            verifier_dns=VERIFIER_HOST,
            verifier_name=scenario.verifier_name,
            now=as_datetime(clock),
        )
        pki.write(directory / "trust", {scenario.issuer_name: [scenario.credential_type]})
        trust = TrustList.load(directory / "trust" / "trust-list.json")

        leaf = pki.issuer(scenario.issuer_name)
        issuer = Issuer.load(
            leaf.private_key,
            leaf.chain,
            iss=issuer_server.url,
            name=scenario.issuer_name,
            anchor=pki.root.certificate,
            types=[scenario.credential_type],
            store=directory / "issuer.sqlite3",
            clock=clock,
        )
        issuer_server.start(issuer_app(issuer, issuer_settings))

        registration = _register(scenario, pki, trust, clock.now()) if register else None
        token = secrets.token_urlsafe(32)
        transactions = SqliteTransactionStore(directory / "verifier.sqlite3")
        status_fetcher = HttpxFetcher()
        verifier = Verifier.load(
            scenario.verifier_name,
            key=pki.verifier.private_key,
            chain=pki.verifier.chain,
            trust=trust,
            base_url=verifier_server.url,
            store=transactions,
            clock=clock,
            fetcher=status_fetcher,
            registrations=[registration.token] if registration is not None else [],
        )
        settings = VerifierSettings(
            public_url=verifier_server.url, dev=True, api_token=SecretStr(token)
        )
        verifier_server.start(verifier_app(verifier, settings))
        return cls(
            scenario,
            directory,
            pki,
            trust,
            issuer,
            verifier,
            issuer_server,
            verifier_server,
            transactions,
            token,
            registration,
            status_fetcher,
        )

    @property
    def request_uri_base(self) -> str:
        """Where the verifier service serves request objects by reference."""
        return f"{self.verifier_server.url}/request"

    def close(self) -> None:
        """Stop both services and close the issuer's store."""
        self.verifier_server.stop()
        self.issuer_server.stop()
        self.issuer.close()
        self.transactions.close()
        if self.status_fetcher is not None:
            self.status_fetcher.close()

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
