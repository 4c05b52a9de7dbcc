"""The authorization code flow of the issuer's authorization server (OpenID4VCI 1.0 §3.4,
§5): pushed authorization requests (RFC 9126), PKCE with S256 only (RFC 7636), the
authorization response's ``iss`` (RFC 9207), for offers made with
``create_offer(..., flow="authorization_code")``.

The wallet pushes its request with the offer's ``issuer_state``; the person is shown what is
to be issued and to which wallet, and approves or declines; the wallet's redirect URI gets a
code that lives 60 s, is used once and only with the PKCE verifier, the client id and the
redirect URI of the pushed request. Pending requests and codes live in memory (a restart
costs the person one more approval); the offer itself is redeemed in the store, once.

Signing the person in is the deployment's part: put the issuer's login in front of the
authorization endpoint (the approval page is where it belongs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from honnin.clock import Clock
from honnin.encoding import json_loads
from honnin.errors import (
    AccessDenied,
    HonninError,
    InvalidDpopProof,
    InvalidGrant,
    InvalidRequest,
    RateLimited,
)
from honnin.oauth import is_loopback_host, parse_form, parse_message
from honnin.oid4vci import OPENID_CREDENTIAL, AuthorizationDetail

from ._codes import new_secret, secret_hash
from ._issuance_store import IssuanceStore, OfferRecord
from ._offers import issuer_state_hash

__all__ = ["REQUEST_URI_PREFIX", "AuthorizationDesk", "Pending"]

#: RFC 9126 §2.2: the request_uri of a pushed request is a URN.
REQUEST_URI_PREFIX: Final = "urn:ietf:params:oauth:request_uri:"
#: RFC 9126 §2.2: a short lifetime (the example uses 60 s); codes likewise (RFC 6749 §4.1.2).
_PAR_LIFETIME: Final = 60
_CODE_LIFETIME: Final = 60
#: Pending requests and unredeemed codes kept at most (each a few hundred bytes).
_KEPT: Final = 10_000
#: RFC 7636 §4.2: a S256 challenge is 43 characters of base64url.
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
#: RFC 7636 §4.1: a verifier is 43-128 unreserved characters.
_VERIFIER: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_MAX_PARAM: Final = 512


@dataclass(frozen=True, slots=True)
class Pending:
    """A pushed authorization request waiting for the person's decision."""

    offer: OfferRecord
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    expires_at: float
    #: RFC 9449 §10: the thumbprint of the DPoP key the code is bound to, if any.
    dpop_jkt: str | None = None

    def __repr__(self) -> str:
        return f"Pending(offer={self.offer.offer_id!r}, client_id={self.client_id!r})"


def _redirect_uri(value: str) -> str:
    # RFC 6749 §3.1.2: absolute, no fragment. https, http on a loopback host (RFC 8252
    # §7.3), or a private-use scheme of a native app (RFC 8252 §7.1: reverse domain name).
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidRequest("redirect_uri is not a URI", reason="redirect_uri") from exc
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in value or not scheme:
        raise InvalidRequest(
            "redirect_uri must be absolute, without a fragment", reason="redirect_uri"
        )
    if scheme == "https" and parts.hostname:
        return value
    if scheme == "http" and is_loopback_host(parts.hostname):
        return value
    if (
        "." in scheme
        and scheme not in ("http", "https")
        and re.fullmatch(r"[a-z][a-z0-9.+-]*", scheme)
    ):
        return value
    raise InvalidRequest(
        "redirect_uri must be https, http on a loopback host, or a reverse-domain private-use "
        "scheme (RFC 8252)",
        reason="redirect_uri",
    )


def _single(form: Mapping[str, str], name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"'{name}' is required", reason=name)
        return None
    if len(value) > _MAX_PARAM and name != "authorization_details":
        raise InvalidRequest(f"'{name}' is longer than {_MAX_PARAM} characters", reason=name)
    return value


