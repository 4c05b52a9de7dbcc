"""Attestation-based client authentication (OpenID4VCI 1.0 App. E wallet attestation,
draft-ietf-oauth-attestation-based-client-auth-07): the two JWTs, the App. E example, and
the issuer's PAR and token endpoints with a wallet that carries an attestation, on real
uvicorn."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from test_oid4vci_service_fixtures import CLAIMS, LiveIssuer, assert_oauth_error, live_issuer
from vectors import load_text

from honnin.clock import SystemClock
from honnin.errors import InvalidClient, UntrustedIssuer
from honnin.jose import generate_key, jwk_from_private_key, jwk_from_public_key, sign_jws
from honnin.oauth import (
    CLIENT_ATTESTATION_POP_TYP,
    CLIENT_ATTESTATION_TYP,
    ClientAttestation,
    build_client_attestation,
    build_client_attestation_pop,
    verify_client_attestation,
)
from honnin.trust import certificates_to_pem, make_test_pki
from issuer import IssuerSettings
from wallet import KdfParams, Wallet

NOW = 1_800_000_000.0
AS = "https://issuer.example"
CLIENT = "https://wallet.example.com"
ATTESTER = generate_key()
INSTANCE = generate_key()


def _attester(header: Any, payload: Any) -> Any:
    return ATTESTER.public_key()


def _attestation(**changes: Any) -> str:
    return build_client_attestation(
        ATTESTER, client_id=changes.pop("client_id", CLIENT), instance_key=INSTANCE,
        now=changes.pop("now", NOW), issuer="https://wallet-provider.example", **changes,
    )  # fmt: skip


def _pop(claims: dict[str, Any] | None = None, *, key: Any = INSTANCE, typ: str = "") -> str:
    body: dict[str, Any] = {"aud": AS, "jti": "j-1", "iat": int(NOW)}
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    return sign_jws(body, key, header={"typ": typ or CLIENT_ATTESTATION_POP_TYP})


def _refused(attestation: str, pop: str, reason: str, **options: Any) -> None:
    arguments: dict[str, Any] = {"audience": AS, "now": NOW, "attester_key": _attester}
    arguments.update(options)
    with pytest.raises(InvalidClient) as caught:
        verify_client_attestation(attestation, pop, **arguments)
    assert caught.value.fields["reason"] == reason, caught.value.message
    assert caught.value.http_status == 401


def test_a_built_attestation_and_pop_verify() -> None:
    pop = build_client_attestation_pop(INSTANCE, audience=AS, now=NOW)
    verified = verify_client_attestation(
        _attestation(), pop, audience=AS, now=NOW + 10, attester_key=_attester, client_id=CLIENT
    )
    assert verified.client_id == CLIENT and verified.issuer == "https://wallet-provider.example"
    assert verified.jti and verified.pop_expires > NOW
    header = json.loads(base64.urlsafe_b64decode(pop.split(".")[0] + "=="))
    assert header["typ"] == CLIENT_ATTESTATION_POP_TYP and "jwk" not in header
    held = ClientAttestation(_attestation(), INSTANCE)
    assert held.client_id == CLIENT and "eyJ" not in repr(held)
    assert set(held.headers(AS, NOW)) == {
        "OAuth-Client-Attestation",
        "OAuth-Client-Attestation-PoP",
    }


def test_the_openid4vci_appendix_e_example_is_accepted_up_to_its_pop() -> None:
    """App. E's wallet attestation, checked at a time inside its validity with its own x5c
    leaf as the trusted key: everything passes until the PoP, which we cannot sign (the
    example does not publish its instance key)."""
    text = load_text("openid4vci", "wallet_attestation.jwt.txt").replace("\n", "")
    header = json.loads(base64.urlsafe_b64decode(text.split(".")[0] + "=="))
    claims = json.loads(base64.urlsafe_b64decode(text.split(".")[1] + "=="))
    assert header["typ"] == CLIENT_ATTESTATION_TYP
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    _refused(
        text, _pop(), "pop_signature", now=claims["nbf"] + 60,
        attester_key=lambda h, p: leaf.public_key(), client_id=claims["sub"],
    )  # fmt: skip
    _refused(
        text, _pop(), "exp", now=claims["exp"] + 3600, attester_key=lambda h, p: leaf.public_key()
    )


def test_the_attestation_is_refused_when() -> None:
    pop = _pop()
    _refused(
        sign_jws({"sub": CLIENT, "exp": NOW + 60}, ATTESTER, header={"typ": "jwt"}), pop, "typ"
    )

    def untrusted(header: Any, payload: Any) -> Any:
        raise UntrustedIssuer("not a known wallet provider")

    _refused(_attestation(), pop, "attester", attester_key=untrusted)
    _refused(_attestation(), pop, "attester", attester_key=lambda h, p: generate_key().public_key())
    _refused(_attestation(), pop, "client_id", client_id="https://other.example")
    _refused(_attestation(now=NOW - 2 * 86400), pop, "exp")
    _refused(_attestation(extra={"nbf": NOW + 3600}), pop, "nbf")
    no_sub = sign_jws(
        {"exp": NOW + 60, "cnf": {"jwk": jwk_from_public_key(INSTANCE)}}, ATTESTER,
        header={"typ": CLIENT_ATTESTATION_TYP},
    )  # fmt: skip
    _refused(no_sub, pop, "sub")
    for cnf in (None, {"jwk": jwk_from_private_key(INSTANCE)}, {"jwk": {"kty": "EC"}}):
        claims = {"sub": CLIENT, "exp": NOW + 60, "cnf": cnf}
        token = sign_jws(claims, ATTESTER, header={"typ": CLIENT_ATTESTATION_TYP})
        _refused(token, pop, "cnf")
    for text in ("", "not-a-jwt", "a.b.c", "é" * 10):
        _refused(text, pop, "malformed")


@pytest.mark.parametrize(
    ("pop", "reason"),
    [
        (_pop(typ="jwt"), "pop_typ"),
        (_pop(key=generate_key()), "pop_signature"),
        (_pop({"aud": "https://other.example"}), "pop_aud"),
        (_pop({"aud": [AS, "https://other.example"]}), "pop_aud"),
        (_pop({"aud": None}), "pop_aud"),
        (_pop({"jti": None}), "pop_jti"),
        (_pop({"jti": "j" * 257}), "pop_jti"),
        (_pop({"iat": None}), "pop_iat"),
        (_pop({"iat": NOW - 3600}), "pop_iat"),
        (_pop({"iat": NOW + 3600}), "pop_iat"),
        (_pop({"iat": "1800000000"}), "pop_iat"),
        (_pop({"iss": "https://other.example"}), "pop_iss"),
        ("not-a-jwt", "malformed"),
    ],
)
def test_the_pop_is_refused_when(pop: str, reason: str) -> None:
    _refused(_attestation(), pop, reason)


def test_a_pop_naming_the_client_as_iss_is_accepted() -> None:
    # Earlier drafts put the client id in the PoP's iss: taken when it is the right one.
    verified = verify_client_attestation(
        _attestation(), _pop({"iss": CLIENT, "aud": [AS]}), audience=AS, now=NOW,
        attester_key=_attester,
    )  # fmt: skip
    assert verified.client_id == CLIENT


# -- the issuer service, the wallet ----------------------------------------------------------

CLOCK = SystemClock()
PKI = make_test_pki(["Wallet Provider"])
PROVIDER = PKI.issuer("Wallet Provider")


def _held(client_id: str = CLIENT, key: Any = None) -> ClientAttestation:
    instance = key or generate_key()
    token = build_client_attestation(
        PROVIDER.private_key, client_id=client_id, instance_key=instance,
        now=CLOCK.now(), x5c=tuple(PROVIDER.x5c()),
    )  # fmt: skip
    return ClientAttestation(token, instance)


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[LiveIssuer]:
    anchor = tmp_path / "wallet-providers.pem"
    anchor.write_text(certificates_to_pem([PKI.root.certificate]))
    settings = IssuerSettings(
        dev=True, wallet_provider_anchor_files=(str(anchor),), client_attestation_required=True
    )
    with live_issuer(settings=settings) as live:
        yield live


def _wallet(tmp_path: Path, attestation: ClientAttestation | None) -> Wallet:
    return Wallet.open(
        tmp_path / "w.wallet", "482913", kdf=KdfParams.INSECURE_TEST_ONLY,
        allow_loopback_http=True, client_attestation=attestation,
    )  # fmt: skip


def test_the_metadata_names_the_method(strict: LiveIssuer) -> None:
    server = httpx.get(f"{strict.base}/.well-known/oauth-authorization-server").json()
    assert server["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]


def test_an_attested_wallet_receives_both_ways(strict: LiveIssuer, tmp_path: Path) -> None:
    from test_oid4vci_authorization_code import REDIRECT, _browse

    with _wallet(tmp_path, _held()) as wallet:
        offer = strict.issuer.create_offer("withholding-slip", CLAIMS)
        assert wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1).credentials
        coded = strict.issuer.create_offer("withholding-slip", CLAIMS, flow="authorization_code")
        started = wallet.authorize(coded.uri, redirect_uri=REDIRECT)
        assert "client_id=https%3A%2F%2Fwallet.example.com" in started.url  # the sub
        assert wallet.finish_authorization(started, _browse(started.url)).credentials


def test_a_wallet_without_attestation_is_refused_and_nothing_is_used(
    strict: LiveIssuer, tmp_path: Path
) -> None:
    offer = strict.issuer.create_offer("withholding-slip", CLAIMS)
    with _wallet(tmp_path, None) as wallet:
        with pytest.raises(InvalidClient):
            wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1)
        assert wallet.credentials() == []
    # The code was not consumed: an attested wallet can still take the offer.
    (tmp_path / "second").mkdir()
    with _wallet(tmp_path / "second", _held()) as wallet:
        assert wallet.receive(offer.uri, tx_code=offer.tx_code, copies=1).credentials


def test_the_token_endpoint_refuses_bad_attestations(strict: LiveIssuer) -> None:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": "x"}  # fmt: skip
    held = _held()
    rogue_pki = make_test_pki(["Rogue Provider"])
    rogue = rogue_pki.issuer("Rogue Provider")
    instance = generate_key()
    untrusted = build_client_attestation(
        rogue.private_key, client_id=CLIENT, instance_key=instance, now=CLOCK.now(),
        x5c=tuple(rogue.x5c()),
    )  # fmt: skip
    pop = build_client_attestation_pop(held.key, audience=strict.base, now=CLOCK.now())
    cases = [
        {},  # none at all
        {"OAuth-Client-Attestation": held.jwt},  # no PoP
        {"OAuth-Client-Attestation": untrusted,
         "OAuth-Client-Attestation-PoP": build_client_attestation_pop(
             instance, audience=strict.base, now=CLOCK.now())},
        {"OAuth-Client-Attestation": held.jwt,
         "OAuth-Client-Attestation-PoP": build_client_attestation_pop(
             held.key, audience="https://other.example", now=CLOCK.now())},
    ]  # fmt: skip
    for headers in cases:
        answer = httpx.post(f"{strict.base}/token", data=form, headers=headers)
        assert_oauth_error(answer, 401, "invalid_client")
    # A PoP is good once: the first use reaches the grant (an unknown code), the replay not.
    replayed = {"OAuth-Client-Attestation": held.jwt, "OAuth-Client-Attestation-PoP": pop}
    assert_oauth_error(
        httpx.post(f"{strict.base}/token", data=form, headers=replayed), 400, "invalid_grant"
    )
    assert_oauth_error(
        httpx.post(f"{strict.base}/token", data=form, headers=replayed), 401, "invalid_client"
    )
    # An attestation for another client than the request names.
    other = {**held.headers(strict.base, CLOCK.now())}
    answer = httpx.post(
        f"{strict.base}/token", data={**form, "client_id": "someone-else"}, headers=other
    )
    assert_oauth_error(answer, 401, "invalid_client")


def test_a_pushed_request_for_another_client_id_is_refused(strict: LiveIssuer) -> None:
    held = _held()
    answer = httpx.post(
        f"{strict.base}/par",
        data={"response_type": "code", "client_id": "someone-else"},
        headers=held.headers(strict.base, CLOCK.now()),
    )
    assert_oauth_error(answer, 401, "invalid_client")


def test_required_attestation_needs_a_wallet_provider() -> None:
    from issuer import Issuer, create_app

    employer = Issuer.create("Example Corp", iss="https://issuer.example")
    try:
        with pytest.raises(ValueError, match="wallet provider"):
            create_app(employer, IssuerSettings(dev=True, client_attestation_required=True))
    finally:
        employer.close()


@pytest.mark.parametrize(
    "content", [None, "not a certificate", "-----BEGIN CERTIFICATE-----\nAA\n"]
)
def test_an_unreadable_wallet_provider_file_is_a_settings_error(
    tmp_path: Path, content: str | None
) -> None:
    from issuer import Issuer, create_app

    anchor = tmp_path / "providers.pem"
    if content is not None:
        anchor.write_text(content)
    employer = Issuer.create("Example Corp", iss="https://issuer.example")
    settings = IssuerSettings(dev=True, wallet_provider_anchor_files=(str(anchor),))
    try:
        with pytest.raises(ValueError, match="wallet_provider_anchor_files"):
            create_app(employer, settings)
    finally:
        employer.close()
