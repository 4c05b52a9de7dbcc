"""Receiving an authorization response (OpenID4VP 1.0 §8): find the transaction, decrypt,
verify every presentation, check the DCQL query, and record the outcome exactly once.

Two kinds of failure (as ``Verifier.verify`` documents):

* the response cannot be attributed to an open transaction, or breaks the transport rules
  (unknown ``state`` / ``kid``, answered already, expired, a JWE that does not decrypt, a
  plain response where encryption was asked for, a ``state`` of another transaction): a
  typed ``HonninError`` is raised and nothing is stored (HOSTILE-CASES G3);
* the response belongs to the transaction but does not verify (a malformed ``vp_token``, a
  presentation that fails, a query not satisfied) or is a wallet error: the transaction is
  answered with a rejected result carrying structured errors, and it cannot be answered
  again. honnin rejects the whole response when any presentation fails, stricter than the
  "discard the presentation" of §8.6, because a failing presentation signals an attack.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from honnin.clock import Clock
from honnin.credential_types import Catalogue
from honnin.dcql import (
    CredentialQuery,
    DcqlQuery,
    PresentedCredential,
    check_presented,
    parse_dcql_query,
)
from honnin.encoding import json_loads
from honnin.errors import (
    HonninError,
    InvalidRequest,
    MalformedInput,
    NotFound,
    ReplayDetected,
)
from honnin.limits import MAX_DIRECT_POST_BODY
from honnin.oid4vp import AuthorizationResponse
from honnin.pseudonym import PSEUDONYM_TYPE, is_pseudonym_query

from ._catalogue import MSO_MDOC, SD_JWT_VC, claim_key
from ._encryption import open_response
from ._presentations import CheckedPresentation, PresentationContext, PresentationVerifier
from ._pseudonyms import check_pseudonym
from ._request import DIRECT_POST_JWT, random_token
from ._result import (
    CredentialError,
    FlaggedClaim,
    LabelLookup,
    RecordedResult,
    VerificationResult,
    VerifiedCredential,
)
from ._store import Transaction, TransactionStatus, TransactionStore
from ._transaction_data import Assigned, assign, check_hashes

__all__ = ["Outcome", "ResponseProcessor"]

_FIELDS: Final = ("vp_token", "state", "response", "error", "error_description")
#: OpenID4VP 1.0 §8.1 has no bound; this keeps a hostile token from costing much (VS-31).
MAX_PRESENTATIONS: Final = 64
_CLAIM_KEYS: Final = 1024


@dataclass(slots=True)
class Outcome:
    """The recorded result, its transaction and, for same-device flows, the redirect URI
    (with a fresh ``response_code``, §8.2) to give back to the wallet."""

    result: VerificationResult
    transaction: Transaction
    redirect_uri: str | None


def _fields(response: Any) -> dict[str, Any]:
    if isinstance(response, str):
        return {"response": response}
    if type(response) is AuthorizationResponse:
        # The in-process wallet's model (exactly vp_token and state), not a Mapping:
        # this skips the ABC check below, slow on its negative path, on the hot path.
        if response.state is None:
            return {"vp_token": response.vp_token}
        return {"vp_token": response.vp_token, "state": response.state}
    if isinstance(response, Mapping):
        return {k: v for k, v in response.items() if v is not None}
    # A plain object's attributes (pydantic models and dataclasses keep them in __dict__;
    # getattr on a missing pydantic attribute costs an exception each time).
    members = getattr(response, "__dict__", None)
    if isinstance(members, dict):
        found = {name: members[name] for name in _FIELDS if members.get(name) is not None}
    else:
        found = {name: getattr(response, name, None) for name in _FIELDS}
        found = {name: value for name, value in found.items() if value is not None}
    if not found:
        to_form = getattr(response, "to_form", None)
        if callable(to_form):
            form = to_form()
            if isinstance(form, Mapping):
                return {str(k): v for k, v in form.items() if v is not None}
        raise InvalidRequest("not an authorization response (no vp_token, response or error)")
    return found


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequest(f"'{name}' must be a string")


def _vp_token(value: Any) -> dict[str, list[Any]]:
    """The VP Token as ``{query id: [presentation, ...]}`` (§8.1), or ``MalformedInput``."""
    if isinstance(value, str | bytes):
        value = json_loads(value, max_size=MAX_DIRECT_POST_BODY)
    if (type(value) is not dict and not isinstance(value, Mapping)) or not value:
        raise MalformedInput("vp_token must be a non-empty JSON object (OpenID4VP §8.1)")
    token: dict[str, list[Any]] = {}
    count = 0
    for query_id, entry in value.items():
        kind = type(entry)
        if (
            kind is not list
            and kind is not tuple
            and (not isinstance(entry, Sequence) or isinstance(entry, str | bytes))
        ):
            entry = None  # not an array
        if not entry:
            raise MalformedInput(
                f"vp_token entry {query_id!r} must be a non-empty array (OpenID4VP §8.1)",
                query_id=query_id,
            )
        count += len(entry)
        if count > MAX_PRESENTATIONS:
            raise MalformedInput(f"vp_token holds more than {MAX_PRESENTATIONS} presentations")
        token[str(query_id)] = list(entry)
    return token


def _error(exc: HonninError, query_id: str | None, index: int | None) -> CredentialError:
    reason = exc.fields.get("reason")
    return CredentialError(
        exc.code, exc.message, query_id, index, reason if isinstance(reason, str) else None
    )


@dataclass(frozen=True, slots=True)
class _ParsedQuery:
    """A transaction's DCQL query as the response check needs it, built once per query."""

    query: DcqlQuery
    by_id: dict[str, CredentialQuery]
    #: Credential Query ids that ask for a pairwise pseudonym (spec/PROFILE.md).
    pseudonyms: frozenset[str]


