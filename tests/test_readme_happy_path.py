"""The README's first code (DESIGN.md / the role contract "The happy path"), run in process.

One line differs from the contract text: the verifier is given the employer's in-process
status fetcher (``fetcher=employer.status_fetcher()``, as examples/job_change.py does).
Every issued copy carries a Token Status List reference, and the verifier fails closed when
it cannot fetch the list (HOSTILE-CASES D5); the contract's ``Issuer.create`` identifier is
not reachable over the network, so without the fetcher the result is ``status_unavailable``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from honnin.credential_types import load_catalogue


def test_the_happy_path_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # "alice.wallet" is created in the working directory
    claims = load_catalogue().get("withholding-slip").sample_claims()

    from issuer import Issuer
    from verifier import Query, Verifier
    from wallet import Wallet

    employer = Issuer.create("Example Corp")  # keys + certificate, or load your own
    wallet = Wallet.open("alice.wallet", pin="123456")  # encrypted at rest
    wallet.accept(employer.issue("withholding-slip", claims, holder=wallet.binding_keys(8)))

    agency = Verifier.create(
        "Hello Work", trust=[employer.certificate], fetcher=employer.status_fetcher()
    )
    request = agency.request(
        Query.of("withholding-slip", "payment_amount", "withholding_tax"),
        purpose="unemployment benefit application",
    )
    consent = wallet.consider(request)  # who asks, what, why, and what is refused
    result = agency.verify(wallet.present(consent.approve()))

    assert result.verified, result.errors
    assert dict(result.claims) == {
        "payment_amount": claims["payment_amount"],
        "withholding_tax": claims["withholding_tax"],
    }
    assert result["payment_amount"] == claims["payment_amount"]
    assert consent.verifier.name == "Hello Work"
    assert consent.purpose == "unemployment benefit application"
    assert consent.refused == ()
    assert wallet.credentials()[0].copies == 7  # one copy used, once
    assert (tmp_path / "alice.wallet").exists()
    wallet.close()
