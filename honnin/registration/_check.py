"""Comparing a presentation request with the verifier's registration (ARF RPRC_21; HOSTILE-CASES
WL-09, D8) and with the claims the trust framework restricts (spec/PROFILE.md §8)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from honnin.credential_types import Catalogue, ClaimPath, load_catalogue

from ._paths import covers, overlaps, parse_path, same_claim, type_key
from ._registration import VerifiedRegistration

__all__ = ["RegistrationCheck", "RestrictedClaims", "check_request", "restricted_paths"]

#: Where restricted claims come from: ``TrustList.restricted_claims`` (a callable from a
#: credential type to claim paths), an equivalent mapping, or None (the catalogue alone).
RestrictedClaims = Callable[[str], Collection[ClaimPath]] | Mapping[str, Collection[ClaimPath]]


@dataclass(frozen=True)
class RegistrationCheck:
    """What a request asks beyond what the wallet may give this verifier.

    Every mapping is keyed by the credential type name, and lists the claim paths, as the
    caller gave them.

    * ``excess``: claims outside the registration's entitlement (over-asking, RPRC_21);
    * ``restricted``: claims the trust framework restricts (the My Number) that the
      registration does not name itself: never shared, whatever the person approves;
    * ``unregistered_types``: requested types the registration does not mention at all;
    * ``purpose_registered``: whether the request's purpose is the registered one
      (``None`` when there is no registration or no purpose to compare).

    A claim is listed in exactly one of ``excess`` and ``restricted``.
    """

    registered: bool
    excess: Mapping[str, tuple[ClaimPath, ...]]
    restricted: Mapping[str, tuple[ClaimPath, ...]]
    unregistered_types: tuple[str, ...]
    purpose_registered: bool | None

    @property
    def allowed(self) -> bool:
        """True when nothing is refused and the purpose is not a different one."""
        return (
            not self.excess
            and not self.restricted
            and not self.unregistered_types
            and self.purpose_registered is not False
        )

    def refused(self, credential_type: str) -> frozenset[ClaimPath]:
        """Every requested path of ``credential_type`` that is excess or restricted."""
        return frozenset(self.excess.get(credential_type, ())) | frozenset(
            self.restricted.get(credential_type, ())
        )


def restricted_paths(
    credential_type: str,
    restricted_claims: RestrictedClaims | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> frozenset[ClaimPath]:
    """The claims of ``credential_type`` that need a registration naming them: the trust
    list's ``restricted_claims`` plus the catalogue's ``explicit_request_only`` claims (the
    My Number rule applies even where no trust list is configured)."""
    found = (catalogue or load_catalogue()).find(credential_type)
    out: set[ClaimPath] = set(found.explicit_request_only) if found is not None else set()
    if callable(restricted_claims):
        out.update(restricted_claims(credential_type))
    elif restricted_claims is not None:
        for name, paths in restricted_claims.items():
            same = name == credential_type or (
                found is not None and (catalogue or load_catalogue()).find(name) is found
            )
            if same:
                out.update(tuple(p) for p in paths)
    return frozenset(out)


def _normalise(
    name: str, paths: Iterable[Sequence[str | int | None]], catalogue: Catalogue
) -> list[tuple[ClaimPath, ClaimPath]]:
    """``(as requested, as a JSON claim path)`` for every requested path."""
    ctype = catalogue.find(name)
    out = []
    for raw in paths:
        given = path = parse_path(list(raw), f"requested[{name!r}]")
        # OpenID4VP 1.0 §7.2: an mdoc request names [namespace, element]; compare it as the
        # catalogue's JSON claim path so one registration covers both formats.
        if (
            ctype is not None
            and len(path) == 2
            and isinstance(path[0], str)
            and isinstance(path[1], str)
            and path[0] in ctype.namespaces
        ):
            mapped = ctype.mdoc.path_for(path[0], path[1])
            if mapped is not None:
                path = mapped
        out.append((given, path))
    return out


def check_request(
    registration: VerifiedRegistration | None,
    requested: Mapping[str, Iterable[Sequence[str | int | None]]],
    restricted_claims: RestrictedClaims | None = None,
    *,
    purpose: str | None = None,
    catalogue: Catalogue | None = None,
) -> RegistrationCheck:
    """Compare a request with the verifier's registration and the restricted claims.

    ``requested`` maps each requested credential type (catalogue id, ``vct`` or docType) to
    its claim paths (JSON paths, or mdoc ``[namespace, element]``). ``registration`` is the
    verified registration the request carried, or None when it carried none: then nothing
    is over-asking (there is no entitlement to compare with) but every restricted claim is
    refused. A restricted claim is allowed only when the registration names it itself, not
    merely its parent.

    Example::

        check = check_request(registration, {"withholding-slip": [["my_number"]]},
                              trust.restricted_claims)
        check.restricted   # {'withholding-slip': (('my_number',),)} unless registered for it

    Raises:
        InvalidClaim: a malformed claim path.
    """
    catalogue = catalogue or load_catalogue()
    excess: dict[str, tuple[ClaimPath, ...]] = {}
    restricted: dict[str, tuple[ClaimPath, ...]] = {}
    unregistered: list[str] = []
    for name, raw_paths in requested.items():
        paths = _normalise(name, raw_paths, catalogue)
        limited = restricted_paths(name, restricted_claims, catalogue=catalogue)
        entitled: frozenset[ClaimPath] = frozenset()
        if registration is not None:
            entitled = registration.entitlements.get(type_key(name, catalogue), frozenset())
            if not entitled:
                unregistered.append(name)
        over, kept = [], []
        for given, path in paths:
            hits = [x for x in limited if overlaps(path, x)]
            if any(not any(same_claim(p, x) for p in entitled) for x in hits):
                kept.append(given)
            elif registration is not None and not any(covers(p, path) for p in entitled):
                over.append(given)
        if over:
            excess[name] = tuple(dict.fromkeys(over))
        if kept:
            restricted[name] = tuple(dict.fromkeys(kept))
    purpose_registered = None
    if registration is not None and purpose is not None:
        purpose_registered = registration.registers_purpose(purpose)
    return RegistrationCheck(
        registered=registration is not None,
        excess=MappingProxyType(excess),
        restricted=MappingProxyType(restricted),
        unregistered_types=tuple(unregistered),
        purpose_registered=purpose_registered,
    )
