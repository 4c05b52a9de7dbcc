"""The wallet at rest: Argon2id cost, opening a 10,000-credential wallet, queries.

Shapes: 10,000 SD-JWT-sized credentials (about 2.5 KB each) over 20 types and 2 formats,
each with an encrypted index (type, format, issuer, copies left).

* KDF: Argon2id at ``KdfParams.STRONG`` (64 MiB, t=3, p=4), the per-guess cost of a PIN;
  the OWASP minimum (19 MiB, t=2, p=1) shown as the floor it must stay above.
* open after the KDF: ``Vault.open`` on a wallet made with ``KdfParams.INSECURE_TEST_ONLY``
  (KDF ≈ 0.1 ms), so the row is everything else: file checks, the two counted-attempt
  commits, decrypting and checking 10,000 index entries. Floor: SQLite reading the same
  rows plus one AES-256-GCM decryption each. Target < 1 s.
* find: ``vault.find("credential", vct=..., format=...)`` (≈ 250 matches), in memory.
  Floor: the same filter as a bare list comprehension over dicts. Target < 50 ms.
* find + get every match: the query plus decrypting the matching values.
* put: one credential committed (``synchronous=FULL``: includes the fsync).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench._harness import Row, median_us
from wallet import KdfParams, Vault
from wallet._keywrap import derive_pin_key

CREDENTIALS = 10_000
PIN = "482913"
OWASP_MINIMUM = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)


def _samples_us(fn: Callable[[], object], repeat: int) -> float:
    """Median of ``repeat`` single calls (for calls too slow or stateful to loop)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def _build(path: Path) -> None:
    padding = "eyJhbGciOiJFUzI1NiJ9" * 110  # ~2.2 KB, the size of a small SD-JWT VC
    with Vault.create(path, PIN, kdf=KdfParams.INSECURE_TEST_ONLY) as vault:
        for start in range(0, CREDENTIALS, 1000):
            with vault.transaction():
                for i in range(start, start + 1000):
                    vault.put(
                        "credential",
                        f"cred-{i:05d}",
                        {"sd_jwt": padding, "family_name": f"Name{i}", "amount": i},
                        index={
                            "vct": f"urn:jp:type-{i % 20}",
                            "format": "dc+sd-jwt" if i % 2 else "mso_mdoc",
                            "issuer": f"Issuer {i % 50}",
                            "copies_left": 8,
                        },
                    )


def _open_floor(path: Path) -> Callable[[], object]:
    aead = AESGCM(os.urandom(32))
    fake = [os.urandom(12) + aead.encrypt(b"\0" * 12, os.urandom(110), None)]

    def floor() -> object:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT rid, version, meta FROM entries").fetchall()
        finally:
            conn.close()
        blob = fake[0]
        for _ in rows:
            aead.decrypt(b"\0" * 12, blob[12:], None)
        return rows

    return floor


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    repeat = 3 if quick else 7
    kdf = _samples_us(lambda: derive_pin_key(PIN, os.urandom(16), KdfParams.STRONG), repeat)
    kdf_floor = _samples_us(lambda: derive_pin_key(PIN, os.urandom(16), OWASP_MINIMUM), repeat)
    guesses_per_day = 86400 / (kdf / 1e6)
    rows.append(
        Row(
            "wallet store",
            "Argon2id STRONG (64 MiB, t=3, p=4) per PIN guess",
            kdf,
            floor_us=kdf_floor,
            target=f"≥ OWASP floor; 10^6 PINs ≈ {1e6 / guesses_per_day:.1f} days on this box",
            extra={"guesses_per_day_here": round(guesses_per_day)},
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.wallet"
        _build(path)
        size = path.stat().st_size

        def open_close() -> None:
            Vault.open(path, PIN).close()

        rows.append(
            Row(
                "wallet store",
                f"open {CREDENTIALS:,} credentials (after the KDF)",
                _samples_us(open_close, repeat),
                floor_us=_samples_us(_open_floor(path), repeat),
                target="< 1 s",
                extra={"file_bytes": size},
            )
        )
        with Vault.open(path, PIN) as vault:
            matches = vault.find("credential", vct="urn:jp:type-7", format="dc+sd-jwt")
            assert len(matches) == CREDENTIALS // 20
            plain = [dict(e.index) for e in vault.find("credential")]

            def find() -> object:
                return vault.find("credential", vct="urn:jp:type-7", format="dc+sd-jwt")

            def find_floor() -> object:
                return [
                    d for d in plain if d["vct"] == "urn:jp:type-7" and d["format"] == "dc+sd-jwt"
                ]

            def find_and_get() -> object:
                return [vault.get("credential", e.id) for e in find()]

            def put_one() -> object:
                return vault.put("credential", "cred-extra", {"v": 1}, index={"vct": "x"})

            rows.append(
                Row(
                    "wallet store",
                    f"find by type + format ({len(matches)} of {CREDENTIALS:,})",
                    median_us(find, repeat=repeat),
                    floor_us=median_us(find_floor, repeat=repeat),
                    target="< 50 ms",
                )
            )
            rows.append(
                Row(
                    "wallet store",
                    f"find + get (decrypt) all {len(matches)} matches",
                    median_us(find_and_get, repeat=repeat),
                )
            )
            rows.append(
                Row(
                    "wallet store",
                    "put one credential (committed, fsync)",
                    _samples_us(put_one, repeat * 3),
                )
            )
    return rows
