"""An agency prefills a benefit form from the resident record (住民票), over HTTP.

The agency runs the OpenID4VP verifier service (`verifier.create_app`, what
`honnin verifier serve` runs); its back office (`verifier.VerifierClient`) creates a
transaction over HTTP and shows the QR code; the resident's wallet fetches the signed
request, shows the consent, and posts the encrypted answer (direct_post.jwt); the back
office reads the verified result and fills the form. The My Number in the record is never
sent: the agency is not registered for it.

Run:  python examples/benefit_prefill.py
"""

import secrets
import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from honnin_demo import LoopbackServer
from issuer import Issuer
from verifier import Verifier, VerifierClient, VerifierSettings, create_app
from wallet import Wallet

record_type = load_catalogue().get("resident-record")
FORM = ["family_name", "given_name", "birth_date", "address", "household_members"]

with tempfile.TemporaryDirectory() as folder, LoopbackServer("localhost") as server:
    city = Issuer.create("Minato City")

    # The agency's verifier service. Its client_id is x509_san_dns:localhost, so its
    # response_uri must be on that host (OpenID4VP 1.0 §5.9.3). In production: an https
    # public_url, your own key and certificate, a trust list, a long api_token.
    agency = Verifier.create(
        "Child Allowance Office",
        trust=[city.certificate],
        client_id_host="localhost",
        base_url=server.url,
        fetcher=city.status_fetcher(),
    )
    token = secrets.token_urlsafe(32)
    settings = VerifierSettings(public_url=server.url, dev=True, api_token=token)
    server.start(create_app(agency, settings))

    # The resident already holds the record (see job_change.py / payroll_batch.py for
    # issuance); the wallet trusts the city and the agency's access CA.
    wallet = Wallet.open(
        Path(folder) / "resident.wallet",
        pin="206481",
        trust=[city.certificate, agency.certificate],
        allow_loopback_http=True,  # development only: plain HTTP on 127.0.0.1
    )
    wallet.accept(
        city.issue("resident-record", record_type.sample_claims(), holder=wallet.binding_keys(4))
    )

    with VerifierClient(server.url, api_token=token) as back_office:
        # 1. The back office asks for exactly the form's fields, with the purpose.
        created = back_office.request(
            "resident-record", FORM, purpose="child allowance application (児童手当)"
        )
        print("show this QR code:", created.uri)  # or GET created.qr_png with the token

        # 2. The resident scans it: the wallet fetches and checks the signed request.
        consent = wallet.consider(created.uri)
        print(f"{consent.verifier.name} ({consent.verifier.trust.value}): {consent.purpose}")

        # 3. The resident approves; the wallet posts the encrypted response.
        print("posted:", wallet.present(consent.approve(), post=True).status)

        # 4. The back office reads the verified result (long-polls up to 10 s).
        result = back_office.result(created.transaction_id, wait=10)

    assert result is not None, "the resident has not answered"
    print("verified:", result.verified)
    for label, value in result.form(labels="ja"):
        print(f"  {label}: {value}")
    assert "my_number" not in result.claims
    wallet.close()
