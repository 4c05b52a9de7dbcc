"""Issuer side of the Token Status List: random allocation, batches, changes, publication."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from honnin.clock import FixedClock, as_datetime
from honnin.errors import (
    InvalidSignature,
    NotFound,
    PolicyViolation,
    Revoked,
    StatusUnavailable,
    StoreUnavailable,
    Suspended,
    UntrustedIssuer,
)
from honnin.jose import PublicKey, generate_key, public_key_of
from honnin.ports import FetchedResource
from honnin.status import (
    ListTokenHeader,
    StatusChecker,
    StatusValue,
    TokenForm,
    verify_status_list_cwt,
    verify_status_list_jwt,
)
from honnin.trust import certificates_from_der_list, make_test_pki, validate_chain
from issuer import SqliteStatusStore, StatusListSigner, StatusRegistry

BASE = "https://issuer.example/status"
T0 = 1_800_000_000
KEY = generate_key()


def registry(path: Path, clock: FixedClock | None = None, **kwargs: object) -> StatusRegistry:
    store = SqliteStatusStore(path / "status.db")
    return StatusRegistry(
        store,
        StatusListSigner(KEY, kid="status-key"),
        base_uri=BASE,
        clock=clock or FixedClock(T0),
        **kwargs,  # type: ignore[arg-type]
    )


class RegistryFetcher:
    """A Fetcher double that serves what the registry publishes (no network)."""

    def __init__(self, reg: StatusRegistry, form: TokenForm = TokenForm.JWT) -> None:
        self.reg, self.form, self.fetches = reg, form, 0

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        self.fetches += 1
        published = self.reg.publish(url.rsplit("/", 1)[1], self.form)
        return FetchedResource(published.body, published.media_type)


def resolver(header: ListTokenHeader) -> PublicKey:
    return public_key_of(KEY)


def test_allocation_is_random_unique_and_in_range(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=1 << 16)
    refs = reg.allocate_batch([f"c{i}" for i in range(20)], batch_id="b1")
    indices = [r.idx for r in refs]
    assert len(set(indices)) == 20 and all(0 <= i < 1 << 16 for i in indices)
    assert len({r.uri for r in refs}) == 1  # one list, one herd
    diffs = {b - a for a, b in zip(sorted(indices), sorted(indices)[1:], strict=False)}
    assert len(diffs) > 1  # not an arithmetic progression (conformance VCI...Unpredictable)
    assert sorted(indices) != indices or len(set(indices)) == 20


def test_many_allocations_are_uniform(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=1 << 14)
    indices = []
    for batch in range(50):
        refs = reg.allocate_batch([f"c{batch}-{i}" for i in range(100)], batch_id=f"b{batch}")
        indices += [r.idx for r in refs]
    assert len(set(indices)) == 5000
    buckets = [0] * 16
    for idx in indices:
        buckets[idx * 16 // (1 << 14)] += 1
    expected = len(indices) / 16
    chi2 = sum((b - expected) ** 2 / expected for b in buckets)
    assert chi2 < 37.7  # χ² with 15 degrees of freedom, p = 0.001


def test_nearly_full_list_fills_exactly_then_opens_a_new_one(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=64, bits=1)
    refs = reg.allocate_batch([f"c{i}" for i in range(60)])
    refs += [reg.allocate(f"d{i}") for i in range(4)]
    assert sorted(r.idx for r in refs) == list(range(64))
    assert len({r.uri for r in refs}) == 1
    nxt = reg.allocate("e")
    assert nxt.uri != refs[0].uri and len(reg.list_ids()) == 2


def test_full_lists_are_not_loaded_after_a_restart(tmp_path: Path) -> None:
    registry(tmp_path, size=16, bits=1).allocate_batch([f"a{i}" for i in range(16)])
    again = registry(tmp_path, size=16, bits=1)
    ref = again.allocate("b")
    assert list(again._allocators) == [again.list_id_of(ref)]  # only the new list


def test_batch_that_does_not_fit_goes_to_a_new_list(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=16, bits=1)
    first = reg.allocate_batch([f"a{i}" for i in range(10)])
    second = reg.allocate_batch([f"b{i}" for i in range(10)])
    assert first[0].uri != second[0].uri
    assert len({r.uri for r in second}) == 1


def test_allocations_survive_a_restart_and_are_never_reused(tmp_path: Path) -> None:
    reg = registry(tmp_path, size=32, bits=1)
    before = {r.idx for r in reg.allocate_batch([f"a{i}" for i in range(20)])}
    again = registry(tmp_path, size=32, bits=1)
    after = {r.idx for r in again.allocate_batch([f"b{i}" for i in range(12)])}
    assert before.isdisjoint(after) and len(before | after) == 32


def test_two_registries_on_one_database_never_double_allocate(tmp_path: Path) -> None:
    one = registry(tmp_path, size=64, bits=1)
    two = registry(tmp_path, size=64, bits=1)
    one.allocate("seed")
    got = [one.allocate(f"a{i}").idx for i in range(30)] + [
        two.allocate(f"b{i}").idx for i in range(33)
    ]
    assert len(set(got)) == 63


def test_revoke_one_copy_of_a_batch_then_all(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    refs = reg.allocate_batch(["copy-1", "copy-2", "copy-3"], batch_id="slip-2026")
    reg.revoke("copy-2")
    assert [reg.status_of(c) for c in ("copy-1", "copy-2", "copy-3")] == [0, 1, 0]
    reg.revoke_batch("slip-2026")
    assert [reg.status_of(c) for c in ("copy-1", "copy-2", "copy-3")] == [1, 1, 1]
    token = reg.publish(reg.list_id_of(refs[0])).body
    verified = verify_status_list_jwt(
        token, key=public_key_of(KEY), expected_sub=refs[0].uri, now=T0
    )
    assert [verified.status(r.idx) for r in refs] == [1, 1, 1]


def test_suspend_and_reinstate(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.allocate_batch(["x1", "x2"], batch_id="bx")
    reg.suspend("x1")
    assert reg.status_of("x1") == StatusValue.SUSPENDED
    reg.reinstate("x1")
    assert reg.status_of("x1") == StatusValue.VALID
    reg.suspend_batch("bx")
    assert {reg.status_of("x1"), reg.status_of("x2")} == {StatusValue.SUSPENDED}
    reg.reinstate_batch("bx")
    assert {reg.status_of("x1"), reg.status_of("x2")} == {StatusValue.VALID}


def test_revocation_is_final_unless_configured(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.allocate("r1")
    reg.revoke("r1")
    with pytest.raises(PolicyViolation):
        reg.reinstate("r1")
    with pytest.raises(PolicyViolation):
        reg.suspend("r1")
    assert reg.status_of("r1") == StatusValue.INVALID
    reg.revoke("r1")  # idempotent


def test_revoke_suspend_reinstate_when_revocation_is_not_final(tmp_path: Path) -> None:
    reg = registry(tmp_path, revocation_is_final=False)
    ref = reg.allocate("r1")
    seen = []
    for change in (reg.revoke, reg.suspend, reg.reinstate):
        change("r1")
        verified = verify_status_list_jwt(
            reg.publish(reg.list_id_of(ref)).body,
            key=public_key_of(KEY),
            expected_sub=ref.uri,
            now=T0,
        )
        seen.append(verified.status(ref.idx))
    assert seen == [1, 2, 0]


def test_a_revoked_batch_copy_blocks_reinstating_the_batch(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.allocate_batch(["p1", "p2"], batch_id="bp")
    reg.suspend("p1")
    reg.revoke("p2")
    with pytest.raises(PolicyViolation):
        reg.reinstate_batch("bp")
    assert reg.status_of("p1") == StatusValue.SUSPENDED  # nothing half-done


def test_verifier_sees_the_change_after_republish_and_cache_expiry(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    reg = registry(tmp_path, clock, ttl=300)
    ref = reg.allocate_batch(["c1", "c2"], batch_id="b")[0]
    fetcher = RegistryFetcher(reg)
    checker = StatusChecker(fetcher, resolver, clock=clock)
    assert checker.check(ref).status == StatusValue.VALID
    reg.suspend("c1")
    clock.advance(100)
    assert checker.check(ref).status == StatusValue.VALID  # cached list, within ttl
    clock.advance(201)
    with pytest.raises(Suspended):
        checker.check(ref)
    reg.revoke_batch("b")
    clock.advance(301)
    with pytest.raises(Revoked):
        checker.check(ref)
    assert fetcher.fetches == 3


def test_cwt_publication_seen_by_a_cwt_verifier(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    reg = registry(tmp_path, clock, ttl=120)
    ref = reg.allocate("c1")
    published = reg.publish(reg.list_id_of(ref), TokenForm.CWT)
    assert published.media_type == "application/statuslist+cwt"
    verified = verify_status_list_cwt(
        published.body, key=public_key_of(KEY), expected_sub=ref.uri, now=T0
    )
    assert verified.header.kid == b"status-key" and verified.ttl == 120
    checker = StatusChecker(
        RegistryFetcher(reg, TokenForm.CWT), resolver, clock=clock, forms=[TokenForm.CWT]
    )
    assert checker.check(ref).status == StatusValue.VALID
    reg.revoke("c1")
    clock.advance(121)
    with pytest.raises(Revoked):
        checker.check(ref)


def test_publication_is_cached_until_a_change(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    reg = registry(tmp_path, clock, lifetime=3600)
    ref = reg.allocate("c1")
    list_id = reg.list_id_of(ref)
    first = reg.publish(list_id)
    clock.advance(10)
    assert reg.publish(list_id) is first
    reg.revoke("c1")
    changed = reg.publish(list_id)
    assert changed is not first and changed.iat == T0 + 10
    clock.advance(1800)
    assert reg.publish(list_id).iat == T0 + 1810  # re-signed at half its lifetime


def test_published_token_shape(tmp_path: Path) -> None:
    reg = registry(tmp_path, ttl=600, lifetime=7200)
    ref = reg.allocate("c1")
    published = reg.publish(reg.list_id_of(ref))
    assert published.media_type == "application/statuslist+jwt"
    verified = verify_status_list_jwt(
        published.body, key=public_key_of(KEY), expected_sub=ref.uri, now=T0
    )
    assert (verified.ttl, verified.exp, verified.iat) == (600, T0 + 7200, T0)
    assert verified.header.kid == "status-key" and verified.sub == published.uri
    assert verified.status_list.size == 1 << 20 and verified.status_list.bits == 2


def test_change_from_another_process_is_published(tmp_path: Path) -> None:
    one, two = registry(tmp_path), registry(tmp_path)
    ref = one.allocate("c1")
    list_id = one.list_id_of(ref)
    one.publish(list_id)
    two.revoke("c1")
    verified = verify_status_list_jwt(
        one.publish(list_id).body, key=public_key_of(KEY), expected_sub=ref.uri, now=T0
    )
    assert verified.status(ref.idx) == StatusValue.INVALID


# -- misuse and failures ----------------------------------------------------------------


def test_unknown_credential_and_batch(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    with pytest.raises(NotFound):
        reg.revoke("nope")
    with pytest.raises(NotFound):
        reg.revoke_batch("nope")
    with pytest.raises(NotFound):
        reg.publish("no-such-list")


def test_duplicate_credential_id(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.allocate("c1")
    with pytest.raises(ValueError, match="already"):
        reg.allocate("c1")
    with pytest.raises(ValueError, match="distinct"):
        reg.allocate_batch(["d", "d"])


def test_suspend_needs_two_bits(tmp_path: Path) -> None:
    reg = registry(tmp_path, bits=1)
    reg.allocate("c1")
    with pytest.raises(ValueError, match="does not fit"):
        reg.suspend("c1")


def test_store_failure_is_loud(tmp_path: Path) -> None:
    store = SqliteStatusStore(tmp_path / "status.db", timeout=0.05)
    reg = StatusRegistry(store, StatusListSigner(KEY), base_uri=BASE, clock=FixedClock(T0))
    reg.allocate("c1")
    other = sqlite3.connect(tmp_path / "status.db", timeout=0)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        with pytest.raises(StoreUnavailable) as info:
            reg.revoke("c1")
        assert info.value.operation == "set status"
    finally:
        other.rollback()
        other.close()
    assert reg.status_of("c1") == StatusValue.VALID  # nothing reported, nothing written


def test_store_that_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        SqliteStatusStore(tmp_path / "missing-dir" / "status.db")


def _x5c_resolver(anchors: list[x509.Certificate], clock: FixedClock):  # type: ignore[no-untyped-def]
    """Key resolution by the token's x5c chain, validated to the verifier's anchors."""

    def resolve(header: ListTokenHeader) -> PublicKey:
        chain = validate_chain(
            certificates_from_der_list(list(header.x5c)), anchors, at=as_datetime(clock)
        )
        key = chain.public_key
        assert isinstance(key, ec.EllipticCurvePublicKey)
        return key

    return resolve


@pytest.mark.parametrize("form", [TokenForm.JWT, TokenForm.CWT])
def test_x5c_signed_list_checked_against_trust_anchors(tmp_path: Path, form: TokenForm) -> None:
    clock = FixedClock(T0)
    pki = make_test_pki(["Example Corp"], now=as_datetime(clock))
    leaf = pki.issuer("Example Corp")
    signer = StatusListSigner(
        leaf.private_key, x5c=tuple(c.public_bytes(Encoding.DER) for c in leaf.chain)
    )
    reg = StatusRegistry(SqliteStatusStore(tmp_path / "s.db"), signer, base_uri=BASE, clock=clock)
    ref = reg.allocate("c1")
    reg.revoke("c1")
    trusted = StatusChecker(
        RegistryFetcher(reg, form), _x5c_resolver([pki.root.certificate], clock),
        clock=clock, forms=[form],
    )  # fmt: skip
    with pytest.raises(Revoked):
        trusted.check(ref)
    stranger = make_test_pki(["Other"], now=as_datetime(clock)).root.certificate
    untrusting = StatusChecker(
        RegistryFetcher(reg, form), _x5c_resolver([stranger], clock), clock=clock, forms=[form]
    )
    with pytest.raises(StatusUnavailable) as info:
        untrusting.check(ref)
    # Same anchor name, other key: the trust module reports the broken link as a signature.
    assert info.value.reason in {"untrusted_issuer", "invalid_signature"}
    assert isinstance(info.value.__cause__, UntrustedIssuer | InvalidSignature)
