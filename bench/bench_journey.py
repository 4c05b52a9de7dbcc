"""The whole journey over loopback HTTP: issuance (OpenID4VCI) then presentation (OpenID4VP).

One journey, timed end to end on the wall clock, as the person and the two services see it:

1. the issuer's back office makes an offer (by reference, with a tx_code);
2. the wallet receives it: offer document -> issuer metadata -> token (tx_code) -> nonce ->
   credential request with one proof per copy -> verify and store every copy -> notification;
3. the verifier makes a request (signed request object, ephemeral encryption key);
4. the wallet fetches the request_uri, checks the request, matches it (consent);
5. the wallet presents one fresh copy (SD-JWT VC + KB-JWT, ECDH-ES JWE) to the response_uri,
   where the verifier decrypts and verifies it (issuer signature, chain, status, KB-JWT);
6. the verifier's stored result is read.

The services are the real ``issuer.create_app`` and ``verifier.create_app`` under uvicorn
on 127.0.0.1 (``honnin_demo.Stage``), in this process; the wallet is opened once (its PIN
KDF is not part of a journey). Target: 30 ms median. Floor: the journey's public-key
operations (ES256 signatures and verifications, P-256 key generation and ECDH), measured
here with ``cryptography``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench._harness import Row, median_us, percentiles_ms
from honnin.credential_types import load_catalogue
from honnin_demo import JOB_CHANGE, Stage
from verifier import Query
from wallet import KdfParams, Wallet

TARGET_MS = 30.0
QUERY = Query.of("withholding-slip", "payment_amount", "withholding_tax")


def _floor_us(copies: int) -> float:
    """The public-key work of one journey with ``copies`` copies.

    Per copy: the wallet makes a key and signs a proof, the issuer verifies it and signs the
    copy, the wallet verifies the copy. Once: the verifier signs the request object, the
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
    once = 2 * sign + 3 * verify + keygen + 2 * ecdh
    return copies * per_copy + once


def _journey(stage: Stage, wallet: Wallet, claims: dict[str, object], copies: int) -> float:
    """One journey; returns its wall time in seconds (the clean-up is not timed)."""
    started = time.perf_counter()
    offer = stage.issuer.create_offer("withholding-slip", claims, by_reference=True)
    receipt = wallet.receive(offer.uri, tx_code=offer.tx_code, copies=copies)
    request = stage.verifier.request(
        QUERY, purpose="benchmark", request_uri_base=stage.request_uri_base
    )
    consent = wallet.consider(request.uri)
    wallet.present(consent.approve(), post=True)
    result = stage.verifier.result(request.transaction_id)
    elapsed = time.perf_counter() - started
    if result is None or not result.verified:
        raise RuntimeError(f"the journey did not verify: {result}")
    for held in receipt.credentials:
        wallet.delete(held.id)  # keep the wallet the same size from run to run
    return elapsed


def run(quick: bool) -> list[Row]:
    """Journey median and p95 with one copy and with the default batch of eight."""
    rows = []
    runs = 5 if quick else 40
    claims = load_catalogue().get("withholding-slip").sample_claims()
    with tempfile.TemporaryDirectory(prefix="honnin-bench-journey-") as folder:
        directory = Path(folder)
        with Stage.open(JOB_CHANGE, directory) as stage, _wallet(directory, stage) as wallet:
            for copies in (1, 8):
                _journey(stage, wallet, claims, copies)  # warm connections and caches
                samples = [_journey(stage, wallet, claims, copies) for _ in range(runs)]
                stats = percentiles_ms(samples)
                rows.append(
                    Row(
                        group="journey",
                        step=f"OpenID4VCI x{copies} + OpenID4VP over loopback HTTP",
                        honnin_us=stats["median_ms"] * 1e3,
                        floor_us=_floor_us(copies),
                        target=f"median < {TARGET_MS:.0f} ms",
                        extra={
                            "p95_ms": round(stats["p95_ms"], 2),
                            "median_ms": round(stats["median_ms"], 2),
                            "target_ms": TARGET_MS,
                            "met": stats["median_ms"] < TARGET_MS,
                            "runs": runs,
                        },
                    )
                )
    return rows


def _wallet(directory: Path, stage: Stage) -> Wallet:
    # The PIN KDF runs once when a wallet is opened, never during a journey.
    return Wallet.open(
        directory / "bench.wallet",
        "482913",
        kdf=KdfParams.INSECURE_TEST_ONLY,
        trust=stage.trust,
        allow_loopback_http=True,
    )
