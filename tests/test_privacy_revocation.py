"""Holder-initiated revocation: the request and its proof (pure), and the issuer's
``/revocation`` endpoint over real HTTP on 127.0.0.1, hostile requests included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_oid4vci_service_fixtures import LiveIssuer, live_issuer

from honnin.credential_types import load_catalogue
from honnin.errors import InvalidProof, MalformedInput, Revoked, TooLarge
from honnin.jose import JwsAlgorithm, generate_key, jwk_from_public_key, sign_bytes, sign_jws
from honnin.revocation import (
    REVOCATION_REQUEST_TYP,
    RevocationRequest,
    build_revocation_request,
    credential_hash,
    parse_revocation_request,
    verify_revocation_proof,
)
from honnin.status import StatusChecker
from issuer._lookup import status_of_credential

NOW = 1_780_000_000
ISSUER = "https://example-corp.issuer.honnin.example"
CLAIMS = load_catalogue().get("withholding-slip").sample_claims()


def _request(key: Any, **overrides: Any) -> RevocationRequest:
    args: dict[str, Any] = {"aud": ISSUER, "nonce": "c-nonce-1", "iat": NOW}
    args.update(overrides)
    return build_revocation_request("header.payload.sig~disclosure~", key, **args)


# -- the request (pure) -----------------------------------------------------------------------


def test_request_round_trip() -> None:
    key = generate_key()
    request = _request(key)
    parsed = parse_revocation_request(json.dumps(request.to_json()).encode())
    assert parsed == request and parsed.claimed_nonce() == "c-nonce-1"
    verified = verify_revocation_proof(parsed, key.public_key(), audience=ISSUER, now=NOW)
    assert verified.nonce == "c-nonce-1" and verified.iat == NOW


def test_request_signed_by_a_wallet_signer() -> None:
    key = generate_key()

    class Signer:
        algorithm = JwsAlgorithm.ES256

        def sign(self, data: bytes) -> bytes:
            return sign_bytes(data, key, self.algorithm)

    request = build_revocation_request("a.b.c~", Signer(), aud=ISSUER, nonce="n", iat=NOW)
    verify_revocation_proof(request, key.public_key(), audience=ISSUER, now=NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "https://other.example"}, "aud"),
        ({"iat": NOW - 3600}, "iat"),
        ({"iat": NOW + 3600}, "iat"),
    ],
)
def test_proof_claims_are_checked(change: dict[str, Any], reason: str) -> None:
    key = generate_key()
    with pytest.raises(InvalidProof) as info:
        verify_revocation_proof(_request(key, **change), key.public_key(), audience=ISSUER, now=NOW)
    assert info.value.fields["reason"] == reason


def test_proof_by_another_key() -> None:
    holder, thief = generate_key(), generate_key()
    with pytest.raises(InvalidProof) as info:
        verify_revocation_proof(_request(thief), holder.public_key(), audience=ISSUER, now=NOW)
    assert info.value.fields["reason"] == "signature"


def test_proof_moved_to_another_credential() -> None:
    key = generate_key()
    request = _request(key)
    moved = RevocationRequest("other.credential.copy~", request.proof)
    with pytest.raises(InvalidProof) as info:
        verify_revocation_proof(moved, key.public_key(), audience=ISSUER, now=NOW)
    assert info.value.fields["reason"] == "credential_hash"


def test_proof_with_another_typ() -> None:
    key = generate_key()
    claims = {"aud": ISSUER, "iat": NOW, "nonce": "n", "credential_hash": credential_hash("c")}
    proof = sign_jws(claims, key, header={"typ": "openid4vci-proof+jwt"})
    with pytest.raises(InvalidProof) as info:
        verify_revocation_proof(
            RevocationRequest("c", proof), key.public_key(), audience=ISSUER, now=NOW
        )
    assert info.value.fields["reason"] == "typ"


def test_proof_without_a_nonce() -> None:
    key = generate_key()
    claims = {"aud": ISSUER, "iat": NOW, "credential_hash": credential_hash("c")}
    request = RevocationRequest("c", sign_jws(claims, key, header={"typ": REVOCATION_REQUEST_TYP}))
    with pytest.raises(InvalidProof):
        request.claimed_nonce()
    with pytest.raises(InvalidProof) as info:
        verify_revocation_proof(request, key.public_key(), audience=ISSUER, now=NOW)
    assert info.value.fields["reason"] == "nonce"


def test_malformed_proof() -> None:
    with pytest.raises(InvalidProof) as info:
        RevocationRequest("c", "not-a-jwt").claimed_nonce()
    assert info.value.fields["reason"] == "malformed"
    with pytest.raises(InvalidProof):
        verify_revocation_proof(
            RevocationRequest("c", "a.b"), generate_key().public_key(), audience=ISSUER, now=NOW
        )


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"credential": "c"}',
        b'{"credential": "c", "proof": ""}',
        b'{"credential": "c", "proof": "p", "x": 1}',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedInput):
        parse_revocation_request(body)


def test_oversized_body() -> None:
    with pytest.raises(TooLarge):
        parse_revocation_request(b"{" + b" " * (600 * 1024) + b"}")


def test_build_refuses_empty_parts() -> None:
    with pytest.raises(ValueError):
        build_revocation_request("", generate_key(), aud=ISSUER, nonce="n", iat=NOW)


# -- the issuer's endpoint over HTTP ----------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    with live_issuer() as running:
        yield running


def _issue(live: LiveIssuer, fmt: str = "dc+sd-jwt") -> tuple[list[str], list[Any]]:
    keys = [generate_key() for _ in range(3)]
    batch = live.issuer.issue(
        "withholding-slip", CLAIMS, holder=[jwk_from_public_key(k) for k in keys], format=fmt
    )
    return list(batch.credentials), keys


def _nonce(http: httpx.Client, live: LiveIssuer) -> str:
    response = http.post(f"{live.base}/nonce")
    assert response.status_code == 200
    return str(response.json()["c_nonce"])


def _post(http: httpx.Client, live: LiveIssuer, body: dict[str, Any]) -> httpx.Response:
    return http.post(f"{live.base}/revocation", json=body)


def _status(live: LiveIssuer, credential: str) -> None:
    """Check a copy's status as a verifier does (through the Fetcher port)."""
    checker = StatusChecker(
        live.issuer.status_fetcher(),
        lambda header: live.issuer.chain[0].public_key(),  # type: ignore[arg-type,return-value]
        clock=live.clock,
    )
    reference = status_of_credential(credential)
    assert reference is not None
    checker.check(reference)


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_holder_revokes_the_whole_batch(live: LiveIssuer, fmt: str) -> None:
    copies, keys = _issue(live, fmt)
    with httpx.Client() as http:
        request = build_revocation_request(
            copies[0], keys[0], aud=live.base, nonce=_nonce(http, live), iat=int(live.clock.now())
        )
        response = _post(http, live, request.to_json())
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": True}
    for copy in copies:  # every copy of the batch, not only the one shown
        with pytest.raises(Revoked):
            _status(live, copy)


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"])


