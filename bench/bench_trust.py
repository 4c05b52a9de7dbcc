"""Trust and credential type checks on the verifier's hot path (issue 3: must stay cheap).

* validate_chain, first call: fresh certificate objects and empty caches (one ES256
  certificate signature to check, plus parsing names, extensions and keys, which
  ``cryptography`` does lazily and in Python for names); floor one raw ES256 verification.
  Paid once per distinct chain and anchor set.
* validate_chain, cached: the same objects again (validity re-checked), and the same ``x5c``
  strings re-parsed (what a verifier does per presentation); floor as above, for scale.
* check_entitlement (cached) and ``TrustList.validate_issuer`` from an ``x5c`` header.
* claims validation of a withholding slip: honnin's compiled fast path against plain
  ``jsonschema`` (the peer) on the same schema; full and partial (undisclosed claims).
* mdoc mapping: ``to_mdoc`` + ``from_mdoc`` of the withholding slip sample.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from bench._harness import Row, median_us
from honnin.credential_types import load_catalogue
from honnin.trust import (
    TrustList,
    certificates_from_x5c,
    certificates_to_x5c,
    make_test_pki,
    validate_chain,
)
from honnin.trust import _chain as chain_cache

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def run(quick: bool) -> list[Row]:
    repeat = 3 if quick else 7
    pki = make_test_pki(["Example Corp"], now=NOW)
    issuer = pki.issuer("Example Corp")
    trust = TrustList.load(pki.trust_list_document({"Example Corp": ["withholding-slip"]}))
    leaf_der = issuer.certificate.public_bytes(Encoding.DER)
    root_der = pki.root.certificate.public_bytes(Encoding.DER)
    x5c = certificates_to_x5c(issuer.chain)

    # The floor: the one certificate signature a 2-certificate path needs.
    key = ec.generate_private_key(ec.SECP256R1())
    public, message = key.public_key(), b"x" * 300
    ecdsa = ec.ECDSA(hashes.SHA256())
    signature = key.sign(message, ecdsa)
    floor = median_us(lambda: public.verify(signature, message, ecdsa), repeat=repeat)

    def row(group: str, step: str, fn: Callable[[], object], **extra: Any) -> Row:
        return Row(group, step, median_us(fn, repeat=repeat), floor_us=floor, **extra)

    def first_call() -> None:
        chain_cache._by_identity.clear()
        chain_cache._by_value.clear()
        leaf = x509.load_der_x509_certificate(leaf_der)
        root = x509.load_der_x509_certificate(root_der)
        validate_chain([leaf], [root], at=NOW)

    anchors = trust.anchors
    chain = list(issuer.chain)
    verified = validate_chain(chain, anchors, at=NOW)
    rows = [
        row("trust", "validate_chain, first call (2 certs)", first_call, target="once per chain"),
        row(
            "trust",
            "validate_chain, cached objects",
            lambda: validate_chain(chain, anchors, at=NOW),
            target="<< ES256 verify",
        ),
        row(
            "trust",
            "x5c parse + validate_chain, cached",
            lambda: validate_chain(certificates_from_x5c(list(x5c)), anchors, at=NOW),
            target="<< ES256 verify",
        ),
        row(
            "trust",
            "check_entitlement, cached",
            lambda: trust.check_entitlement(verified, "withholding-slip"),
        ),
        row(
            "trust",
            "x5c -> TrustList.validate_issuer",
            lambda: trust.validate_issuer(
                certificates_from_x5c(list(x5c)), "withholding-slip", at=NOW
            ),
        ),
    ]

    slip = load_catalogue().get("withholding-slip")
    claims = slip.sample_claims()
    partial = {k: v for k, v in claims.items() if k not in ("payer", "recipient", "my_number")}
    reference = jsonschema.Draft202012Validator(
        slip.claims_schema(), format_checker=jsonschema.FormatChecker()
    )
    rows += [
        row(
            "credential_types",
            "validate withholding slip (full)",
            lambda: slip.validate(claims),
            peer="jsonschema",
            peer_us=median_us(lambda: reference.validate(claims), repeat=repeat),
        ),
        row(
            "credential_types",
            "validate withholding slip (partial)",
            lambda: slip.validate(partial, partial=True),
        ),
        row(
            "credential_types",
            "to_mdoc + from_mdoc (withholding slip)",
            lambda: slip.from_mdoc(slip.to_mdoc(claims)),
        ),
        row(
            "credential_types",
            "disclosable_paths (withholding slip)",
            lambda: slip.disclosable_paths(claims),
        ),
    ]
    return rows
