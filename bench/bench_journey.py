"""The whole journey over loopback HTTP: issuance (OpenID4VCI) then presentation (OpenID4VP).

One journey, timed end to end on the wall clock, as the person and the two services see it:

1. the issuer's back office makes an offer (by reference, with a tx_code);
2. the wallet receives it: offer document -> signed issuer metadata (§12.2.3; its chain is
   the trust pre-check) and the authorization server's metadata -> token (tx_code) -> nonce ->
   credential request with one proof per copy -> verify and store every copy; the
   notification then goes out behind ``receive`` (nothing waits for its answer);
3. the verifier makes a request (signed request object, ephemeral encryption key);
4. the wallet fetches the request_uri, checks the request, matches it (consent);
5. the wallet presents one fresh copy (SD-JWT VC + KB-JWT, ECDH-ES JWE) to the response_uri,
   where the verifier decrypts and verifies it (issuer signature, chain, status, KB-JWT);
6. the verifier's stored result is read (in process: ``Verifier.result``; over HTTP: the
   back office's long poll, started when it made the request, returns).

The services are the real ``issuer.create_app`` and ``verifier.create_app`` under uvicorn
on 127.0.0.1 (``honnin_demo.Stage``), measured twice: in the wallet's process with the back
offices called in process (as ``honnin demo`` runs), and in a child process with the
verifier's back office over HTTP and the offers made in advance (as a deployment runs; the
wallet and the services then do not share one interpreter lock). The wallet is opened once
(its PIN KDF is not part of a journey). Target: 30 ms median. Floor: the journey's public-key
operations (ES256 signatures and verifications, P-256 key generation and ECDH), measured
here with ``cryptography``.

A last row, "bare minimum (no honnin)", replays the HTTP exchanges of one recorded journey
(services in another process): the same requests, byte for byte, sent with plain
``httpcore`` (the transport under honnin's ``HttpxFetcher``, which the wallet and the back
office's ``VerifierClient`` use) to a catch-all Starlette app under uvicorn that answers
each with the recorded status and body.
It is the cost of the journey's transport on the stack the conventions prescribe, with no
protocol work, no crypto and no store; the crypto floor is its ``floor µs``. The journey
rows minus this row is the time honnin's own code takes.

Each row also reports ``cpu_ms``, the median CPU time this process spent per journey (all its
threads: with the services in process, that is the wallet, both services and uvicorn; in the
other mode, the wallet and the back-office client only; there ``services_cpu_ms_mean`` is the
services' process CPU per journey, a mean over the row's runs). On a shared machine the wall clock
includes waiting for a core; the CPU time says how much of the median is work.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpcore
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench._harness import Row, child, median_us, percentiles_ms, serve_until_stdin_closes
from honnin.credential_types import load_catalogue
from honnin.trust import TrustList
from honnin_demo import JOB_CHANGE, Stage
from issuer import IssuerSettings
from verifier import Query, VerifierClient
from wallet import KdfParams, Wallet

TARGET_MS = 30.0
#: The journeys stand for many wallets, all from this machine's loopback address: the
#: issuer's per-address token budget (HOSTILE-CASES IS-30) would otherwise cut the rows short.
_MANY_WALLETS = IssuerSettings(dev=True, token_requests_per_minute=1_000_000)
CLAIMS = ["payment_amount", "withholding_tax"]
QUERY = Query.of("withholding-slip", *CLAIMS)


def _floor_us(copies: int) -> float:
    """The public-key work of one journey with ``copies`` copies.

    Per copy: the wallet makes a key and signs a proof, the issuer verifies it and signs the
    copy, the wallet verifies the copy. Once: the wallet verifies the signed issuer metadata;
    DPoP (RFC 9449) costs the wallet a key and three proofs (token, credential, notification)
    and the issuer their three verifications; the verifier signs the request object, the
    wallet verifies it and signs the KB-JWT; the JWE costs a key generation and an ECDH on
    each side; the verifier verifies the issuer signature and the KB-JWT.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    peer = ec.generate_private_key(ec.SECP256R1()).public_key()
    data = b"x" * 600
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    keygen = median_us(lambda: ec.generate_private_key(ec.SECP256R1()))
    sign = median_us(lambda: key.sign(data, ec.ECDSA(hashes.SHA256())))
    verify = median_us(lambda: public.verify(signature, data, ec.ECDSA(hashes.SHA256())))
    ecdh = median_us(lambda: key.exchange(ec.ECDH(), peer))
    per_copy = keygen + 2 * sign + 2 * verify
    once = 5 * sign + 7 * verify + 2 * keygen + 2 * ecdh
    return copies * per_copy + once


