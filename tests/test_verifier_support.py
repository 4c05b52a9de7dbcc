"""Shared builders for the verifier tests: a test PKI, SD-JWT VC and mdoc credentials made
directly with honnin.sdjwt / honnin.mdoc, and wallet-side presentations of them (no Wallet
role: the verifier is tested on its own). This module holds no tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from honnin.clock import Clock, FixedClock, SystemClock
from honnin.credential_types import CredentialType, load_catalogue
from honnin.encoding import b64url_encode, json_dumps
from honnin.jose import generate_key, jwk_from_public_key, parse_jws
from honnin.jose.jwe import encrypt_response
from honnin.mdoc import issue_mdoc, openid4vp_session_transcript, present
from honnin.sdjwt import issue_sd_jwt, receive_sd_jwt
from honnin.status import StatusReference
from honnin.trust import CertifiedKey, TestPki, make_test_pki
from verifier import Query, VerificationResult, Verifier

ISSUER = "Example Corp"
HOSPITAL = "Sample Hospital"
SLIP = "withholding-slip"
PURPOSE = "unemployment benefit application"


def catalogue_type(type_id: str) -> CredentialType:
    return load_catalogue().get(type_id)


def pki_at(clock: Clock) -> TestPki:
    return make_test_pki([ISSUER, HOSPITAL], now=datetime.fromtimestamp(clock.now(), tz=UTC))


# The in-process verifier's fixtures, shared by the verifier test modules (import them).
@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(int(SystemClock().now()))


@pytest.fixture
def pki(clock: FixedClock) -> TestPki:
    return pki_at(clock)


@pytest.fixture
def agency(pki: TestPki, clock: FixedClock) -> Verifier:
    return Verifier.create("Hello Work", trust=[pki.root.certificate], clock=clock)


@dataclass
class Holder:
    """A wallet stand-in: one binding key and the credentials issued to it."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=generate_key)  # type: ignore[assignment]

    @property
    def jwk(self) -> dict[str, str]:
        return jwk_from_public_key(self.key)


def issue_sd_jwt_vc(
    pki: TestPki,
    type_id: str,
    holder: Holder,
    *,
    now: float,
    issuer: str = ISSUER,
    claims: Mapping[str, Any] | None = None,
    lifetime: int = 3600,
    status: StatusReference | None = None,
    signer: CertifiedKey | None = None,
    typ: str = "dc+sd-jwt",
    bind: bool = True,
) -> str:
    """An SD-JWT VC of ``type_id`` for ``holder``, signed with the issuer's x5c chain."""
    credential_type = catalogue_type(type_id)
    body = dict(claims if claims is not None else credential_type.sample_claims())
    key = signer or pki.issuer(issuer)
    payload: dict[str, Any] = {
        "iss": pki.issuer_urls[issuer],
        "vct": credential_type.vct,
        "iat": int(now),
        "exp": int(now) + lifetime,
        **body,
    }
    if status is not None:
        payload["status"] = status.to_claim()
    return issue_sd_jwt(
        payload,
        key.private_key,
        disclosable=credential_type.disclosable_paths(body),
        holder_key=holder.jwk if bind else None,
        header={"typ": typ, "x5c": key.x5c()},
    )


def issue_mdoc_credential(
    pki: TestPki,
    type_id: str,
    holder: Holder,
    *,
    now: float,
    issuer: str = ISSUER,
    lifetime: int = 3600,
    status: StatusReference | None = None,
) -> bytes:
    credential_type = catalogue_type(type_id)
    key = pki.issuer(issuer)
    at = datetime.fromtimestamp(int(now), tz=UTC)
    return issue_mdoc(
        credential_type.doctype,
        credential_type.to_mdoc(credential_type.sample_claims()),
        key.private_key,
        key.chain,
        holder.key.public_key(),
        valid_from=at - timedelta(seconds=60),
        valid_until=at + timedelta(seconds=lifetime),
        signed=at - timedelta(seconds=60),
        status=status,
    ).encode()


def request_claims(request_object: str) -> dict[str, Any]:
    """The (unverified) claims of a request object: the wallet's view of the request."""
    return parse_jws(request_object).unverified_claims()


