"""Unlinkability, measured on the formats: two copies of one batch presented to two verifiers
share no byte string of 8 bytes or more but the disclosed values and public issuer material;
one copy shown twice (the per_verifier policy, same verifier) is linkable, as designed.

Copies are issued here the way the issuer role does (fresh holder key, salts, decoys and a
random status index per copy, no ``jti``, times rounded to the day); the role-level test is
tests/test_unlinkability_roles.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from test_unlinkability_support import is_day_aligned_time, received_leaves, shared_bytes

from honnin.credential_types import CredentialType, load_catalogue
from honnin.encoding import b64url_encode
from honnin.jose import generate_key, jwk_from_public_key
from honnin.mdoc import IssuerSigned, issue_mdoc, openid4vp_session_transcript, present
from honnin.sdjwt import issue_sd_jwt, receive_sd_jwt
from honnin.status import StatusReference
from honnin.trust import CertifiedKey, certificates_to_x5c, make_test_pki

NOW = datetime(2026, 6, 1, 9, 41, 17, tzinfo=UTC)
DAY = NOW.replace(hour=0, minute=0, second=0)
ISS = "https://example-corp.issuer.honnin.example"
STATUS_URI = f"{ISS}/status/3f9a"
SLIP: CredentialType = load_catalogue().get("withholding-slip")
DISCLOSED = [("payment_amount",), ("withholding_tax",), ("payer", "name")]
VERIFIERS = ("x509_san_dns:agency.honnin.example", "x509_san_dns:employer.honnin.example")


@pytest.fixture(scope="module")
def issuer() -> CertifiedKey:
    return make_test_pki(["Example Corp"], issuer_urls={"Example Corp": ISS}, now=NOW).issuer(
        "Example Corp"
    )


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _public(issuer: CertifiedKey, disclosed_values: list[Any]) -> list[Any]:
    """Public issuer material and the disclosed values: what any verifier may see twice. The
    verifiers' own client ids are public too (each ``aud`` names its own verifier)."""
    certs = list(issuer.chain)
    return [
        *VERIFIERS,
        ISS,
        SLIP.vct,
        SLIP.vct_integrity,
        STATUS_URI,
        SLIP.doctype,
        *SLIP.namespaces,
        *(ident for (_, ident), _ in SLIP.mdoc.elements),
        *_leaves(SLIP.type_metadata()),
        *(c.public_bytes(Encoding.DER) for c in certs),
        *certificates_to_x5c(certs),
        *(value for item in disclosed_values for value in _leaves(item)),
    ]


def _sd_jwt_copy(issuer: CertifiedKey) -> tuple[str, Any]:
    holder = generate_key()
    claims = SLIP.sample_claims()
    registered = {
        "iss": ISS,
        "iat": int(DAY.timestamp()),
        "exp": int((DAY + timedelta(days=365)).timestamp()),
        "vct": SLIP.vct,
        "vct#integrity": SLIP.vct_integrity,
        "status": StatusReference(STATUS_URI, secrets.randbelow(1 << 20)).to_claim(),
    }
    token = issue_sd_jwt(
        {**registered, **claims},
        issuer.private_key,
        disclosable=SLIP.disclosable_paths(claims),
        holder_key=jwk_from_public_key(holder),
        decoys=2,
        header={"typ": "dc+sd-jwt", "x5c": issuer.x5c()},
    )
    return token, holder


def _present_sd_jwt(issuer: CertifiedKey, token: str, holder: Any, verifier: str, at: int) -> str:
    credential = receive_sd_jwt(token, issuer.private_key.public_key(), now=at)
    return credential.present(
        DISCLOSED, holder_key=holder, nonce=secrets.token_urlsafe(16), aud=verifier, iat=at
    )


def _mdoc_copy(issuer: CertifiedKey) -> tuple[IssuerSigned, Any]:
    holder = generate_key()
    mdoc = issue_mdoc(
        SLIP.doctype,
        SLIP.to_mdoc(SLIP.sample_claims()),
        issuer.private_key,
        list(issuer.chain),
        holder.public_key(),
        valid_from=DAY,
        valid_until=DAY + timedelta(days=365),
        signed=DAY,
        status=StatusReference(STATUS_URI, secrets.randbelow(1 << 20)),
        decoys=2,
    )
    return mdoc, holder


def _present_mdoc(mdoc: IssuerSigned, holder: Any, verifier: str) -> str:
    transcript = openid4vp_session_transcript(
        verifier, secrets.token_urlsafe(16), f"https://{verifier.split(':', 1)[1]}/response"
    )
    elements = {SLIP.doctype: ["payment_amount", "withholding_tax", "payer_name"]}
    return b64url_encode(present(mdoc, holder, transcript, elements=elements))