class _InProcess:
    """Back offices in this process, next to the services and the wallet (as ``honnin demo``)."""

    def __init__(self, stage: Stage, claims: dict[str, object]) -> None:
        self.stage, self.claims = stage, claims

    def offer(self) -> tuple[str, str | None]:
        made = self.stage.issuer.create_offer("withholding-slip", self.claims, by_reference=True)
        return made.uri, made.tx_code

    def request(self) -> tuple[str, Callable[[], bool]]:
        made = self.stage.verifier.request(
            QUERY, purpose="benchmark", request_uri_base=self.stage.request_uri_base
        )

        def verified() -> bool:
            result = self.stage.verifier.result(made.transaction_id)
            return result is not None and result.verified

        return made.uri, verified


class _Remote:
    """Services (and the issuer's offers) in a child process; the verifier's back office over
    HTTP (``verifier.VerifierClient``), as a real deployment would have them. The back office
    waits for the result from the moment it made the request (``GET result?wait=``, the long
    poll of the verifier service), as an agency's form waiting for the person does."""

    def __init__(self, announced: dict[str, Any], office: VerifierClient, services: int) -> None:
        self.offers = [tuple(o) for o in announced["offers"]]
        self.office = office
        self.waiting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="back-office")
        self.services = services  # the child's process id

    def services_cpu(self) -> float | None:
        """The services' process CPU time so far, in seconds (None where /proc is missing)."""
        try:
            fields = Path(f"/proc/{self.services}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def offer(self) -> tuple[str, str | None]:
        uri, tx_code = self.offers.pop()
        return uri, tx_code

    def request(self) -> tuple[str, Callable[[], bool]]:
        created = self.office.request("withholding-slip", CLAIMS, purpose="benchmark")
        answer = self.waiting.submit(self.office.result, created.transaction_id, wait=30)

        def verified() -> bool:
            result = answer.result()
            return result is not None and result.verified

        return created.uri, verified


def _journey(back_office: _InProcess | _Remote, wallet: Wallet, copies: int) -> float:
    """One journey; returns its wall time in seconds (the clean-up is not timed)."""
    return _timed_journey(back_office, wallet, copies)[0]


def _timed_journey(
    back_office: _InProcess | _Remote, wallet: Wallet, copies: int
) -> tuple[float, float]:
    """One journey: its wall time and this process's CPU time, in seconds."""
    cpu = time.process_time()
    started = time.perf_counter()
    uri, tx_code = back_office.offer()
    receipt = wallet.receive(uri, tx_code=tx_code, copies=copies)
    request_uri, verified = back_office.request()
    consent = wallet.consider(request_uri)
    wallet.present(consent.approve(), post=True)
    ok = verified()
    elapsed = time.perf_counter() - started
    spent = time.process_time() - cpu
    if not ok:
        raise RuntimeError("the journey did not verify")
    for held in receipt.credentials:
        wallet.delete(held.id)  # keep the wallet the same size from run to run
    return elapsed, spent


def _rows(back_office: _InProcess | _Remote, wallet: Wallet, runs: int, where: str) -> list[Row]:
    rows = []
    for copies in (1, 8):
        _journey(back_office, wallet, copies)  # warm connections and caches
        before = back_office.services_cpu() if isinstance(back_office, _Remote) else None
        timed = [_timed_journey(back_office, wallet, copies) for _ in range(runs)]
        after = back_office.services_cpu() if isinstance(back_office, _Remote) else None
        stats = percentiles_ms([wall for wall, _ in timed])
        cpu_ms = statistics.median(cpu for _, cpu in timed) * 1e3
        services = {}
        if before is not None and after is not None:
            # Clock ticks (10 ms) per process: a mean over the runs, not a median.
            services["services_cpu_ms_mean"] = round((after - before) / runs * 1e3, 2)
        rows.append(
            Row(
                group="journey",
                step=f"OpenID4VCI x{copies} + OpenID4VP, HTTP, {where}",
                honnin_us=stats["median_ms"] * 1e3,
                floor_us=_floor_us(copies),
                target=f"median < {TARGET_MS:.0f} ms",
                extra={
                    "p95_ms": round(stats["p95_ms"], 2),
                    "median_ms": round(stats["median_ms"], 2),
                    "cpu_ms": round(cpu_ms, 2),
                    **services,
                    "target_ms": TARGET_MS,
                    "met": stats["median_ms"] < TARGET_MS,
                    "runs": runs,
                },
            )
        )
    return rows


def _wallet(directory: Path, trust: TrustList) -> Wallet:
    # The PIN KDF runs once when a wallet is opened, never during a journey.
    return Wallet.open(
        directory / "bench.wallet",
        "482913",
        kdf=KdfParams.INSECURE_TEST_ONLY,
        trust=trust,
        allow_loopback_http=True,
    )


def run(quick: bool) -> list[Row]:
    """Journey median and p95, one copy and the default batch of eight, with the services in
    this process and in another one."""
    # 150 journeys make a row take several seconds: the median then spans this shared
    # machine's swings in speed (they last seconds) instead of catching one of them.
    runs = 5 if quick else 150
    claims = load_catalogue().get("withholding-slip").sample_claims()
    with tempfile.TemporaryDirectory(prefix="honnin-bench-journey-") as folder:
        directory = Path(folder)
        here = directory / "here"
        with (
            Stage.open(JOB_CHANGE, here, issuer_settings=_MANY_WALLETS) as stage,
            _wallet(here, stage.trust) as wallet,
        ):
            rows = _rows(_InProcess(stage, claims), wallet, runs, "services in process")
        # Two rows of runs + 1 journeys each, and the journey recorded for the replay.
        rows += _remote_rows(directory / "there", 2 * (runs + 1) + 1, runs)
    return rows


class _Exchange(NamedTuple):
    """One recorded HTTP exchange."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    content_type: str
    answer: bytes


def _recorded(journey: Callable[[], object]) -> list[_Exchange]:
    """Run ``journey`` once and return every HTTP exchange this process made during it.

    Recorded at httpcore's connection pool, which the ``HttpxFetcher`` of both the wallet and
    the back office's ``VerifierClient`` send through.
    """
    recorded: list[_Exchange] = []
    original = httpcore.ConnectionPool.handle_request

    def record(pool: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        response = original(pool, request)
        try:
            body = response.read()
        finally:
            response.close()
        stream = request.stream
        assert isinstance(stream, Iterable)  # a sync pool's request
        sent = b"".join(stream)
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in request.headers
            if k.lower() != b"host"
        }
        answer_type = next(
            (v.decode("latin-1") for k, v in response.headers if k.lower() == b"content-type"),
            "",
        )
        url = request.url
        recorded.append(
            _Exchange(
                request.method.decode("ascii"),
                f"{url.scheme.decode()}://{url.host.decode()}:{url.port}{url.target.decode()}",
                headers,
                sent,
                response.status,
                answer_type,
                body,
            )
        )
        # The caller reads the body again, as it would from the network.
        return httpcore.Response(response.status, headers=response.headers, content=body)

    httpcore.ConnectionPool.handle_request = record  # type: ignore[method-assign, assignment]
    try:
        journey()
    finally:
        httpcore.ConnectionPool.handle_request = original  # type: ignore[method-assign]
    return recorded


def _replay_row(exchanges: list[_Exchange], runs: int) -> Row:
    """The recorded exchanges replayed with plain httpcore (the transport under honnin's
    fetcher) against canned answers."""
    answers = [
        {"status": e.status, "type": e.content_type, "body": e.answer.decode("latin-1")}
        for e in exchanges
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(answers, file)
    try:
        with child("bench.bench_journey", "--replay", file.name) as (_, base):
            timed = _replayed(exchanges, base, runs)
    finally:
        Path(file.name).unlink()
    stats = percentiles_ms([wall for wall, _ in timed])
    return Row(
        group="journey",
        step=f"bare minimum (no honnin): the same {len(exchanges)} HTTP exchanges replayed",
        honnin_us=stats["median_ms"] * 1e3,
        floor_us=_floor_us(1),
        target="(floor of the x1 rows)",
        extra={
            "p95_ms": round(stats["p95_ms"], 2),
            "median_ms": round(stats["median_ms"], 2),
            "cpu_ms": round(statistics.median(cpu for _, cpu in timed) * 1e3, 2),
            "exchanges": len(exchanges),
            "bytes": sum(len(e.body) + len(e.answer) for e in exchanges),
            "runs": runs,
        },
    )


def _replayed(exchanges: list[_Exchange], base: str, runs: int) -> list[tuple[float, float]]:
    """Wall and CPU seconds of ``runs`` replays of ``exchanges`` against ``base``."""
    host = [(b"host", httpx.URL(base).netloc)]
    requests = []
    for e in exchanges:
        path = httpx.URL(e.url).raw_path.decode()
        sent = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in e.headers.items()]
        requests.append((e.method, f"{base}{path}", host + sent, e.body))
    with httpcore.ConnectionPool() as http:

        def replay() -> tuple[float, float]:
            cpu = time.process_time()
            started = time.perf_counter()
            for method, url, headers, body in requests:
                with http.stream(method, url, headers=headers, content=body) as answer:
                    answer.read()
            return time.perf_counter() - started, time.process_time() - cpu

        replay()  # warm the connection
        return [replay() for _ in range(runs)]


def _canned(answers_file: str) -> None:
    """The replay child: answers the n-th request with the n-th recorded answer, in a loop."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    answers = [
        (a["status"], a["type"], a["body"].encode("latin-1"))
        for a in json.loads(Path(answers_file).read_text())
    ]
    cursor = [0]

    async def answer(request: Request) -> Response:
        await request.body()
        status, media_type, body = answers[cursor[0] % len(answers)]
        cursor[0] += 1
        return Response(body or None, status_code=status, media_type=media_type or None)

    serve_until_stdin_closes(
        Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    )


