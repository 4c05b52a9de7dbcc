"""An in-process ``Fetcher`` for this issuer's Status List Tokens.

A verifier in the same process (demos, tests, the README's happy path) can check status
without HTTP: it is given ``issuer.status_fetcher()`` where it would take an
``honnin.http.HttpxFetcher``. Only URLs under ``{iss}/status/`` are served, exactly as the
service serves them (draft-ietf-oauth-status-list §8.1: JWT, or CWT when asked for).
"""

from __future__ import annotations

from honnin.errors import FetchError, HonninError
from honnin.ports import FetchedResource
from honnin.status import TokenForm

from ._status import StatusRegistry

__all__ = ["StatusListFetcher"]


class StatusListFetcher:
    """Serves the Status List Tokens of one ``StatusRegistry`` through the ``Fetcher`` port."""

    def __init__(self, registry: StatusRegistry) -> None:
        self._registry = registry
        self._prefix = registry.uri_of("")

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        """The current token at ``url``.

        Raises:
            FetchError: not one of this issuer's status lists, or larger than ``max_bytes``.
        """
        if not url.startswith(self._prefix) or "/" in url[len(self._prefix) :]:
            raise FetchError(f"not a status list of this issuer: {url}", reason="unknown_url")
        form = TokenForm.CWT if accept and "statuslist+cwt" in accept else TokenForm.JWT
        try:
            published = self._registry.publish(url[len(self._prefix) :], form)
        except HonninError as exc:
            raise FetchError(f"status list unavailable: {exc.message}", reason="status") from exc
        if len(published.body) > max_bytes:
            raise FetchError("status list token larger than allowed", reason="size")
        return FetchedResource(published.body, published.media_type)