def present_sd_jwt(
    token: str,
    holder: Holder,
    paths: Sequence[tuple[str | int | None, ...]],
    request: Mapping[str, Any],
    *,
    aud: str | None = None,
    nonce: str | None = None,
    iat: int | None = None,
    with_kb: bool = True,
    received_at: float | None = None,
) -> str:
    credential = receive_sd_jwt(token, lambda header, payload: _x5c_key(header), now=received_at)
    if not with_kb:
        return credential.present(paths)
    return credential.present(
        paths,
        holder_key=holder.key,
        nonce=nonce or request["nonce"],
        aud=aud or request["client_id"],
        iat=iat,
    )


def _x5c_key(header: Mapping[str, Any]) -> Any:
    from honnin.trust import certificates_from_x5c

    return certificates_from_x5c(header["x5c"])[0].public_key()


def present_mdoc(
    credential: bytes,
    holder: Holder,
    elements: Mapping[str, Sequence[str]],
    request: Mapping[str, Any],
    *,
    encrypted_to: Mapping[str, Any] | None = None,
    client_id: str | None = None,
    nonce: str | None = None,
) -> str:
    """A base64url DeviceResponse over the transcript of ``request`` (App. B.2.6)."""
    transcript = openid4vp_session_transcript(
        client_id or request["client_id"],
        nonce or request["nonce"],
        request["response_uri"],
        encryption_jwk=dict(encrypted_to) if encrypted_to is not None else None,
    )
    return b64url_encode(present(credential, holder.key, transcript, elements=elements))


def encryption_jwk(request: Mapping[str, Any]) -> dict[str, Any]:
    return dict(request["client_metadata"]["jwks"]["keys"][0])


def form(vp_token: Mapping[str, list[str]], state: str) -> dict[str, str]:
    """A ``direct_post`` form body."""
    return {"vp_token": json_dumps(dict(vp_token)), "state": state}


def response_payload(vp_token: Mapping[str, list[str]], state: str) -> dict[str, Any]:
    """What a wallet encrypts for ``direct_post.jwt`` (§8.3)."""
    return {"vp_token": dict(vp_token), "state": state}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- the verifier side of the tests ---------------------------------------------------------


def slip_query() -> Query:
    return Query.of(SLIP, "payment_amount", "withholding_tax")


def ask(agency: Verifier, query: Query | None = None) -> tuple[Any, dict[str, Any]]:
    request = agency.request(query or slip_query(), purpose=PURPOSE, response_mode="direct_post")
    return request, request_claims(request.request_object)


def present_slip(
    token: str, holder: Holder, claims: dict[str, Any], clock: Clock, *paths: str
) -> str:
    chosen = [(p,) for p in paths or ("payment_amount",)]
    return present_sd_jwt(token, holder, chosen, claims, iat=int(clock.now()))


def sd_jwt_answer(
    pki: Any, agency: Verifier, clock: FixedClock, **present: Any
) -> tuple[dict[str, Any], str]:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    _, claims = ask(agency)
    paths = present.pop("paths", [("payment_amount",), ("withholding_tax",)])
    present.setdefault("iat", int(clock.now()))
    presentation = present_sd_jwt(token, holder, paths, claims, **present)
    return claims, presentation


def rejected(agency: Verifier, claims: dict[str, Any], presentation: str) -> VerificationResult:
    result = agency.verify(form({SLIP: [presentation]}, claims["state"]))
    assert result.verified is False
    assert result.claims == {} and result.credentials == {}
    assert agency.result(result.transaction_id) is not None
    return result


def encrypted_request(agency: Verifier, query: Query | None = None) -> tuple[Any, dict[str, Any]]:
    request = agency.request(query or slip_query(), purpose=PURPOSE)
    return request, request_claims(request.request_object)


def slip_presentation(pki: Any, clock: Clock, claims: dict[str, Any]) -> str:
    holder = Holder()
    token = issue_sd_jwt_vc(pki, SLIP, holder, now=clock.now())
    return present_slip(token, holder, claims, clock, "payment_amount", "withholding_tax")


def encrypted_slip_answer(pki: Any, clock: Clock, claims: dict[str, Any]) -> dict[str, str]:
    """The direct_post.jwt form that answers a request (its ``claims``) with a fresh slip's
    payment_amount and withholding_tax, as a wallet would post it to the response_uri."""
    payload = response_payload({SLIP: [slip_presentation(pki, clock, claims)]}, claims["state"])
    return {"response": encrypt_response(payload, encryption_jwk(claims))}
