"""Hypothesis round trips (CONVENTIONS 14; HOSTILE-CASES §3): any JSON claims set with any
choice of disclosable paths issues, presents any subset, and verifies to exactly it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from honnin.errors import HonninError, InvalidDisclosure, InvalidKeyBinding
from honnin.jose import generate_key
from honnin.sdjwt import (
    ClaimPath,
    KeyBinding,
    SdJwt,
    format_claim_path,
    issue_sd_jwt,
    parse_claim_path,
    verify_sd_jwt,
)

ISSUER = generate_key()
HOLDER = generate_key()
NOW = 1_800_000_000
RESERVED = {"_sd", "...", "_sd_alg", "cnf", "exp", "nbf", "iat"}  # registered time claims are typed

names = st.text(max_size=6).filter(lambda name: name not in RESERVED)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=12,
)
claim_sets = st.dictionaries(names, values, max_size=5)


def all_paths(value: Any, path: ClaimPath = ()) -> list[ClaimPath]:
    """Every object member and array element below ``value``."""
    out: list[ClaimPath] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        out.append((*path, key))
        out.extend(all_paths(item, (*path, key)))
    return out


def expected_view(
    value: Any, released: set[ClaimPath], sd: set[ClaimPath], path: ClaimPath = ()
) -> Any:
    """The oracle: a selectively disclosable node appears only when it was released."""
    if isinstance(value, dict):
        return {
            k: expected_view(v, released, sd, (*path, k))
            for k, v in value.items()
            if (*path, k) not in sd or (*path, k) in released
        }
    if isinstance(value, list):
        return [
            expected_view(v, released, sd, (*path, i))
            for i, v in enumerate(value)
            if (*path, i) not in sd or (*path, i) in released
        ]
    return value


def released_by(requests: list[ClaimPath], sd: set[ClaimPath]) -> set[ClaimPath]:
    out: set[ClaimPath] = set()
    for request in requests:
        out |= {request[:n] for n in range(1, len(request) + 1)} & sd  # enclosing claims
        out |= {p for p in sd if p[: len(request)] == request}  # the claim and all under it
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], list[ClaimPath], list[ClaimPath]]:
    claims = draw(claim_sets)
    paths = all_paths(claims)
    disclosable = draw(st.lists(st.sampled_from(paths), unique=True)) if paths else []
    requested = draw(st.lists(st.sampled_from(paths), unique=True, max_size=4)) if paths else []
    return claims, disclosable, requested


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_issue_present_verify_round_trip(
    scenario: tuple[dict[str, Any], list[ClaimPath], list[ClaimPath]],
) -> None:
    claims, disclosable, requested = scenario
    token = issue_sd_jwt(claims, ISSUER, disclosable=disclosable, holder_key=HOLDER.public_key())
    credential = SdJwt.parse(token)
    assert {k: v for k, v in credential.claims.items() if k != "cnf"} == claims
    text = credential.present(requested, holder_key=HOLDER, nonce="n", aud="a", iat=NOW)
    verified = verify_sd_jwt(
        text, ISSUER.public_key(), key_binding=KeyBinding.REQUIRED, nonce="n", aud="a", now=NOW
    )
    sd = set(disclosable)
    view = expected_view(claims, released_by(requested, sd), sd)
    assert {k: v for k, v in verified.claims.items() if k != "cnf"} == view
    assert len(verified.disclosures) == len(released_by(requested, sd))


@settings(max_examples=30, deadline=None)
@given(scenarios(), st.data())
def test_dropping_a_disclosure_after_key_binding_fails(
    scenario: tuple[dict[str, Any], list[ClaimPath], list[ClaimPath]], data: st.DataObject
) -> None:
    claims, disclosable, _ = scenario
    token = issue_sd_jwt(claims, ISSUER, disclosable=disclosable, holder_key=HOLDER.public_key())
    credential = SdJwt.parse(token)
    text = credential.present_disclosures(
        credential.disclosures, holder_key=HOLDER, nonce="n", aud="a", iat=NOW
    )
    parts = text.split("~")
    if len(parts) < 3:
        return  # nothing to drop
    drop = data.draw(st.integers(min_value=1, max_value=len(parts) - 2))
    tampered = "~".join(parts[:drop] + parts[drop + 1 :])
    try:
        verify_sd_jwt(
            tampered,
            ISSUER.public_key(),
            key_binding=KeyBinding.REQUIRED,
            nonce="n",
            aud="a",
            now=NOW,
        )
    except (InvalidKeyBinding, InvalidDisclosure):
        return
    raise AssertionError("a presentation with a dropped disclosure verified")


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_without_key_binding_any_subset_of_disclosures_verifies(
    scenario: tuple[dict[str, Any], list[ClaimPath], list[ClaimPath]],
) -> None:
    claims, disclosable, requested = scenario
    credential = SdJwt.parse(issue_sd_jwt(claims, ISSUER, disclosable=disclosable))
    verified = verify_sd_jwt(
        credential.present(requested),
        ISSUER.public_key(),
        key_binding=KeyBinding.FORBIDDEN,
        now=NOW,
    )
    sd = set(disclosable)
    assert verified.claims == expected_view(claims, released_by(requested, sd), sd)


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_a_foreign_disclosure_always_fails(
    scenario: tuple[dict[str, Any], list[ClaimPath], list[ClaimPath]],
) -> None:
    claims, disclosable, _ = scenario
    if not disclosable:
        return
    mine = SdJwt.parse(issue_sd_jwt(claims, ISSUER, disclosable=disclosable))
    theirs = SdJwt.parse(issue_sd_jwt(claims, ISSUER, disclosable=disclosable))
    text = mine.present([]) + theirs.disclosures[0].encoded + "~"
    try:
        verify_sd_jwt(text, ISSUER.public_key(), key_binding=KeyBinding.FORBIDDEN, now=NOW)
    except HonninError as exc:
        assert isinstance(exc, InvalidDisclosure)
        return
    raise AssertionError("a foreign disclosure was accepted")


@given(
    st.lists(
        st.text(max_size=5) | st.integers(min_value=0, max_value=10**6), min_size=1, max_size=5
    )
)
def test_json_pointer_round_trip(segments: list[str | int]) -> None:
    path = tuple(segments)
    parsed = parse_claim_path(format_claim_path(path))
    # A digit-only member name reads back as an index; both address the same claim.
    assert [str(s) for s in parsed] == [str(s) for s in path]
