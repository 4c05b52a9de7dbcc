"""The verifier's own registrations (spec/PROFILE.md "Verifier registrations"; ARF RPRC_21;
HOSTILE-CASES VS-37).

A registrar signs, per purpose, what this verifier may ask for. The verifier sends the
registration for the request's purpose in ``verifier_info`` (OpenID4VP 1.0 §5.11), so the
wallet can check it, and checks itself first: a request that asks beyond its registration is
refused when it is made, since every wallet would refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from honnin.credential_types import Catalogue, ClaimPath
from honnin.dcql import DcqlQuery
from honnin.errors import PolicyViolation
from honnin.jose import parse_jws
from honnin.pseudonym import is_pseudonym_query
from honnin.registration import VerifiedRegistration, check_request, verify_registration
from honnin.trust import certificates_from_x5c

__all__ = ["Registrations"]


def _requested(query: DcqlQuery) -> dict[str, list[tuple[Any, ...]]]:
    requested: dict[str, list[tuple[Any, ...]]] = {}
    for credential_query in query.credentials:
        if is_pseudonym_query(credential_query):
            continue  # a pairwise pseudonym is the wallet's own, not a registered claim
        names = [*(credential_query.meta.vct_values or ()), credential_query.meta.doctype_value]
        name = next((n for n in names if n), None)
        if name is not None:
            paths = requested.setdefault(name, [])
            paths.extend(tuple(c.path) for c in credential_query.claims or ())
    return requested


class Registrations:
    """The registrations this verifier holds, each checked once against itself.

    Raises (at construction):
        UntrustedVerifier / Expired / PolicyViolation / InvalidClaim: a registration that is
            not intact, expired or for another verifier (``verify_registration`` against the
            registration's own certificate: the registrar's trust is the wallet's call).
    """

    def __init__(
        self,
        tokens: Iterable[str],
        *,
        client_id: str,
        now: float,
        catalogue: Catalogue,
        restricted: Callable[[str], Collection[ClaimPath]] | None,
    ) -> None:
        self._catalogue = catalogue
        self._restricted = restricted
        self.items: tuple[VerifiedRegistration, ...] = tuple(
            verify_registration(
                token,
                registrar_anchors=certificates_from_x5c(parse_jws(token).header.get("x5c"))[:1],
                client_id=client_id,
                now=now,
                catalogue=catalogue,
            )
            for token in tokens
        )

    def __bool__(self) -> bool:
        return bool(self.items)

    def for_request(self, query: DcqlQuery, purpose: str, now: float) -> str | None:
        """The registration to send with a request for ``query`` and ``purpose``; None when
        this verifier holds none.

        Raises:
            PolicyViolation: no registration for this purpose is still valid
                (``reason="purpose"``), or the query asks beyond it (``reason="over_asking"``,
                ``excess`` / ``restricted`` name the claims).
        """
        if not self.items:
            return None
        valid = [r for r in self.items if r.registers_purpose(purpose) and now < r.expires_at]
        if not valid:
            raise PolicyViolation(
                "this verifier holds no valid registration for the purpose "
                f"{purpose!r} (ARF RPRC_21: wallets would refuse the request)",
                reason="purpose",
            )
        requested = _requested(query)
        problems: list[str] = []
        for registration in valid:
            check = check_request(
                registration,
                requested,
                self._restricted,
                purpose=purpose,
                catalogue=self._catalogue,
            )
            if check.allowed:
                return registration.token
            problems.append(f"excess {dict(check.excess)}, restricted {dict(check.restricted)}")
        raise PolicyViolation(
            "the request asks beyond this verifier's registration (HOSTILE-CASES VS-37): "
            + "; ".join(problems),
            reason="over_asking",
        )
