"""DCQL ``trusted_authorities`` of type ``aki`` end to end (OpenID4VP 1.0 §6.1.1; HAIP makes
``aki`` a MUST): an in-process wallet and verifier with real signatures, SD-JWT VC and mdoc.

The wallet answers only with credentials whose carried chain has the queried
AuthorityKeyIdentifier; the verifier records ``untrusted_authority`` for a presentation whose
verified chain has none of them. ``etsi_tl`` and ``openid_federation`` are not supported by
honnin and never match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from test_wallet_role_support import PURPOSE, SLIP, Parties, parties

from honnin.encoding import b64url_encode
from honnin.errors import InvalidDcqlQuery, NoMatchingCredential
from verifier import Query

MDOC = "mso_mdoc"


@pytest.fixture(scope="module")
def world() -> Parties:
    return parties()


def _root_aki(world: Parties) -> str:
    """The employer root's key identifier: what its leaf's AuthorityKeyIdentifier names."""
    ski = world.employer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return b64url_encode(ski.value.digest)


def _query(fmt: str, *authorities: dict[str, Any]) -> Query:
    base = Query.of(SLIP, "payment_amount", format=fmt).to_dcql().to_json()
    if authorities:
        base["credentials"][0]["trusted_authorities"] = list(authorities)
    return Query.dcql(base)


def _aki(*values: str) -> dict[str, Any]:
    return {"type": "aki", "values": list(values)}


def _legacy(wallet: Any, credential_id: str) -> None:
    """Rewrite a credential record as stored before authorities were kept."""
    vault = wallet._holdings._vault
    record = vault.get("credential", credential_id)
    value = dict(record.value)
    del value["authorities"]
    vault.put("credential", credential_id, value, index=dict(record.entry.index))


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", MDOC])
def test_the_issuing_roots_aki_matches_and_verifies(
    world: Parties, tmp_path: Path, fmt: str
) -> None:
    with world.stocked(tmp_path / "w", copies=2, fmt=fmt) as wallet:
        other = b64url_encode(bytes(20))
        query = _query(fmt, _aki(other, _root_aki(world)))
        consent = wallet.consider(world.agency.request(query, purpose=PURPOSE))
        result = world.agency.verify(wallet.present(consent.approve()))
        assert result.verified, result.errors
        assert set(result.claims) == {"payment_amount"}


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", MDOC])
def test_another_aki_finds_no_credential(world: Parties, tmp_path: Path, fmt: str) -> None:
    with world.stocked(tmp_path / "w", copies=1, fmt=fmt) as wallet:
        request = world.agency.request(_query(fmt, _aki(b64url_encode(bytes(20)))), purpose=PURPOSE)
        with pytest.raises(NoMatchingCredential) as caught:
            wallet.consider(request)
        assert caught.value.fields["missing"] == [request.dcql_query.credentials[0].id]


@pytest.mark.parametrize("kind", ["etsi_tl", "openid_federation"])
def test_unsupported_authority_types_never_match(world: Parties, tmp_path: Path, kind: str) -> None:
    authority = {"type": kind, "values": ["https://lotl.example/tl.xml"]}
    with world.stocked(tmp_path / "w", copies=1) as wallet:
        request = world.agency.request(_query("dc+sd-jwt", authority), purpose=PURPOSE)
        with pytest.raises(NoMatchingCredential):
            wallet.consider(request)


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", MDOC])
def test_a_credential_stored_before_authorities_gets_them_from_a_copy(
    world: Parties, tmp_path: Path, fmt: str
) -> None:
    with world.stocked(tmp_path / "w", copies=2, fmt=fmt) as wallet:
        (held,) = wallet.credentials()
        assert held.authorities == {"aki": frozenset({_root_aki(world)})}
        _legacy(wallet, held.id)
        assert wallet.credential(held.id).authorities is None
        # A query without trusted_authorities leaves the record as it is.
        wallet.consider(world.agency.request(_query(fmt), purpose=PURPOSE))
        assert wallet.credential(held.id).authorities is None
        request = world.agency.request(_query(fmt, _aki(_root_aki(world))), purpose=PURPOSE)
        result = world.agency.verify(wallet.present(wallet.consider(request).approve()))
        assert result.verified, result.errors
        # Computed once, then kept with the credential.
        assert wallet.credential(held.id).authorities == {"aki": frozenset({_root_aki(world)})}


def test_a_malformed_aki_fails_at_query_parsing() -> None:
    with pytest.raises(InvalidDcqlQuery):
        _query("dc+sd-jwt", _aki("not base64url!"))
