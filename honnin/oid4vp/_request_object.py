"""Signed Request Objects (OpenID4VP 1.0 §5, JAR RFC 9101) with ``x5c`` keys (§5.9.3).

Build on the verifier side; parse, then verify the signature and the client_id binding, on
the wallet side. Chain trust (the ``x5c`` chain to an access CA) is not decided here: the
wallet passes ``certificate_chain`` to ``honnin.trust``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from honnin.encoding import json_loads
from honnin.errors import InvalidRequest, MalformedInput, TooLarge
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PrivateKey,
    UnverifiedJws,
    parse_jws,
    sign_jws,
    verify_jws,
)

from ._client_id import ClientId, check_client_id_certificate, check_uri_host, parse_client_id
from ._constants import (
    MAX_REQUEST_OBJECT_SIZE,
    REQUEST_OBJECT_TYP,
    SELF_ISSUED_AUDIENCE,
    ClientIdPrefix,
)
from ._request import AuthorizationRequest, parse_authorization_request

_X509_PREFIXES = (ClientIdPrefix.X509_SAN_DNS, ClientIdPrefix.X509_HASH)


def build_request_object(
    request: AuthorizationRequest,
    key: PrivateKey,
    *,
    x5c: Sequence[bytes],
    audience: str = SELF_ISSUED_AUDIENCE,
    now: float | None = None,
    lifetime: int | None = None,
) -> str:
    """Sign ``request`` as a Request Object (``typ`` ``oauth-authz-req+jwt``, §5).

    ``x5c`` is the DER chain, leaf first, without the trust anchor; the leaf must certify
    ``key`` and name the client_id (§5.9.3). ``aud`` defaults to the static-discovery value
    (§5.8). With ``now`` (and ``lifetime``), ``iat`` (and ``exp``) are set.
    """
    if parse_client_id(request.client_id).prefix not in _X509_PREFIXES:
        raise ValueError("signed requests here use x509_san_dns or x509_hash client_ids")
    if not x5c:
        raise ValueError("x5c needs at least the leaf certificate")
    claims: dict[str, Any] = request.to_json()
    claims.setdefault("aud", audience)
    if now is not None:
        claims["iat"] = int(now)
        if lifetime is not None:
            claims["exp"] = int(now) + lifetime
    header = {
        "typ": REQUEST_OBJECT_TYP,
        "x5c": [base64.b64encode(cert).decode("ascii") for cert in x5c],
    }
    return sign_jws(claims, key, header=header)


@dataclass(frozen=True, slots=True)
class UnverifiedRequestObject:
    """A parsed Request Object whose signature is NOT verified yet."""

    jws: UnverifiedJws
    unverified_request: AuthorizationRequest
    certificate_chain: tuple[bytes, ...]


def _chain(header: dict[str, Any]) -> tuple[bytes, ...]:
    chain = header.get("x5c")
    if chain is None:
        return ()
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise InvalidRequest("x5c must be a non-empty array of base64 strings (RFC 7515)")
    try:
        return tuple(base64.b64decode(c, validate=True) for c in chain)
    except binascii.Error as exc:
        raise InvalidRequest("x5c holds something that is not base64") from exc


def parse_unverified_request_object(
    token: str,
    *,
    client_id: str | None = None,
    wallet_nonce: str | None = None,
    max_size: int = MAX_REQUEST_OBJECT_SIZE,
) -> UnverifiedRequestObject:
    """Parse a Request Object without verifying it (the wallet's first step).

    ``client_id`` is the value from the invoking URL: it MUST be identical, prefix
    included (§5.10.1). ``wallet_nonce``, when the wallet sent one, MUST come back (§5.10.1).

    Raises:
        TooLarge: over ``max_size`` characters (WL-15).
        InvalidRequest: ``typ`` missing or not ``oauth-authz-req+jwt`` (§5), a different
            client_id, a missing or different wallet_nonce, a bad ``x5c``, or a request that
            breaks §5.
        MalformedInput: not a compact JWS / not JSON.
    """
    if len(token) > max_size:
        raise TooLarge(f"request object over {max_size} bytes", limit=max_size)
    jws = parse_jws(token.strip(), max_payload=max_size)
    if jws.header.get("typ") != REQUEST_OBJECT_TYP:
        # §5: Wallets MUST NOT process Request Objects without this typ.
        raise InvalidRequest(f"request object typ must be {REQUEST_OBJECT_TYP!r} (§5)")
    claims = json_loads(jws.payload)
    if not isinstance(claims, dict):
        raise MalformedInput("request object payload is not a JSON object")
    if client_id is not None and claims.get("client_id") != client_id:
        raise InvalidRequest("client_id differs between the URL and the request object (§5.10.1)")
    if wallet_nonce is not None:
        echoed = claims.get("wallet_nonce")
        if not isinstance(echoed, str) or not hmac.compare_digest(
            echoed.encode(), wallet_nonce.encode()
        ):
            raise InvalidRequest("the request object does not echo wallet_nonce (§5.10.1)")
    request = parse_authorization_request(claims)
    return UnverifiedRequestObject(jws, request, _chain(jws.header))


@dataclass(frozen=True, slots=True)
class SignedRequestObject:
    """A Request Object whose signature verifies under its ``x5c`` leaf, and whose
    client_id names that leaf. The chain's trust is still to be established."""

    request: AuthorizationRequest
    client_id: ClientId
    leaf: x509.Certificate
    certificate_chain: tuple[bytes, ...]
    algorithm: JwsAlgorithm


def verify_request_object_signature(
    unverified: UnverifiedRequestObject,
    *,
    allowed_algs: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    trusted_client_id: bool = False,
) -> SignedRequestObject:
    """Verify the signature with the ``x5c`` leaf and bind the client_id to it (§5.9.3).

    For ``x509_san_dns`` the ``response_uri`` / ``redirect_uri`` host must be the DNS name,
    unless the wallet already trusts this client_id (``trusted_client_id``).

    Raises:
        InvalidRequest: not an ``x509_san_dns`` / ``x509_hash`` client_id, no usable
            ``x5c`` leaf, a client_id that does not name the leaf, or a foreign host.
        UnsupportedAlgorithm / InvalidSignature: the signature does not verify.
    """
    request = unverified.unverified_request
    client_id = parse_client_id(request.client_id)
    if client_id.prefix not in _X509_PREFIXES:
        raise InvalidRequest(
            "signed requests are verified for x509_san_dns and x509_hash client_ids only",
            reason="client_id_prefix",
        )
    if not unverified.certificate_chain:
        raise InvalidRequest("the request object has no x5c header (§5.9.3)")
    try:
        leaf = x509.load_der_x509_certificate(unverified.certificate_chain[0])
        public_key = leaf.public_key()
    except ValueError as exc:
        raise InvalidRequest("the x5c leaf is not a DER certificate") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise InvalidRequest("the x5c leaf key is neither EC nor Ed25519")
    algorithm = verify_jws(unverified.jws, public_key, allowed=allowed_algs)
    check_client_id_certificate(request.client_id, leaf)
    if client_id.prefix is ClientIdPrefix.X509_SAN_DNS and not trusted_client_id:
        check_uri_host(client_id, request.response_uri or request.redirect_uri)
    return SignedRequestObject(request, client_id, leaf, unverified.certificate_chain, algorithm)
