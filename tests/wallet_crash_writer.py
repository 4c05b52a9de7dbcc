"""Crash-test writer: opens a wallet and commits a deterministic sequence of transactions.

    python tests/wallet_crash_writer.py WALLET PIN FIRST_STEP
    python tests/wallet_crash_writer.py --serve

Step ``i`` is one transaction (see ``step_changes``). After each commit the writer prints
``i`` and flushes, so the parent knows every committed step (at most one more may be
committed and not yet printed when the kill lands). It prints ``ready`` once the wallet is
open and never stops on its own: the test kills it with SIGKILL.

``--serve`` pays the interpreter start-up once: for each line ``WALLET PIN FIRST_STEP`` on
stdin it forks a writer process, prints ``pid N``, and after that process is killed prints
``exit STATUS``. The forked writer never shares a connection with the server, which opens
no wallet itself.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

from wallet import Vault

#: Records older than this many steps are deleted, so the wallet stays small.
WINDOW = 20
#: Binding keys kept; the oldest is destroyed when a new one would exceed this.
MAX_KEYS = 5


def credential_value(i: int, revision: int) -> dict[str, Any]:
    """The claims of credential ``i`` at ``revision`` (big enough to span SQLite pages)."""
    return {
        "given_name": f"given-{i}-r{revision}",
        "payment_amount": i * 1000 + revision,
        "padding": f"{i:08d}" * (40 + i % 600),
    }


def step_changes(i: int) -> tuple[dict[str, Any], list[str], bool]:
    """What step ``i`` does: record ids put (with values), ids deleted, whether a key is made.

    Ids start with ``cred-`` (kind ``credential``) or ``log-`` (kind ``log``).
    """
    puts: dict[str, Any] = {
        f"cred-{i}": credential_value(i, 0),
        f"log-{i}": {"event": "stored", "credential": f"cred-{i}"},
    }
    deletes: list[str] = []
    if i % 5 == 4 and i >= 2:
        deletes.append(f"cred-{i - 2}")
    if i % 7 == 3 and i >= 1:
        puts[f"cred-{i - 1}"] = credential_value(i - 1, 1)
    if i >= WINDOW:
        deletes += [f"cred-{i - WINDOW}", f"log-{i - WINDOW}"]
    return puts, deletes, i % 10 == 0


def _kind(record_id: str) -> str:
    return "credential" if record_id.startswith("cred-") else "log"


def write_forever(path: str, pin: str, first: int) -> None:
    """Open the wallet and commit steps ``first``, ``first + 1``, ... until killed."""
    out = sys.stdout
    vault = Vault.open(path, pin)
    out.write("ready\n")
    out.flush()
    i = first
    while True:
        puts, deletes, make_key = step_changes(i)
        with vault.transaction():
            for record_id, value in puts.items():
                vault.put(_kind(record_id), record_id, value, index={"vct": f"type-{i % 3}"})
            for record_id in deletes:
                vault.delete(_kind(record_id), record_id)
            if make_key:
                vault.new_binding_key()
                keys = vault.binding_keys()
                if len(keys) > MAX_KEYS:
                    vault.destroy_key(keys[0])
        out.write(f"{i}\n")
        out.flush()
        i += 1


def serve() -> None:
    """Fork one writer per request line; report its pid and, once killed, its status."""
    for line in sys.stdin:
        path, pin, first = line.split()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(path, pin, int(first))
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        sys.stdout.write(f"pid {pid}\n")
        sys.stdout.flush()
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(f"exit {status}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        write_forever(sys.argv[1], sys.argv[2], int(sys.argv[3]))
