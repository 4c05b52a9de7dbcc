"""The privacy layer on the verifier side: pairwise pseudonyms requested and verified (stable,
separate, replays refused), registrations sent in ``verifier_info`` and enforced on the
verifier itself (VS-37), and over-asking refused by the wallet for exactly the excess claims."""

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
from honnin.pseudonym import pseudonym_credential_query
from honnin.registration import build_registration, verifier_info_entry
from honnin.trust import TestPki, TrustList, make_test_pki
from issuer import Issuer
from verifier import PresentationRequest, Query, Verifier
from wallet import Wallet

RECOGNISE = "recognise a returning applicant"


@dataclass
class Framework:
    pki: TestPki
    employer: Issuer
    trust: TrustList

    def registration(self, client_id: str, entitlements: dict[str, list[list[str]]]) -> str:
        now = int(SystemClock().now())
        return build_registration(
            client_id=client_id, name="Hello Work", purpose=PURPOSE, entitlements=entitlements,
            key=self.pki.registrar.private_key, chain=self.pki.registrar.chain,
            issued_at=now - 60, expires_at=now + 86_400,
        )  # fmt: skip

    def verifier(self, host: str = "verifier.honnin.example", **options: Any) -> Verifier:
        return Verifier.create(
            "Hello Work", trust=self.trust, fetcher=StatusLists(self.employer),
            client_id_host=host, **options,
        )  # fmt: skip

    def wallet(self, path: Path, *verifiers: Verifier) -> Wallet:
        document = self.pki.trust_list_document({"Example Corp": [SLIP]})
        document["verifier_anchors"] += [
            {"name": v.name, "certificate": _pem(v.certificate)} for v in verifiers
        ]
        wallet = Wallet.open(path, PIN, kdf=FAST, trust=TrustList.load(document))
        wallet.accept(self.employer.issue(SLIP, sample(), holder=wallet.binding_keys(4)))
        return wallet


def _pem(cert: Any) -> str:
    from honnin.trust import certificates_to_pem

    return certificates_to_pem([cert])


@pytest.fixture(scope="module")
def framework() -> Framework:
    pki = make_test_pki(["Example Corp"])
    leaf = pki.issuer("Example Corp")
    employer = Issuer.load(leaf.private_key, leaf.chain, anchor=pki.root.certificate)
    trust = TrustList.load(pki.trust_list_document({"Example Corp": [SLIP]}))
    return Framework(pki, employer, trust)


def _pseudonym_query() -> Query:
    return Query.pseudonym(id="who")


def _nonce(request: PresentationRequest) -> str:
    return str(parse_jws(request.request_object).unverified_claims()["nonce"])


# -- pseudonyms -------------------------------------------------------------------------------


def test_pseudonym_is_stable_for_a_verifier_and_separate_across_verifiers(
    framework: Framework, tmp_path: Path
) -> None:
    agency, tax = framework.verifier(), framework.verifier("tax.honnin.example")
    with (
        framework.wallet(tmp_path / "a", agency, tax) as alice,
        framework.wallet(tmp_path / "b", agency, tax) as bob,
    ):

        def pseudonym(wallet: Wallet, verifier: Verifier) -> str:
            request = verifier.request(_pseudonym_query(), purpose=RECOGNISE)
            result = verifier.verify(wallet.present(wallet.consider(request).approve()))
            assert result.verified, result.errors
            credential = result.credentials["who"][0]
            assert credential.trust.entitlement == "self_issued"
            assert result["sub"] == result.pseudonym
            return str(result.pseudonym)

        first, again = pseudonym(alice, agency), pseudonym(alice, agency)
        assert first == again == alice.pseudonym(agency.client_id)
        assert pseudonym(alice, tax) != first
        assert pseudonym(bob, agency) != first


def test_a_raw_dcql_pseudonym_query_works_too(framework: Framework, tmp_path: Path) -> None:
    agency = framework.verifier()
    raw = Query.dcql({"credentials": [pseudonym_credential_query("who")]})
    with framework.wallet(tmp_path / "w", agency) as wallet:
        request = agency.request(raw, purpose=RECOGNISE)
        result = agency.verify(wallet.present(wallet.consider(request).approve()))
        assert result.verified and result.pseudonym == wallet.pseudonym(agency.client_id)


def test_pseudonym_together_with_a_credential(framework: Framework, tmp_path: Path) -> None:
    agency = framework.verifier()
    query = Query.of(SLIP, "payment_amount") & _pseudonym_query()
    with framework.wallet(tmp_path / "w", agency) as wallet:
        request = agency.request(query, purpose=RECOGNISE)
        result = agency.verify(wallet.present(wallet.consider(request).approve()))
    assert result.verified, result.errors
    assert result["payment_amount"] == sample()["payment_amount"]
    assert result.pseudonym is not None


def _plain_pseudonym(wallet: Wallet, verifier: Verifier) -> tuple[str, PresentationRequest]:
    request = verifier.request(_pseudonym_query(), purpose=RECOGNISE, response_mode="direct_post")
    response = wallet.present(wallet.consider(request).approve())
    return response.vp_token["who"][0], request


