"""The Relying Party side (draft-ietf-oauth-status-list-20 §8): fetch, verify, cache, decide.

All I/O goes through the ``honnin.ports.Fetcher`` passed in (CONVENTIONS 9); time comes from
the injected ``Clock``. Whatever stops the list from being fetched or verified ends in
``StatusUnavailable`` (fail closed, HOSTILE-CASES D5) unless the caller names the
``UnknownStatus.ACCEPT`` policy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple
from urllib.parse import urlsplit

from honnin.clock import Clock
from honnin.errors import HonninError, Revoked, StatusError, StatusUnavailable, Suspended
from honnin.jose import DEFAULT_ALLOWED, JwsAlgorithm
from honnin.ports import Fetcher

from ._aggregation import MAX_AGGREGATION_BYTES, parse_status_list_aggregation
from ._constants import MAX_INFLATED, MAX_TOKEN_SIZE, StatusValue, TokenForm
from ._reference import StatusReference
from ._token import DEFAULT_SKEW, KeyResolver, VerifiedStatusList
from ._verify import verify_status_list_token

__all__ = ["StatusChecker", "StatusResult", "UnknownStatus"]


class UnknownStatus(Enum):
    """What to do when no statement can be made about a status (§8.3, ARF VCR_14)."""

    #: Fail closed: raise ``StatusUnavailable`` (the default; §8.3 "SHOULD be rejected").
    REJECT = "reject"
    #: Return a ``StatusResult`` with ``status=None`` and the ``reason``; the caller decides.
    ACCEPT = "accept"


class StatusResult(NamedTuple):
    """The status found for a reference; ``status`` is ``None`` only under ``ACCEPT``.

    A named tuple: building it costs next to nothing on the cached hot path.
    """

    reference: StatusReference
    status: int | None
    reason: StatusUnavailable | None = None

    @property
    def known(self) -> bool:
        """Whether a verified list said something about the reference."""
        return self.status is not None


_new_tuple = tuple.__new__


class _Cached:
    # The list's layout is copied out once so that a cached check is index arithmetic
    # without a further call (StatusList.get, §4.1 item 2); the bytes are never mutated.
    __slots__ = ("bits", "data", "low", "mask", "refresh_at", "shift", "size", "verified")

    def __init__(self, verified: VerifiedStatusList, refresh_at: float) -> None:
        self.verified = verified
        self.refresh_at = refresh_at
        self.data, self.size, self.bits, self.shift, self.low, self.mask = (
            verified.status_list.layout()
        )


@dataclass(slots=True)
class _Failed:
    error: StatusUnavailable
    retry_at: float


class StatusChecker:
    """Checks Referenced Tokens against their Status List Tokens (§8).

    ``key_resolver`` returns the key the list token must be signed with, from its header
    (for example the leaf of an ``x5c`` chain validated against trust anchors). A verified
    list is kept per URI with its inflated bytes until ``ttl`` (§5.1, clamped to
    ``[min_refresh, max_refresh]``; ``default_refresh`` without ``ttl``) or ``exp`` says to
    fetch again (§8.3, §11.5); a failed fetch is not retried before ``retry_after_failure``
    seconds, so a dead Status Provider is not hammered.

    Call it only for a Referenced Token that is otherwise fully verified (§8.3 step 1: an
    expired or forged token needs no status and must not cause a fetch). The ``uri`` comes
    from that verified token; the ``Fetcher`` adapter still applies the SSRF, scheme,
    redirect and size rules (SD-JWT VC §3, §11.4 of the draft).

    >>> checker = StatusChecker(fetcher, resolver, clock=SystemClock())
    >>> checker.check(StatusReference(uri="https://issuer.example/status/1", idx=42))
    """

    def __init__(
        self,
        fetcher: Fetcher,
        key_resolver: KeyResolver,
        *,
        clock: Clock,
        forms: Iterable[TokenForm] = (TokenForm.JWT,),
        unknown: UnknownStatus = UnknownStatus.REJECT,
        accepted: Iterable[int] = (StatusValue.VALID,),
        allowed_algs: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
        skew: float = DEFAULT_SKEW,
        min_refresh: float = 60.0,
        max_refresh: float = 24 * 3600.0,
        default_refresh: float = 300.0,
        retry_after_failure: float = 5.0,
        max_cached_lists: int = 32,
        max_token_bytes: int = MAX_TOKEN_SIZE,
        max_inflated: int = MAX_INFLATED,
    ) -> None:
        self._fetcher = fetcher
        self._resolver = key_resolver
        self._clock = clock
        self._forms = tuple(dict.fromkeys(forms))
        if not self._forms:
            raise ValueError("at least one token form is needed")
        self._accept = ", ".join(f.media_type for f in self._forms)
        self._by_media_type = {f.media_type: f for f in self._forms}
        if not isinstance(unknown, UnknownStatus):
            raise TypeError("unknown must be an UnknownStatus")
        self._unknown = unknown
        self._accepted = frozenset(int(v) for v in accepted)
        self._allowed = allowed_algs
        self._skew = skew
        self._min_refresh = min_refresh
        self._max_refresh = max(max_refresh, min_refresh)
        self._default_refresh = default_refresh
        self._retry_after_failure = retry_after_failure
        self._max_cached = max(1, max_cached_lists)
        self._max_token_bytes = max_token_bytes
        self._max_inflated = max_inflated
        self._cache: dict[str, _Cached | _Failed] = {}
        self._lock = threading.Lock()

    def check(self, reference: StatusReference) -> StatusResult:
        """The status of ``reference``, or the exception that status calls for.

        Returns a result whose ``status`` is in ``accepted`` (VALID by default), or, under
        ``UnknownStatus.ACCEPT``, one with ``status=None`` when the list is unavailable.

        Raises:
            Revoked: the status is INVALID (§7.1).
            Suspended: the status is SUSPENDED (§7.1).
            StatusError: another (application-specific) value not in ``accepted`` (§7.1).
            StatusUnavailable: the list could not be fetched or verified (``REJECT``), or
                ``idx`` lies outside the verified list (§8.3 "MUST be rejected"; a definite
                mismatch between a signed reference and a signed list, so never "unknown").
        """
        # Hot path: a cached, fresh list is one dict lookup, one clock read and index math.
        entry = self._cache.get(reference.uri)
        if type(entry) is _Cached and self._clock.now() < entry.refresh_at:
            idx = reference.idx  # a non-negative int: StatusReference checked it
            if idx < entry.size:
                value = (entry.data[idx >> entry.shift] >> ((idx & entry.low) * entry.bits)) & (
                    entry.mask
                )
            else:
                value = entry.verified.status_list.get(idx)  # raises: out of bounds (§8.3)
        else:
            try:
                verified = self.status_list(reference.uri)
            except StatusUnavailable as exc:
                if self._unknown is UnknownStatus.ACCEPT:
                    return StatusResult(reference, None, exc)
                raise
            value = verified.status_list.get(reference.idx)
        if value in self._accepted:
            # tuple.__new__ skips NamedTuple's Python-level __new__ (a third of the hot path).
            return _new_tuple(StatusResult, (reference, value, None))
        if value == StatusValue.INVALID:
            raise Revoked("the credential is revoked (status INVALID)", uri=reference.uri)
        if value == StatusValue.SUSPENDED:
            raise Suspended("the credential is suspended (status SUSPENDED)", uri=reference.uri)
        raise StatusError(
            f"the credential has status {value:#04x}, which this verifier does not accept",
            uri=reference.uri,
            status=value,
        )

    def status_list(self, uri: str) -> VerifiedStatusList:
        """The verified Status List Token for ``uri``, from the cache or freshly fetched.

        Raises:
            StatusUnavailable: fetch or verification failed (its ``__cause__`` and
                ``reason`` say why).
        """
        now = self._clock.now()
        entry = self._cache.get(uri)
        if type(entry) is _Cached and now < entry.refresh_at:
            return entry.verified
        if type(entry) is _Failed and now < entry.retry_at:
            error = entry.error
            raise StatusUnavailable(error.message, **error.fields) from error.__cause__
        with self._lock:
            entry = self._cache.get(uri)  # another thread may have refreshed meanwhile
            if type(entry) is _Cached and now < entry.refresh_at:
                return entry.verified
            return self._refresh(uri, now)

    def prefetch(
        self, aggregation_uri: str, *, same_origin: bool = True
    ) -> dict[str, StatusUnavailable | None]:
        """Fetch and cache every list a Status List Aggregation names (§9), ahead of the
        Referenced Tokens that point at them: later ``check`` calls need no fetch, and the
        Status Provider does not learn which list a presented credential is on (§12.2).

        The aggregation comes from ``aggregation_uri`` (the issuer's
        ``status_list_aggregation_endpoint`` or a list's ``aggregation_uri``). Each list is
        fetched and verified as ``status_list`` does, at most ``max_cached_lists`` of them
        (the rest would only push each other out of the cache). With ``same_origin`` a list
        on another origin than the aggregation is not fetched: an aggregation cannot make
        this checker contact third parties. Returns, per list URI in the aggregation's order,
        ``None`` when it is now cached, or why not (a ``StatusUnavailable``, whose
        ``reason`` is ``origin`` or ``cache_full`` for a list not fetched).

        Raises:
            StatusUnavailable: the aggregation itself could not be fetched or is malformed
                (``reason`` says why; its ``__cause__`` is the original error).
        """
        try:
            resource = self._fetcher.fetch(
                aggregation_uri, accept="application/json", max_bytes=MAX_AGGREGATION_BYTES
            )
            uris = parse_status_list_aggregation(resource.body)
        except HonninError as exc:
            raise StatusUnavailable(
                f"status list aggregation {aggregation_uri} cannot be used: {exc.message}",
                uri=aggregation_uri,
                reason=exc.code,
            ) from exc
        origin = _origin(aggregation_uri)
        out: dict[str, StatusUnavailable | None] = {}
        fetched = 0
        for uri in uris:
            if same_origin and _origin(uri) != origin:
                out[uri] = StatusUnavailable(
                    f"status list {uri} is on another origin than its aggregation",
                    uri=uri,
                    reason="origin",
                )
            elif fetched >= self._max_cached:
                out[uri] = StatusUnavailable(
                    f"status list {uri} not fetched: the cache holds {self._max_cached} lists",
                    uri=uri,
                    reason="cache_full",
                )
            else:
                fetched += 1
                try:
                    self.status_list(uri)
                    out[uri] = None
                except StatusUnavailable as exc:
                    out[uri] = exc
        return out

    def forget(self, uri: str | None = None) -> None:
        """Drop the cached list for ``uri`` (or every cached list)."""
        with self._lock:
            if uri is None:
                self._cache.clear()
            else:
                self._cache.pop(uri, None)

    def _refresh(self, uri: str, now: float) -> VerifiedStatusList:
        try:
            verified = self._fetch_and_verify(uri, now)
        except StatusUnavailable as exc:
            self._store(uri, _Failed(exc, now + self._retry_after_failure))
            raise
        except HonninError as exc:
            # Fail closed (§8.3, D5): every failure is "no statement can be made".
            error = StatusUnavailable(
                f"status list {uri} cannot be used: {exc.message}", uri=uri, reason=exc.code
            )
            self._store(uri, _Failed(error, now + self._retry_after_failure))
            raise error from exc
        self._store(uri, _Cached(verified, self._refresh_at(verified, now)))
        return verified

    def _fetch_and_verify(self, uri: str, now: float) -> VerifiedStatusList:
        # §8.1: ask for the token forms this checker accepts, by media type.
        resource = self._fetcher.fetch(uri, accept=self._accept, max_bytes=self._max_token_bytes)
        media_type = resource.content_type.split(";", 1)[0].strip().lower()
        form = self._by_media_type.get(media_type)
        if form is None:
            # §8.2: the response carries the media type of the requested token form.
            raise StatusUnavailable(
                f"status list {uri} was served as {media_type or 'no media type'!r}, "
                f"expected {self._accept} (§8.2)",
                uri=uri,
                reason="content_type",
            )
        return verify_status_list_token(
            resource.body,
            form=form,
            key=self._resolver,
            expected_sub=uri,
            now=now,
            allowed=self._allowed,
            skew=self._skew,
            max_inflated=self._max_inflated,
        )

    def _refresh_at(self, verified: VerifiedStatusList, now: float) -> float:
        # §11.5: ttl says how long a copy may be cached; bound it so that neither ttl=1
        # (hammering the Status Provider) nor a year (stale revocations) is taken as is.
        ttl = verified.ttl if verified.ttl is not None else self._default_refresh
        refresh_at = now + min(max(ttl, self._min_refresh), self._max_refresh)
        if verified.exp is not None:
            # §8.3: an expired list token is never used, whatever ttl said.
            refresh_at = min(refresh_at, verified.exp + self._skew)
        return refresh_at

    def _store(self, uri: str, entry: _Cached | _Failed) -> None:
        self._cache.pop(uri, None)
        while len(self._cache) >= self._max_cached:
            # Oldest insertion first: a flood of distinct URIs cannot grow memory unbounded.
            self._cache.pop(next(iter(self._cache)))
        self._cache[uri] = entry


def _origin(uri: str) -> tuple[str, str, int | None]:
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port
