"""Verifier registrations on the wallet side (spec/PROFILE.md §8; ARF RPRC_17/21; HOSTILE-CASES
WL-09, D8): a registered verifier may receive the My Number; over-asking and invalid
registrations are shown and blocked unless the person explicitly allows them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, StatusLists, resign, sample

from honnin.clock import SystemClock
from honnin.errors import PolicyViolation
from honnin.jose import parse_jws
from honnin.registration import build_registration, verifier_info_entry
from honnin.trust import CertifiedKey, TestPki, TrustList, make_test_pki
from issuer import Issuer
from verifier import Query, Verifier
from wallet import Wallet


@dataclass
class Framework:
    pki: TestPki
    employer: Issuer
    agency: Verifier
    trust: TrustList

    def registration(
        self,
        entitlements: dict[str, list[list[str]]],
        *,
        purpose: str = PURPOSE,
        registrar: CertifiedKey | None = None,
        client_id: str | None = None,
    ) -> str:
        now = int(SystemClock().now())
        signer = registrar or self.pki.registrar
        return build_registration(
            client_id=client_id or self.agency.client_id, name="Hello Work", purpose=purpose,
            entitlements=entitlements, key=signer.private_key, chain=signer.chain,
            issued_at=now, expires_at=now + 86400,
        )  # fmt: skip

    def request(self, *claims: str, token: str | None) -> tuple[str, Any]:
        """A signed request for ``claims`` carrying the registration ``token``."""
        request = self.agency.request(Query.of(SLIP, *claims), purpose=PURPOSE)
        jar = request.request_object
        if token is not None:
            info = parse_jws(jar).unverified_claims()["verifier_info"]
            jar = resign(
                jar, self.agency.identity.private_key,
                verifier_info=[*info, verifier_info_entry(token)],
            )  # fmt: skip
        return jar, request


@pytest.fixture(scope="module")
def framework() -> Framework:
    pki = make_test_pki(["Example Corp"], verifier_name="Hello Work")
    leaf = pki.issuer("Example Corp")
    employer = Issuer.load(leaf.private_key, leaf.chain, anchor=pki.root.certificate)
    agency = Verifier.load(
        "Hello Work", key=pki.verifier.private_key, chain=pki.verifier.chain,
        trust=[pki.root.certificate], fetcher=StatusLists(employer),
    )  # fmt: skip
    trust = TrustList.load(pki.trust_list_document({"Example Corp": [SLIP]}))
    return Framework(pki, employer, agency, trust)


@pytest.fixture
def wallet(framework: Framework, tmp_path: Path) -> Iterator[Wallet]:
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST, trust=framework.trust) as opened:
        keys = opened.binding_keys(2)
        opened.accept(framework.employer.issue(SLIP, sample(), holder=keys))
        yield opened


def test_a_verifier_registered_for_the_my_number_receives_it(
    framework: Framework, wallet: Wallet
) -> None:
    token = framework.registration({SLIP: [["payment_amount"], ["my_number"]]})
    jar, _ = framework.request("payment_amount", "my_number", token=token)
    consent = wallet.consider(jar)
    assert consent.verifier.registration_status == "verified"
    assert consent.verifier.registration is not None
    assert consent.refused == () and consent.blocked is None
    assert {c.key for c in consent.credentials[0].claims} == {"payment_amount", "my_number"}
    result = framework.agency.verify(wallet.present(consent.approve()))
    assert result.verified, result.errors
    assert result["my_number"] == sample()["my_number"]


def test_a_registration_without_the_my_number_does_not_release_it(
    framework: Framework, wallet: Wallet
) -> None:
    token = framework.registration({SLIP: [["payment_amount"]]})
    jar, _ = framework.request("payment_amount", "my_number", token=token)
    consent = wallet.consider(jar)
    assert [(r.key, r.reason) for r in consent.refused] == [("my_number", "restricted")]
    assert consent.blocked == "refused_claims"
    with pytest.raises(PolicyViolation):
        consent.approve()


def test_over_asking_is_shown_and_blocked_unless_allowed(
    framework: Framework, wallet: Wallet
) -> None:
    token = framework.registration({SLIP: [["payment_amount"]]})
    jar, _ = framework.request("payment_amount", "withholding_tax", token=token)
    consent = wallet.consider(jar)
    assert [(r.key, r.reason) for r in consent.refused] == [("withholding_tax", "not_registered")]
    assert consent.blocked == "over_asking"
    assert consent.registration_check is not None and not consent.registration_check.allowed
    with pytest.raises(PolicyViolation) as caught:
        consent.approve()
    assert caught.value.fields["reason"] == "over_asking"
    result = framework.agency.verify(wallet.present(consent.approve(allow_unregistered=True)))
    assert result.verified and set(result.claims) == {"payment_amount", "withholding_tax"}


def test_another_purpose_than_the_registered_one_is_blocked(
    framework: Framework, wallet: Wallet
) -> None:
    token = framework.registration({SLIP: [["payment_amount"]]}, purpose="marketing")
    jar, _ = framework.request("payment_amount", token=token)
    consent = wallet.consider(jar)
    assert consent.blocked == "over_asking"
    assert consent.registration_check is not None
    assert consent.registration_check.purpose_registered is False


def test_a_forged_registration_blocks_approval(framework: Framework, wallet: Wallet) -> None:
    rogue = make_test_pki(["Rogue"]).registrar
    token = framework.registration({SLIP: [["payment_amount"], ["my_number"]]}, registrar=rogue)
    jar, _ = framework.request("payment_amount", "my_number", token=token)
    consent = wallet.consider(jar)
    assert consent.verifier.registration_status == "invalid"
    assert consent.verifier.registration is None
    # The forged registration grants nothing: the My Number stays refused.
    assert [(r.key, r.reason) for r in consent.refused] == [("my_number", "restricted")]
    with pytest.raises(PolicyViolation):
        consent.approve()


def test_a_registration_for_another_verifier_blocks_approval(
    framework: Framework, wallet: Wallet
) -> None:
    token = framework.registration(
        {SLIP: [["payment_amount"]]}, client_id="x509_san_dns:other.example"
    )
    jar, _ = framework.request("payment_amount", token=token)
    consent = wallet.consider(jar)
    assert consent.blocked == "registration_invalid"
    with pytest.raises(PolicyViolation) as caught:
        consent.approve()
    assert caught.value.fields["reason"] == "registration"
    assert consent.approve(allow_unregistered=True).query_ids == (SLIP,)


def test_without_registrars_a_registration_is_unchecked(
    framework: Framework, tmp_path: Path
) -> None:
    anchors = [framework.pki.root.certificate, framework.pki.access_ca.certificate]
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST, trust=anchors) as wallet:
        wallet.accept(framework.employer.issue(SLIP, sample(), holder=wallet.binding_keys(1)))
        token = framework.registration({SLIP: [["payment_amount"], ["my_number"]]})
        jar, _ = framework.request("payment_amount", token=token)
        consent = wallet.consider(jar)
        assert consent.verifier.registration_status == "unchecked"
        assert consent.blocked is None
