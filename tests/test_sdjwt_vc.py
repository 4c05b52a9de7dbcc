"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): the draft's examples verify; issuer keys come from
an x5c chain or JWT VC Issuer Metadata; each hostile case ends in its exact error class."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from test_sdjwt_vectors import SD_JWT_VC_CASES, VECTOR_NOW, Case

from honnin.errors import (
    Expired,
    FetchError,
    InvalidClaim,
    InvalidDisclosure,
    InvalidKeyBinding,
    InvalidSignature,
    MalformedCredential,
    NotYetValid,
    SchemaViolation,
    UntrustedIssuer,
)
from honnin.http import HttpxFetcher
from honnin.jose import generate_key, jwk_from_public_key
from honnin.ports import FetchedResource
from honnin.sdjwt import (
    IssuerKeysByIssuer,
    IssuerMetadataKeys,
    KeyBinding,
    PinnedIssuerKey,
    SdJwt,
    X5cIssuerKeys,
    issue_sd_jwt,
    issue_sd_jwt_vc,
    metadata_url,
    verify_sd_jwt_vc,
)
from honnin.status import StatusReference
from honnin.trust import TestPki, make_certificate, make_test_pki

NOW = 1_800_000_000
NONCE = "nonce-3f9a1c"
AUD = "x509_san_dns:verifier.example"
ISS = "https://employer.issuer.honnin.example"
VCT = "urn:honnin:withholding-slip:1"


