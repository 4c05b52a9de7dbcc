"""Student discount: a shop learns "enrolled at this school" and nothing else.

The university signs an enrollment certificate (在学証明書) as an mdoc. A shop that gives
student discounts asks for two claims only: the enrollment status, which must be "enrolled"
(a DCQL value constraint, OpenID4VP 1.0 §6.3), and the school's name. The student's name,
birth date and student number never leave the wallet.

Run:  python examples/student_discount.py
"""

import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from honnin.credentials import CredentialFormat
from issuer import Issuer
from verifier import Query, Verifier
from wallet import Wallet

enrollment = load_catalogue().get("enrollment-certificate")
claims = enrollment.sample_claims()  # status "enrolled", school "ほんにん大学", ...

with tempfile.TemporaryDirectory() as folder:
    university = Issuer.create("Honnin University")
    wallet = Wallet.open(Path(folder) / "student.wallet", pin="730512")

    # Known limitation: the catalogue names the enrollment status `status`, which is also
    # the registered SD-JWT VC claim of the Token Status List reference, so Issuer.issue
    # refuses these claims (in every format). mdoc data elements live in their own
    # namespace and do not collide: validate the claims against the type's schema and sign
    # them with issue_batch, one copy per binding key, until the catalogue renames the claim.
    enrollment.validate(claims)
    keys = [key.public_jwk for key in wallet.binding_keys(4)]
    batch, _ = university.issue_batch(enrollment, claims, CredentialFormat.MSO_MDOC, keys)
    wallet.accept(batch)

    shop = Verifier.create(
        "Campus Books", trust=[university.certificate], fetcher=university.status_fetcher()
    )
    # Ask only what the discount needs. `values` makes the wallet answer only with a
    # credential whose status is "enrolled"; a former student's wallet has nothing to send.
    query = Query.of(
        "enrollment-certificate",
        "status",
        "school.name",
        values={"status": ["enrolled"]},
        format="mso_mdoc",
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