@lru_cache(maxsize=256)
def _parsed_query(text: str) -> _ParsedQuery:
    # A procedure asks the same query again and again: parse its text once (it was built
    # and validated by this verifier when the request was made). The same query object is
    # then given to check_presented, whose compiled plan is cached per query object.
    query = parse_dcql_query(text)
    pseudonyms = frozenset(q.id for q in query.credentials if is_pseudonym_query(q))
    return _ParsedQuery(query, {q.id: q for q in query.credentials}, pseudonyms)


class ResponseProcessor:
    """Turns a wallet's response into a recorded ``VerificationResult``."""

    def __init__(
        self,
        store: TransactionStore,
        presentations: PresentationVerifier,
        clock: Clock,
        catalogue: Catalogue,
        labels: LabelLookup,
    ) -> None:
        self._store = store
        self._presentations = presentations
        self._clock = clock
        self._catalogue = catalogue
        self._labels = labels
        # Claim keys by (credential type, claims path, format): a plain dict, since the
        # same few paths come back in every response of a procedure (bounded).
        self._claim_keys: dict[tuple[str, tuple[Any, ...], str], str] = {}

    def process(self, response: Any) -> Outcome:
        """Process one response; see the module docstring for what raises."""
        fields = _fields(response)
        now = self._clock.now()
        jwe = _text(fields, "response")
        thumbprint: bytes | None = None
        if jwe is not None:
            transaction, params, thumbprint = open_response(self._store, jwe, now)
            state = _text(params, "state")
            if state is None or not hmac.compare_digest(state.encode(), transaction.state.encode()):
                # VS-06: a state of another transaction (or none) inside this one's response.
                raise InvalidRequest("'state' does not belong to this transaction", reason="state")
        else:
            params = fields
            state = _text(params, "state")
            found = None if state is None else self._store.find(state=state)
            if found is None:
                # VS-05: one answer whether or not the state ever existed.
                raise NotFound("no open transaction for this response", reason="unknown_state")
            # Found by its exact state, so the state belongs to this transaction.
            transaction = found
            transaction.ensure_open(now)
            if transaction.response_mode == DIRECT_POST_JWT and "error" not in params:
                # §8.3 / VS-09: encryption was asked for; only an error may come in plain.
                raise InvalidRequest(
                    "this transaction expects an encrypted response (direct_post.jwt)",
                    reason="encryption_required",
                )

        if "error" in params:
            code = str(params["error"])[:64]
            message = str(params.get("error_description", ""))[:256] or "the wallet refused"
            error = CredentialError(code, message, None, None, "wallet_error")
            return self._record(transaction, now, (error,), {}, (), wallet_error=code)
        try:
            token = _vp_token(params.get("vp_token"))
        except HonninError as exc:
            return self._record(transaction, now, (_error(exc, None, None),), {}, ())
        ctx = PresentationContext(
            client_id=transaction.client_id,
            nonce=transaction.nonce,
            response_uri=transaction.response_uri,
            created_at=transaction.created_at,
            now=now,
            jwk_thumbprint=thumbprint,
        )
        return self._verify_token(transaction, token, ctx, now)

    def _verify_token(
        self,
        transaction: Transaction,
        token: Mapping[str, list[Any]],
        ctx: PresentationContext,
        now: float,
    ) -> Outcome:
        parsed = _parsed_query(transaction.dcql_json)
        by_id = parsed.by_id
        errors: list[CredentialError] = []
        checked: dict[str, list[CheckedPresentation]] = {}
        presented: dict[str, list[PresentedCredential]] = {}
        bound: dict[str, list[Assigned]] = {}
        if transaction.transaction_data:
            # §5.1 / App. B.3.3: each item is authorized by one presented credential.
            bound, orphans = assign(transaction.transaction_data, token.keys() & by_id.keys())
            for index in orphans:
                detail = f"no presented credential authorizes transaction_data[{index}] (§8.4)"
                errors.append(CredentialError("invalid_key_binding", detail, None, None,
                                              "transaction_data"))  # fmt: skip
        for query_id, items in token.items():
            credential_query = by_id.get(query_id)
            if credential_query is None:
                # §8.1: keys are Credential Query ids; anything else breaks the token.
                detail = "not a credential query of this request"
                errors.append(CredentialError("unknown_query_id", detail, query_id))
                continue
            pseudonym = query_id in parsed.pseudonyms
            for index, item in enumerate(items):
                try:
                    done = self._one(item, credential_query, ctx, pseudonym)
                    if query_id in bound:
                        check_hashes(done.kb_claims, bound[query_id])
                except HonninError as exc:
                    errors.append(_error(exc, query_id, index))
                else:
                    checked.setdefault(query_id, []).append(done)
                    presented.setdefault(query_id, []).append(done.presented)
        check = check_presented(parsed.query, presented)
        for finding in check.findings:
            errors.append(
                CredentialError(finding.problem.value, finding.detail, finding.query_id,
                                finding.index)
            )  # fmt: skip
        flagged: tuple[FlaggedClaim, ...] = ()
        if check.extra_claims:
            flagged = tuple(
                FlaggedClaim(qid, self._key(by_id[qid], checked[qid][0], path))
                for qid, paths in check.extra_claims.items()
                for path in paths
            )
        credentials: dict[str, tuple[VerifiedCredential, ...]] = {}
        if check.satisfied and not errors:
            for qid, accepted in check.accepted.items():
                query, found = by_id[qid], checked[qid]
                credentials[qid] = tuple(
                    [self._verified(query, found[a.index], a.values) for a in accepted]
                )
        return self._record(transaction, now, tuple(errors), credentials, flagged)

    def _one(
        self, item: Any, query: CredentialQuery, ctx: PresentationContext, pseudonym: bool
    ) -> CheckedPresentation:
        if pseudonym:
            # A self-issued pairwise pseudonym (spec/PROFILE.md), not an issuer's credential.
            return check_pseudonym(item, ctx)
        if query.format == SD_JWT_VC:
            return self._presentations.sd_jwt_vc(item, query, ctx)
        if query.format == MSO_MDOC:
            return self._presentations.mdoc(item, query, ctx)
        raise InvalidRequest(f"format {query.format!r} is not supported by this verifier")

    def _key(self, query: CredentialQuery, checked: CheckedPresentation, path: Any) -> str:
        key = (checked.credential_type or "", tuple(path), query.format)
        found = self._claim_keys.get(key)
        if found is None:
            found = claim_key(self._catalogue.find(key[0]), key[1], key[2])
            if len(self._claim_keys) >= _CLAIM_KEYS:
                self._claim_keys.clear()
            self._claim_keys[key] = found
        return found

    def _verified(
        self,
        query: CredentialQuery,
        checked: CheckedPresentation,
        values: Mapping[Any, tuple[Any, ...]],
    ) -> VerifiedCredential:
        claims: dict[str, Any] = {}
        for path, found in values.items():
            key = self._key(query, checked, path)
            claims[key] = list(found) if None in path or len(found) != 1 else found[0]
        if checked.credential_type == PSEUDONYM_TYPE and checked.presented.claims is not None:
            claims["sub"] = checked.presented.claims["sub"]  # the pseudonym is the answer
        return VerifiedCredential(
            query_id=query.id,
            format=query.format,
            credential_type=checked.credential_type,
            type_value=checked.type_value,
            issuer=checked.issuer,
            issuer_name=checked.issuer_name,
            trust=checked.trust,
            claims=claims,
            status=checked.status,
            holder_binding=checked.presented.holder_binding,
        )

    def _record(
        self,
        transaction: Transaction,
        now: float,
        errors: tuple[CredentialError, ...],
        credentials: Mapping[str, tuple[VerifiedCredential, ...]],
        flagged: tuple[FlaggedClaim, ...],
        *,
        wallet_error: str | None = None,
    ) -> Outcome:
        verified = bool(credentials) and not errors
        result = VerificationResult(
            verified=verified,
            transaction_id=transaction.id,
            credentials=credentials if verified else {},
            errors=errors,
            flagged=flagged,
            verified_at=now,
            wallet_error=wallet_error,
            _labels=self._labels,
        )
        code = random_token() if transaction.redirect_uri is not None else None
        status = TransactionStatus.VERIFIED if verified else TransactionStatus.REJECTED
        if not self._store.complete(
            transaction.id,
            status=status,
            result=RecordedResult(result),
            response_code=code,
            at=now,
        ):
            # Another response won the race (VS-08), or the transaction expired meanwhile.
            raise ReplayDetected("this transaction was answered already", reason="answered")
        redirect = None
        if code is not None and transaction.redirect_uri is not None:
            redirect = f"{transaction.redirect_uri}#response_code={code}"
        return Outcome(result, transaction, redirect)
