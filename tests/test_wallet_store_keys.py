"""Binding keys behind Signer, and the KeyWrapper (device key) in front of the PIN."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from honnin.encoding import b64url_encode
from honnin.errors import NotFound, WalletError, WrongPin
from honnin.jose import (
    JwsAlgorithm,
    jwk_thumbprint,
    parse_jws,
    public_key_from_jwk,
    verify_bytes,
    verify_jws,
)
from wallet import KdfParams, KeyWrapper, Signer, Vault

PIN = "314159"
FAST = KdfParams.INSECURE_TEST_ONLY


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys.wallet"


def test_a_binding_key_signs_es256_raw_r_s(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        signer = vault.new_binding_key()
        assert isinstance(signer, Signer)
        assert signer.algorithm is JwsAlgorithm.ES256
        assert signer.public_jwk["crv"] == "P-256" and "d" not in signer.public_jwk
        assert signer.key_id == jwk_thumbprint(signer.public_jwk)
        signature = signer.sign(b"kb-jwt signing input")
        assert len(signature) == 64
        verify_bytes(
            b"kb-jwt signing input",
            signature,
            public_key_from_jwk(signer.public_jwk),
            JwsAlgorithm.ES256,
        )


def test_a_signer_builds_a_jws_that_verifies(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        signer = vault.new_binding_key()
        header = b'{"alg":"ES256","typ":"kb+jwt"}'
        signing_input = f"{b64url_encode(header)}.{b64url_encode(b'{}')}"
        token = f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode()))}"
        alg = verify_jws(parse_jws(token), public_key_from_jwk(signer.public_jwk))
        assert alg is JwsAlgorithm.ES256


def test_keys_survive_reopen_and_stay_the_same_key(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        made = vault.new_binding_keys(8)
        assert len({s.key_id for s in made}) == 8
        jwks = {s.key_id: s.public_jwk for s in made}
    with Vault.open(path, PIN) as vault:
        # Keys made in one transaction share a version: listed in id order among themselves.
        assert vault.binding_keys() == sorted(s.key_id for s in made)
        for key_id, jwk in jwks.items():
            signer = vault.signer(key_id)
            assert signer.public_jwk == jwk
            verify_bytes(b"m", signer.sign(b"m"), public_key_from_jwk(jwk), JwsAlgorithm.ES256)


def test_unknown_key_ids_are_not_found(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        with pytest.raises(NotFound):
            vault.signer("no-such-key")
        with pytest.raises(NotFound):
            vault.destroy_key("no-such-key")


def test_private_keys_are_not_reachable_through_the_record_api(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        signer = vault.new_binding_key()
        with pytest.raises(ValueError, match="reserved"):
            vault.get("honnin.binding_key", signer.key_id)
        with pytest.raises(ValueError, match="reserved"):
            vault.find("honnin.binding_key")


def test_destroying_a_key_stops_its_signer_and_wipes_its_bytes(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        keep, doomed = vault.new_binding_keys(2)
    sealed = _sealed_bodies(path)
    with Vault.open(path, PIN) as vault:
        signer = vault.signer(doomed.key_id)
        signer.sign(b"before")
        vault.destroy_key(doomed.key_id)
        with pytest.raises(NotFound):
            signer.sign(b"after")
        with pytest.raises(NotFound):
            vault.signer(doomed.key_id)
        wal = Path(f"{path}-wal")
        on_disk = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        # secure_delete zeroed it in the file, the truncated WAL holds no old page image.
        assert sealed[doomed.key_id] not in on_disk
        assert sealed[keep.key_id] in on_disk
    with Vault.open(path, PIN) as vault:
        assert vault.binding_keys() == [keep.key_id]


def _sealed_bodies(path: Path) -> dict[str, bytes]:
    """key id -> its encrypted body as stored (white box: matched through the vault's rid)."""
    with Vault.open(path, PIN) as vault:
        cipher = vault._store._cipher
        rids = {cipher.rid("honnin.binding_key", k): k for k in vault.binding_keys()}
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT rid, body FROM bodies").fetchall()
    finally:
        conn.close()
    return {rids[rid]: body for rid, body in rows if rid in rids}


def test_a_closed_vault_stops_its_signers(path: Path) -> None:
    vault = Vault.create(path, PIN, kdf=FAST)
    signer = vault.new_binding_key()
    vault.close()
    with pytest.raises(ValueError, match="closed"):
        signer.sign(b"x")


class DeviceKeystore:
    """A stand-in for a platform keystore: an AES key that never enters the wallet file."""

    def __init__(self, name: str = "test-keystore:alias-1") -> None:
        self._key = AESGCM.generate_key(bit_length=256)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def wrap(self, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self._key).encrypt(nonce, data_key, b"device wrap")

    def unwrap(self, blob: bytes) -> bytes:
        return AESGCM(self._key).decrypt(blob[:12], blob[12:], b"device wrap")


def test_a_key_wrapper_is_needed_to_open(path: Path) -> None:
    device = DeviceKeystore()
    assert isinstance(device, KeyWrapper)
    Vault.create(path, PIN, kdf=FAST, key_wrapper=device).close()
    with pytest.raises(WalletError, match="pass key_wrapper"):
        Vault.open(path, PIN)
    with Vault.open(path, PIN, key_wrapper=device) as vault:
        assert vault.find("anything") == []


def test_another_device_key_cannot_open_and_costs_no_pin_attempt(path: Path) -> None:
    Vault.create(path, PIN, kdf=FAST, key_wrapper=DeviceKeystore()).close()
    with pytest.raises(WalletError, match="could not unwrap") as info:
        Vault.open(path, PIN, key_wrapper=DeviceKeystore())
    assert type(info.value) is WalletError
    with pytest.raises(WalletError, match="expects key wrapper"):
        Vault.open(path, PIN, key_wrapper=DeviceKeystore("other:alias"))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT failures FROM pin_counter").fetchone() == (0,)
    finally:
        conn.close()


def test_a_wrong_pin_with_the_right_device_is_still_wrong(path: Path) -> None:
    device = DeviceKeystore()
    Vault.create(path, PIN, kdf=FAST, key_wrapper=device).close()
    with pytest.raises(WrongPin):
        Vault.open(path, "999999", key_wrapper=device)


def test_recovery_works_when_the_device_key_is_lost(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST, key_wrapper=DeviceKeystore()) as vault:
        vault.put("credential", "c1", {"v": 1})
        code = vault.recovery_code
    assert code is not None
    new_device = DeviceKeystore("test-keystore:alias-2")
    Vault.recover(path, code, "777777", key_wrapper=new_device).close()
    with Vault.open(path, "777777", key_wrapper=new_device) as vault:
        record = vault.get("credential", "c1")
        assert record is not None and record.value == {"v": 1}


def test_change_pin_keeps_the_device_wrap(path: Path) -> None:
    device = DeviceKeystore()
    with Vault.create(path, PIN, kdf=FAST, key_wrapper=device) as vault:
        vault.change_pin(PIN, "888888")
    with pytest.raises(WalletError, match="pass key_wrapper"):
        Vault.open(path, "888888")
    Vault.open(path, "888888", key_wrapper=device).close()


def test_drafted_keys_sign_but_stay_off_disk_until_kept(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        kept, dropped = vault.draft_binding_keys(2)
        verify_bytes(
            b"proof", kept.sign(b"proof"), public_key_from_jwk(kept.public_jwk), JwsAlgorithm.ES256
        )
        assert vault.binding_keys() == []  # nothing written before the copies come back
        with vault.transaction():
            vault.keep_binding_keys([kept.key_id])
        vault.discard_binding_key(dropped.key_id)
        with pytest.raises(NotFound):
            dropped.sign(b"after")
        assert vault.binding_keys() == [kept.key_id]
        kept.sign(b"still")
    with Vault.open(path, PIN) as vault:
        assert vault.binding_keys() == [kept.key_id]
        vault.signer(kept.key_id).sign(b"after reopen")


def test_kept_keys_vanish_with_a_rolled_back_transaction(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        (signer,) = vault.draft_binding_keys(1)
        with pytest.raises(RuntimeError), vault.transaction():
            vault.keep_binding_keys([signer.key_id])
            raise RuntimeError("the copies did not verify")
        assert vault.binding_keys() == []
        with pytest.raises(NotFound):
            signer.sign(b"x")
        vault.discard_binding_key(signer.key_id)  # gone already: nothing to do
        with pytest.raises(NotFound), vault.transaction():
            vault.keep_binding_keys([signer.key_id])


def test_keeping_keys_needs_a_transaction(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        (signer,) = vault.draft_binding_keys(1)
        with pytest.raises(ValueError, match="transaction"):
            vault.keep_binding_keys([signer.key_id])


def test_discarding_a_kept_key_destroys_it(path: Path) -> None:
    with Vault.create(path, PIN, kdf=FAST) as vault:
        (signer,) = vault.draft_binding_keys(1)
        with vault.transaction():
            vault.keep_binding_keys([signer.key_id])
        vault.discard_binding_key(signer.key_id)
        assert vault.binding_keys() == []
        with pytest.raises(NotFound):
            signer.sign(b"x")


def test_a_wiping_transaction_is_checkpointed_and_keeps_full_sync(path: Path) -> None:
    # wipes=True commits with synchronous=NORMAL and lets the WAL checkpoint (which syncs
    # the WAL, then the database) make it durable; FULL is restored for every other commit.
    with Vault.create(path, PIN, kdf=FAST) as vault:
        keep, doomed = vault.new_binding_keys(2)
        with vault.transaction(wipes=True):
            vault.destroy_key(doomed.key_id)
        assert Path(f"{path}-wal").stat().st_size == 0  # truncated: no old page images
        assert vault._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        with pytest.raises(RuntimeError), vault.transaction(wipes=True):
            vault.destroy_key(keep.key_id)
            raise RuntimeError("the presentation could not be built")
        assert vault._db().execute("PRAGMA synchronous").fetchone()[0] == 2
        assert vault.binding_keys() == [keep.key_id]
    with Vault.open(path, PIN) as vault:
        assert vault.binding_keys() == [keep.key_id]


def test_after_commit_runs_between_a_synced_commit_and_the_wipe(path: Path) -> None:
    # What present(post=True) relies on: the response leaves once the spent copy is
    # committed at FULL (on disk), and the WAL truncation overlaps its journey.
    seen: list[tuple[int, bool, int, bool]] = []
    with Vault.create(path, PIN, kdf=FAST) as vault:
        keep, doomed = vault.new_binding_keys(2)
        sealed = _sealed_bodies_open(vault, path)
        wal = Path(f"{path}-wal")

        def observe() -> None:
            db = vault._db()
            on_disk = path.read_bytes() + wal.read_bytes()
            seen.append(
                (
                    db.execute("PRAGMA synchronous").fetchone()[0],
                    db.in_transaction,
                    wal.stat().st_size,
                    sealed[doomed.key_id] in on_disk,
                )
            )

        with vault.transaction(wipes=True, after_commit=observe):
            vault.destroy_key(doomed.key_id)
            assert seen == []  # not before the commit
        synchronous, in_transaction, wal_size, key_still_on_disk = seen[0]
        assert synchronous == 2 and not in_transaction  # committed, at FULL
        assert wal_size > 0 and key_still_on_disk  # the wipe had not run yet
        assert wal.stat().st_size == 0  # and it has when the transaction returns
        on_disk = path.read_bytes() + wal.read_bytes()
        assert sealed[doomed.key_id] not in on_disk and sealed[keep.key_id] in on_disk
        assert vault._db().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_after_commit_is_skipped_on_failure_and_cannot_stop_the_wipe(path: Path) -> None:
    calls: list[str] = []
    with Vault.create(path, PIN, kdf=FAST) as vault:
        first, second = vault.new_binding_keys(2)
        sent = vault.transaction(wipes=True, after_commit=lambda: calls.append("sent"))
        with pytest.raises(RuntimeError, match="built"), sent:
            vault.destroy_key(first.key_id)
            raise RuntimeError("the presentation could not be built")
        assert calls == [] and sorted(vault.binding_keys()) == sorted([first.key_id, second.key_id])

        def refuse() -> None:
            raise RuntimeError("the request thread is gone")

        refused = vault.transaction(wipes=True, after_commit=refuse)
        with pytest.raises(RuntimeError, match="thread"), refused:
            vault.destroy_key(first.key_id)
        assert vault.binding_keys() == [second.key_id]  # committed before after_commit ran
        assert Path(f"{path}-wal").stat().st_size == 0  # and wiped all the same
        inner = vault.transaction(after_commit=lambda: None)
        with vault.transaction(), pytest.raises(ValueError, match="outermost"), inner:
            pass


def _sealed_bodies_open(vault: Vault, path: Path) -> dict[str, bytes]:
    """``_sealed_bodies`` for a vault that is open (read through its own connection)."""
    cipher = vault._store._cipher
    rids = {cipher.rid("honnin.binding_key", k): k for k in vault.binding_keys()}
    rows = vault._db().execute("SELECT rid, body FROM bodies").fetchall()
    return {rids[rid]: body for rid, body in rows if rid in rids}
