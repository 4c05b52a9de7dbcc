"""Pseudonymous sign-in: a service recognises a returning person without learning who they are.

A job-seeker portal wants to recognise the same person on their next visit, but needs
neither their name nor their My Number for that. It asks the wallet for a pairwise
pseudonym: the wallet derives a key for this verifier alone (HKDF from the wallet's secret
and the verifier's client_id) and proves possession over the request's nonce; the verifier
keeps the key's thumbprint. The same verifier always gets the same pseudonym, another
verifier an unrelated one, and once the person withdraws the relationship the portal gets
a new one. Every presentation is in the wallet's transparency log.
(spec/PROFILE.md "Pairwise pseudonyms"; docs/PRIVACY.md)

Run:  python examples/pseudonym_login.py
"""

import tempfile
from pathlib import Path

from verifier import Query, Verifier
from wallet import Wallet

with tempfile.TemporaryDirectory() as folder:
    # The wallet holds no credential at all: the pseudonym is its own, not an issuer's.
    wallet = Wallet.open(Path(folder) / "alice.wallet", pin="204817")

    # Two services with their own certificates. The pseudonym is derived from the full
    # client_id (x509_san_dns:<host>), which stays the same when a certificate is renewed.
    # No issuer to trust: a pseudonym proof is self-issued and checked on its own terms.
    portal = Verifier.create("Job-seeker portal", trust=[], client_id_host="portal.example")
    library = Verifier.create("City library", trust=[], client_id_host="library.example")

    def sign_in(service: Verifier) -> str:
        """One sign-in: the service asks, the wallet shows who asks, the person approves."""
        request = service.request(Query.pseudonym(), purpose="sign in to your page")
        consent = wallet.consider(request)
        result = service.verify(wallet.present(consent.approve()))
        assert result.verified, result.errors
        assert result.pseudonym is not None
        return result.pseudonym

    first = sign_in(portal)
    print(f"the portal knows this person as {first}")
    print("next visit, same pseudonym:", sign_in(portal) == first)
    print("the library sees an unrelated one:", sign_in(library) != first)

    # The person stops the relationship: the pseudonym key is destroyed for good.
    wallet.withdraw(portal.client_id)
    print("after withdrawing, the portal sees a new one:", sign_in(portal) != first)

    # Who has received what, from the hash-chained log (claim paths, never values).
    print(f"log verified: {wallet.log().verify()} entries")
    for entry in wallet.log().entries():
        who = entry.party_name or entry.party_id  # a withdrawal names the client_id only
        print(f"  #{entry.seq} {entry.event.value}: {who} ({entry.outcome})")
    wallet.close()
