"""Revocation: the issuer revokes a credential; verifiers see it once the list is refreshed.

Every copy carries a reference into the issuer's Token Status List (one bit position per
copy, random, shared by nobody). The issuer service publishes the signed list at
{iss}/status/<id>; a verifier fetches it over HTTP and caches it for the list's `ttl`
(300 s here). After `revoke`, verifiers holding a cached list keep accepting the copy
until they refetch the republished list: that delay is the price of not calling the issuer
on every check (which would tell it where the person goes).

Run:  python examples/revocation.py
"""

import tempfile
from pathlib import Path

from honnin.clock import FixedClock, SystemClock
from honnin.credential_types import load_catalogue
from honnin_demo import LoopbackServer
from issuer import Issuer, IssuerSettings, create_app
from verifier import Query, Verifier
from wallet import Wallet

claims = load_catalogue().get("withholding-slip").sample_claims()
# One clock for everybody, so that the example can jump past the cache lifetime.
clock = FixedClock(SystemClock().now())

with tempfile.TemporaryDirectory() as folder, LoopbackServer() as server:
    employer = Issuer.create("Example Corp", iss=server.url, clock=clock)
    server.start(create_app(employer, IssuerSettings(dev=True)))  # serves /status/<id>

    wallet = Wallet.open(Path(folder) / "alice.wallet", pin="551203", clock=clock)
    batch = employer.issue("withholding-slip", claims, holder=wallet.binding_keys(4))
    wallet.accept(batch)

    # The verifier fetches status lists over HTTP (honnin.http.HttpxFetcher, the default).
    agency = Verifier.create("Hello Work", trust=[employer.certificate], clock=clock)

    def check(when: str) -> None:
        """One presentation (a fresh copy each time) and what the verifier decides."""
        request = agency.request(
            Query.of("withholding-slip", "payment_amount"), purpose="unemployment benefit"
        )
        result = agency.verify(wallet.present(wallet.consider(request).approve()))
        if result.verified:
            (credential,) = result.credentials["withholding-slip"]
            print(f"{when}: VALID (status {credential.status})")
        else:
            print(f"{when}: INVALID", *(f"{e.code}: {e.message}" for e in result.errors))

    check("before revocation")

    # The employer revokes every copy of the batch (e.g. the slip was issued in error).
    # `honnin issuer revoke <batch id>` does the same from the command line.
    employer.revoke(batch)
    print(f"revoked batch {batch.batch_id[:8]}...")

    check("right after, list still cached")

    # Past the list's ttl the verifier fetches the republished list: the bit is set.
    clock.advance(301)
    check("after the list is refetched")
    wallet.close()
    server.stop()
    employer.close()
