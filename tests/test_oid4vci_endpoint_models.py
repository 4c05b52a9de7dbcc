"""OpenID4VCI 1.0 Token (§6), Credential (§8), Deferred (§9) and Notification (§11) messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from honnin.errors import (
    InvalidCredentialRequest,
    InvalidNotificationRequest,
    InvalidRequest,
    TooLarge,
)
from honnin.oid4vci import (
    AuthorizationDetail,
    CredentialResponse,
    NotificationEvent,
    TokenRequest,
    parse_credential_request,
    parse_credential_response,
    parse_deferred_credential_request,
    parse_notification_request,
    parse_token_request,
    parse_token_response,
)

# -- token, nonce -----------------------------------------------------------------------------

PRE = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def test_token_request_form_round_trip() -> None:
    request = TokenRequest(
        grant_type=PRE,
        pre_authorized_code="SplxlOBeZQQYbYS6WxSbIA",
        tx_code="493536",
        authorization_details=(
            AuthorizationDetail(
                type="openid_credential", credential_configuration_id="UniversityDegreeCredential"
            ),
        ),
    )
    form = request.to_form()
    assert form["pre-authorized_code"] == "SplxlOBeZQQYbYS6WxSbIA"
    assert json.loads(form["authorization_details"])[0]["type"] == "openid_credential"
    from urllib.parse import urlencode

    assert parse_token_request(urlencode(form).encode()) == request
    assert "493536" not in repr(request) and "SplxlOBe" not in repr(request)


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=a&grant_type=b",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code",
        b"grant_type=authorization_code&code=x&tx_code=1",
        b"grant_type=authorization_code",
        b"grant_type=%FF",
        b"pre-authorized_code=x",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=c&authorization_details=%5B",
    ],
)
def test_bad_token_requests(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_token_request(body)


def test_token_request_too_large() -> None:
    with pytest.raises(TooLarge):
        parse_token_request(b"grant_type=" + b"a" * 20_000)


def test_token_response() -> None:
    response = parse_token_response(
        {
            "access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp..sHQ",
            "token_type": "Bearer",
            "expires_in": 86400,
            "authorization_details": [
                {
                    "type": "openid_credential",
                    "credential_configuration_id": "UniversityDegreeCredential",
                    "credential_identifiers": [
                        "CivilEngineeringDegree-2023",
                        "ElectricalEngineeringDegree-2023",
                    ],
                }
            ],
        }
    )
    assert response.authorization_details is not None
    assert response.authorization_details[0].credential_identifiers == (
        "CivilEngineeringDegree-2023",
        "ElectricalEngineeringDegree-2023",
    )
    assert "eyJhbGci" not in repr(response)
    with pytest.raises(InvalidRequest, match="credential_identifiers"):
        parse_token_response(
            {
                "access_token": "t",
                "token_type": "Bearer",
                "authorization_details": [
                    {"type": "openid_credential", "credential_configuration_id": "x"}
                ],
            }
        )


# -- credential, deferred, notification -----------------------------------------------------


def _request(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"credential_configuration_id": "pid", "proofs": {"jwt": ["a.b.c"]}}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "raw",
    [
        _request(credential_identifier="x"),
        {"proofs": {"jwt": ["a.b.c"]}},
        _request(proofs={"jwt": []}),
        _request(proofs={"jwt": ["a"], "attestation": ["b"]}),
        _request(proofs={"attestation": ["a", "b"]}),
        _request(proofs={"cwt": ["x"]}),
        _request(proofs=["a.b.c"]),
        _request(credential_configuration_id=7),
    ],
)
def test_bad_credential_requests(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidCredentialRequest):
        parse_credential_request(raw)


def test_duplicate_member_is_invalid_credential_request() -> None:
    with pytest.raises(InvalidCredentialRequest, match="duplicate"):
        parse_credential_request(
            b'{"credential_configuration_id":"a","credential_configuration_id":"b"}'
        )


def test_more_proofs_than_the_batch_size_fails_before_parsing() -> None:
    raw = _request(proofs={"jwt": ["x"] * 10_000})
    with pytest.raises(InvalidCredentialRequest, match="batch_size") as info:
        parse_credential_request(raw, max_proofs=8)
    assert info.value.limit == 8  # type: ignore[attr-defined]
    assert (
        parse_credential_request(_request(proofs={"jwt": ["x"] * 8}), max_proofs=8).proofs
        is not None
    )


def test_credential_request_body_over_512_kib() -> None:
    with pytest.raises(TooLarge):
        parse_credential_request(b"{" + b" " * (512 * 1024) + b"}")


@pytest.mark.parametrize(
    "raw",
    [
        {"credentials": [{"credential": "x"}], "transaction_id": "t", "interval": 5},
        {},
        {"credentials": []},
        {"transaction_id": "t"},
        {"transaction_id": "t", "interval": 0},
        {"transaction_id": "t", "interval": 5, "notification_id": "n"},
        {"credentials": [{"credential": "x"}], "interval": 5},
        {"credentials": [{"credential": 5}]},
    ],
)
def test_bad_credential_responses(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_response(raw)


def test_deferred_response_and_request() -> None:
    deferred = parse_credential_response({"transaction_id": "8xLOxBtZp8", "interval": 3600})
    assert deferred.deferred and deferred.interval == 3600
    assert (
        parse_deferred_credential_request({"transaction_id": "8xLOxBtZp8"}).transaction_id
        == "8xLOxBtZp8"
    )
    with pytest.raises(InvalidCredentialRequest):
        parse_deferred_credential_request({"transaction_id": ""})
    issued = CredentialResponse(credentials=({"credential": "abc"},), notification_id="3fwe98js")  # type: ignore[arg-type]
    assert issued.to_json() == {
        "credentials": [{"credential": "abc"}],
        "notification_id": "3fwe98js",
    }
    assert "abc" not in repr(issued)


def test_notification_request() -> None:
    request = parse_notification_request(
        {
            "notification_id": "3fwe98js",
            "event": "credential_failure",
            "event_description": "Could not store the Credential. Out of storage.",
        }
    )
    assert request.event is NotificationEvent.CREDENTIAL_FAILURE
    for bad in (
        {"notification_id": "n", "event": "credential_lost"},
        {"notification_id": "n", "event": "CREDENTIAL_ACCEPTED"},
        {
            "notification_id": "n",
            "event": "credential_deleted",
            "event_description": 'quote " here',
        },
        {
            "notification_id": "n",
            "event": "credential_deleted",
            "event_description": "保存できません",
        },
        {"event": "credential_accepted"},
    ):
        with pytest.raises(InvalidNotificationRequest):
            parse_notification_request(bad)