def test_pseudonym_proof_replayed_to_another_verifier(framework: Framework, tmp_path: Path) -> None:
    agency, tax = framework.verifier(), framework.verifier("tax.honnin.example")
    with framework.wallet(tmp_path / "w", agency, tax) as wallet:
        proof, _ = _plain_pseudonym(wallet, agency)
    target = tax.request(_pseudonym_query(), purpose=RECOGNISE, response_mode="direct_post")
    result = tax.verify({"vp_token": {"who": [proof]}, "state": target.state})
    assert not result.verified and result.pseudonym is None
    # Another verifier's transaction has another nonce, checked first (the aud check is
    # tested on its own in tests/test_pseudonym.py).
    assert next((e.code, e.reason) for e in result.errors) == ("invalid_key_binding", "nonce")


def test_pseudonym_proof_replayed_with_an_old_nonce(framework: Framework, tmp_path: Path) -> None:
    agency = framework.verifier()
    with framework.wallet(tmp_path / "w", agency) as wallet:
        proof, first = _plain_pseudonym(wallet, agency)
    second = agency.request(_pseudonym_query(), purpose=RECOGNISE, response_mode="direct_post")
    assert _nonce(first) != _nonce(second)
    result = agency.verify({"vp_token": {"who": [proof]}, "state": second.state})
    assert not result.verified
    assert next((e.code, e.reason) for e in result.errors) == ("invalid_key_binding", "nonce")


# -- registrations ----------------------------------------------------------------------------


def test_the_verifier_sends_its_registration(framework: Framework, tmp_path: Path) -> None:
    client_id = "x509_san_dns:verifier.honnin.example"
    token = framework.registration(client_id, {SLIP: [["payment_amount"], ["withholding_tax"]]})
    agency = framework.verifier(registrations=[token])
    request = agency.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
    info = parse_jws(request.request_object).unverified_claims()["verifier_info"]
    assert verifier_info_entry(token) in info
    with framework.wallet(tmp_path / "w", agency) as wallet:
        consent = wallet.consider(request)
        assert consent.verifier.registration_status == "verified"
        assert consent.blocked is None and consent.refused == ()
        assert agency.verify(wallet.present(consent.approve())).verified


def test_the_verifier_refuses_to_ask_beyond_its_registration(framework: Framework) -> None:
    token = framework.registration(
        "x509_san_dns:verifier.honnin.example", {SLIP: [["payment_amount"]]}
    )
    agency = framework.verifier(registrations=[token])
    with pytest.raises(PolicyViolation) as info:
        agency.request(Query.of(SLIP, "payment_amount", "withholding_tax"), purpose=PURPOSE)
    assert info.value.fields["reason"] == "over_asking"
    with pytest.raises(PolicyViolation) as info:
        agency.request(Query.of(SLIP, "payment_amount"), purpose="marketing")
    assert info.value.fields["reason"] == "purpose"
    # A pseudonym is the wallet's own: no registration is needed for it.
    agency.request(Query.of(SLIP, "payment_amount") & _pseudonym_query(), purpose=PURPOSE)


def test_a_verifier_cannot_use_another_verifiers_registration(framework: Framework) -> None:
    token = framework.registration("x509_san_dns:other.example", {SLIP: [["payment_amount"]]})
    with pytest.raises(PolicyViolation):
        framework.verifier(registrations=[token])


@pytest.fixture
def over_asked(framework: Framework, tmp_path: Path) -> Iterator[tuple[Wallet, str]]:
    """A request for three claims carrying a registration for one (re-signed, since the
    verifier itself would refuse to send it)."""
    agency = framework.verifier()
    token = framework.registration(agency.client_id, {SLIP: [["payment_amount"]]})
    request = agency.request(
        Query.of(SLIP, "payment_amount", "withholding_tax", "payer.name"), purpose=PURPOSE
    )
    info = parse_jws(request.request_object).unverified_claims()["verifier_info"]
    jar = resign(
        request.request_object, agency.identity.private_key,
        verifier_info=[*info, verifier_info_entry(token)],
    )  # fmt: skip
    with framework.wallet(tmp_path / "w", agency) as wallet:
        yield wallet, jar


def test_over_asking_is_refused_for_exactly_the_excess_claims(
    over_asked: tuple[Wallet, str],
) -> None:
    wallet, jar = over_asked
    consent = wallet.consider(jar)
    assert sorted((r.key, r.reason) for r in consent.refused) == [
        ("payer.name", "not_registered"),
        ("withholding_tax", "not_registered"),
    ]
    assert consent.blocked == "over_asking"
    with pytest.raises(PolicyViolation):
        consent.approve()
    (refusal,) = [e for e in wallet.log().entries() if e.event.value == "refusal"]
    assert set(refusal.refused[0].claims) == {("withholding_tax",), ("payer", "name")}
    assert refusal.outcome == "blocked:over_asking"