class AuthorizationDesk:
    """Pushed requests, decisions and codes for one issuer service."""

    def __init__(self, store: IssuanceStore, clock: Clock, *, issuer: str) -> None:
        self._store = store
        self._clock = clock
        self._issuer = issuer
        #: hash of the request_uri secret -> the pending request
        self._pending: dict[str, Pending] = {}
        #: hash of a one-time decision token -> hash of its request_uri secret
        self._decisions: dict[str, str] = {}
        #: hash of a request_uri secret -> hash of its current decision token (one at a time)
        self._decision_of: dict[str, str] = {}
        #: hash of an authorization code -> (the approved request, when the code expires)
        self._codes: dict[str, tuple[Pending, float]] = {}

    # -- RFC 9126: the pushed authorization request ----------------------------------------

    def push(self, form: Mapping[str, str], *, proof_jkt: str | None = None) -> dict[str, Any]:
        """Take a pushed authorization request (RFC 9126 §2.1, ``form`` as ``parse_form``
        returns it: each parameter once) for an offer's ``issuer_state``.

        ``proof_jkt`` is the key thumbprint of the request's DPoP proof, already checked by
        the caller. It, or a ``dpop_jkt`` parameter, binds the code to that DPoP key (RFC
        9449 §10.1: both are taken, and must agree when both come).

        Raises:
            InvalidRequest: a repeated, missing or malformed parameter: ``response_type``
                other than ``code``, no PKCE S256 challenge (``plain`` is refused), a
                redirect URI that is not https / loopback http / a private-use scheme, or
                ``authorization_details`` for another configuration than the offer's.
            InvalidGrant: an unknown, used or expired ``issuer_state``.
            InvalidDpopProof: ``dpop_jkt`` is not the DPoP proof's key.
            RateLimited: too many requests pending.
        """
        if form.get("request_uri") is not None:
            # RFC 9126 §2.1: a pushed request cannot itself refer to one.
            raise InvalidRequest(
                "request_uri is not allowed in a pushed request", reason="request_uri"
            )
        if _single(form, "response_type") != "code":
            raise InvalidRequest("response_type must be 'code'", reason="response_type")
        client_id = _single(form, "client_id")
        redirect_uri = _redirect_uri(_single(form, "redirect_uri") or "")
        challenge = _single(form, "code_challenge", required=False)
        if challenge is None or not _CHALLENGE.fullmatch(challenge):
            raise InvalidRequest(
                "a PKCE code_challenge (S256) is required (RFC 7636)", reason="pkce"
            )
        if _single(form, "code_challenge_method", required=False) != "S256":
            # RFC 9700 §2.1.1 / HAIP: S256 only, never plain.
            raise InvalidRequest("code_challenge_method must be S256", reason="pkce")
        state = _single(form, "state", required=False)
        dpop_jkt = _single(form, "dpop_jkt", required=False)
        if dpop_jkt is not None and proof_jkt is not None and dpop_jkt != proof_jkt:
            raise InvalidDpopProof(
                "dpop_jkt is not the DPoP proof's key (RFC 9449 §10.1)", reason="dpop_jkt"
            )
        dpop_jkt = dpop_jkt or proof_jkt
        issuer_state = _single(form, "issuer_state")
        assert client_id is not None and issuer_state is not None
        now = self._clock.now()
        found = self._store.code_state(issuer_state_hash(issuer_state))
        if found is None or found.used or found.void or found.offer.code_expires_at <= now:
            raise InvalidGrant("unknown, used or expired issuer_state", reason="issuer_state")
        self._check_details(form.get("authorization_details"), found.offer)
        if form.get("scope"):
            raise InvalidRequest(
                "scope is not supported: send authorization_details", reason="scope"
            )
        if self._make_room(self._pending, now, lambda p: p.expires_at):
            # Decision tokens of requests that left go too (a page shown, never answered).
            self._decisions = {t: k for t, k in self._decisions.items() if k in self._pending}
            self._decision_of = {k: t for k, t in self._decision_of.items() if k in self._pending}
        secret = new_secret()
        self._pending[secret_hash(secret)] = Pending(
            found.offer, client_id, redirect_uri, challenge, state, now + _PAR_LIFETIME, dpop_jkt
        )
        return {"request_uri": REQUEST_URI_PREFIX + secret, "expires_in": _PAR_LIFETIME}

    @staticmethod
    def _check_details(raw: str | None, offer: OfferRecord) -> None:
        if raw is None:
            return
        try:
            items = json_loads(raw, max_size=16 * 1024)
            if not isinstance(items, list) or not items:
                raise InvalidRequest("authorization_details must be a non-empty array")
            details = [parse_message(AuthorizationDetail, item) for item in items]
        except HonninError as exc:
            raise InvalidRequest(
                f"authorization_details: {exc.message}", reason="authorization_details"
            ) from exc
        for detail in details:
            if (
                detail.type != OPENID_CREDENTIAL
                or detail.credential_configuration_id != offer.configuration_id
            ):
                raise InvalidRequest(
                    "authorization_details name another credential configuration than the offer's",
                    reason="authorization_details",
                )

    # -- the authorization endpoint ----------------------------------------------------------

    def pending(self, client_id: str | None, request_uri: str | None) -> tuple[Pending, str]:
        """The pushed request an authorization request refers to, and a one-time token for
        the person's decision on it (a new one each time the page is shown).

        Raises:
            InvalidRequest: no such pending request (unknown, decided or expired), or another
                client's.
        """
        if not client_id or not request_uri or not request_uri.startswith(REQUEST_URI_PREFIX):
            raise InvalidRequest("client_id and a pushed request_uri are required (RFC 9126 §4)")
        key = secret_hash(request_uri[len(REQUEST_URI_PREFIX) :])
        found = self._pending.get(key)
        if found is None or found.expires_at <= self._clock.now():
            raise InvalidRequest("unknown or expired request_uri", reason="request_uri")
        if not hmac.compare_digest(found.client_id.encode(), client_id.encode()):
            # RFC 9126 §4: the request_uri is bound to the client that pushed it.
            raise InvalidRequest("the request_uri belongs to another client", reason="client_id")
        token = new_secret()
        shown = self._decision_of.pop(key, None)
        if shown is not None:
            del self._decisions[shown]  # a page shown again: only the newest button counts
        self._decisions[secret_hash(token)] = key
        self._decision_of[key] = secret_hash(token)
        return found, token

    def decide(self, body: bytes) -> str:
        """The person's decision on a pending request: the URL to send their browser to (the
        wallet's redirect URI with ``code``, or ``error=access_denied``; always ``state`` and
        ``iss``, RFC 9207 §2).

        Raises:
            InvalidRequest: no such decision token (unknown, used, or its request expired).
        """
        form = parse_form(body, max_size=4096)
        token = form.get("decision_token") or ""
        key = self._decisions.pop(secret_hash(token), None)
        found = None
        if key is not None:
            self._decision_of.pop(key, None)
            found = self._pending.pop(key, None)
        now = self._clock.now()
        if found is None or found.expires_at <= now:
            raise InvalidRequest("unknown, used or expired decision", reason="decision")
        answer: dict[str, str] = {}
        if form.get("approve") == "yes":
            code = new_secret()
            self._make_room(self._codes, now, lambda entry: entry[1])
            self._codes[secret_hash(code)] = (found, now + _CODE_LIFETIME)
            answer["code"] = code
        else:
            answer["error"] = AccessDenied.oauth_error
            answer["error_description"] = "the person declined"
        if found.state is not None:
            answer["state"] = found.state
        answer["iss"] = self._issuer
        separator = "&" if urlsplit(found.redirect_uri).query else "?"
        return found.redirect_uri + separator + urlencode(answer)

    # -- the token endpoint ------------------------------------------------------------------

    def redeem(
        self,
        code: str,
        *,
        client_id: str | None,
        redirect_uri: str | None,
        verifier: str | None,
        proof_jkt: str | None,
    ) -> OfferRecord:
        """The offer an authorization code was issued for (RFC 6749 §4.1.3): the code is
        used once, whatever the outcome, and only within its lifetime, by the client it was
        issued to, with the same redirect URI and the PKCE verifier (RFC 7636 §4.6).

        A code bound to a DPoP key (RFC 9449 §10) needs a token request whose DPoP proof
        (``proof_jkt``, checked by the caller) is from that key.

        Raises:
            InvalidGrant: any of these checks fails, or the offer was used meanwhile.
            InvalidDpopProof: the code is bound to another DPoP key, or to one and no proof
                came.
        """
        entry = self._codes.pop(secret_hash(code), None)
        now = self._clock.now()
        if entry is None or entry[1] <= now:
            raise InvalidGrant("unknown, used or expired authorization code", reason="code")
        found = entry[0]
        if client_id is None or not hmac.compare_digest(
            found.client_id.encode(), client_id.encode()
        ):
            raise InvalidGrant("the code was issued to another client", reason="client_id")
        if redirect_uri != found.redirect_uri:
            raise InvalidGrant(
                "redirect_uri is not the authorization request's", reason="redirect_uri"
            )
        if verifier is None or not _VERIFIER.fullmatch(verifier):
            raise InvalidGrant("a PKCE code_verifier is required (RFC 7636 §4.5)", reason="pkce")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
        if not hmac.compare_digest(digest.rstrip(b"=").decode("ascii"), found.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge", reason="pkce")
        if found.dpop_jkt is not None and (
            proof_jkt is None or not hmac.compare_digest(found.dpop_jkt, proof_jkt)
        ):
            raise InvalidDpopProof(
                "the code is bound to another DPoP key (RFC 9449 §10)", reason="dpop_jkt"
            )
        if not self._store.redeem_code(found.offer.code_hash, now):
            raise InvalidGrant("the offer was already used", reason="used")
        return found.offer

    @staticmethod
    def _make_room(table: dict[str, Any], now: float, expiry: Any) -> bool:
        """Drop the expired entries of a full ``table``; True when it was full."""
        if len(table) < _KEPT:
            return False
        for key in [k for k, value in table.items() if expiry(value) <= now]:
            del table[key]
        if len(table) >= _KEPT:
            raise RateLimited(
                "too many authorizations in progress; try again later", retry_after=60
            )
        return True