class MemoryFetcher:
    """The Fetcher port over a dict of URL -> JSON document (for the draft's example hosts)."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.calls: list[str] = []

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        self.calls.append(url)
        if url not in self.documents:
            raise FetchError(f"{url} answered HTTP 404", reason="status", status=404)
        return FetchedResource(json.dumps(self.documents[url]).encode(), "application/json")


@pytest.fixture(scope="module")
def pki() -> TestPki:
    when = datetime.fromtimestamp(NOW, tz=UTC)
    return make_test_pki(["Employer"], issuer_urls={"Employer": ISS}, now=when)


def _vc(pki: TestPki, **options: Any) -> str:
    issuer = pki.issuer("Employer")
    holder = options.pop("holder", HOLDER)
    base: dict[str, Any] = {
        "iss": ISS,
        "x5c": issuer.x5c(),
        "vct": VCT,
        "iat": NOW - 10,
        "exp": NOW + 86400,
        "holder_key": jwk_from_public_key(holder),
        "status": StatusReference(uri="https://status.honnin.example/lists/1", idx=42),
        "disclosable": ["/payment_amount", "/withholding_tax", "/my_number"],
    }
    base.update(options)
    claims = base.pop("claims", {"payment_amount": 5_000_000, "withholding_tax": 120_000,
                                 "my_number": "123456789012", "tax_year": 2026})  # fmt: skip
    return issue_sd_jwt_vc(claims, issuer.private_key, **base)


HOLDER = generate_key()


def _present(token: str, *paths: str, **kb: Any) -> str:
    options = {"holder_key": HOLDER, "nonce": NONCE, "aud": AUD, "iat": NOW, **kb}
    return SdJwt.parse(token).present(list(paths), **options)


def _plain(token: str, *paths: str) -> str:
    return SdJwt.parse(token).present(list(paths))


def _verify(text: str, keys: Any, **options: Any) -> Any:
    options = {"key_binding": KeyBinding.REQUIRED, "nonce": NONCE, "aud": AUD, "now": NOW,
               **options}  # fmt: skip
    return verify_sd_jwt_vc(text, keys, **options)


# -- the draft's examples --------------------------------------------------------------


def _metadata_for(case: Case) -> MemoryFetcher:
    issuer = case.expected()["iss"]
    jwk = {**jwk_from_public_key(case.issuer_public())}
    kid = case.spec.get("extra_header_parameters", {}).get("kid")
    if kid is not None:
        jwk["kid"] = kid
    return MemoryFetcher({metadata_url(issuer): {"issuer": issuer, "jwks": {"keys": [jwk]}}})


@pytest.mark.parametrize("case", SD_JWT_VC_CASES, ids=lambda c: c.name)
def test_draft_examples_verify_through_issuer_metadata(case: Case) -> None:
    kb = case.kb_expectation()
    verified = verify_sd_jwt_vc(
        case.presentation(),
        IssuerMetadataKeys(_metadata_for(case)),
        key_binding=KeyBinding.FORBIDDEN if kb is None else KeyBinding.REQUIRED,
        nonce=None if kb is None else kb["nonce"],
        aud=None if kb is None else kb["aud"],
        now=VECTOR_NOW if kb is None else kb["iat"],
    )
    expected = case.expected()
    assert verified.claims == expected
    assert verified.vct == expected["vct"]
    assert verified.iss == expected["iss"]
    assert verified.issuer.mechanism == "metadata"
    assert verified.header["typ"] == "dc+sd-jwt"
    assert verified.status is None


@pytest.mark.parametrize("case", SD_JWT_VC_CASES, ids=lambda c: c.name)
def test_draft_examples_verify_with_a_pinned_key(case: Case) -> None:
    kb = case.kb_expectation()
    verified = verify_sd_jwt_vc(
        case.presentation(),
        PinnedIssuerKey(case.issuer_public(), issuer=case.expected()["iss"]),
        key_binding=KeyBinding.FORBIDDEN if kb is None else KeyBinding.REQUIRED,
        nonce=None if kb is None else kb["nonce"],
        aud=None if kb is None else kb["aud"],
        now=VECTOR_NOW if kb is None else kb["iat"],
    )
    assert verified.claims == case.expected()


def test_metadata_url_inserts_the_well_known_segment() -> None:
    assert metadata_url("https://example.com/issuer/") == (
        "https://example.com/.well-known/jwt-vc-issuer/issuer"
    )
    assert metadata_url("https://example.com") == "https://example.com/.well-known/jwt-vc-issuer"


@pytest.mark.parametrize("iss", ["http://example.com", "https://example.com/?a=1", "urn:x:y"])
def test_metadata_needs_an_https_iss(iss: str) -> None:
    with pytest.raises(UntrustedIssuer):
        metadata_url(iss)


# -- x5c chains ------------------------------------------------------------------------


def test_x5c_issuance_and_verification(pki: TestPki) -> None:
    text = _present(_vc(pki), "/payment_amount")
    verified = _verify(text, X5cIssuerKeys([pki.root.certificate]))
    assert verified.claims["payment_amount"] == 5_000_000
    assert "my_number" not in verified.claims
    assert verified.vct == VCT
    assert verified.iss == ISS
    assert verified.issuer.mechanism == "x5c"
    assert verified.issuer.chain is not None
    assert verified.issuer.chain.anchor == pki.root.certificate
    assert verified.status == StatusReference(uri="https://status.honnin.example/lists/1", idx=42)
    assert verified.key_binding is not None
    assert verified.header["typ"] == "dc+sd-jwt"


def test_iat_is_coarsened(pki: TestPki) -> None:
    token = _vc(pki, iat=NOW + 1234, iat_granularity=3600)
    assert SdJwt.parse(token).claims["iat"] == (NOW + 1234) // 3600 * 3600


def test_issuer_without_iss_is_named_by_the_leaf(pki: TestPki) -> None:
    text = _present(_vc(pki, iss=None), "/tax_year")
    verified = _verify(text, X5cIssuerKeys([pki.root.certificate]))
    assert "CN=" in verified.iss


def test_chain_not_to_an_anchor(pki: TestPki) -> None:
    when = datetime.fromtimestamp(NOW, tz=UTC)
    other_root = make_certificate(
        "other root", issuer=None, ca=True, not_before=when, not_after=when + timedelta(days=9)
    )
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki)), X5cIssuerKeys([other_root.certificate]))


def test_chain_to_a_lookalike_root(pki: TestPki) -> None:
    lookalike = make_test_pki(["Employer"], issuer_urls={"Employer": ISS})
    with pytest.raises(InvalidSignature):
        _verify(_present(_vc(pki)), X5cIssuerKeys([lookalike.root.certificate]))


def test_no_x5c_under_an_x5c_policy(pki: TestPki) -> None:
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki, x5c=None)), X5cIssuerKeys([pki.root.certificate]))


def test_expired_issuer_certificate(pki: TestPki) -> None:
    later = NOW + 400 * 86400  # the test PKI's leaves are valid for 365 days
    text = _present(_vc(pki, exp=later + 86400), iat=later)
    with pytest.raises(Expired):
        _verify(text, X5cIssuerKeys([pki.root.certificate]), now=later)


def test_not_yet_valid_issuer_certificate(pki: TestPki) -> None:
    root = pki.root
    start = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=10)
    leaf = make_certificate(
        "future issuer",
        issuer=root,
        not_before=start,
        not_after=start + timedelta(days=30),
        san_uris=[ISS],
    )
    token = issue_sd_jwt_vc(
        {"tax_year": 2026},
        leaf.private_key,
        vct=VCT,
        iss=ISS,
        x5c=leaf.x5c(),
        iat=NOW,
        holder_key=jwk_from_public_key(HOLDER),
    )
    with pytest.raises(NotYetValid):
        _verify(_present(token), X5cIssuerKeys([root.certificate]))


def test_iss_not_matching_the_certificate(pki: TestPki) -> None:
    text = _present(_vc(pki, iss="https://other.issuer.example"))
    with pytest.raises(UntrustedIssuer):
        _verify(text, X5cIssuerKeys([pki.root.certificate]))


# -- JWT VC Issuer Metadata ---------------------------------------------------------------


def _metadata(pki: TestPki, issuer: str = ISS) -> MemoryFetcher:
    jwk = jwk_from_public_key(pki.issuer("Employer").private_key)
    return MemoryFetcher({metadata_url(ISS): {"issuer": issuer, "jwks": {"keys": [jwk]}}})


def test_metadata_with_the_wrong_issuer(pki: TestPki) -> None:
    keys = IssuerMetadataKeys(_metadata(pki, issuer="https://evil.example"))
    with pytest.raises(UntrustedIssuer) as caught:
        _verify(_present(_vc(pki)), keys)
    assert caught.value.reason == "metadata_issuer"


def test_metadata_unreachable(pki: TestPki) -> None:
    with pytest.raises(FetchError):
        _verify(_present(_vc(pki)), IssuerMetadataKeys(MemoryFetcher({})))


def test_metadata_key_not_the_signing_key(pki: TestPki) -> None:
    other = jwk_from_public_key(generate_key())
    fetcher = MemoryFetcher({metadata_url(ISS): {"issuer": ISS, "jwks": {"keys": [other]}}})
    with pytest.raises(InvalidSignature):
        _verify(_present(_vc(pki)), IssuerMetadataKeys(fetcher))


def test_metadata_via_jwks_uri_and_cache(pki: TestPki) -> None:
    jwk = jwk_from_public_key(pki.issuer("Employer").private_key)
    fetcher = MemoryFetcher(
        {
            metadata_url(ISS): {"issuer": ISS, "jwks_uri": f"{ISS}/jwks.json"},
            f"{ISS}/jwks.json": {"keys": [jwk]},
        }
    )
    keys = IssuerMetadataKeys(fetcher)
    for _ in range(3):
        assert _verify(_present(_vc(pki)), keys).issuer.metadata.jwks_uri == f"{ISS}/jwks.json"
    assert len(fetcher.calls) == 2  # metadata and JWKS once, then from the cache


@pytest.mark.parametrize(
    "document",
    [
        {"issuer": ISS},
        {"issuer": ISS, "jwks": {"keys": []}, "jwks_uri": f"{ISS}/jwks"},
        {"issuer": ISS, "jwks": {"keys": "none"}},
        {"issuer": ISS, "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}},
        ["not", "an", "object"],
    ],
)
def test_malformed_metadata(pki: TestPki, document: Any) -> None:
    fetcher = MemoryFetcher({metadata_url(ISS): document})
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki)), IssuerMetadataKeys(fetcher))


def test_metadata_issuer_not_in_the_allow_list(pki: TestPki) -> None:
    keys = IssuerMetadataKeys(_metadata(pki), issuers=["https://someone.else"])
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki)), keys)


def test_policy_per_issuer(pki: TestPki) -> None:
    keys = IssuerKeysByIssuer({ISS: X5cIssuerKeys([pki.root.certificate])})
    assert _verify(_present(_vc(pki)), keys).iss == ISS
    other = IssuerKeysByIssuer({"https://someone.else": X5cIssuerKeys([pki.root.certificate])})
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki)), other)


class _Metadata(BaseHTTPRequestHandler):
    documents: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.documents.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class LoopbackFetcher:
    """The real httpx adapter, with the issuer's https origin mapped to a loopback server."""

    def __init__(self, origin: str, port: int) -> None:
        self.origin = origin
        self.base = f"http://127.0.0.1:{port}"
        self.http = HttpxFetcher(timeout=5)

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        assert url.startswith(self.origin)
        local = self.base + url.removeprefix(self.origin)
        return self.http.fetch(local, accept=accept, max_bytes=max_bytes)