def _still_valid(live: LiveIssuer, copies: list[str]) -> None:
    for copy in copies:
        _status(live, copy)  # raises Revoked if the batch was revoked


def test_request_without_proof_of_possession(live: LiveIssuer) -> None:
    copies, _ = _issue(live)
    with httpx.Client() as http:
        assert _error(_post(http, live, {"credential": copies[0]})) == "invalid_request"
        garbage = {"credential": copies[0], "proof": "not-a-jwt"}
        assert _error(_post(http, live, garbage)) == "invalid_proof"
    _still_valid(live, copies)


def test_request_signed_by_someone_else(live: LiveIssuer) -> None:
    copies, _ = _issue(live)
    with httpx.Client() as http:
        request = build_revocation_request(
            copies[0],
            generate_key(),
            aud=live.base,
            nonce=_nonce(http, live),
            iat=int(live.clock.now()),
        )
        assert _error(_post(http, live, request.to_json())) == "invalid_proof"
    _still_valid(live, copies)


def test_request_with_another_copys_key(live: LiveIssuer) -> None:
    copies, keys = _issue(live)
    with httpx.Client() as http:
        request = build_revocation_request(
            copies[0], keys[1], aud=live.base, nonce=_nonce(http, live), iat=int(live.clock.now())
        )
        assert _error(_post(http, live, request.to_json())) == "invalid_proof"
    _still_valid(live, copies)


def test_request_with_a_made_up_nonce(live: LiveIssuer) -> None:
    copies, keys = _issue(live)
    with httpx.Client() as http:
        request = build_revocation_request(
            copies[0], keys[0], aud=live.base, nonce="made-up", iat=int(live.clock.now())
        )
        assert _error(_post(http, live, request.to_json())) == "invalid_nonce"
    _still_valid(live, copies)


def test_replayed_request(live: LiveIssuer) -> None:
    first, first_keys = _issue(live)
    with httpx.Client() as http:
        request = build_revocation_request(
            first[0],
            first_keys[0],
            aud=live.base,
            nonce=_nonce(http, live),
            iat=int(live.clock.now()),
        )
        assert _post(http, live, request.to_json()).status_code == 200
        assert _error(_post(http, live, request.to_json())) == "invalid_nonce"


def test_request_for_another_issuers_credential(live: LiveIssuer) -> None:
    with live_issuer(name="Other Corp") as other:
        keys = [generate_key()]
        batch = other.issuer.issue(
            "withholding-slip", CLAIMS, holder=[jwk_from_public_key(k) for k in keys]
        )
        copy = batch.credentials[0]
    with httpx.Client() as http:
        request = build_revocation_request(
            copy, keys[0], aud=live.base, nonce=_nonce(http, live), iat=int(live.clock.now())
        )
        assert _error(_post(http, live, request.to_json())) == "invalid_request"


def test_request_as_a_form(live: LiveIssuer) -> None:
    with httpx.Client() as http:
        response = http.post(f"{live.base}/revocation", data={"credential": "x", "proof": "y"})
    assert _error(response) == "invalid_request"
