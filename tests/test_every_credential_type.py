"""Issue 3 "must pass": for every credential type in spec/, issue a realistic sample through
the Issuer role, accept it into a Wallet, present a subset to a Verifier, and verify — in
both formats — with the labels of every requested claim present in Japanese and English.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from honnin.credential_types import CredentialType, load_catalogue
from issuer import Issuer
from verifier import Query, Verifier
from wallet import KdfParams, Wallet

CATALOGUE = load_catalogue()
TYPES = sorted(t.id for t in CATALOGUE if t.sample_claims())


def _requested_claims(ctype: CredentialType, sample: dict[str, Any]) -> list[str]:
    """Two top-level scalar claims of the sample that are not explicit-request-only."""
    restricted = {path[0] for path in ctype.explicit_request_only}
    names = [
        name
        for name, value in sample.items()
        if name not in restricted and isinstance(value, str | int | bool)
    ]
    return names[:2]


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    yield Issuer.create("Everything Issuer", types=TYPES)


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
@pytest.mark.parametrize("type_id", TYPES)
def test_issue_present_verify(issuer: Issuer, tmp_path: Path, type_id: str, fmt: str) -> None:
    ctype = CATALOGUE.get(type_id)
    sample = ctype.sample_claims()
    requested = _requested_claims(ctype, sample)
    assert len(requested) == 2, f"{type_id}: sample has too few scalar claims"
    for name in requested:
        assert ctype.label((name,), "ja") and ctype.label((name,), "en")

    wallet = Wallet.open(tmp_path / "w.wallet", pin="246810", kdf=KdfParams.INSECURE_TEST_ONLY)
    try:
        wallet.accept(issuer.issue(type_id, sample, holder=wallet.binding_keys(2), format=fmt))
        agency = Verifier.create(
            "Agency", trust=[issuer.certificate], fetcher=issuer.status_fetcher()
        )
        request = agency.request(Query.of(type_id, *requested, format=fmt), purpose="test")
        consent = wallet.consider(request)
        result = agency.verify(wallet.present(consent.approve()))
    finally:
        wallet.close()

    assert result.verified, result.errors
    assert dict(result.claims) == {name: sample[name] for name in requested}
