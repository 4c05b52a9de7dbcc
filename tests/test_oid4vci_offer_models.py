"""OpenID4VCI 1.0 Credential Offer (§4.1) and its link codec, with hostile offers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from honnin.errors import (
    InvalidRequest,
    MalformedJson,
    TooLarge,
)
from honnin.oid4vci import (
    PRE_AUTHORIZED_CODE_GRANT,
    CredentialOffer,
    CredentialOfferGrants,
    PreAuthorizedCodeGrant,
    TxCode,
    build_credential_offer_uri,
    parse_credential_offer,
    parse_credential_offer_uri,
)

ISSUER = "https://credential-issuer.example.com"


# -- Credential Offer ------------------------------------------------------------------------


def _offer(**extra: Any) -> CredentialOffer:
    return CredentialOffer(
        credential_issuer="https://issuer.example/tenant",
        credential_configuration_ids=("withholding-slip",),
        grants=CredentialOfferGrants(
            pre_authorized_code=PreAuthorizedCodeGrant(
                pre_authorized_code="c0de", tx_code=TxCode(length=6, description="SMS で送りました")
            )
        ),
        **extra,
    )


def test_offer_by_value_link_round_trips() -> None:
    offer = _offer()
    link = build_credential_offer_uri(offer)
    assert link.startswith("openid-credential-offer://?credential_offer=%7B")
    assert parse_credential_offer_uri(link).offer == offer
    assert "c0de" not in repr(offer)  # the pre-authorized code is a bearer secret


def test_offer_by_reference_link() -> None:
    link = build_credential_offer_uri(offer_uri="https://issuer.example/offers/abc")
    parsed = parse_credential_offer_uri(f"  {link}\n")  # as scanned, with stray whitespace
    assert parsed.offer is None and parsed.offer_uri == "https://issuer.example/offers/abc"


def test_offer_link_from_an_https_universal_link() -> None:
    link = build_credential_offer_uri(_offer(), base="https://wallet.example/offer?src=qr")
    assert link.startswith("https://wallet.example/offer?src=qr&credential_offer=")
    assert parse_credential_offer_uri(link).offer == _offer()


@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    st.text(max_size=40),
)
def test_offer_link_round_trip_property(ids: list[str], code: str) -> None:
    offer = CredentialOffer(
        credential_issuer="https://issuer.example",
        credential_configuration_ids=tuple(ids),
        grants=CredentialOfferGrants(
            pre_authorized_code=PreAuthorizedCodeGrant(pre_authorized_code=code or "x")
        ),
    )
    assert parse_credential_offer_uri(build_credential_offer_uri(offer)).offer == offer


@pytest.mark.parametrize(
    "link",
    [
        "openid-credential-offer://",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa&credential_offer=%7B%7D",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa&credential_offer_uri=https%3A%2F%2Fb",
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.example%2Fo",
        "openid-credential-offer://?credential_offer_uri=file%3A%2F%2F%2Fetc%2Fpasswd",
        "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fa%22%7D",
        "openid-credential-offer://?credential_offer=%FF",
        "not a link at all",
        "openid-credential-offer://[::1?credential_offer_uri=https%3A%2F%2Fa",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2F%5B%3A%3A1%2Fx",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa%3Axx%2Fx",
        "",
    ],
)
def test_bad_offer_links(link: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_offer_uri(link)


def test_offer_link_with_bad_json() -> None:
    with pytest.raises(MalformedJson):
        parse_credential_offer_uri(
            "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%2C%22a%22%3A2%7D"
        )


def test_offer_link_too_long() -> None:
    with pytest.raises(TooLarge):
        parse_credential_offer_uri("openid-credential-offer://?credential_offer=" + "a" * 300_000)


def test_loopback_http_reference_only_when_allowed() -> None:
    link = build_credential_offer_uri(offer_uri="http://127.0.0.1:8123/offers/1")
    with pytest.raises(InvalidRequest, match="https"):
        parse_credential_offer_uri(link)
    assert (
        parse_credential_offer_uri(link, allow_loopback_http=True).offer_uri
        == "http://127.0.0.1:8123/offers/1"
    )
    remote = build_credential_offer_uri(offer_uri="http://10.0.0.1/offers/1")
    with pytest.raises(InvalidRequest):
        parse_credential_offer_uri(remote, allow_loopback_http=True)


@pytest.mark.parametrize(
    "raw",
    [
        {"credential_issuer": ISSUER, "credential_configuration_ids": []},
        {"credential_issuer": ISSUER, "credential_configuration_ids": ["a", "a"]},
        {"credential_issuer": ISSUER + "?x=1", "credential_configuration_ids": ["a"]},
        {"credential_issuer": "ftp://issuer", "credential_configuration_ids": ["a"]},
        {"credential_configuration_ids": ["a"]},
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {
                "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                    "pre-authorized_code": "c",
                    "tx_code": {"description": "x" * 301},
                }
            },
        },
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {
                "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                    "pre-authorized_code": "c",
                    "tx_code": {"input_mode": "emoji"},
                }
            },
        },
        {
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["a"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"tx_code": {}}},
        },
    ],
)
def test_bad_offers(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        parse_credential_offer(raw)


def test_unknown_offer_members_are_ignored_but_never_built() -> None:
    raw = {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["a"],
        "future": 1,
        "grants": {"x": {}},
    }
    assert parse_credential_offer(raw).credential_configuration_ids == ("a",)
    with pytest.raises(TypeError, match="future"):
        CredentialOffer(credential_issuer=ISSUER, credential_configuration_ids=("a",), future=1)  # type: ignore[call-arg]


def test_unknown_members_of_nested_messages_are_never_built_either() -> None:
    # Building: a typo in a nested message given as a mapping is refused, at any depth, by
    # its wire name or its Python name.
    grant = {"pre-authorized_code": "code", "tx_code": {"length": 4, "inptu_mode": "numeric"}}
    members: dict[str, Any] = {PRE_AUTHORIZED_CODE_GRANT: grant}
    with pytest.raises(TypeError, match=r"TxCode has no member.*inptu_mode"):
        CredentialOfferGrants(**members)
    with pytest.raises(TypeError, match=r"PreAuthorizedCodeGrant has no member.*tx_cod"):
        CredentialOffer(
            credential_issuer=ISSUER,
            credential_configuration_ids=("a",),
            grants={"pre_authorized_code": {"pre-authorized_code": "c", "tx_cod": {}}},  # type: ignore[arg-type]
        )
    members = {PRE_AUTHORIZED_CODE_GRANT: {"pre-authorized_code": "c"}}
    built = CredentialOfferGrants(**members)
    assert built.pre_authorized_code is not None
    # Parsing: the same unknown members are ignored (§4.1.1: unrecognised parameters).
    raw = {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["a"],
        "grants": {PRE_AUTHORIZED_CODE_GRANT: {**grant, "future": True}},
    }
    parsed = parse_credential_offer(raw).pre_authorized_code
    assert parsed is not None and parsed.tx_code is not None and parsed.tx_code.length == 4