def _disclosed_values() -> list[Any]:
    claims = SLIP.sample_claims()
    return [claims["payment_amount"], claims["withholding_tax"], claims["payer"]["name"]]


def _received(vp_token_entry: str, query_id: str = "withholding-slip") -> dict[str, Any]:
    # What reaches a verifier's pipeline after the JWE is opened (OpenID4VP 1.0 §8.1).
    return {"vp_token": {query_id: [vp_token_entry]}, "state": secrets.token_urlsafe(16)}


def test_sd_jwt_vc_copies_to_two_verifiers_share_nothing(issuer: CertifiedKey) -> None:
    at = int(NOW.timestamp())
    (first, k1), (second, k2) = _sd_jwt_copy(issuer), _sd_jwt_copy(issuer)
    to_agency = _received(_present_sd_jwt(issuer, first, k1, VERIFIERS[0], at))
    to_employer = _received(_present_sd_jwt(issuer, second, k2, VERIFIERS[1], at + 7))
    public = _public(issuer, _disclosed_values())
    shared = shared_bytes(to_agency, to_employer, public=public, is_public=is_day_aligned_time)
    assert shared == [], "\n".join(map(str, shared))
    # The decoding really went down to the disclosures, the keys and the signatures.
    paths = [leaf.path for leaf in received_leaves(to_agency)]
    assert any(p.endswith("/cnf/jwk/x") for p in paths)
    assert any("<json>[0]" in p for p in paths)  # disclosure salts


def test_mdoc_copies_to_two_verifiers_share_nothing(issuer: CertifiedKey) -> None:
    (first, k1), (second, k2) = _mdoc_copy(issuer), _mdoc_copy(issuer)
    to_agency = _received(_present_mdoc(first, k1, VERIFIERS[0]))
    to_employer = _received(_present_mdoc(second, k2, VERIFIERS[1]))
    public = _public(issuer, _disclosed_values())
    shared = shared_bytes(to_agency, to_employer, public=public, is_public=is_day_aligned_time)
    assert shared == [], "\n".join(map(str, shared))
    paths = [leaf.path for leaf in received_leaves(to_agency)]
    assert any("#24<cbor>/random" in p for p in paths)  # IssuerSignedItem salts
    assert any("valueDigests" in p for p in paths)


def test_one_sd_jwt_copy_shown_twice_is_linkable(issuer: CertifiedKey) -> None:
    """per_verifier: the same copy to the same verifier, linkable by design."""
    at = int(NOW.timestamp())
    token, holder = _sd_jwt_copy(issuer)
    once = _received(_present_sd_jwt(issuer, token, holder, VERIFIERS[0], at))
    again = _received(_present_sd_jwt(issuer, token, holder, VERIFIERS[0], at + 86_400))
    shared = shared_bytes(
        once, again, public=_public(issuer, _disclosed_values()), is_public=is_day_aligned_time
    )
    where = {s.first for s in shared}
    assert any(p.endswith("/cnf/jwk/x") for p in where)  # the holder key
    assert any(p.endswith(".2") for p in where)  # the issuer signature


def test_one_mdoc_copy_shown_twice_is_linkable(issuer: CertifiedKey) -> None:
    mdoc, holder = _mdoc_copy(issuer)
    once = _received(_present_mdoc(mdoc, holder, VERIFIERS[0]))
    again = _received(_present_mdoc(mdoc, holder, VERIFIERS[0]))
    shared = shared_bytes(
        once, again, public=_public(issuer, _disclosed_values()), is_public=is_day_aligned_time
    )
    assert any("deviceKey" in s.first for s in shared)
    assert any("random" in s.first for s in shared)


def test_a_unique_issuance_time_would_link_two_copies(issuer: CertifiedKey) -> None:
    """The measure catches what coarsening prevents: a precise iat shared by the batch."""
    precise = int(NOW.timestamp())
    holder1, holder2 = generate_key(), generate_key()
    copies = [
        issue_sd_jwt(
            {"iss": ISS, "iat": precise, "vct": SLIP.vct, **SLIP.sample_claims()},
            issuer.private_key,
            disclosable=SLIP.disclosable_paths(SLIP.sample_claims()),
            holder_key=jwk_from_public_key(holder),
            header={"typ": "dc+sd-jwt", "x5c": issuer.x5c()},
        )
        for holder in (holder1, holder2)
    ]
    a = _received(_present_sd_jwt(issuer, copies[0], holder1, VERIFIERS[0], precise))
    b = _received(_present_sd_jwt(issuer, copies[1], holder2, VERIFIERS[1], precise + 60))
    shared = shared_bytes(
        a, b, public=_public(issuer, _disclosed_values()), is_public=is_day_aligned_time
    )
    assert [s.data for s in shared] == [str(precise).encode()]
