"""The OpenID4VCI issuer service end to end over real HTTP on 127.0.0.1: metadata, offers by
value and by reference, token with tx_code, nonce, batch credential requests in both
formats, deferred issuance, notifications and status list publication."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

import pytest
import zxingcpp
from PIL import Image
from test_oid4vci_service_fixtures import (
    LiveIssuer,
    ProtocolWallet,
    assert_oauth_error,
    live_issuer,
    wallet_for,
)

from honnin.clock import as_datetime
from honnin.credential_types import load_catalogue
from honnin.encoding import b64url_decode
from honnin.jose import jwk_from_public_key, jwk_thumbprint, verify_jws
from honnin.mdoc import verify_issuer_signed
from honnin.oid4vci import (
    SIGNED_METADATA_TYP,
    parse_credential_issuer_metadata,
    parse_credential_response,
    parse_unverified_signed_metadata,
)
from honnin.sdjwt import KeyBinding, verify_sd_jwt
from honnin.status import StatusValue, verify_status_list_cwt, verify_status_list_jwt
from honnin.trust import certificates_from_x5c, check_issuer_identifier, validate_chain
from issuer import IssuerSettings

CATALOGUE = load_catalogue()
SLIP = CATALOGUE.get("withholding-slip")
CLAIMS = SLIP.sample_claims()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveIssuer]:
    with live_issuer(
        settings=IssuerSettings(dev=True, deferred_types=("national-qualification",))
    ) as served:
        yield served


@pytest.fixture
def wallet(live: LiveIssuer) -> Iterator[ProtocolWallet]:
    with wallet_for(live) as client:
        yield client


def verify_sd_jwt_copy(live: LiveIssuer, credential: str) -> dict[str, Any]:
    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
        chain = validate_chain(
            certificates_from_x5c(header["x5c"]),
            [live.issuer.certificate],
            at=as_datetime(live.clock),
        )
        check_issuer_identifier(chain, payload["iss"])
        return chain.public_key

    verified = verify_sd_jwt(
        credential, resolve, key_binding=KeyBinding.FORBIDDEN, clock=live.clock
    )
    return verified.claims


def test_metadata_documents_are_served_as_json_the_same_on_every_request(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    # The documents are encoded once when the app is made: every answer must still be the
    # complete JSON with its media type and cache lifetime.
    for name in ("openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"):
        url = f"{live.base}/.well-known/{name}"
        first, second = wallet.http.get(url), wallet.http.get(url)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert first.headers["content-type"] == "application/json"
        assert first.headers["cache-control"] == "public, max-age=300"
        assert int(first.headers["content-length"]) == len(first.content)
        assert first.json()["issuer" if name != "openid-credential-issuer" else "credential_issuer"]


def test_signed_metadata_is_served_to_a_wallet_that_asks_for_it(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    # §12.2.2-12.2.3: the same metadata as a JWT signed with the issuer's chain in x5c.
    url = f"{live.base}/.well-known/openid-credential-issuer"
    plain = wallet.http.get(url)
    signed = wallet.http.get(url, headers={"accept": "application/jwt, application/json;q=0.9"})
    assert signed.headers["content-type"] == "application/jwt"
    assert plain.headers["vary"] == signed.headers["vary"] == "Accept"
    jws, metadata = parse_unverified_signed_metadata(signed.text, credential_issuer=live.base)
    assert jws.header["typ"] == SIGNED_METADATA_TYP and jws.header["alg"] == "ES256"
    chain = certificates_from_x5c(jws.header["x5c"])
    verified = validate_chain(chain, [live.issuer.certificate], at=as_datetime(live.clock))
    check_issuer_identifier(verified, live.base)
    verify_jws(jws, verified.public_key)  # type: ignore[arg-type]
    claims = json.loads(b64url_decode(signed.text.split(".")[1]))
    assert claims.pop("sub") == live.base and isinstance(claims.pop("iat"), int)
    assert claims == plain.json()
    assert metadata == parse_credential_issuer_metadata(plain.json())


def test_metadata_lists_every_type_in_both_formats(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    response = wallet.http.get(f"{live.base}/.well-known/openid-credential-issuer")
    assert response.status_code == 200
    metadata = parse_credential_issuer_metadata(response.content, credential_issuer=live.base)
    configurations = metadata.credential_configurations_supported
    for type_id in CATALOGUE.ids:
        sd = configurations[f"{type_id}.sd_jwt_vc"]
        assert sd.format == "dc+sd-jwt" and sd.vct == CATALOGUE.get(type_id).vct
        mdoc = configurations[f"{type_id}.mso_mdoc"]
        assert mdoc.format == "mso_mdoc" and mdoc.doctype == CATALOGUE.get(type_id).doctype
        assert sd.credential_metadata is not None and sd.credential_metadata.display is not None
        assert {d.locale for d in sd.credential_metadata.display} == {"ja", "en"}
    assert metadata.batch_credential_issuance is not None
    assert metadata.batch_credential_issuance.batch_size == 8
    assert metadata.nonce_endpoint == f"{live.base}/nonce"
    assert metadata.deferred_credential_endpoint == f"{live.base}/deferred_credential"
    assert metadata.notification_endpoint == f"{live.base}/notification"
    claim_labels = {
        tuple(c.path): {d.locale: d.name for d in c.display or ()}
        for c in configurations["withholding-slip.sd_jwt_vc"].credential_metadata.claims or ()  # type: ignore[union-attr]
    }
    assert claim_labels[("payment_amount",)]["ja"] == SLIP.label(("payment_amount",), "ja")


def test_authorization_server_and_jwt_vc_issuer_metadata(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    oauth = wallet.http.get(f"{live.base}/.well-known/oauth-authorization-server").json()
    assert oauth["issuer"] == live.base
    assert oauth["token_endpoint"] == f"{live.base}/token"
    assert oauth["pre-authorized_grant_anonymous_access_supported"] is True
    vc_issuer = wallet.http.get(f"{live.base}/.well-known/jwt-vc-issuer").json()
    assert vc_issuer["issuer"] == live.base
    (key,) = vc_issuer["jwks"]["keys"]
    assert key["kid"] == jwk_thumbprint(key)
    assert certificates_from_x5c(key["x5c"])[0] == live.issuer.chain[0]


def test_sd_jwt_vc_batch_of_eight_over_http(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS)
    assert offer.tx_code is not None and len(offer.tx_code) == 6 and offer.tx_code.isdigit()
    resolved = wallet.resolve(offer)
    grant = resolved.pre_authorized_code
    assert grant is not None and grant.tx_code is not None and grant.tx_code.length == 6
    token = wallet.token(offer)
    nonce = wallet.nonce()
    proofs = wallet.proofs(nonce, 8)
    response = wallet.credential_response(token, "withholding-slip.sd_jwt_vc", proofs)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    parsed = parse_credential_response(response.content)
    assert parsed.credentials is not None and len(parsed.credentials) == 8
    indices = set()
    for issued, key in zip(parsed.credentials, wallet.keys, strict=True):
        assert isinstance(issued.credential, str)
        claims = verify_sd_jwt_copy(live, issued.credential)
        assert claims["cnf"]["jwk"] == jwk_from_public_key(key)
        assert claims["withholding_tax"] == CLAIMS["withholding_tax"]
        indices.add(claims["status"]["status_list"]["idx"])
    assert len(indices) == 8
    assert parsed.notification_id is not None
    notified = wallet.http.post(
        f"{live.base}/notification",
        json={"notification_id": parsed.notification_id, "event": "credential_accepted"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert notified.status_code == 204
    (record,) = live.issuer.store.issuances(offer.offer_id)
    assert len(record.status) == 8
    for event in ("credential_failure", "credential_deleted"):
        later = wallet.http.post(
            f"{live.base}/notification",
            json={
                "notification_id": parsed.notification_id,
                "event": event,
                "event_description": "stored then removed by the person",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert later.status_code == 204
    events = live.issuer.store.notifications(record.batch_id)
    assert [e.event for e in events] == [
        "credential_accepted",
        "credential_failure",
        "credential_deleted",
    ]
    assert events[2].description == "stored then removed by the person"


def test_mso_mdoc_batch_by_reference(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = live.issuer.create_offer(
        "withholding-slip", CLAIMS, format="mso_mdoc", by_reference=True, tx_code=False
    )
    assert "credential_offer_uri" in offer.uri and offer.tx_code is None
    token = wallet.token(offer)
    proofs = wallet.proofs(wallet.nonce(), 8)
    response = wallet.credential_response(token, "withholding-slip.mso_mdoc", proofs)
    assert response.status_code == 200, response.text
    credentials = parse_credential_response(response.content).credentials
    assert credentials is not None and len(credentials) == 8
    indices = set()
    for issued, key in zip(credentials, wallet.keys, strict=True):
        assert isinstance(issued.credential, str)
        verified = verify_issuer_signed(
            b64url_decode(issued.credential),
            trust_anchors=[live.issuer.certificate],
            clock=live.clock,
        )
        assert verified.doctype == SLIP.doctype
        assert jwk_thumbprint(jwk_from_public_key(verified.device_key)) == jwk_thumbprint(
            jwk_from_public_key(key)
        )
        assert verified.status is not None
        indices.add(verified.status.idx)
    assert len(indices) == 8


def test_offer_by_reference_is_served_once_and_then_gone(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS, by_reference=True)
    first = wallet.resolve(offer)
    assert first.credential_issuer == live.base
    assert first.credential_configuration_ids == ("withholding-slip.sd_jwt_vc",)
    wallet.token(offer)
    link = offer.uri.split("credential_offer_uri=", 1)[1]
    gone = wallet.http.get(unquote(link))
    assert_oauth_error(gone, 404, "invalid_request")


def test_deferred_issuance_completes_after_approval(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    claims = CATALOGUE.get("national-qualification").sample_claims()
    offer = live.issuer.create_offer("national-qualification", claims)
    token = wallet.token(offer)
    proofs = wallet.proofs(wallet.nonce(), 2)
    accepted = wallet.credential_response(token, "national-qualification.sd_jwt_vc", proofs)
    assert accepted.status_code == 202, accepted.text
    pending = parse_credential_response(accepted.content)
    assert pending.transaction_id is not None and pending.interval == 5
    assert live.issuer.store.issuances(offer.offer_id) == []

    def poll() -> Any:
        return wallet.http.post(
            f"{live.base}/deferred_credential",
            json={"transaction_id": pending.transaction_id},
            headers={"Authorization": f"Bearer {token}"},
        )

    early = poll()
    assert early.status_code == 202
    assert early.json()["transaction_id"] == pending.transaction_id
    assert [p.offer_id for p in live.issuer.pending()] == [offer.offer_id]
    assert live.issuer.approve(offer) == 1
    done = poll()
    assert done.status_code == 200, done.text
    credentials = parse_credential_response(done.content).credentials
    assert credentials is not None and len(credentials) == 2
    for issued, key in zip(credentials, wallet.keys, strict=True):
        assert isinstance(issued.credential, str)
        claims = verify_sd_jwt_copy(live, issued.credential)
        assert claims["cnf"]["jwk"] == jwk_from_public_key(key)
    assert_oauth_error(poll(), 400, "invalid_transaction_id")


def test_qr_png_decodes_to_the_exact_offer_uri(live: LiveIssuer, tmp_path: Any) -> None:
    for by_reference in (False, True):
        offer = live.issuer.create_offer("withholding-slip", CLAIMS, by_reference=by_reference)
        path = tmp_path / f"offer-{by_reference}.png"
        png = offer.qr_png(path)
        assert path.read_bytes() == png
        decoded = zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
        )
        assert [code.text for code in decoded] == [offer.uri]
        assert offer.qr_svg().startswith("<svg")
        assert "█" in offer.qr_text()


def test_status_list_is_published_as_jwt_and_cwt(live: LiveIssuer, wallet: ProtocolWallet) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS)
    token = wallet.token(offer)
    response = wallet.credential_response(
        token, "withholding-slip.sd_jwt_vc", wallet.proofs(wallet.nonce(), 2)
    )
    credential = response.json()["credentials"][0]["credential"]
    reference = verify_sd_jwt_copy(live, credential)["status"]["status_list"]
    live.issuer.revoke(credential)
    jwt_response = wallet.http.get(reference["uri"])
    assert jwt_response.headers["content-type"] == "application/statuslist+jwt"
    public_key = live.issuer.identity.key.public_key()
    listed = verify_status_list_jwt(
        jwt_response.content, key=public_key, expected_sub=reference["uri"], now=live.clock.now()
    )
    assert listed.status(reference["idx"]) == StatusValue.INVALID
    cwt_response = wallet.http.get(
        reference["uri"], headers={"Accept": "application/statuslist+cwt"}
    )
    assert cwt_response.headers["content-type"] == "application/statuslist+cwt"
    listed_cwt = verify_status_list_cwt(
        cwt_response.content, key=public_key, expected_sub=reference["uri"], now=live.clock.now()
    )
    assert listed_cwt.status(reference["idx"]) == StatusValue.INVALID
    missing = wallet.http.get(f"{live.base}/status/no-such-list")
    assert_oauth_error(missing, 404, "invalid_request")


def test_an_offer_can_ask_for_deferred_issuance_itself(
    live: LiveIssuer, wallet: ProtocolWallet
) -> None:
    offer = live.issuer.create_offer("withholding-slip", CLAIMS, deferred=True)
    assert offer.deferred
    token = wallet.token(offer)
    response = wallet.credential_response(
        token, "withholding-slip.sd_jwt_vc", wallet.proofs(wallet.nonce(), 1)
    )
    assert response.status_code == 202, response.text
    assert live.issuer.store.issuances(offer.offer_id) == []
    assert live.issuer.approve(offer.offer_id) == 1
    assert live.issuer.approve(offer.offer_id) == 0
    done = wallet.http.post(
        f"{live.base}/deferred_credential",
        json={"transaction_id": response.json()["transaction_id"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert done.status_code == 200, done.text
    assert len(live.issuer.store.issuances(offer.offer_id)) == 1
