"""Identifiers printed by the command line and typed back into it."""

from __future__ import annotations

import secrets

import pytest

from honnin.identifiers import new_identifier


def test_never_starts_with_a_dash() -> None:
    # One URL-safe token in 64 begins with '-': 4,000 draws would hold ~60 of them.
    drawn = [new_identifier(6) for _ in range(4000)]
    assert not any(token.startswith("-") for token in drawn)
    assert len(set(drawn)) == len(drawn)
    assert any(token[1:].count("-") for token in drawn)  # '-' stays valid after the first


def test_a_leading_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-leading", "fine-one"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(draws))
    assert new_identifier(6) == "fine-one"


def test_length_follows_the_random_bytes() -> None:
    assert len(new_identifier(12)) == 16
    assert len(new_identifier(32)) == 43


def test_an_issued_batch_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 'honnin issuer revoke BATCH_ID' takes the id back: '-…' would read as an option.
    from honnin.jose import generate_key, jwk_from_public_key
    from issuer import Issuer

    employer = Issuer.create("Example Corp")
    claims = employer.catalogue.get("withholding-slip").sample_claims()
    draws = iter(["-leadingdashbatchid000", "fine-batch-id-0000000A"])
    real = secrets.token_urlsafe
    monkeypatch.setattr(
        secrets, "token_urlsafe", lambda nbytes: next(draws) if nbytes == 16 else real(nbytes)
    )
    batch = employer.issue("withholding-slip", claims, holder=[jwk_from_public_key(generate_key())])
    assert batch.batch_id == "fine-batch-id-0000000A"
    employer.close()
