"""Job change: a new employer reads two figures of the former employer's withholding slip.

The README's happy path, in one process: the former employer (issuer) signs a withholding
slip (源泉徴収票) for the employee's wallet, the new employer (verifier) asks for exactly the
claims its year-end adjustment needs, the wallet shows the person who asks, why and what,
and presents only those claims. Over HTTP the same objects run as the OpenID4VCI and
OpenID4VP services (see `honnin demo` and benefit_prefill.py).

Run:  python examples/job_change.py
"""

import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from issuer import Issuer
from verifier import Query, Verifier
from wallet import Wallet

# The catalogue (spec/types) defines the credential types, their claims and ja/en labels.
# Real claims come from the payroll system; here we use the type's sample.
slip_type = load_catalogue().get("withholding-slip")
claims = slip_type.sample_claims()

with tempfile.TemporaryDirectory() as folder:
    # The former employer: a fresh key and a test-PKI certificate. In production use
    # Issuer.load(key, chain, iss="https://...") with your own key and certificate chain.
    employer = Issuer.create("Example Corp")

    # The employee's wallet: one encrypted file, unlocked with a PIN (Argon2id).
    wallet = Wallet.open(Path(folder) / "alice.wallet", pin="123456")

    # A batch of 8 copies, each bound to its own wallet key: the wallet uses a fresh copy for
    # every presentation, so two verifiers cannot link the person by the credential bytes.
    wallet.accept(employer.issue("withholding-slip", claims, holder=wallet.binding_keys(8)))

    # The new employer trusts the former employer's certificate (a bare anchor: entitled to
    # every type; use a honnin.trust.TrustList to say who may issue what). Every copy points
    # at the issuer's Token Status List; in one process the verifier reads it through
    # employer.status_fetcher(), over HTTP it fetches {iss}/status/... (revocation.py).
    new_employer = Verifier.create(
        "Honnin Systems", trust=[employer.certificate], fetcher=employer.status_fetcher()
    )
    request = new_employer.request(
        Query.of("withholding-slip", "payment_amount", "withholding_tax"),
        purpose="year-end adjustment (年末調整)",
    )

    # What the wallet shows the person before anything is sent.
    consent = wallet.consider(request)
    print(f"{consent.verifier.name} asks, for: {consent.purpose}")
    for choice in consent.credentials:
        for claim in choice.claims:
            print(f"  send {claim.label('ja')} / {claim.label('en')}: {claim.value}")

    # The person approves; the wallet signs a presentation over the verifier's nonce.
    result = new_employer.verify(wallet.present(consent.approve()))

    # The verified values, labelled for the form (the claim keys are catalogue paths).
    print("verified:", result.verified, *(f"{e.code}: {e.message}" for e in result.errors))
    for label, value in result.form(labels="en"):
        print(f"  {label}: {value:,}")
    # Only what was asked for arrived: no name, no address, no My Number.
    assert set(result.claims) == {"payment_amount", "withholding_tax"}
    wallet.close()
