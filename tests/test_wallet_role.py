"""The wallet role in process: accept, list, delete, consent, present, copy policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_wallet_role_support import PURPOSE, SLIP, Parties, parties, sample

import wallet as wallet_package
from honnin.clock import FixedClock, SystemClock
from honnin.errors import Expired, NoMatchingCredential, NotFound, PolicyViolation
from honnin.jose import parse_jws
from honnin.sdjwt import SdJwt
from verifier import Query
from wallet import (
    ConsentRequest,
    CopyPolicy,
    PresentationResponse,
    TrustState,
    Wallet,
)


@pytest.fixture(scope="module")
def world() -> Parties:
    return parties()


def _disclosed(presentation: str) -> dict[str, object]:
    """The claims an SD-JWT VC presentation discloses (its KB-JWT cut off)."""
    return SdJwt.parse(presentation.rsplit("~", 1)[0] + "~").claims


def _kb_key(presentation: str) -> dict[str, str]:
    """The cnf.jwk of an SD-JWT VC presentation (which copy was used)."""
    jwk: dict[str, str] = _disclosed(presentation)["cnf"]["jwk"]  # type: ignore[index]
    return jwk


def test_public_api_is_exported() -> None:
    for name in ("Wallet", "ConsentRequest", "Approval", "Refusal", "PresentationResponse",
                 "HeldCredential", "CopyPolicy", "Vault", "Signer", "KdfParams"):  # fmt: skip
        assert name in wallet_package.__all__
        assert getattr(wallet_package, name).__module__.startswith("wallet._")


# -- accept, list, delete -------------------------------------------------------------------


def test_accept_stores_every_copy_as_one_credential(world: Parties, tmp_path: Path) -> None:
    with world.wallet(tmp_path / "w") as wallet:
        keys = wallet.binding_keys(8)
        held = wallet.accept(world.employer.issue(SLIP, sample(), holder=keys))
        assert held.copies == 8
        assert held.credential_type == SLIP
        assert held.format == "dc+sd-jwt"
        assert held.issuer == world.employer.iss
        assert held.issuer_name == "Example Corp"
        assert held.trust == TrustState.TRUSTED
        assert held.name("ja") == "給与所得の源泉徴収票"
        assert held.name("en") == "Employment income withholding slip"
        assert held.claims["payment_amount"] == sample()["payment_amount"]
        assert "payment_amount" not in repr(held)
        assert [c.id for c in wallet.credentials()] == [held.id]
        assert wallet.credentials(type="resident-record") == []


def test_accepted_credentials_survive_reopening(world: Parties, tmp_path: Path) -> None:
    path = tmp_path / "w"
    with world.stocked(path, copies=3) as wallet:
        held = wallet.credentials()[0]
    with world.wallet(path) as again:
        assert again.credential(held.id).copies == 3
        assert again.credential(held.id).claims == held.claims


def test_accept_an_mdoc_batch(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=2, fmt="mso_mdoc") as wallet:
        (held,) = wallet.credentials()
        assert held.format == "mso_mdoc"
        # The document signer's URI SAN: the same issuer identifier as its SD-JWT VC 'iss'.
        assert held.issuer == world.employer.iss
        assert held.type_value == "example.honnin.withholding_slip.1"
        assert held.copies == 2
        namespace = held.claims["example.honnin.withholding_slip.1"]
        assert namespace["payment_amount"] == sample()["payment_amount"]


def test_without_trust_configuration_the_issuer_shows_not_configured(
    world: Parties, tmp_path: Path
) -> None:
    with world.stocked(tmp_path / "w", copies=1, trust=None) as wallet:
        assert wallet.credentials()[0].trust == TrustState.NOT_CONFIGURED


def test_delete_removes_copies_and_their_keys(world: Parties, tmp_path: Path) -> None:
    with world.wallet(tmp_path / "w") as wallet:
        keys = wallet.binding_keys(3)
        held = wallet.accept(world.employer.issue(SLIP, sample(), holder=keys))
        wallet.delete(held.id)
        assert wallet.credentials() == []
        assert not {k.key_id for k in keys} & set(wallet.vault.binding_keys())
        with pytest.raises(NotFound):
            wallet.delete(held.id)
        with pytest.raises(NotFound):
            wallet.credential(held.id)


# -- consent --------------------------------------------------------------------------------


def _request(world: Parties, *claims: str, **options: object) -> object:
    query = Query.of(SLIP, *claims, **options)  # type: ignore[arg-type]
    return world.agency.request(query, purpose=PURPOSE)


def test_consent_names_the_verifier_purpose_and_labelled_claims(
    world: Parties, tmp_path: Path
) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        consent = wallet.consider(_request(world, "payment_amount", "withholding_tax"))
        assert isinstance(consent, ConsentRequest)
        assert consent.client_id == world.agency.client_id
        assert consent.verifier.name == "Hello Work"
        assert consent.verifier.trust is TrustState.TRUSTED and consent.verifier.trusted
        assert consent.verifier.signed
        assert consent.purpose == PURPOSE
        assert consent.blocked is None and consent.refused == ()
        (choice,) = consent.credentials
        assert choice.name("ja") == "給与所得の源泉徴収票" and choice.required
        assert choice.issuer_name == "Example Corp" and choice.copies_left == 4
        labels = {c.key: (c.label("ja"), c.label("en"), c.required) for c in choice.claims}
        assert labels == {
            "payment_amount": ("支払金額", "Payment amount (JPY)", True),
            "withholding_tax": ("源泉徴収税額", "Income tax withheld (JPY)", True),
        }
        values = {c.key: c.value for c in choice.claims}
        assert values["payment_amount"] == sample()["payment_amount"]
        assert choice.always_disclosed == ("tax_year",)


def test_approved_claims_and_nothing_else_reach_the_verifier(
    world: Parties, tmp_path: Path
) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        request = _request(world, "payment_amount", "withholding_tax")
        response = wallet.present(wallet.consider(request).approve())
        assert isinstance(response, PresentationResponse)
        assert response.response is not None  # direct_post.jwt: encrypted
        assert "vp_token" not in repr(response)
        result = world.agency.verify(response)
        assert result.verified, result.errors
        assert dict(result.claims) == {
            "payment_amount": sample()["payment_amount"],
            "withholding_tax": sample()["withholding_tax"],
        }
        presentation = response.vp_token[SLIP][0]
        kb = parse_jws(presentation.rsplit("~", 1)[1]).unverified_claims()
        assert kb["aud"] == world.agency.client_id
        assert kb["nonce"] == parse_jws(request.request_object).unverified_claims()["nonce"]  # type: ignore[attr-defined]


def test_optional_claims_can_be_dropped(world: Parties, tmp_path: Path) -> None:
    sets = [["payment_amount", "withholding_tax"], ["payment_amount"]]
    with world.stocked(tmp_path / "w") as wallet:
        consent = wallet.consider(
            _request(world, "payment_amount", "withholding_tax", claim_sets=sets)
        )
        required = {c.key: c.required for c in consent.credentials[0].claims}
        assert required == {"payment_amount": True, "withholding_tax": False}
        with pytest.raises(PolicyViolation):
            consent.approve(drop=["payment_amount"])
        result = world.agency.verify(wallet.present(consent.approve(drop=["withholding_tax"])))
        assert result.verified, result.errors
        assert dict(result.claims) == {"payment_amount": sample()["payment_amount"]}


def test_my_number_asked_for_as_required_is_refused(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        consent = wallet.consider(_request(world, "payment_amount", "my_number"))
        (refused,) = consent.refused
        assert (refused.key, refused.reason) == ("my_number", "restricted")
        assert refused.label("ja") == "個人番号"
        assert consent.blocked == "refused_claims"
        with pytest.raises(PolicyViolation):
            consent.approve()
        assert wallet.credentials()[0].copies == 4  # nothing was used


def test_my_number_is_withheld_when_an_alternative_exists(world: Parties, tmp_path: Path) -> None:
    sets = [["payment_amount", "my_number"], ["payment_amount"]]
    with world.stocked(tmp_path / "w") as wallet:
        consent = wallet.consider(_request(world, "payment_amount", "my_number", claim_sets=sets))
        assert [r.key for r in consent.refused] == ["my_number"]
        assert consent.blocked is None
        assert [c.key for c in consent.credentials[0].claims] == ["payment_amount"]
        response = wallet.present(consent.approve())
        assert "my_number" not in _disclosed(response.vp_token[SLIP][0])
        result = world.agency.verify(response)
        assert result.verified and dict(result.claims) == {
            "payment_amount": sample()["payment_amount"]
        }


def test_the_person_picks_which_credential_answers(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=2) as wallet:
        second = wallet.accept(world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(3)))
        consent = wallet.consider(_request(world, "payment_amount", "withholding_tax"))
        (choice,) = consent.credentials
        assert choice.alternatives == (second.id,) and choice.credential_id != second.id
        with pytest.raises(ValueError, match=r"payer\.name"):
            consent.approve(drop=[("payer", "name")])
        approval = consent.approve(use={SLIP: second.id})
        assert world.agency.verify(wallet.present(approval)).verified
        copies = {c.id: c.copies for c in wallet.credentials()}
        assert copies == {choice.credential_id: 2, second.id: 2}


def test_a_mdoc_presentation_verifies(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=2, fmt="mso_mdoc") as wallet:
        request = _request(world, "payment_amount", "payer.name", format="mso_mdoc")
        consent = wallet.consider(request)
        assert {c.key for c in consent.credentials[0].claims} == {"payment_amount", "payer.name"}
        result = world.agency.verify(wallet.present(consent.approve()))
        assert result.verified, result.errors
        assert dict(result.claims) == {
            "payment_amount": sample()["payment_amount"],
            "payer.name": sample()["payer"]["name"],
        }


def test_credential_sets_with_both_formats(world: Parties, tmp_path: Path) -> None:
    with world.wallet(tmp_path / "w") as wallet:
        employer = world.employer
        wallet.accept(employer.issue(SLIP, sample(), holder=wallet.binding_keys(1)))
        wallet.accept(
            employer.issue(SLIP, sample(), holder=wallet.binding_keys(1), format="mso_mdoc")
        )
        query = Query.of(SLIP, "payment_amount") & Query.of(
            SLIP, "withholding_tax", format="mso_mdoc"
        )
        consent = wallet.consider(world.agency.request(query, purpose=PURPOSE))
        assert sorted(c.format for c in consent.credentials) == ["dc+sd-jwt", "mso_mdoc"]
        result = world.agency.verify(wallet.present(consent.approve()))
        assert result.verified, result.errors
        assert set(result.claims) == {"payment_amount", "withholding_tax"}


def test_an_optional_credential_can_be_left_out(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        optional = Query.of(SLIP, "withholding_tax", id="extra").optional()
        query = Query.of(SLIP, "payment_amount", id="main") & optional
        consent = wallet.consider(world.agency.request(query, purpose=PURPOSE))
        assert {c.query_id: c.required for c in consent.credentials} == {
            "main": True, "extra": False,
        }  # fmt: skip
        approval = consent.approve(drop=["extra"])
        assert approval.query_ids == ("main",)
        with pytest.raises(PolicyViolation):
            consent.approve(drop=["main"])
        result = world.agency.verify(wallet.present(approval))
        assert result.verified and set(result.claims) == {"payment_amount"}


def test_no_matching_credential_is_a_typed_error(world: Parties, tmp_path: Path) -> None:
    with world.wallet(tmp_path / "w") as wallet:
        with pytest.raises(NoMatchingCredential) as caught:
            wallet.consider(_request(world, "payment_amount"))
        assert caught.value.fields["missing"] == [SLIP]


def test_a_refusal_reaches_the_verifier_as_access_denied(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        consent = wallet.consider(_request(world, "payment_amount"))
        result = world.agency.verify(consent.refuse())
        assert not result.verified and result.wallet_error == "access_denied"
        assert wallet.credentials()[0].copies == 4


# -- copies ---------------------------------------------------------------------------------


def test_each_presentation_uses_a_fresh_copy_once(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", copies=2) as wallet:
        keys_before = set(wallet.vault.binding_keys())
        used = []
        for _ in range(2):
            response = wallet.present(wallet.consider(_request(world, "payment_amount")).approve())
            used.append(_kb_key(response.vp_token[SLIP][0]))
        assert used[0] != used[1]
        assert wallet.credentials()[0].copies == 0
        assert not keys_before & set(wallet.vault.binding_keys())  # destroyed (WIAM_21)
        with pytest.raises(NoMatchingCredential):
            wallet.consider(_request(world, "payment_amount"))


def test_an_approval_presents_once(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w") as wallet:
        approval = wallet.consider(_request(world, "payment_amount")).approve()
        wallet.present(approval)
        with pytest.raises(PolicyViolation):
            wallet.present(approval)
        assert wallet.credentials()[0].copies == 3


def test_an_approval_for_an_expired_request_spends_no_copy(world: Parties, tmp_path: Path) -> None:
    clock = FixedClock(SystemClock().now())
    with world.stocked(tmp_path / "w", clock=clock) as wallet:
        approval = wallet.consider(_request(world, "payment_amount")).approve()
        clock.advance(3600)
        with pytest.raises(Expired):
            wallet.present(approval)
        assert wallet.credentials()[0].copies == 4


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_an_unencrypted_direct_post_response(world: Parties, tmp_path: Path, fmt: str) -> None:
    with world.stocked(tmp_path / "w", fmt=fmt) as wallet:
        query = Query.of(SLIP, "payment_amount", format=fmt)
        request = world.agency.request(query, purpose=PURPOSE, response_mode="direct_post")
        response = wallet.present(wallet.consider(request).approve())
        assert response.response is None and response.response_mode == "direct_post"
        assert set(response.to_form()) == {"vp_token", "state"}
        result = world.agency.verify(response.to_form())
        assert result.verified, result.errors
        assert dict(result.claims) == {"payment_amount": sample()["payment_amount"]}


def test_an_approval_belongs_to_its_wallet(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "a") as alice, world.stocked(tmp_path / "b") as bob:
        approval = alice.consider(_request(world, "payment_amount")).approve()
        with pytest.raises(ValueError, match="another wallet"):
            bob.present(approval)


def test_per_verifier_policy_reuses_a_copy_per_verifier(world: Parties, tmp_path: Path) -> None:
    other = parties("Tax Office", client_id_host="tax.honnin.example")
    other_agency = other.agency
    with world.wallet(tmp_path / "w", copy_policy=CopyPolicy.PER_VERIFIER,
                      trust=[world.employer.certificate, world.agency.certificate,
                             other_agency.certificate]) as wallet:  # fmt: skip
        wallet.accept(world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(3)))

        def key_for(agency: object) -> dict[str, str]:
            request = agency.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)  # type: ignore[attr-defined]
            response = wallet.present(wallet.consider(request).approve())
            return _kb_key(response.vp_token[SLIP][0])

        first, again = key_for(world.agency), key_for(world.agency)
        assert first == again
        assert key_for(other_agency) != first
        assert wallet.credentials()[0].copies == 3


# -- trust ----------------------------------------------------------------------------------


def test_an_untrusted_verifier_is_shown_and_blocked(world: Parties, tmp_path: Path) -> None:
    with world.stocked(tmp_path / "w", trust=[world.employer.certificate]) as wallet:
        consent = wallet.consider(_request(world, "payment_amount"))
        assert consent.verifier.trust is TrustState.UNTRUSTED
        assert consent.verifier.trusted is False
        assert consent.verifier.trust_code == "untrusted_issuer"
        assert consent.blocked == "untrusted_verifier"
        from honnin.errors import UntrustedVerifier

        with pytest.raises(UntrustedVerifier):
            consent.approve()
        approval = consent.approve(allow_untrusted_verifier=True)
        assert world.agency.verify(wallet.present(approval)).verified


def test_without_trust_configuration_the_verifier_shows_not_configured(
    world: Parties, tmp_path: Path
) -> None:
    with world.stocked(tmp_path / "w", trust=None) as wallet:
        consent = wallet.consider(_request(world, "payment_amount"))
        assert consent.verifier.trust is TrustState.NOT_CONFIGURED
        assert consent.verifier.trusted is None and consent.blocked is None


def test_wallet_repr_and_context_manager(world: Parties, tmp_path: Path) -> None:
    wallet = world.wallet(tmp_path / "w")
    assert "open" in repr(wallet)
    wallet.close()
    assert "closed" in repr(wallet)
    with pytest.raises(FileNotFoundError):
        Wallet.open(tmp_path / "none", "123456", create=False)
