"""The privacy layer inside the wallet: every event in the transparency log, usage policies
(once_only, per_verifier, rotate) with the running-low signal, withdrawal, pairwise
pseudonyms answered by the wallet, and refusals that consent cannot override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_wallet_role_support import PURPOSE, SLIP, Parties, parties, sample

from honnin.errors import NoMatchingCredential, PolicyViolation, WalletCorrupted
from honnin.pseudonym import pseudonym_credential_query, verify_pseudonym_proof
from honnin.sdjwt import SdJwt
from verifier import Query
from wallet import CopyPolicy, HeldCredential, Wallet
from wallet._transparency import ENTRY_KIND, Event


@pytest.fixture(scope="module")
def world() -> Parties:
    return parties()


def _key(presentation: str) -> object:
    return SdJwt.parse(presentation.rsplit("~", 1)[0] + "~").claims["cnf"]


def _present(wallet: Wallet, world: Parties, *claims: str, fmt: str = "dc+sd-jwt") -> str:
    request = world.agency.request(Query.of(SLIP, *claims, format=fmt), purpose=PURPOSE)
    response = wallet.present(wallet.consider(request).approve())
    assert world.agency.verify(response).verified
    (presentations,) = response.vp_token.values()
    return presentations[0]


# -- the log ----------------------------------------------------------------------------------


def test_every_presentation_appears_in_the_log(world: Parties, tmp_path: Path) -> None:
    other = parties("Tax Office", client_id_host="tax.honnin.example")
    trust = [world.employer.certificate, world.agency.certificate, other.agency.certificate]
    with world.stocked(tmp_path / "w", trust=trust) as wallet:
        _present(wallet, world, "payment_amount")
        request = other.agency.request(Query.of(SLIP, "payer"), purpose="resident tax")
        wallet.present(wallet.consider(request).approve())
        entries = wallet.log().entries()
        assert [e.event for e in entries] == [
            Event.ISSUANCE,
            Event.PRESENTATION,
            Event.PRESENTATION,
        ]
        issuance, first, second = entries
        assert issuance.party_name == "Example Corp" and issuance.detail == "4 copies"
        assert first.party_id == world.agency.client_id and first.purpose == PURPOSE
        assert [(d.credential_type, d.claims) for d in first.disclosed] == [
            ("withholding-slip", (("payment_amount",),))
        ]
        assert second.party_id == other.agency.client_id
        assert wallet.log().verify() == 3
        # Who has received which of my claims.
        payer_name = wallet.log().recipients_of(("payer", "name"))
        assert [r.party_id for r in payer_name] == [other.agency.client_id]
        assert [r.party_id for r in wallet.log().recipients_of(("payment_amount",))] == [
            world.agency.client_id
        ]
        exported = json.loads(wallet.log().export_json())
        assert [e["event"] for e in exported["entries"]] == [
            "issuance", "presentation", "presentation"
        ]  # fmt: skip
        assert str(sample()["payment_amount"]) not in wallet.log().export_json()


def test_mdoc_presentations_are_logged_with_catalogue_paths(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", fmt="mso_mdoc") as wallet:
        _present(wallet, world, "payment_amount", "payer", fmt="mso_mdoc")
        (entry,) = [e for e in wallet.log().entries() if e.event is Event.PRESENTATION]
        claims = set(entry.disclosed[0].claims)
        assert ("payment_amount",) in claims and ("payer", "name") in claims


def test_deletion_is_logged(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        wallet.delete(wallet.credentials()[0].id)
        events = [(e.event, e.outcome) for e in wallet.log().entries()]
        assert events == [(Event.ISSUANCE, "accepted"), (Event.DELETION, "deleted")]


def test_a_my_number_request_is_refused_even_when_approved(world: Parties, tmp_path: Path) -> None:
    """A verifier with no registration for the My Number never receives it: the consent shows
    the refusal, approving is refused, and the refusal is in the log."""
    with world.stocked(tmp_path / "w") as wallet:
        request = world.agency.request(
            Query.of(SLIP, "payment_amount", "my_number"), purpose=PURPOSE
        )
        consent = wallet.consider(request)
        assert [(r.key, r.reason) for r in consent.refused] == [("my_number", "restricted")]
        with pytest.raises(PolicyViolation):
            consent.approve()
        with pytest.raises(PolicyViolation):  # no override reaches it
            consent.approve(allow_unregistered=True, allow_untrusted_verifier=True)
        refusal = [e for e in wallet.log().entries() if e.event is Event.REFUSAL]
        assert refusal and refusal[0].refused[0].claims == (("my_number",),)
        assert refusal[0].outcome == "blocked:refused_claims"
        assert wallet.credentials()[0].copies == 4  # nothing was spent


def test_editing_the_wallets_log_is_detected(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        _present(wallet, world, "payment_amount")
        record = wallet.vault.get(ENTRY_KIND, f"{2:012d}")
        assert record is not None
        wallet.vault.put(ENTRY_KIND, f"{2:012d}", {**record.value, "party_name": "Nobody"})
        with pytest.raises(WalletCorrupted) as info:
            wallet.log().verify()
        assert info.value.fields["entry"] == 2 and info.value.fields["reason"] == "edited"


# -- usage policies ---------------------------------------------------------------------------


def test_once_only_spends_a_copy_per_presentation_and_signals_running_low(
    world: Parties, tmp_path: Path
) -> None:
    low: list[HeldCredential] = []
    with world.stocked(tmp_path / "w", copies=3, on_running_low=low.append) as wallet:
        keys = [_key(_present(wallet, world, "payment_amount")) for _ in range(2)]
        assert keys[0] != keys[1]
        (held,) = wallet.credentials()
        assert held.copies == 1 and wallet.running_low(held.id)
        assert [h.id for h in low] == [held.id]  # 1 fresh copy left < low water 2
        _present(wallet, world, "payment_amount")
        request = world.agency.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
        with pytest.raises(NoMatchingCredential):  # nothing left: top up from the issuer
            wallet.consider(request)


def test_rotate_reuses_copies_in_turn(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=2, copy_policy="rotate") as wallet:
        keys = [json.dumps(_key(_present(wallet, world, "payment_amount"))) for _ in range(4)]
        assert keys[0] != keys[1] and keys[2] == keys[0] and keys[3] == keys[1]
        assert wallet.credentials()[0].copies == 2
        assert CopyPolicy("once_only") is CopyPolicy.ONCE


def test_withdrawing_a_per_verifier_relationship(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=3, copy_policy="per_verifier") as wallet:
        first = _key(_present(wallet, world, "payment_amount"))
        assert _key(_present(wallet, world, "payment_amount")) == first  # linkable, by design
        pseudonym = wallet.pseudonym(world.agency.client_id)
        withdrawal = wallet.withdraw(world.agency.client_id)
        assert withdrawal.credentials == (wallet.credentials()[0].id,)
        assert wallet.credentials()[0].copies == 2  # the bound copy and its key are gone
        assert _key(_present(wallet, world, "payment_amount")) != first
        assert wallet.log().entries()[-2].event is Event.WITHDRAWAL
        assert wallet.pseudonym(world.agency.client_id) != pseudonym


# -- pseudonyms -------------------------------------------------------------------------------


def _pseudonym_request(world: Parties) -> object:
    query = Query.dcql({"credentials": [pseudonym_credential_query("who")]})
    return world.agency.request(query, purpose="recognise a returning applicant")


def test_the_wallet_answers_a_pseudonym_request(world: Parties, tmp_path: Path) -> None:
    other = parties("Tax Office", client_id_host="tax.honnin.example")
    trust = [world.employer.certificate, world.agency.certificate, other.agency.certificate]
    with world.wallet(tmp_path / "w", trust=trust) as wallet:
        seen = []
        for agency in (world.agency, world.agency, other.agency):
            request = _pseudonym_request(Parties(world.employer, agency))
            consent = wallet.consider(request)
            assert consent.credentials[0].credential_type == "pseudonym"
            response = wallet.present(consent.approve())
            jar = request.request_object  # type: ignore[attr-defined]
            from honnin.jose import parse_jws

            nonce = parse_jws(jar).unverified_claims()["nonce"]
            verified = verify_pseudonym_proof(
                response.vp_token["who"][0],
                aud=agency.client_id,
                nonce=nonce,
                now=wallet.clock.now(),
            )
            seen.append(verified.pseudonym)
        assert seen[0] == seen[1] == wallet.pseudonym(world.agency.client_id)
        assert seen[2] != seen[0]
        logged = [e for e in wallet.log().entries() if e.event is Event.PRESENTATION]
        assert [d.credential_type for e in logged for d in e.disclosed] == ["pseudonym"] * 3
