"""The authorization code flow: the person approves the issuance at the issuer's own page.

The school offers an enrollment certificate with an authorization code grant (OpenID4VCI
1.0 §3.4) instead of a pre-authorized code and a Transaction Code. The wallet pushes an
authorization request (RFC 9126) with PKCE S256 and a DPoP key, the person's browser opens
the issuer's approval page and presses "Approve", and the issuer sends the browser back to
the wallet's redirect URI with a one-time code, which only this wallet, with its PKCE
verifier and its DPoP key, can exchange. Here httpx plays the browser; a real school puts
its student login in front of that page. The CLI: `honnin issuer offer --flow
authorization_code`, then `honnin wallet receive OFFER` prints the address to open.

Run:  python examples/approve_at_issuer.py
"""

import re
import tempfile
from pathlib import Path

import httpx

from honnin.credential_types import load_catalogue
from honnin_demo import LoopbackServer
from issuer import Issuer, IssuerSettings, create_app
from wallet import Wallet

REDIRECT = "https://wallet.example/callback"  # the wallet app's own redirect URI

with tempfile.TemporaryDirectory() as folder, LoopbackServer() as server:
    out = Path(folder)
    school = Issuer.create(
        "ほんにん大学", iss=server.url, store=out / "school.sqlite3",
        types=["enrollment-certificate"],
    )  # fmt: skip
    server.start(create_app(school, IssuerSettings(dev=True)))
    claims = load_catalogue().get("enrollment-certificate").sample_claims()
    offer = school.create_offer("enrollment-certificate", claims, flow="authorization_code")
    print(f"offer: {offer.flow}, tx_code: {offer.tx_code}")

    wallet = Wallet.open(
        out / "student.wallet", pin="204816", trust=[school.certificate], allow_loopback_http=True
    )
    started = wallet.authorize(offer.uri, redirect_uri=REDIRECT)
    print("open in the browser:", started.url.split("?")[0], "(a pushed request)")

    # The person's browser: the approval page, then the button.
    with httpx.Client() as browser:
        page = browser.get(started.url)
        print("the page shows:", " | ".join(re.findall(r"<strong>([^<]+)</strong>", page.text)))
        token = re.search(r'name="decision_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = browser.post(started.url, data={"decision_token": token[1], "approve": "yes"})
        back = answer.headers["location"]  # where the wallet app is opened again
    print("the browser comes back to:", back.split("?")[0], "with code, state and iss")

    receipt = wallet.finish_authorization(started, back)
    (held,) = receipt.credentials
    print(f"received {held.copies} copies of {held.name('en')} from {held.issuer_name}")
    print("access token bound to the wallet's DPoP key:", receipt.sender_constrained)
    wallet.close()
    server.stop()
    school.close()
