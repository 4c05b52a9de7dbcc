"""Resolving and authenticating a presentation request (OpenID4VP 1.0 §5; HOSTILE-CASES
WL-01..08, WL-13..15; SECURITY-CHECKLIST P1..P4, P8, P10, P11).

A request arrives as an object with ``request_object`` (in process), a Request Object (JAR,
RFC 9101) string, or an invocation link (``openid4vp://``, an https universal link) by value
or by ``request_uri`` (fetched with GET, or POST with a ``wallet_nonce`` when the verifier
asks for ``request_uri_method=post``, §5.10). The wallet then checks, in order: ``typ``
``oauth-authz-req+jwt`` and the same client_id as the link (§5, §5.10.1); the signature with
the ``x5c`` leaf and the client_id prefix bound to that leaf (``x509_san_dns``: a dNSName SAN
and the response_uri host; ``x509_hash``: the leaf's hash, §5.9.3); ``exp`` / ``iat``; the
response mode, response_uri, encryption key and the absence of unsupported features. Whether
the verifier's chain is *trusted* is decided by the wallet's trust configuration and shown.
Unsigned requests are refused unless the wallet was opened with ``allow_unsigned_requests``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from honnin.encoding import b64url_decode, json_dumps, json_loads
from honnin.errors import (
    Expired,
    FetchError,
    HonninError,
    InvalidRequest,
    MalformedInput,
    NotYetValid,
    UntrustedVerifier,
)
from honnin.http import HttpxFetcher
from honnin.jose import DEFAULT_ALLOWED
from honnin.jose.jwe import JweEncryption
from honnin.oauth import require_https
from honnin.oid4vp import (
    REQUEST_OBJECT_MEDIA_TYPE,
    AuthorizationRequest,
    ClientIdPrefix,
    RequestUriMethod,
    ResponseMode,
    TransactionData,
    parse_authorization_request,
    parse_authorization_request_uri,
    parse_client_id,
    parse_unverified_request_object,
    select_response_encryption,
    verify_request_object_signature,
)
from honnin.registration import (
    VerifiedRegistration,
    registration_from_verifier_info,
    verify_registration,
)
from honnin.trust import certificates_from_der_list, san_dns_names

from ._transaction_data import check_transaction_data
from ._trust import TrustState, VerifierDecision, WalletTrust

__all__ = ["RequestResolver", "RequestingVerifier", "ResolvedRequest"]

#: WL-15: a request object is refused beyond this size (honnin.oid4vp's limit).
MAX_REQUEST_OBJECT: Final = 512 * 1024
#: spec/PROFILE.md §4: clock skew tolerated on ``iat`` / ``exp``.
CLOCK_SKEW: Final = 60
_MAX_TEXT: Final = 512
#: What this wallet presents (OpenID4VP 1.0 §10.1 ``wallet_metadata``, App. B).
WALLET_METADATA: Final = {
    "vp_formats_supported": {
        "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
        "mso_mdoc": {"issuerauth_alg_values": [-7, -9], "deviceauth_alg_values": [-7, -9]},
    },
    "response_modes_supported": ["direct_post", "direct_post.jwt"],
    "client_id_prefixes_supported": ["x509_san_dns", "x509_hash"],
}
_SUPPORTED_MODES: Final = (ResponseMode.DIRECT_POST.value, ResponseMode.DIRECT_POST_JWT.value)


@dataclass(frozen=True)
class RequestingVerifier:
    """Who asks: the authenticated client_id and what its certificate and request say.

    ``name`` is the name the signed request gives (``client_name``), else the certificate's
    organization; ``certificate_name`` is the certificate's, which the access CA vouches for
    when ``trust`` is ``trusted``. ``signed`` is false only for an unsigned development
    request (``allow_unsigned_requests``).
    """

    client_id: str
    name: str
    certificate_name: str | None
    dns_names: tuple[str, ...]
    signed: bool
    trust: TrustState
    trust_code: str | None = None
    trust_reason: str | None = None
    anchor_subject: str | None = None
    #: The verified registration the request carried (what the verifier may ask for).
    registration: VerifiedRegistration | None = field(default=None, repr=False)
    #: ``none`` (no registration sent), ``verified``, ``invalid`` (forged, expired, for
    #: another verifier: blocks approval by default, HOSTILE-CASES WL-09) or ``unchecked``
    #: (the wallet has no registrars to check it with).
    registration_status: str = "none"
    #: Why a registration the request carried could not be used, if it could not.
    registration_error: str | None = None

    @property
    def trusted(self) -> bool | None:
        """True, False, or None when the wallet has no trust configuration."""
        if self.trust is TrustState.NOT_CONFIGURED:
            return None
        return self.trust is TrustState.TRUSTED


@dataclass(frozen=True)
class ResolvedRequest:
    """An authenticated request, ready for matching and consent."""

    request: AuthorizationRequest = field(repr=False)
    verifier: RequestingVerifier
    purpose: str
    response_uri: str
    encryption_jwk: dict[str, Any] | None = field(default=None, repr=False)
    enc: JweEncryption | None = None
    #: The request's transaction data (§5.1), parsed, in request order; what the person
    #: authorizes by presenting. ``transaction_data_strings`` are the strings as received,
    #: which the KB-JWT hashes (App. B.3.3).
    transaction_data: tuple[TransactionData, ...] = ()
    transaction_data_strings: tuple[str, ...] = field(default=(), repr=False)

    @property
    def encrypted(self) -> bool:
        """The response must be encrypted (``direct_post.jwt``, §8.3)."""
        return self.encryption_jwk is not None


def _text(value: object) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value.strip() else None


def _purpose(claims: Mapping[str, Any], request: AuthorizationRequest) -> str:
    """The purpose as the honnin profile carries it (spec/PROFILE.md; the verifier's
    ``verifier_info`` entry, ``client_metadata.purpose``, DCQL ``credential_sets[].purpose``)."""
    for info in request.verifier_info or ():
        if info.format == "honnin_purpose" and isinstance(info.data, dict):
            found = _text(info.data.get("purpose"))
            if found:
                return found
    metadata = claims.get("client_metadata")
    if isinstance(metadata, dict) and _text(metadata.get("purpose")):
        return str(_text(metadata.get("purpose")))
    query = request.dcql_query
    for credential_set in (query.credential_sets if query is not None else None) or ():
        if _text(credential_set.purpose):
            return str(_text(credential_set.purpose))
    return ""


def _client_name(claims: Mapping[str, Any], request: AuthorizationRequest) -> str | None:
    metadata = claims.get("client_metadata")
    if isinstance(metadata, dict) and _text(metadata.get("client_name")):
        return _text(metadata.get("client_name"))
    for info in request.verifier_info or ():
        if info.format == "honnin_purpose" and isinstance(info.data, dict):
            return _text(info.data.get("name"))
    return None


def _unsecured(jar: str) -> bool:
    """True for an unsecured JWT (``alg`` ``none``, RFC 7519 §6): an unsigned request."""
    head = jar.strip().split(".", 1)[0]
    try:
        header = json_loads(b64url_decode(head, what="request object header"), max_size=16384)
    except MalformedInput:
        return False
    return isinstance(header, dict) and header.get("alg") == "none"


class RequestResolver:
    """Resolves requests for one wallet (its trust, clock and HTTP settings)."""

    def __init__(
        self,
        trust: WalletTrust,
        *,
        now: Callable[[], float],
        fetcher: Callable[[], HttpxFetcher],
        allow_unsigned: bool,
        allow_loopback_http: bool,
        transaction_data_types: Collection[str] = frozenset(),
    ) -> None:
        self._trust = trust
        self._transaction_data_types = frozenset(transaction_data_types)
        self._now = now
        self._fetcher = fetcher
        self._allow_unsigned = allow_unsigned
        self._loopback = allow_loopback_http

    def resolve(self, source: Any) -> ResolvedRequest:
        """Resolve and authenticate ``source`` (see the module docstring).

        Raises:
            UntrustedVerifier: an unsigned request (``reason="unsigned"``).
            InvalidRequest: wrong ``typ``, client_id mismatch or not bound to the certificate,
                foreign response_uri host, unsupported mode, prefix or feature.
            InvalidSignature / UnsupportedAlgorithm: the signature does not verify.
            Expired / NotYetValid: outside ``iat`` / ``exp``.
            FetchError: the request_uri could not be fetched (redirects are not followed).
            TooLarge / MalformedInput: oversized or malformed input.
        """
        request_object = getattr(source, "request_object", None)
        if isinstance(request_object, str):
            client_id = getattr(source, "client_id", None)
            return self._from_jar(request_object, client_id if isinstance(client_id, str) else None)
        if not isinstance(source, str) or not source.strip():
            raise TypeError("consider() takes a request object, a JAR string or a request URI")
        text = source.strip()
        if "://" not in text and not text.startswith("openid4vp:"):
            return self._from_jar(text, None)
        link = parse_authorization_request_uri(text, allow_loopback_http=self._loopback)
        if link.request is not None:
            return self._from_jar(link.request, link.client_id)
        if link.request_uri is not None:
            nonce = None
            if link.request_uri_method is RequestUriMethod.POST:
                # §5.10: a fresh wallet_nonce the signed request object must echo.
                nonce = secrets.token_urlsafe(24)
            jar = self._fetch(link.request_uri, nonce)
            return self._from_jar(jar, link.client_id, wallet_nonce=nonce)
        return self._unsigned(dict(link.parameters))

    # -- fetching ----------------------------------------------------------------------------

    def _fetch(self, request_uri: str, wallet_nonce: str | None) -> str:
        fetcher = self._fetcher()
        headers = {"accept": REQUEST_OBJECT_MEDIA_TYPE}
        if wallet_nonce is None:
            response = fetcher.request(
                "GET", request_uri, headers=headers, max_bytes=MAX_REQUEST_OBJECT
            )
        else:
            # §5.10: POST wallet_metadata and a fresh wallet_nonce the request must echo.
            form = {"wallet_metadata": json_dumps(WALLET_METADATA), "wallet_nonce": wallet_nonce}
            response = fetcher.post_form(
                request_uri, form, headers=headers, max_bytes=MAX_REQUEST_OBJECT
            )
        if response.status != 200:
            # WL-13: a redirect is never followed; any other answer is a failure too.
            raise FetchError(
                f"the request_uri answered HTTP {response.status}",
                reason="status",
                status=response.status,
            )
        if response.content_type != REQUEST_OBJECT_MEDIA_TYPE:
            raise InvalidRequest(f"the request_uri must answer {REQUEST_OBJECT_MEDIA_TYPE} (§5.10)")
        try:
            return response.body.decode("ascii")
        except UnicodeDecodeError as exc:
            raise InvalidRequest("the request object is not a compact JWS") from exc

    # -- checking ----------------------------------------------------------------------------

    def _from_jar(
        self, jar: str, client_id: str | None, *, wallet_nonce: str | None = None
    ) -> ResolvedRequest:
        if _unsecured(jar):
            claims = json_loads(b64url_decode(jar.strip().split(".")[1], what="request"))
            if not isinstance(claims, dict):
                raise MalformedInput("the request object payload is not a JSON object")
            if client_id is not None and claims.get("client_id") != client_id:
                raise InvalidRequest("client_id differs between the link and the request object")
            return self._unsigned(claims)
        unverified = parse_unverified_request_object(
            jar, client_id=client_id, wallet_nonce=wallet_nonce, max_size=MAX_REQUEST_OBJECT
        )
        signed = verify_request_object_signature(unverified, allowed_algs=DEFAULT_ALLOWED)
        request = signed.request
        now = self._now()
        chain = certificates_from_der_list(list(signed.certificate_chain))
        decision = self._trust.verifier(chain, at=datetime.fromtimestamp(now, tz=UTC))
        claims = unverified.jws.unverified_claims()  # verified above
        verifier = _verifier(request.client_id, claims, request, decision, chain[0])
        registration, status, problem = self._registration(request, now)
        verifier = replace(
            verifier,
            registration=registration,
            registration_status=status,
            registration_error=problem,
        )
        return self._finish(request, verifier, claims, now)

    def _registration(
        self, request: AuthorizationRequest, now: float
    ) -> tuple[VerifiedRegistration | None, str, str | None]:
        """The verifier registration in ``verifier_info`` (§5.11), verified against the trust
        list's registrars (ARF RPRC_17). Without registrars the wallet cannot use one."""
        try:
            token = registration_from_verifier_info(request.verifier_info)
        except HonninError as exc:
            return None, "invalid", f"{exc.code}: {exc.message}"
        if token is None:
            return None, "none", None
        if not self._trust.registrar_anchors:
            return None, "unchecked", "no registrars are configured to check the registration"
        try:
            registration = verify_registration(
                token,
                registrar_anchors=self._trust.registrar_anchors,
                client_id=request.client_id,
                now=now,
            )
        except HonninError as exc:
            return None, "invalid", f"{exc.code}: {exc.message}"
        return registration, "verified", None

    def _unsigned(self, parameters: dict[str, Any]) -> ResolvedRequest:
        if not self._allow_unsigned:
            # §5.9.3: x509 prefixes need a signed request; unsigned ones cannot authenticate
            # the verifier at all (WL-01, P1).
            raise UntrustedVerifier(
                "unsigned presentation requests are refused (the verifier is unauthenticated)",
                reason="unsigned",
            )
        request = parse_authorization_request(parameters)
        prefix = parse_client_id(request.client_id).prefix
        if prefix is not ClientIdPrefix.REDIRECT_URI:
            raise InvalidRequest(
                "an unsigned request must use the redirect_uri client_id prefix (§5.9.3)",
                reason="client_id_prefix",
            )
        if request.response_uri != parse_client_id(request.client_id).identifier:
            raise InvalidRequest(
                "redirect_uri client_id must equal the response_uri (§5.9.3)",
                reason="client_id_binding",
            )
        state = TrustState.UNTRUSTED if self._trust.configured else TrustState.NOT_CONFIGURED
        verifier = RequestingVerifier(
            client_id=request.client_id,
            name=_client_name(parameters, request) or request.client_id,
            certificate_name=None,
            dns_names=(),
            signed=False,
            trust=state,
            trust_code="unsigned" if self._trust.configured else None,
            trust_reason="the request is not signed" if self._trust.configured else None,
        )
        return self._finish(request, verifier, parameters, self._now())

    def _finish(
        self,
        request: AuthorizationRequest,
        verifier: RequestingVerifier,
        claims: Mapping[str, Any],
        now: float,
    ) -> ResolvedRequest:
        if request.exp is not None and now > request.exp + CLOCK_SKEW:
            raise Expired("the presentation request has expired", exp=request.exp)
        if request.iat is not None and request.iat > now + CLOCK_SKEW:
            raise NotYetValid("the presentation request was issued in the future", iat=request.iat)
        if request.response_mode not in _SUPPORTED_MODES:
            raise InvalidRequest(
                f"response_mode {request.response_mode!r} is not supported by this wallet",
                reason="response_mode",
            )
        if request.dcql_query is None:
            raise InvalidRequest("scope-based requests are not supported; send dcql_query")
        transaction_data = check_transaction_data(request, self._transaction_data_types)
        assert request.response_uri is not None  # §8.2, checked by AuthorizationRequest
        require_https(request.response_uri, what="response_uri", allow_loopback_http=self._loopback)
        jwk: dict[str, Any] | None = None
        enc: JweEncryption | None = None
        if request.encrypted:
            # §8.3 / WL-14: a usable key, or fail closed (never a plaintext response).
            jwk, enc = select_response_encryption(request)
        return ResolvedRequest(
            request=request,
            verifier=verifier,
            purpose=_purpose(claims, request),
            response_uri=request.response_uri,
            encryption_jwk=jwk,
            enc=enc,
            transaction_data=transaction_data,
            transaction_data_strings=request.transaction_data or (),
        )


def _verifier(
    client_id: str,
    claims: Mapping[str, Any],
    request: AuthorizationRequest,
    decision: VerifierDecision,
    leaf: Any,
) -> RequestingVerifier:
    return RequestingVerifier(
        client_id=client_id,
        name=_client_name(claims, request) or decision.certificate_name,
        certificate_name=decision.certificate_name,
        dns_names=tuple(san_dns_names(leaf)),
        signed=True,
        trust=decision.state,
        trust_code=decision.code,
        trust_reason=decision.reason,
        anchor_subject=decision.anchor_subject,
    )
