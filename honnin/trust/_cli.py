"""``honnin trust``: make a test PKI and trust list, show a trust list, validate a chain."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from honnin.cli import CommandFailed, print_json
from honnin.clock import SystemClock, as_datetime
from honnin.credential_types import load_catalogue

from ._certificates import certificate_sha256, load_certificates
from ._chain import validate_chain
from ._pki import make_test_pki
from ._trust_list import TrustedParty, TrustList

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``honnin trust`` and its sub-commands."""
    trust = subparsers.add_parser("trust", help="test PKI, trust lists and certificate chains")
    commands = trust.add_subparsers(dest="trust_command", metavar="COMMAND", required=True)

    init = commands.add_parser(
        "init",
        help="create a test PKI and a trust list in DIR",
        description="Create a root CA with one issuer certificate per --issuer, a verifier "
        "access CA and certificate, a registrar certificate (PEM, private keys as PEM and JWK) "
        "and trust-list.json. --types after an --issuer lists what it may issue (catalogue "
        "ids, comma separated); without --types an issuer may issue every catalogue type.",
    )
    init.add_argument("directory", metavar="DIR")
    init.add_argument("--issuer", action="append", default=[], metavar="NAME")
    init.add_argument("--types", action="append", default=[], metavar="ID,...")
    init.add_argument("--verifier-dns", default="verifier.honnin.example", metavar="DNS")
    init.set_defaults(func=_init)

    show = commands.add_parser("show", help="print a trust list as JSON")
    show.add_argument("file", metavar="FILE")
    show.set_defaults(func=_show)

    verify = commands.add_parser(
        "verify-chain", help="validate a PEM chain (leaf first) against a trust list"
    )
    verify.add_argument("chain", metavar="CERT_PEM")
    verify.add_argument("--trust-list", required=True, metavar="FILE")
    verify.add_argument("--at", metavar="ISO8601", help="validation time (default: now)")
    verify.add_argument(
        "--type",
        dest="credential_type",
        metavar="TYPE",
        help="also require the issuer to be entitled to this credential type",
    )
    verify.add_argument(
        "--verifier",
        action="store_true",
        help="validate against the verifier access anchors instead",
    )
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
    trust = TrustList.load(Path(args.trust_list))
    chain = load_certificates(Path(args.chain).read_bytes())
    at = _parse_at(args.at)
    anchors = trust.verifier_anchors if args.verifier else trust.anchors
    verified = validate_chain(chain, anchors, at=at)
    if args.credential_type:
        trust.check_entitlement(verified, args.credential_type)
    result: dict[str, Any] = {
        "valid": True,
        "at": at.isoformat(),
        "leaf": _certificate_view(verified.leaf),
        "anchor": verified.anchor.subject.rfc4514_string(),
        "path": [c.subject.rfc4514_string() for c in verified.path],
    }
    if not args.verifier:
        result["entitled_types"] = sorted(
            t for t in trust.entitled_types(verified) if t in load_catalogue().ids
        )
    print_json(result)
    return 0
