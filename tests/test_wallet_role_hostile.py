"""Hostile input on the wallet side, in process: credentials it must refuse at accept, and
presentation requests it must refuse or block (HOSTILE-CASES WL-01..08, WL-14/15, WL-17/18;
SECURITY-CHECKLIST P1..P4, C14). Each case asserts the exact error class."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from test_wallet_role_support import FAST, PIN, PURPOSE, SLIP, Parties, parties, resign, sample

from honnin.clock import FixedClock, SystemClock
from honnin.credential_types import load_catalogue
from honnin.encoding import b64url_encode, json_dumps
from honnin.errors import (
    Expired,
    InvalidDisclosure,
    InvalidKeyBinding,
    InvalidRequest,
    InvalidSignature,
    IssuerNotEntitled,
    MalformedCredential,
    SchemaViolation,
    TooLarge,
    UnknownCredentialType,
    UntrustedIssuer,
    UntrustedVerifier,
)
from honnin.jose import generate_key, jwk_from_public_key, parse_jws
from honnin.oid4vp import x509_hash_client_id
from honnin.sdjwt import issue_sd_jwt
from honnin.trust import TrustList, make_test_pki
from verifier import Query, Verifier
from wallet import TrustState, Wallet


@pytest.fixture(scope="module")
def world() -> Parties:
    return parties()


@pytest.fixture
def wallet(world: Parties, tmp_path: Path) -> Iterator[Wallet]:
    with world.wallet(tmp_path / "w") as opened:
        yield opened


@pytest.fixture
def loose(world: Parties, tmp_path: Path) -> Iterator[Wallet]:
    """A wallet without trust configuration: crafted issuers reach the later checks."""
    with world.wallet(tmp_path / "loose", trust=None) as opened:
        yield opened


def _crafted(
    wallet: Wallet,
    *,
    vct: str | None = None,
    disclosable: list[Any] | None = None,
    typ: str = "dc+sd-jwt",
    extra: dict[str, Any] | None = None,
    bind: bool = True,
) -> tuple[str, Any]:
    """An SD-JWT VC signed by a fresh test-PKI issuer (its root returned for trust)."""
    pki = make_test_pki(["Crafted Issuer"])
    leaf = pki.issuer("Crafted Issuer")
    slip = load_catalogue().get(SLIP)
    claims = sample()
    payload = {"iss": pki.issuer_urls["Crafted Issuer"], "vct": vct or slip.vct,
               "iat": int(SystemClock().now()), **claims, **(extra or {})}  # fmt: skip
    key = wallet.binding_keys(1)[0].public_jwk if bind else None
    token = issue_sd_jwt(
        payload,
        leaf.private_key,
        disclosable=disclosable if disclosable is not None else slip.disclosable_paths(claims),
        holder_key=key,
        header={"typ": typ, "x5c": leaf.x5c()},
    )
    return token, pki.root.certificate


# -- credentials refused at accept ----------------------------------------------------------


def test_a_credential_from_an_untrusted_issuer_is_refused(world: Parties, tmp_path: Path) -> None:
    # The wallet trusts the agency's access CA only: the employer's chain leads nowhere.
    with world.wallet(tmp_path / "w", trust=[world.agency.certificate]) as wallet:
        batch = world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(2))
        with pytest.raises(UntrustedIssuer):
            wallet.accept(batch)
        assert wallet.credentials() == []


def test_an_mdoc_from_an_untrusted_issuer_is_refused(world: Parties, tmp_path: Path) -> None:
    with world.wallet(tmp_path / "w", trust=[world.agency.certificate]) as wallet:
        keys = wallet.binding_keys(1)
        batch = world.employer.issue(SLIP, sample(), holder=keys, format="mso_mdoc")
        with pytest.raises(UntrustedIssuer):
            wallet.accept(batch)


def test_a_tampered_copy_is_refused_and_nothing_is_stored(world: Parties, wallet: Wallet) -> None:
    batch = world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(3))
    jwt, rest = batch.credentials[1].split("~", 1)
    head, body, signature = jwt.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    copies = [batch.credentials[0], f"{head}.{body}.{flipped}~{rest}", batch.credentials[2]]
    with pytest.raises(InvalidSignature):
        wallet.accept(copies)
    assert wallet.credentials() == []


def test_a_copy_bound_to_a_foreign_key_is_refused(world: Parties, wallet: Wallet) -> None:
    foreign = jwk_from_public_key(generate_key())
    batch = world.employer.issue(SLIP, sample(), holder=[wallet.binding_keys(1)[0], foreign])
    with pytest.raises(InvalidKeyBinding) as caught:
        wallet.accept(batch)
    assert caught.value.fields["reason"] == "cnf"
    assert wallet.credentials() == []


def test_a_copy_bound_to_a_key_already_in_use_is_refused(world: Parties, wallet: Wallet) -> None:
    keys = wallet.binding_keys(2)
    wallet.accept(world.employer.issue(SLIP, sample(), holder=keys))
    with pytest.raises(InvalidKeyBinding) as caught:
        wallet.accept(world.employer.issue(SLIP, sample(), holder=keys[:1]))
    assert caught.value.fields["reason"] == "key_reused"


def test_copies_with_different_claims_are_not_one_batch(world: Parties, wallet: Wallet) -> None:
    other = sample()
    other["payment_amount"] += 1
    one = world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(1))
    two = world.employer.issue(SLIP, other, holder=wallet.binding_keys(1))
    with pytest.raises(MalformedCredential) as caught:
        wallet.accept([*one.credentials, *two.credentials])
    assert caught.value.fields["reason"] == "batch_mismatch"


def test_an_issuer_not_entitled_by_the_trust_list_is_refused(
    world: Parties, tmp_path: Path
) -> None:
    pki = make_test_pki(["Example Corp"])
    document = pki.trust_list_document({"Example Corp": ["birth-certificate"]})
    with Wallet.open(tmp_path / "w", PIN, kdf=FAST, trust=TrustList.load(document)) as wallet:
        leaf = pki.issuer("Example Corp")
        slip = load_catalogue().get(SLIP)
        token = issue_sd_jwt(
            {"iss": pki.issuer_urls["Example Corp"], "vct": slip.vct, **sample()},
            leaf.private_key,
            disclosable=slip.disclosable_paths(sample()),
            holder_key=wallet.binding_keys(1)[0].public_jwk,
            header={"typ": "dc+sd-jwt", "x5c": leaf.x5c()},
        )
        with pytest.raises(IssuerNotEntitled):
            wallet.accept(token)


def test_an_expired_credential_is_refused(world: Parties, tmp_path: Path) -> None:
    later = FixedClock(SystemClock().now() + 3 * 365 * 86400)
    with world.wallet(tmp_path / "w", clock=later) as wallet:
        batch = world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(1))
        with pytest.raises(Expired):
            wallet.accept(batch)


def test_a_wrong_typ_is_refused(loose: Wallet) -> None:
    token, _ = _crafted(loose, typ="vc+sd-jwt")
    with pytest.raises(MalformedCredential):
        loose.accept(token)


def test_an_unknown_credential_type_is_refused(loose: Wallet) -> None:
    token, _ = _crafted(loose, vct="https://example.com/vct/unknown")
    with pytest.raises(UnknownCredentialType):
        loose.accept(token)


def test_a_my_number_in_plaintext_is_refused(loose: Wallet) -> None:
    slip = load_catalogue().get(SLIP)
    claims = {**sample(), "my_number": "123456789018"}
    disclosable = [p for p in slip.disclosable_paths(claims) if p != ("my_number",)]
    token, _ = _crafted(loose, disclosable=disclosable, extra={"my_number": "123456789018"})
    with pytest.raises(SchemaViolation):
        loose.accept(token)


def test_a_registered_claim_in_a_disclosure_is_refused(loose: Wallet) -> None:
    slip = load_catalogue().get(SLIP)
    disclosable = [*slip.disclosable_paths(sample()), ("iat",)]
    token, _ = _crafted(loose, disclosable=disclosable)
    with pytest.raises(InvalidDisclosure):
        loose.accept(token)


def test_a_credential_without_a_holder_key_is_refused(loose: Wallet) -> None:
    token, _ = _crafted(loose, bind=False)
    with pytest.raises(InvalidKeyBinding) as caught:
        loose.accept(token)
    assert caught.value.fields["reason"] == "cnf"


def test_a_credential_that_is_not_one_is_refused(wallet: Wallet) -> None:
    with pytest.raises(MalformedCredential):
        wallet.accept([""])


# -- requests refused or blocked ------------------------------------------------------------


def _request(world: Parties, **options: Any) -> Any:
    return world.agency.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE, **options)


def _stock(world: Parties, wallet: Wallet) -> None:
    wallet.accept(world.employer.issue(SLIP, sample(), holder=wallet.binding_keys(2)))


def test_an_unsigned_request_by_value_is_refused(world: Parties, wallet: Wallet) -> None:
    _stock(world, wallet)
    request = _request(world)
    claims = parse_jws(request.request_object).unverified_claims()
    params = {k: v if isinstance(v, str) else json_dumps(v) for k, v in claims.items()}
    params["client_id"] = f"redirect_uri:{claims['response_uri']}"
    with pytest.raises(UntrustedVerifier) as caught:
        wallet.consider("openid4vp://?" + urlencode(params))
    assert caught.value.fields["reason"] == "unsigned"


def test_an_unsecured_jwt_request_is_refused(world: Parties, wallet: Wallet) -> None:
    claims = parse_jws(_request(world).request_object).unverified_claims()
    header = b64url_encode(json_dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
    unsigned = f"{header}.{b64url_encode(json_dumps(claims).encode())}."
    with pytest.raises(UntrustedVerifier):
        wallet.consider(unsigned)


def test_unsigned_requests_allowed_in_development_are_shown_unsigned(
    world: Parties, tmp_path: Path
) -> None:
    with world.wallet(tmp_path / "w", allow_unsigned_requests=True) as wallet:
        _stock(world, wallet)
        claims = parse_jws(_request(world).request_object).unverified_claims()
        claims["client_id"] = f"redirect_uri:{claims['response_uri']}"
        params = {
            k: v if isinstance(v, str) else json_dumps(v)
            for k, v in claims.items()
            if k not in ("iss", "aud", "iat", "exp")  # JWT claims, not URL parameters
        }
        consent = wallet.consider("openid4vp://?" + urlencode(params))
        assert not consent.verifier.signed
        assert consent.verifier.trust is TrustState.UNTRUSTED
        with pytest.raises(UntrustedVerifier):
            consent.approve()


def test_a_client_id_not_in_the_certificate_san_is_refused(world: Parties, wallet: Wallet) -> None:
    evil = "x509_san_dns:evil.example"
    key = world.agency.identity.private_key
    jar = resign(_request(world).request_object, key, client_id=evil, iss=evil)
    with pytest.raises(InvalidRequest) as caught:
        wallet.consider(jar)
    assert caught.value.fields["reason"] == "client_id_binding"


def test_a_client_id_not_matching_the_certificate_hash_is_refused(
    world: Parties, tmp_path: Path
) -> None:
    hashed = Verifier.create("Hello Work", trust=[world.employer.certificate],
                             client_id_prefix="x509_hash")  # fmt: skip
    request = hashed.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
    other = x509_hash_client_id(world.agency.identity.certificate)
    jar = resign(request.request_object, hashed.identity.private_key, client_id=other)
    with world.wallet(tmp_path / "w", trust=[hashed.certificate]) as wallet:
        with pytest.raises(InvalidRequest) as caught:
            wallet.consider(jar)
        assert caught.value.fields["reason"] == "client_id_binding"


def test_an_x509_hash_verifier_is_accepted(world: Parties, tmp_path: Path) -> None:
    hashed = Verifier.create("Hello Work", trust=[world.employer.certificate],
                             client_id_prefix="x509_hash")  # fmt: skip
    request = hashed.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE)
    with world.wallet(tmp_path / "w", trust=[world.employer.certificate, hashed.certificate]) as w:
        _stock(world, w)
        consent = w.consider(request)
        assert consent.client_id.startswith("x509_hash:") and consent.verifier.trusted


def test_a_response_uri_on_another_host_is_refused(world: Parties, wallet: Wallet) -> None:
    jar = resign(_request(world).request_object, world.agency.identity.private_key,
                 response_uri="https://evil.example/response")  # fmt: skip
    with pytest.raises(InvalidRequest) as caught:
        wallet.consider(jar)
    assert caught.value.fields["reason"] == "response_uri_host"


def test_a_request_signed_by_an_untrusted_certificate_is_blocked(
    world: Parties, wallet: Wallet
) -> None:
    _stock(world, wallet)
    impostor = Verifier.create("Hello Work", trust=[world.employer.certificate])
    consent = wallet.consider(impostor.request(Query.of(SLIP, "payment_amount"), purpose=PURPOSE))
    assert consent.verifier.trust is TrustState.UNTRUSTED
    assert consent.blocked == "untrusted_verifier"
    with pytest.raises(UntrustedVerifier):
        consent.approve()
    assert wallet.credentials()[0].copies == 2


def test_a_request_with_a_broken_signature_is_refused(world: Parties, wallet: Wallet) -> None:
    head, body, signature = _request(world).request_object.split(".")
    forged = parse_jws(f"{head}.{body}.{signature}").unverified_claims()
    forged["nonce"] = "replayed-nonce"
    jar = f"{head}.{b64url_encode(json_dumps(forged).encode())}.{signature}"
    with pytest.raises(InvalidSignature):
        wallet.consider(jar)


def test_a_request_without_the_request_typ_is_refused(world: Parties, wallet: Wallet) -> None:
    jar = resign(_request(world).request_object, world.agency.identity.private_key,
                 header={"typ": "JWT"})  # fmt: skip
    with pytest.raises(InvalidRequest):
        wallet.consider(jar)


def test_a_client_id_differing_from_the_link_is_refused(world: Parties, wallet: Wallet) -> None:
    request = _request(world)
    link = "openid4vp://?" + urlencode(
        {"client_id": "x509_san_dns:other.example", "request": request.request_object}
    )
    with pytest.raises(InvalidRequest):
        wallet.consider(link)


def test_an_expired_request_is_refused(world: Parties, tmp_path: Path) -> None:
    later = FixedClock(SystemClock().now() + 3600)
    with world.wallet(tmp_path / "w", clock=later) as wallet, pytest.raises(Expired):
        wallet.consider(_request(world))


def test_transaction_data_is_refused(world: Parties, wallet: Wallet) -> None:
    data = [b64url_encode(b'{"type":"payment","credential_ids":["x"]}')]
    key = world.agency.identity.private_key
    jar = resign(_request(world).request_object, key, transaction_data=data)
    with pytest.raises(InvalidRequest) as caught:
        wallet.consider(jar)
    assert caught.value.fields["error"] == "invalid_transaction_data"


def test_no_usable_encryption_key_fails_closed(world: Parties, wallet: Wallet) -> None:
    claims = parse_jws(_request(world).request_object).unverified_claims()
    metadata = claims["client_metadata"]
    metadata["jwks"]["keys"] = [{**metadata["jwks"]["keys"][0], "use": "sig"}]
    jar = resign(_request(world).request_object, world.agency.identity.private_key,
                 client_metadata=metadata)  # fmt: skip
    with pytest.raises(InvalidRequest):
        wallet.consider(jar)


def test_an_oversized_request_object_is_refused(wallet: Wallet) -> None:
    with pytest.raises(TooLarge):
        wallet.consider("a" * (600 * 1024) + ".b.c")
