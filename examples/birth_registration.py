"""Birth registration: doctor -> parent -> municipality, as an ISO mdoc (mso_mdoc).

The hospital signs the birth certificate (出生証明書) as an mdoc for the parent's wallet; the
municipality asks for what the birth registration (出生届) needs. Trust is a trust list:
the hospital is entitled to issue birth certificates and nothing else, and the
municipality is a registered verifier (its certificate chains to the access CA).

Run:  python examples/birth_registration.py
"""

import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from honnin.trust import TrustList, make_test_pki
from issuer import Issuer
from verifier import Query, Verifier
from wallet import Wallet

birth_type = load_catalogue().get("birth-certificate")

# A test trust framework: a root CA for issuers, an access CA for verifiers. A real one is
# published by the framework operator; `honnin trust init` writes the same as files.
pki = make_test_pki(["Sakura General Hospital"], verifier_name="Minato City")
trust = TrustList.load(pki.trust_list_document({"Sakura General Hospital": ["birth-certificate"]}))

with tempfile.TemporaryDirectory() as folder:
    # The hospital signs with the key the framework certified.
    leaf = pki.issuer("Sakura General Hospital")
    hospital = Issuer.load(leaf.private_key, leaf.chain, anchor=pki.root.certificate)

    # The parent's wallet trusts the same framework, for issuers and for verifiers.
    wallet = Wallet.open(Path(folder) / "parent.wallet", pin="482915", trust=trust)
    batch = hospital.issue(
        "birth-certificate",
        birth_type.sample_claims(),
        holder=wallet.binding_keys(4),
        format="mso_mdoc",  # IssuerSigned with an MSO signed by the hospital (COSE_Sign1)
    )
    held = wallet.accept(batch)
    print(f"wallet holds {held.name('en')} ({held.format}), {held.copies} copies")

    # The municipality: its own key and access certificate from the framework.
    city = Verifier.load(
        "Minato City",
        key=pki.verifier.private_key,
        chain=pki.verifier.chain,
        trust=trust,
        fetcher=hospital.status_fetcher(),  # status lists in process (HTTP: {iss}/status)
    )
    query = Query.of(
        "birth-certificate",
        "child_family_name",
        "child_given_name",
        "sex",
        "birth_date",
        "place_of_birth.address",  # one mdoc data element: place_of_birth_address
        "mother.name",
        format="mso_mdoc",
    )
    request = city.request(query, purpose="birth registration (出生届)")

    consent = wallet.consider(request)
    print(f"{consent.verifier.name} ({consent.verifier.trust.value}) asks for {consent.purpose}")
    # The DeviceResponse is signed with the copy's device key over the OpenID4VP
    # SessionTranscript (client_id, nonce, response_uri), so it cannot be replayed elsewhere.
    result = city.verify(wallet.present(consent.approve()))

    print("verified:", result.verified, *(f"{e.code}: {e.message}" for e in result.errors))
    for label, value in result.form(labels="ja"):
        print(f"  {label}: {value}")
    # Weight, height, gestation, the attendant's registration number... stayed in the wallet.
    assert "weight_grams" not in result
    wallet.close()
