"""Token Status List (draft-ietf-oauth-status-list-20): publish, first check, cached check.

Shapes: 1,000,000 entries at 1 and 2 bits, 1 % of them non-VALID at random indices.

* build + publish: a fresh ``StatusList``, set the statuses, compress, sign the JWT. Floor:
  ``zlib`` compressing the same bytes with the same settings plus one raw ES256 signature.
  Shown for the issuer default (level 9, ``Z_RLE``) and for level 9 with zlib's default
  strategy (what ``StatusList.encode()`` does without arguments).
* decode: base64url + bounded streaming inflate + ``StatusList``; floor ``zlib.decompress``
  on the same bytes (target <= 1.5x).
* first check: ``StatusChecker.check`` with an empty cache (in-memory fetcher: JWS parse,
  ES256 verify, decode, lookup); floor ``zlib.decompress`` + one ES256 verification.
* cached check: per lookup, averaged over 1,000 random indices; ``VerifiedStatusList.status``
  and the whole ``StatusChecker.check``; floor the bare byte-and-shift expression.
"""

from __future__ import annotations

import secrets
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench._harness import Row, median_us
from honnin.clock import FixedClock
from honnin.encoding import b64url_decode
from honnin.jose import generate_key, public_key_of
from honnin.ports import FetchedResource
from honnin.status import (
    MEDIA_TYPE_JWT,
    StatusChecker,
    StatusList,
    StatusReference,
    ZlibStrategy,
    build_status_list_jwt,
    verify_status_list_jwt,
)

ENTRIES = 1_000_000
URI = "https://issuer.example/status/bench"
NOW = 1_800_000_000
_ECDSA = ec.ECDSA(hashes.SHA256())


class _Fetcher:
    def __init__(self, body: bytes) -> None:
        self.resource = FetchedResource(body, MEDIA_TYPE_JWT)

    def fetch(self, url: str, *, accept: str | None = None, max_bytes: int) -> FetchedResource:
        return self.resource


def _shape(bits: int, quick: bool) -> list[Row]:
    rows: list[Row] = []
    group = f"status list 1M x {bits} bit"
    key = generate_key()
    pub = public_key_of(key)
    marked = {
        secrets.randbelow(ENTRIES): 1 + secrets.randbelow((1 << bits) - 1)
        for _ in range(ENTRIES // 100)
    }
    repeat = 3 if quick else 7

    def build(strategy: ZlibStrategy) -> str:
        lst = StatusList(ENTRIES, bits)
        for idx, value in marked.items():
            lst.set(idx, value)
        return build_status_list_jwt(
            lst, sub=URI, key=key, iat=NOW, exp=NOW + 86400, ttl=300, strategy=strategy
        )

    reference = StatusList(ENTRIES, bits)
    for idx, value in marked.items():
        reference.set(idx, value)
    raw = reference.to_bytes()
    sig_input = b"x" * 200

    for strategy, label in (
        (ZlibStrategy.RLE, "level 9 RLE (issuer default)"),
        (ZlibStrategy.DEFAULT, "level 9 default strategy"),
    ):

        def floor(strategy: ZlibStrategy = strategy) -> None:
            c = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, int(strategy))
            c.compress(raw) + c.flush()
            key.sign(sig_input, _ECDSA)

        rows.append(
            Row(
                group,
                f"build + publish JWT, {label}",
                median_us(lambda strategy=strategy: build(strategy), repeat=repeat, min_time=0.2),
                floor_us=median_us(floor, repeat=repeat, min_time=0.2),
                target="<= 100 ms",
                extra={"compressed_bytes": len(reference.encode(9, strategy))},
            )
        )

    token = build(ZlibStrategy.RLE)
    lst_b64 = verify_status_list_jwt(token, key=pub, expected_sub=URI, now=NOW).status_list.to_json(
        9, ZlibStrategy.RLE
    )["lst"]
    compressed = b64url_decode(lst_b64)

    rows.append(
        Row(
            group,
            "decode (base64url + bounded inflate)",
            median_us(lambda: StatusList.from_json({"bits": bits, "lst": lst_b64}), repeat=repeat),
            floor_us=median_us(lambda: zlib.decompress(compressed), repeat=repeat),
            target="<= 1.5x floor",
        )
    )

    fetcher = _Fetcher(token.encode())
    ref = StatusReference(URI, next(iter(marked)) if False else 7)
    clock = FixedClock(NOW)

    def first_check() -> None:
        StatusChecker(fetcher, lambda header: pub, clock=clock).status_list(URI)

    sig = key.sign(sig_input, _ECDSA)

    def first_floor() -> None:
        zlib.decompress(compressed)
        pub.verify(sig, sig_input, _ECDSA)

    rows.append(
        Row(
            group,
            "first check (fetch double, ES256 verify, decode)",
            median_us(first_check, repeat=repeat),
            floor_us=median_us(first_floor, repeat=repeat),
            target="<= 1.5x floor",
        )
    )

    checker = StatusChecker(fetcher, lambda header: pub, clock=clock)
    checker.check(ref)
    verified = checker.status_list(URI)
    indices = [secrets.randbelow(ENTRIES) for _ in range(1000)]
    refs = [StatusReference(URI, i) for i in indices if i not in marked]
    status = verified.status
    data = verified.status_list.to_bytes()
    mask, per_byte_shift, low = (1 << bits) - 1, {1: 3, 2: 2, 4: 1, 8: 0}[bits], 8 // bits - 1

    def lookups() -> None:
        for i in indices:
            status(i)

    def checks() -> None:
        for r in refs:
            checker.check(r)

    def raw_lookups() -> None:
        for i in indices:
            (data[i >> per_byte_shift] >> ((i & low) * bits)) & mask

    floor_us = median_us(raw_lookups, repeat=repeat) / len(indices)
    rows.append(
        Row(
            group,
            "cached lookup VerifiedStatusList.status(idx)",
            median_us(lookups, repeat=repeat) / len(indices),
            floor_us=floor_us,
            target="<= 1 µs",
        )
    )
    rows.append(
        Row(
            group,
            "cached StatusChecker.check(ref)",
            median_us(checks, repeat=repeat) / len(refs),
            floor_us=floor_us,
            target="<= 1 µs",
        )
    )
    return rows


def run(quick: bool) -> list[Row]:
    """The rows for 1- and 2-bit lists of 1,000,000 entries."""
    return _shape(1, quick) + _shape(2, quick)
