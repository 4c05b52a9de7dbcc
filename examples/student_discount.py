"""Student discount: a shop learns "enrolled at this school" and nothing else.

The university signs an enrollment certificate (在学証明書). A shop that gives student
discounts asks for two claims only: the enrollment status, which must be "enrolled" (a
DCQL value constraint, OpenID4VP 1.0 §6.3), and the school's name. The student's name,
birth date and student number never leave the wallet.

Run:  python examples/student_discount.py
"""

import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from issuer import Issuer
from verifier import Query, Verifier
from wallet import Wallet

enrollment = load_catalogue().get("enrollment-certificate")
claims = enrollment.sample_claims()  # enrollment_status "enrolled", school "ほんにん大学", ...

with tempfile.TemporaryDirectory() as folder:
    university = Issuer.create("Honnin University")
    wallet = Wallet.open(Path(folder) / "student.wallet", pin="730512")
    wallet.accept(university.issue("enrollment-certificate", claims, holder=wallet.binding_keys(4)))

    shop = Verifier.create(
        "Campus Books", trust=[university.certificate], fetcher=university.status_fetcher()
    )
    # Ask only what the discount needs. `values` makes the wallet answer only with a
    # credential whose status is "enrolled": a student on leave has nothing to send, and
    # the shop learns nothing more than "yes". The university revokes the certificate when
    # the student leaves, so a verified answer is also a current one.
    query = Query.of(
        "enrollment-certificate",
        "enrollment_status",
        "school.name",
        values={"enrollment_status": ["enrolled"]},
    )
    consent = wallet.consider(shop.request(query, purpose="student discount"))

    # What the student sees: the shop's name, the purpose, and the two claims.
    print(f"{consent.verifier.name} asks, for {consent.purpose}:")
    for choice in consent.credentials:
        for claim in choice.claims:
            print(f"  {claim.label('en')}: {claim.value}")

    result = shop.verify(wallet.present(consent.approve()))
    print("verified:", result.verified, *(f"{e.code}: {e.message}" for e in result.errors))
    print("the shop sees:", dict(result.claims))

    # Nothing else about the student reached the shop.
    for private in ("family_name", "given_name", "birth_date", "student_id"):
        assert private not in result
    print("not shared: name, birth date, student number, faculty, grade")
    wallet.close()