@pytest.fixture
def metadata_server(pki: TestPki) -> Iterator[tuple[ThreadingHTTPServer, int]]:
    jwk = jwk_from_public_key(pki.issuer("Employer").private_key)
    path = metadata_url(ISS).removeprefix(ISS)
    _Metadata.documents = {
        path: json.dumps({"issuer": ISS, "jwks": {"keys": [jwk]}}).encode(),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, server.server_address[1]
    server.shutdown()
    server.server_close()


def test_metadata_over_real_http(
    pki: TestPki, metadata_server: tuple[ThreadingHTTPServer, int]
) -> None:
    server, port = metadata_server
    fetcher = LoopbackFetcher(ISS, port)
    verified = _verify(_present(_vc(pki), "/tax_year"), IssuerMetadataKeys(fetcher))
    assert verified.issuer.mechanism == "metadata"
    server.shutdown()
    server.server_close()
    with pytest.raises(FetchError):
        _verify(_present(_vc(pki)), IssuerMetadataKeys(LoopbackFetcher(ISS, port)))
    fetcher.http.close()


# -- the credential itself -------------------------------------------------------------


def test_wrong_typ(pki: TestPki) -> None:
    token = _vc(pki, header={"typ": "jwt"})
    assert SdJwt.parse(token).header["typ"] == "dc+sd-jwt"  # the issuer always sets it
    plain = issue_sd_jwt(
        {"iss": ISS, "vct": VCT, "cnf": {"jwk": jwk_from_public_key(HOLDER)}},
        pki.issuer("Employer").private_key,
        header={"typ": "example+sd-jwt", "x5c": pki.issuer("Employer").x5c()},
    )
    with pytest.raises(MalformedCredential):
        _verify(_present(plain), X5cIssuerKeys([pki.root.certificate]))


def _core(pki: TestPki, payload: dict[str, Any], typ: str = "dc+sd-jwt", **options: Any) -> str:
    issuer = pki.issuer("Employer")
    return issue_sd_jwt(
        payload, issuer.private_key, header={"typ": typ, "x5c": issuer.x5c()}, **options
    )


def test_legacy_typ_only_with_the_option(pki: TestPki) -> None:
    token = _core(pki, {"iss": ISS, "vct": VCT}, typ="vc+sd-jwt")
    keys = X5cIssuerKeys([pki.root.certificate])
    with pytest.raises(MalformedCredential):
        _verify(_plain(token), keys, key_binding=KeyBinding.FORBIDDEN)
    verified = _verify(
        _plain(token), keys, key_binding=KeyBinding.FORBIDDEN, accept_legacy_typ=True
    )
    assert verified.vct == VCT


@pytest.mark.parametrize("vct", [None, 7, "", ["a"]])
def test_missing_or_bad_vct(pki: TestPki, vct: Any) -> None:
    payload: dict[str, Any] = {"iss": ISS}
    if vct is not None:
        payload["vct"] = vct
    with pytest.raises(InvalidClaim) as caught:
        _verify(
            _plain(_core(pki, payload)),
            X5cIssuerKeys([pki.root.certificate]),
            key_binding=KeyBinding.FORBIDDEN,
        )
    assert caught.value.claim == "vct"


def test_cnf_missing_when_binding_is_required(pki: TestPki) -> None:
    token = _core(pki, {"iss": ISS, "vct": VCT})
    with pytest.raises(InvalidKeyBinding) as caught:
        _verify(token, X5cIssuerKeys([pki.root.certificate]))
    assert caught.value.reason == "cnf"


def test_expired_credential(pki: TestPki) -> None:
    with pytest.raises(Expired):
        _verify(_present(_vc(pki, exp=NOW - 3600)), X5cIssuerKeys([pki.root.certificate]))


def test_not_yet_valid_credential(pki: TestPki) -> None:
    with pytest.raises(NotYetValid):
        _verify(_present(_vc(pki, nbf=NOW + 3600)), X5cIssuerKeys([pki.root.certificate]))


def test_issued_in_the_future(pki: TestPki) -> None:
    with pytest.raises(NotYetValid):
        _verify(_present(_vc(pki, iat=NOW + 3600)), X5cIssuerKeys([pki.root.certificate]))


@pytest.mark.parametrize("exp", ["1900000000", 1.9e9, True])
def test_time_claim_not_an_integer(pki: TestPki, exp: Any) -> None:
    token = _core(pki, {"iss": ISS, "vct": VCT, "exp": exp})
    with pytest.raises(InvalidClaim):
        _verify(
            _plain(token), X5cIssuerKeys([pki.root.certificate]), key_binding=KeyBinding.FORBIDDEN
        )


@pytest.mark.parametrize("name", ["exp", "iss", "vct", "status", "cnf"])
def test_registered_claim_in_a_disclosure(pki: TestPki, name: str) -> None:
    values = {
        "exp": NOW + 60,
        "iss": ISS,
        "vct": VCT,
        "status": {"status_list": {"idx": 1, "uri": "https://s.example/1"}},
        "cnf": {"jwk": jwk_from_public_key(HOLDER)},
    }
    payload = {"iss": ISS, "vct": VCT, **{name: values[name]}}
    token = _core(pki, payload, disclosable=[f"/{name}"])
    with pytest.raises(InvalidDisclosure) as caught:
        _verify(
            _plain(token, f"/{name}"),
            X5cIssuerKeys([pki.root.certificate]),
            key_binding=KeyBinding.FORBIDDEN,
        )
    assert caught.value.reason == "registered"


@pytest.mark.parametrize("name", ["exp", "iss", "nbf", "cnf", "vct", "status", "vct#integrity"])
def test_issuance_refuses_disclosable_registered_claims(pki: TestPki, name: str) -> None:
    with pytest.raises(SchemaViolation):
        issue_sd_jwt_vc(
            {"a": 1}, pki.issuer("Employer").private_key, vct=VCT, disclosable=[f"/{name}"]
        )


def test_issuance_refuses_registered_claims_in_claims(pki: TestPki) -> None:
    with pytest.raises(SchemaViolation):
        issue_sd_jwt_vc({"exp": 1}, pki.issuer("Employer").private_key, vct=VCT)


@pytest.mark.parametrize("aka", [[], [VCT], ["ok", 3], "urn:x"])
def test_bad_aka_vcts(pki: TestPki, aka: Any) -> None:
    token = _core(pki, {"iss": ISS, "vct": VCT, "aka_vcts": aka})
    with pytest.raises(InvalidClaim):
        _verify(
            _plain(token), X5cIssuerKeys([pki.root.certificate]), key_binding=KeyBinding.FORBIDDEN
        )


@pytest.mark.parametrize(
    "status", [{"status_list": {"idx": -1, "uri": "https://s.example"}}, {"other": 1}, "x"]
)
def test_malformed_status_reference(pki: TestPki, status: Any) -> None:
    token = _core(pki, {"iss": ISS, "vct": VCT, "status": status})
    with pytest.raises(InvalidClaim):
        _verify(
            _plain(token), X5cIssuerKeys([pki.root.certificate]), key_binding=KeyBinding.FORBIDDEN
        )


def test_pinned_key_for_another_issuer(pki: TestPki) -> None:
    keys = PinnedIssuerKey(
        pki.issuer("Employer").private_key.public_key(), issuer="https://x.example"
    )
    with pytest.raises(UntrustedIssuer):
        _verify(_present(_vc(pki)), keys)