@contextmanager
def services_elsewhere(directory: Path, offers: int) -> Iterator[tuple[_Remote, Wallet]]:
    """Both services in a child process with ``offers`` offers made in advance; the verifier's
    back office over HTTP and a wallet in this process, until the block ends."""
    with child("bench.bench_journey", str(directory), str(offers)) as (services, line):
        announced = json.loads(line)
        trust = TrustList.load(directory / "trust" / "trust-list.json")
        office = VerifierClient(announced["verifier"], api_token=announced["token"])
        with _wallet(directory, trust) as wallet, office:
            back_office = _Remote(announced, office, services.pid)
            try:
                yield back_office, wallet
            finally:
                back_office.waiting.shutdown()


def _remote_rows(directory: Path, offers: int, runs: int) -> list[Row]:
    with services_elsewhere(directory, offers) as (back_office, wallet):
        rows = _rows(back_office, wallet, runs, "services in another process")
        exchanges = _recorded(lambda: _journey(back_office, wallet, 1))
    return [*rows, _replay_row(exchanges, runs)]


def _serve(directory: Path, offers: int) -> None:
    """The child: both services, ``offers`` offers made in advance, announced on stdout."""
    claims = load_catalogue().get("withholding-slip").sample_claims()
    with Stage.open(JOB_CHANGE, directory, issuer_settings=_MANY_WALLETS) as stage:
        made = [
            stage.issuer.create_offer("withholding-slip", claims, by_reference=True, lifetime=3600)
            for _ in range(offers)
        ]
        announcement = {
            "offers": [[o.uri, o.tx_code] for o in made],
            "verifier": stage.verifier_server.url,
            "token": stage.api_token,
        }
        sys.stdout.write(json.dumps(announcement) + "\n")
        sys.stdout.flush()
        # As `honnin issuer serve` / `honnin verifier serve` do (honnin.cli.serve_app): what
        # was built before serving stays out of the collector's full passes.
        gc.freeze()
        sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1] == "--replay":
        _canned(sys.argv[2])
    else:
        _serve(Path(sys.argv[1]), int(sys.argv[2]))
