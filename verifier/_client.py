"""The verifier service's back office, from Python: what an agency's system calls to ask for
a presentation and read its verified result over HTTP (``POST /transactions``,
``GET /transactions/{id}/result`` of ``verifier.create_app``).

The service is the agency's own, but its answers are still parsed strictly: bounded bodies,
strict JSON, typed errors (``error_from_oauth_response`` for the service's OAuth-style error
answers, ``MalformedInput`` for an answer of the wrong shape).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode, urlsplit

from honnin.credential_types import Catalogue
from honnin.encoding import json_dumps
from honnin.errors import MalformedInput, NotFound
from honnin.http import HttpResponse, HttpxFetcher, error_from_oauth_response
from honnin.oauth import is_loopback_host

from ._catalogue import claim_label, default_catalogue
from ._result import VerificationResult

#: A result holds the verified claims of every credential of a transaction: generous, bounded.
_MAX_RESULT: Final = 4 * 1024 * 1024
_MAX_CREATED: Final = 64 * 1024
#: Added to a long poll's wait for the read timeout: the service answers at the deadline.
_WAIT_MARGIN: Final = 10.0
_TEXTS: Final = ("transaction_id", "client_id", "uri", "request_uri", "qr_png", "qr_svg", "result")


@dataclass(frozen=True, slots=True)
class CreatedTransaction:
    """A presentation request made by the service (``POST /transactions`` answer).

    ``uri`` is what the person scans (show it as a QR code, or fetch ``qr_png`` /
    ``qr_svg`` with the back-office token); ``result`` is where the outcome is read.
    """

    transaction_id: str
    client_id: str
    uri: str
    request_uri: str
    qr_png: str
    qr_svg: str
    result: str
    expires_at: float

    @classmethod
    def from_json(cls, data: Any) -> CreatedTransaction:
        """Parse the service's answer.

        Raises:
            MalformedInput: a member is missing or not of its type.
        """
        if not isinstance(data, Mapping):
            raise MalformedInput(
                "the verifier service answered a transaction that is not an object"
            )
        texts = {}
        for name in _TEXTS:
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedInput(f"the verifier service's transaction has no '{name}'")
            texts[name] = value
        expires_at = data.get("expires_at")
        if (
            not isinstance(expires_at, int | float)
            or isinstance(expires_at, bool)
            or not math.isfinite(expires_at)
        ):
            raise MalformedInput("the verifier service's transaction has no numeric 'expires_at'")
        return cls(expires_at=float(expires_at), **texts)


class VerifierClient:
    """The back office of a verifier service (``verifier.create_app``, ``honnin verifier
    serve``) over HTTP, with its bearer token.

    >>> with VerifierClient("https://verifier.agency.example", api_token=token) as office:
    ...     made = office.request("resident-record", ["family_name", "address"],
    ...                           purpose="child allowance application")
    ...     show_qr(made.uri)
    ...     result = office.result(made.transaction_id, wait=60)  # None while pending
    ...     result.form(labels="ja")   # [("氏名", ...), ("住所", ...)]

    ``base_url`` must be https, or http on a loopback host (development). A client keeps
    its connections open until ``close``; threads may share it (one connection pool).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_token: str | None,
        timeout: float = 10.0,
        catalogue: Catalogue | None = None,
        fetcher: HttpxFetcher | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        secure = parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback_host(parts.hostname)
        )
        if not parts.hostname or not secure or parts.query or parts.fragment:
            # The bearer token travels with every call: never in clear off this machine.
            raise ValueError("base_url must be an https URL (or http on a loopback host)")
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {api_token}"} if api_token else {}
        self._catalogue = catalogue if catalogue is not None else default_catalogue()
        self._owned = fetcher is None
        self._fetcher = fetcher if fetcher is not None else HttpxFetcher(timeout=timeout)

    def request(
        self,
        credential_type: str | None = None,
        claims: Sequence[str] = (),
        *,
        purpose: str,
        dcql_query: Mapping[str, Any] | None = None,
        format: str | None = None,
        pseudonym: bool = False,
        redirect_uri: str | None = None,
        response_mode: Literal["direct_post", "direct_post.jwt"] | None = None,
        request_uri_method: Literal["get", "post"] | None = None,
        transaction_data: Sequence[Mapping[str, Any]] | None = None,
    ) -> CreatedTransaction:
        """Create a transaction: a catalogue ``credential_type`` with ``claims`` (dotted
        claim names, as in the catalogue), or a raw ``dcql_query``, and/or the wallet's
        ``pseudonym``; ``purpose`` is shown to the person. The service checks the request
        (an unknown type or claim is refused there).

        Raises:
            InvalidRequest (the service refused the request), InvalidClient (wrong token),
            FetchError (service unreachable, timeout), MalformedInput (a malformed answer);
            ValueError: ``claims`` without a ``credential_type``.
        """
        if claims and credential_type is None:
            raise ValueError("claims are named within a credential_type")
        body: dict[str, Any] = {"purpose": purpose}
        if dcql_query is not None:
            body["dcql_query"] = dict(dcql_query)
        if credential_type is not None:
            body["credential_type"] = credential_type
            body["claims"] = list(claims)
        optional = {
            "format": format,
            "redirect_uri": redirect_uri,
            "response_mode": response_mode,
            "request_uri_method": request_uri_method,
            "transaction_data": [dict(t) for t in transaction_data] if transaction_data else None,
        }
        body.update((name, value) for name, value in optional.items() if value is not None)
        if pseudonym:
            body["pseudonym"] = True
        answer = self._fetcher.request(
            "POST",
            f"{self.base_url}/transactions",
            headers={**self._headers, "content-type": "application/json"},
            content=json_dumps(body).encode(),
            max_bytes=_MAX_CREATED,
        )
        return CreatedTransaction.from_json(_answer(answer, _MAX_CREATED))

    def result(
        self, transaction_id: str, *, wait: float = 0, response_code: str | None = None
    ) -> VerificationResult | None:
        """The verified result of a transaction, or ``None`` while the person has not
        answered. ``wait`` long-polls up to that many seconds (the service caps it at its
        ``long_poll_max``). ``response_code`` is the one from the same-device redirect
        (OpenID4VP 1.0 §13.3), required by transactions made with a ``redirect_uri``.

        Raises:
            NotFound (no such transaction), InvalidRequest (a missing, wrong or used
            ``response_code``), InvalidClient, FetchError, MalformedInput.
        """
        if not math.isfinite(wait) or wait < 0:
            raise ValueError("wait is a number of seconds, 0 or more")
        query: dict[str, str] = {}
        if wait:
            query["wait"] = f"{wait:g}"
        if response_code is not None:
            query["response_code"] = response_code
        url = f"{self.base_url}/transactions/{quote(transaction_id, safe='')}/result"
        answer = self._fetcher.request(
            "GET",
            f"{url}?{urlencode(query)}" if query else url,
            headers=self._headers,
            max_bytes=_MAX_RESULT,
            timeout=wait + _WAIT_MARGIN if wait else None,
        )
        if answer.status == 404:
            # The service answers invalid_request with 404 for an unknown transaction.
            raise NotFound("the verifier service has no such transaction", status=404)
        data = _answer(answer, _MAX_RESULT)
        if answer.status == 202:
            return None
        if not isinstance(data, Mapping) or type(data.get("verified")) is not bool:
            raise MalformedInput("the verifier service answered a result without 'verified'")
        try:
            return VerificationResult.from_json(data, labels=self._label)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # The cause stays chained; the message never repeats what the answer held.
            raise MalformedInput("the verifier service answered a malformed result") from exc

    def _label(self, type_id: str, key: str, language: str) -> str | None:
        return claim_label(self._catalogue, type_id, key, language)

    def close(self) -> None:
        """Close the connections (a ``fetcher`` given to the constructor stays open)."""
        if self._owned:
            self._fetcher.close()

    def __enter__(self) -> VerifierClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never the token
        return f"VerifierClient({self.base_url!r})"


def _answer(answer: HttpResponse, limit: int) -> Any:
    if answer.status >= 400:
        raise error_from_oauth_response(answer.status, answer.body)
    if answer.status not in (200, 201, 202):
        raise MalformedInput(f"the verifier service answered HTTP {answer.status}")
    return answer.json(max_size=limit)
