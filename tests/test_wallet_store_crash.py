"""Crash safety of the wallet store (HOSTILE-CASES WL-25; "How SQLite Is Tested").

A writer process (tests/wallet_crash_writer.py) commits a deterministic sequence of
transactions (puts, rewrites, deletes, binding keys made and destroyed) and is killed with
SIGKILL at a random moment, 200 times: some while it unlocks the wallet, most in the middle
of writing. After every kill the wallet must open, hold every step the writer reported as
committed, and be exactly the state after the last reported step or the one after it
(killed between COMMIT and print): never a mix, never a half-written record.

The writers are forked by one ``--serve`` process so the test does not pay 200 interpreter
start-ups; each writer is still its own process, killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wallet_crash_writer import MAX_KEYS, step_changes

from wallet import KdfParams, Vault

WRITER = Path(__file__).with_name("wallet_crash_writer.py")
PIN = "428135"
TRIALS = 200


class Model:
    """The wallet state after steps 0..steps-1, replayed from the writer's step definition."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Any] = {}
        self.keys_made = 0
        self.steps = 0

    def apply(self, i: int) -> None:
        assert i == self.steps
        puts, deletes, make_key = step_changes(i)
        for record_id, value in puts.items():
            self.records[_kind(record_id), record_id] = value
        for record_id in deletes:
            self.records.pop((_kind(record_id), record_id), None)
        self.keys_made += make_key
        self.steps += 1

    def state(self) -> tuple[dict[tuple[str, str], Any], int]:
        return self.records, min(self.keys_made, MAX_KEYS)

    def next(self) -> Model:
        other = Model()
        other.records, other.keys_made, other.steps = dict(self.records), self.keys_made, self.steps
        other.apply(self.steps)
        return other


def _kind(record_id: str) -> str:
    return "credential" if record_id.startswith("cred-") else "log"


def _observed(path: Path) -> tuple[dict[tuple[str, str], Any], int]:
    """Every record decrypted and every key used: a half-written one would raise."""
    with Vault.open(path, PIN) as vault:
        records: dict[tuple[str, str], Any] = {}
        for kind in ("credential", "log"):
            for entry in vault.find(kind):
                record = vault.get(kind, entry.id)
                assert record is not None
                records[kind, entry.id] = record.value
        key_ids = vault.binding_keys()
        for key_id in key_ids:
            assert len(vault.signer(key_id).sign(b"still usable")) == 64
        return records, len(key_ids)


@contextlib.contextmanager
def _writer_server() -> Iterator[subprocess.Popen[bytes]]:
    with subprocess.Popen(
        [sys.executable, str(WRITER), "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as server:
        try:
            yield server
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)


def _kill_one_writer(
    server: subprocess.Popen[bytes], path: Path, first: int, *, during_open: bool
) -> list[int]:
    """Start a writer at step ``first``, SIGKILL it at a random moment; the steps it printed."""
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(f"{path} {PIN} {first}\n".encode())
    server.stdin.flush()
    lines: list[str] = []
    pid = None
    while pid is None:
        line = server.stdout.readline().decode().strip()
        if line.startswith("pid "):
            pid = int(line[4:])
        else:
            lines.append(line)
    if during_open:
        # Somewhere in Vault.open: PIN counter commit, KDF, index load, counter reset.
        time.sleep(secrets.randbelow(4000) / 1_000_000)
    else:
        # After a random number of commits (so a loaded machine still kills mid-write), at a
        # random moment within the next few transactions.
        wait_for = secrets.randbelow(8)
        while "ready" not in lines or sum(x.isdigit() for x in lines) < wait_for:
            lines.append(server.stdout.readline().decode().strip())
        time.sleep(secrets.randbelow(3_000) / 1_000_000)
    os.kill(pid, signal.SIGKILL)
    while not (line := server.stdout.readline().decode().strip()).startswith("exit "):
        lines.append(line)
    status = int(line[5:])
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, lines
    return [int(x) for x in lines if x.isdigit()]


def test_sigkill_200_times_never_loses_or_mixes_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "crash.wallet"
    Vault.create(path, PIN, kdf=KdfParams.INSECURE_TEST_ONLY).close()
    model = Model()
    unreported_commits = kills_mid_write = 0
    with _writer_server() as server:
        for trial in range(TRIALS):
            printed = _kill_one_writer(server, path, model.steps, during_open=trial % 5 == 0)
            assert printed == list(range(model.steps, model.steps + len(printed)))
            for i in printed:
                model.apply(i)
            kills_mid_write += bool(printed)
            observed = _observed(path)  # every reopen must succeed
            if observed != model.state():
                # Only legal difference: the step after the last printed one committed.
                model = model.next()
                assert observed == model.state(), f"trial {trial}: neither old nor new state"
                unreported_commits += 1
    assert model.steps > TRIALS  # the writers really wrote between kills
    assert kills_mid_write > TRIALS // 2
    assert {p.name for p in tmp_path.iterdir()} == {"crash.wallet"}  # no WAL or temp left
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
