"""Unlinkability through the roles: one credential (a batch from ``Issuer.issue``), held in a
``Wallet``, presented to two different ``Verifier``s. Everything each verifier received (the
encrypted response and the VP Token inside it) shares no byte string of 8 bytes or more with
the other but the disclosed values and public issuer material; with ``per_verifier``, the
same verifier twice can link the two presentations, by design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_unlinkability_support import is_day_aligned_time, shared_bytes
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, StatusLists, sample

from honnin.clock import SystemClock
from honnin.credential_types import load_catalogue
from honnin.jose import parse_jws
from honnin.sdjwt import SdJwt
from honnin.status import parse_status_reference
from honnin.trust import certificates_to_x5c
from issuer import Issuer
from verifier import Query, Verifier
from wallet import PresentationResponse, Wallet

CATALOGUE = load_catalogue()
TYPE = CATALOGUE.get(SLIP)
CLAIMS = ("payment_amount", "withholding_tax", "payer.name")


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


class SteppingClock:
    """The system time give or take under a minute, moving 7 s at every reading: two
    presentations are never made in the same second (their KB-JWT ``iat`` is the
    presentation time, which the verifier sees anyway), and every time stays inside the
    60 s skew both sides allow."""

    def __init__(self) -> None:
        self._system = SystemClock()
        self._step = 0

    def now(self) -> float:
        self._step = (self._step + 7) % 90
        return self._system.now() - 50 + self._step


class World:
    def __init__(self) -> None:
        self.clock = SteppingClock()
        self.employer = Issuer.create("Example Corp")
        status = StatusLists(self.employer)
        self.agency = Verifier.create(
            "Hello Work", trust=[self.employer.certificate], fetcher=status
        )
        self.tax_office = Verifier.create(
            "Tax Office",
            trust=[self.employer.certificate],
            fetcher=status,
            client_id_host="tax.honnin.example",
        )

    def wallet(self, path: Path, **options: Any) -> Wallet:
        trust = [self.employer.certificate, self.agency.certificate, self.tax_office.certificate]
        return Wallet.open(path, PIN, kdf=FAST, trust=trust, clock=self.clock, **options)

    def public(self) -> list[Any]:
        certs = [*self.employer.chain, self.employer.certificate]
        claims = sample()
        disclosed = [claims["payment_amount"], claims["withholding_tax"], claims["payer"]["name"]]
        return [
            self.agency.client_id,
            self.tax_office.client_id,
            self.employer.iss,
            *(self.employer.status.uri_of(i) for i in self.employer.status.list_ids()),
            TYPE.vct,
            TYPE.vct_integrity,
            TYPE.doctype,
            *TYPE.namespaces,
            *(ident for (_, ident), _ in TYPE.mdoc.elements),
            *_leaves(TYPE.type_metadata()),
            *(c.public_bytes(Encoding.DER) for c in certs),
            *certificates_to_x5c(certs),
            *disclosed,
        ]


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _present(wallet: Wallet, verifier: Verifier, fmt: str) -> tuple[dict[str, Any], Any]:
    request = verifier.request(Query.of(SLIP, *CLAIMS, format=fmt), purpose=PURPOSE)
    response: PresentationResponse = wallet.present(wallet.consider(request).approve())
    result = verifier.verify(response)
    assert result.verified, result.errors
    # What reached the verifier: the encrypted response, and the VP Token it decrypts to.
    received = {"response": response.response, "vp_token": dict(response.vp_token)}
    return received, response


def _status_reference(response: PresentationResponse) -> Any:
    (presentations,) = response.vp_token.values()
    claims = SdJwt.parse(presentations[0].rsplit("~", 1)[0] + "~").claims
    return parse_status_reference(claims["status"])


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_two_verifiers_receive_nothing_in_common(world: World, tmp_path: Path, fmt: str) -> None:
    with world.wallet(tmp_path / "w") as wallet:
        wallet.accept(
            world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(4), format=fmt)
        )
        to_agency, first = _present(wallet, world.agency, fmt)
        to_tax_office, second = _present(wallet, world.tax_office, fmt)
    assert to_agency["response"] is not None  # direct_post.jwt: the JWE is part of it
    shared = shared_bytes(
        to_agency, to_tax_office, public=world.public(), is_public=is_day_aligned_time
    )
    assert shared == [], "\n".join(map(str, shared))
    if fmt == "dc+sd-jwt":
        # Status indices are too short for the 8-byte measure: check them directly.
        assert _status_reference(first).idx != _status_reference(second).idx


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_per_verifier_lets_one_verifier_link_its_own_presentations(
    world: World, tmp_path: Path, fmt: str
) -> None:
    with world.wallet(tmp_path / "w", copy_policy="per_verifier") as wallet:
        wallet.accept(
            world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(4), format=fmt)
        )
        once, _ = _present(wallet, world.agency, fmt)
        again, _ = _present(wallet, world.agency, fmt)
        elsewhere, _ = _present(wallet, world.tax_office, fmt)
    public = world.public()
    linked = shared_bytes(once, again, public=public, is_public=is_day_aligned_time)
    assert linked  # the same copy: holder key, issuer signature, digests
    assert shared_bytes(once, elsewhere, public=public, is_public=is_day_aligned_time) == []


def test_the_nonce_and_audience_differ_per_verifier(world: World, tmp_path: Path) -> None:
    """Sanity check of the setup: what differs by design between the two verifiers."""
    with world.wallet(tmp_path / "w") as wallet:
        wallet.accept(world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(2)))
        _, first = _present(wallet, world.agency, "dc+sd-jwt")
        _, second = _present(wallet, world.tax_office, "dc+sd-jwt")
    kb = [
        parse_jws(r.vp_token[SLIP][0].rsplit("~", 1)[1]).unverified_claims()
        for r in (first, second)
    ]
    assert kb[0]["aud"] != kb[1]["aud"] and kb[0]["nonce"] != kb[1]["nonce"]
