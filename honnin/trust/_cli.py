"""``honnin trust``: make a test PKI and trust list, show a trust list, validate a chain.

honnin trust init DIR [--issuer NAME [--types ID,...]]...
honnin trust show FILE
honnin trust verify-chain CERT_PEM (--trust-list FILE | --trust-anchor PEM...) [--type T]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from honnin.cli import (
    CommandFailed,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    add_trust_options,
    load_trust,
    print_json,
)
from honnin.clock import SystemClock, as_datetime
from honnin.credential_types import load_catalogue

from ._certificates import certificate_sha256, load_certificates
from ._chain import validate_chain
from ._pki import make_test_pki
from ._trust_list import TrustedParty, TrustList

__all__ = ["register"]


def register(subparsers: Subparsers) -> None:
    """Add ``honnin trust`` and its sub-commands."""
    _, commands = add_group(
        subparsers,
        "trust",
        help="make a test PKI and trust list, show a trust list, validate a chain",
        description="Trust configuration for issuers, wallets and verifiers: make a test PKI "
        "with a trust list (who may issue which credential type, which verifiers are "
        "accredited), print a trust list, and validate a certificate chain against it.",
        examples=[
            'honnin trust init trust --issuer "Example Corp" --types withholding-slip',
            "honnin trust show trust/trust-list.json",
            "honnin trust verify-chain cert.pem --trust-list trust/trust-list.json",
        ],
    )

    init = add_command(
        commands,
        "init",
        help="create a test PKI and a trust list in DIR",
        description="Create a root CA with one issuer certificate per --issuer, a verifier "
        "access CA and certificate, a registrar certificate (PEM, private keys as PEM and JWK) "
        "and trust-list.json. --types after an --issuer lists what it may issue (catalogue "
        "ids, comma separated); without --types an issuer may issue every catalogue type. "
        "Prints what was written as JSON.",
        examples=[
            "honnin trust init trust",
            'honnin trust init trust --issuer "Example Corp" --types withholding-slip '
            '--issuer "Clinic" --types birth-certificate',
        ],
    )
    init.add_argument("directory", metavar="DIR", help="where to write the files")
    init.add_argument(
        "--issuer", action="append", default=[], metavar="NAME",
        help="an issuer organisation (repeatable; default 'honnin test issuer')",
    )  # fmt: skip
    init.add_argument(
        "--types", action="append", default=[], metavar="ID,...",
        help="the types the preceding --issuer may issue (one --types per --issuer)",
    )  # fmt: skip
    init.add_argument(
        "--verifier-dns", default="verifier.honnin.example", metavar="DNS",
        help="the DNS name in the verifier certificate (default verifier.honnin.example)",
    )  # fmt: skip
    add_json_option(init, always=True)
    init.set_defaults(func=_init)

    show = add_command(
        commands,
        "show",
        help="print a trust list as JSON",
        description="Load a trust list (checking its shape) and print its anchors, issuers "
        "with their entitlements, verifier anchors, registrars and restricted claims, with "
        "each certificate's subject, SHA-256 and validity.",
        examples=["honnin trust show trust/trust-list.json"],
    )
    show.add_argument("file", metavar="FILE", help="the trust list (JSON)")
    add_json_option(show, always=True)
    show.set_defaults(func=_show)

    verify = add_command(
        commands,
        "verify-chain",
        help="validate a PEM chain (leaf first) against a trust list or anchors",
        description="Validate a certificate chain (PEM, leaf first) to the issuer anchors of "
        "--trust-list (or its verifier access anchors with --verifier), or to the roots of "
        "--trust-anchor, and print the path as JSON. With a trust list, also list (or with "
        "--type require) the credential types the issuer is entitled to.",
        examples=[
            "honnin trust verify-chain issuer.pem --trust-list trust/trust-list.json "
            "--type withholding-slip",
            "honnin trust verify-chain verifier.pem --trust-list trust/trust-list.json --verifier",
            "honnin trust verify-chain issuer.pem --trust-anchor root.pem",
        ],
    )
    verify.add_argument("chain", metavar="CERT_PEM", help="the chain, leaf first (PEM)")
    add_trust_options(verify, anchors_for="this chain")
    verify.add_argument("--at", metavar="ISO8601", help="validation time (default: now)")
    verify.add_argument(
        "--type",
        dest="credential_type",
        metavar="TYPE",
        help="also require the issuer to be entitled to this credential type (--trust-list)",
    )
    verify.add_argument(
        "--verifier",
        action="store_true",
        help="validate against the trust list's verifier access anchors instead",
    )
    add_json_option(verify, always=True)
    verify.set_defaults(func=_verify_chain)


def _entitlements(args: argparse.Namespace) -> dict[str, list[str]]:
    catalogue = load_catalogue()
    issuers: list[str] = args.issuer or ["honnin test issuer"]
    groups: list[str] = args.types
    if groups and len(groups) != len(issuers):
        raise CommandFailed("give one --types per --issuer (or none for every type)", code=2)
    out: dict[str, list[str]] = {}
    for index, name in enumerate(issuers):
        if name in out:
            raise CommandFailed(f"issuer {name!r} given twice", code=2)
        if groups:
            types = [t.strip() for t in groups[index].split(",") if t.strip()]
            for t in types:
                catalogue.resolve(t)
        else:
            types = list(catalogue.ids)
        out[name] = types
    return out


def _init(args: argparse.Namespace) -> int:
    entitlements = _entitlements(args)
    pki = make_test_pki(list(entitlements), verifier_dns=args.verifier_dns)
    written = pki.write(args.directory, entitlements)
    print_json(
        {
            "trust_list": str(written["trust-list"]),
            "issuers": {
                name: {"iss": pki.issuer_urls[name], "credential_types": types}
                for name, types in entitlements.items()
            },
            "files": {label: str(path) for label, path in sorted(written.items())},
        }
    )
    return 0


def _certificate_view(cert: x509.Certificate, name: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {} if name is None else {"name": name}
    view.update(
        subject=cert.subject.rfc4514_string(),
        sha256=certificate_sha256(cert),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
    )
    return view


def _parties(parties: tuple[TrustedParty, ...]) -> list[dict[str, Any]]:
    return [_certificate_view(p.certificate, p.name) for p in parties]


def _show(args: argparse.Namespace) -> int:
    trust = TrustList.load(Path(args.file))
    document = trust.to_dict()
    print_json(
        {
            "name": trust.name,
            "anchors": _parties(trust.anchor_parties),
            "issuers": document["issuers"],
            "verifier_anchors": _parties(trust.verifier_parties),
            "registrars": _parties(trust.registrar_parties),
            "restricted_claims": document["restricted_claims"],
        }
    )
    return 0


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return as_datetime(SystemClock())
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandFailed(f"--at {text!r} is not an ISO 8601 date-time", code=2) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _verify_chain(args: argparse.Namespace) -> int:
    trust = load_trust(args, required=True)
    trust_list = trust if isinstance(trust, TrustList) else None
    if trust_list is None and (args.credential_type or args.verifier):
        # Entitlements and verifier access anchors exist only in a trust list.
        raise CommandFailed("--type and --verifier need --trust-list", code=2)
    chain = load_certificates(Path(args.chain).read_bytes())
    at = _parse_at(args.at)
    anchors: Sequence[x509.Certificate]
    if trust_list is None:
        assert isinstance(trust, list)
        anchors = trust
    else:
        anchors = trust_list.verifier_anchors if args.verifier else trust_list.anchors
    verified = validate_chain(chain, anchors, at=at)
    if trust_list is not None and args.credential_type:
        trust_list.check_entitlement(verified, args.credential_type)
    result: dict[str, Any] = {
        "valid": True,
        "at": at.isoformat(),
        "leaf": _certificate_view(verified.leaf),
        "anchor": verified.anchor.subject.rfc4514_string(),
        "path": [c.subject.rfc4514_string() for c in verified.path],
    }
    if trust_list is not None and not args.verifier:
        result["entitled_types"] = sorted(
            t for t in trust_list.entitled_types(verified) if t in load_catalogue().ids
        )
    print_json(result)
    return 0
