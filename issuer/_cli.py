"""``honnin issuer``: run the OpenID4VCI service and the back office from the command line.

    honnin issuer init --dir keys --name "Example Corp" --iss https://issuer.example
    honnin issuer serve --config issuer.toml            # production settings, or
    honnin issuer serve --dev                            # loopback, generated keys
    honnin issuer offer --type withholding-slip --claims slips.json [--json] [--qr-dir DIR]
    honnin issuer approve OFFER_ID [--json]              # release a deferred issuance
    honnin issuer revoke BATCH_ID|CREDENTIAL_FILE [--suspend | --reinstate] [--json]

Settings come from ``--config`` (JSON or TOML), ``HONNIN_ISSUER_*`` variables and flags
(``docs/CLI.md``). Outside ``--dev``, insecure settings (no https ``public_url``, no key and
chain files, no store file) are refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from honnin.cli import (
    CommandFailed,
    Progress,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    add_serve_options,
    load_settings,
    print_json,
    progress,
    serve_app,
    shared_options,
)
from honnin.clock import SystemClock
from honnin.credentials import CredentialFormat
from honnin.oauth import is_loopback_host
from honnin.trust import san_uris

from ._identity import IssuerIdentity
from ._issuer import Issuer
from ._settings import IssuerSettings

__all__ = ["register"]

_DEV_STORE = "issuer-dev.db"
_DEV_KEYS = "issuer-dev-keys"


def _settings(args: argparse.Namespace, **flags: Any) -> IssuerSettings:
    overrides = {name: value for name, value in flags.items() if value is not None}
    if args.dev:
        overrides["dev"] = True
    return load_settings(IssuerSettings, args.config, overrides)


def _dev_identity(settings: IssuerSettings, iss: str) -> IssuerIdentity:
    """A development key and chain, generated once next to the dev store and reused."""
    directory = Path(_DEV_KEYS)
    key, chain = directory / "issuer.key.pem", directory / "issuer-chain.pem"
    anchor = directory / "anchor.pem"
    if key.exists() and chain.exists() and anchor.exists():
        identity = IssuerIdentity.from_key(key, chain, iss=iss, name=settings.name, anchor=anchor)
        if iss in san_uris(identity.chain[0]):
            return identity
    identity = IssuerIdentity.generate(settings.name, iss, clock=SystemClock())
    identity.write(directory)
    return identity


def _issuer(settings: IssuerSettings) -> Issuer:
    if not settings.dev and settings.insecure_reasons():
        raise CommandFailed(
            "refusing insecure settings outside --dev: " + "; ".join(settings.insecure_reasons()),
            reason="insecure_settings",
        )
    iss = settings.public_url or f"http://{settings.host}:{settings.port}"
    store = settings.store_path or (_DEV_STORE if settings.dev else None)
    if settings.key_file and settings.chain_file:
        return Issuer.load(
            settings.key_file, settings.chain_file, iss=iss, name=settings.name, store=store
        )
    identity = _dev_identity(settings, iss)
    return Issuer.load(identity.key, list(identity.chain), iss=iss, name=settings.name,
                       anchor=identity.anchor, store=store)  # fmt: skip


def _serve(args: argparse.Namespace) -> int:
    from ._app import create_app

    settings = _settings(
        args,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False if args.no_access_log else None,
    )
    if settings.dev and not is_loopback_host(settings.host):
        raise CommandFailed(
            "--dev serves plain http with development keys: loopback hosts only",
            reason="insecure_settings",
        )
    issuer = _issuer(settings)
    try:
        app = create_app(issuer, settings.model_copy(update={"public_url": issuer.iss}))
    except ValueError as exc:
        issuer.close()
        raise CommandFailed(str(exc), reason="insecure_settings") from exc
    mode = " (development mode)" if settings.dev else ""
    progress(f"honnin issuer {issuer.name!r} serving {issuer.iss}{mode}")
    serve_app(app, settings)
    return 0


def _offer(args: argparse.Namespace) -> int:
    settings = _settings(args)
    issuer = _issuer(settings)
    try:
        offers = issuer.create_offers_from_file(
            args.claims,
            args.type,
            format=args.format,
            tx_code=not args.no_tx_code,
            tx_code_length=settings.tx_code_length,
            tx_code_input_mode=settings.tx_code_input_mode,
            by_reference=args.by_reference,
            deferred=args.deferred,
            lifetime=settings.code_lifetime,
            flow=args.flow,
        )
    finally:
        issuer.close()
    if args.qr_dir:
        directory = Path(args.qr_dir)
        directory.mkdir(parents=True, exist_ok=True)
        count = Progress("QR codes", len(offers))
        for offer in offers:
            offer.qr_png(directory / f"{offer.offer_id}.png")
            count.step()
        count.finish(f"wrote {len(offers)} QR code(s) to {directory}")
    if args.json:
        print_json([offer.to_json() for offer in offers])
        return 0
    for offer in offers:
        sys.stdout.write(f"offer {offer.offer_id}\n  uri: {offer.uri}\n")
        if offer.tx_code is not None:
            sys.stdout.write(f"  tx_code (send separately): {offer.tx_code}\n")
        if len(offers) == 1:
            sys.stdout.write(offer.qr_text())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    issuer = _issuer(_settings(args))
    target: str = args.target
    path = Path(target)
    if path.is_file():
        target = path.read_text(encoding="utf-8").strip()
    try:
        batch_id = issuer._batch_id(target)  # a copy names its batch through its status
        if args.suspend:
            issuer.suspend(batch_id)
            action = "suspended"
        elif args.reinstate:
            issuer.reinstate(batch_id)
            action = "reinstated"
        else:
            issuer.revoke(batch_id)
            action = "revoked"
    finally:
        issuer.close()
    if args.json:
        print_json({"batch_id": batch_id, "status": action})
    else:
        sys.stdout.write(f"{action} batch {batch_id}\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    issuer = _issuer(_settings(args))
    try:
        released = issuer.approve(args.offer_id)
    finally:
        issuer.close()
    if not released:
        raise CommandFailed(
            f"no pending deferred request for offer {args.offer_id}", reason="not_pending"
        )
    if args.json:
        print_json({"offer_id": args.offer_id, "approved": released})
    else:
        sys.stdout.write(f"approved {released} pending request(s)\n")
    return 0


def _init(args: argparse.Namespace) -> int:
    identity = IssuerIdentity.generate(args.name, args.iss, clock=SystemClock())
    paths = identity.write(args.dir)
    print_json({name: str(path) for name, path in paths.items()})
    return 0


def _settings_options(parser: Any) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="settings file: TOML with an [issuer] table, or JSON"
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development mode: plain http on loopback, generated keys, issuer-dev.db",
    )


def register(subparsers: Subparsers) -> None:
    """Add ``honnin issuer`` and its sub-commands."""
    _, commands = add_group(
        subparsers,
        "issuer",
        help="run an OpenID4VCI issuer service and its back office",
        description="Issue credentials over OpenID4VCI 1.0: serve the issuer, make offers "
        "(QR code + tx_code) from a claims file, approve deferred issuance, revoke, suspend "
        "or reinstate a batch.\n\nSettings come from --config FILE, HONNIN_ISSUER_* "
        "environment variables and flags (docs/CLI.md). Outside --dev, insecure settings are "
        "refused.",
        examples=[
            "honnin issuer serve --dev",
            "honnin issuer offer --dev --type withholding-slip --claims slips.csv --qr-dir qr",
            "honnin issuer revoke --config issuer.toml BATCH_ID --json",
        ],
    )
    settings = shared_options("settings", _settings_options)

    serve = add_command(
        commands,
        "serve",
        help="serve the issuer over HTTP (uvicorn)",
        description="Serve the OpenID4VCI endpoints (metadata, token, nonce, credential, "
        "deferred, notification, offers by reference, status lists). With --dev: plain http "
        "on a loopback address, a development key and chain in issuer-dev-keys/.",
        examples=["honnin issuer serve --dev", "honnin issuer serve --config issuer.toml"],
        parents=[settings],
    )
    add_serve_options(serve, port=8080)
    serve.set_defaults(func=_serve)

    offer = add_command(
        commands,
        "offer",
        help="make credential offers from a claims file",
        description="Make one credential offer per person in a JSON (a list of claims "
        "objects) or CSV file (one row per person). Prints each offer's URI and its "
        "Transaction Code (send it by another channel), and the QR code when there is one "
        "offer; --qr-dir writes one PNG per offer.",
        examples=[
            "honnin issuer offer --dev --type withholding-slip --claims slips.json",
            "honnin issuer offer --config issuer.toml --type withholding-slip --claims "
            "payroll.csv --qr-dir qr --json",
        ],
        parents=[settings],
    )
    offer.add_argument("--type", required=True, help="credential type id, e.g. withholding-slip")
    offer.add_argument("--claims", required=True, metavar="FILE", help="JSON or CSV claims")
    offer.add_argument(
        "--format",
        default=CredentialFormat.SD_JWT_VC.value,
        choices=[f.value for f in CredentialFormat],
        help="credential format (default dc+sd-jwt)",
    )
    offer.add_argument("--by-reference", action="store_true", help="offer by reference")
    offer.add_argument("--no-tx-code", action="store_true", help="do not ask for a tx_code")
    offer.add_argument("--deferred", action="store_true", help="issue only after approval")
    offer.add_argument(
        "--flow",
        default="pre-authorized_code",
        choices=["pre-authorized_code", "authorization_code"],
        help="the offer's grant: a pre-authorized code (default) or the authorization code "
        "flow, where the person approves at the issuer (PAR, PKCE)",
    )
    offer.add_argument("--qr-dir", metavar="DIR", help="write one QR PNG per offer here")
    add_json_option(offer)
    offer.set_defaults(func=_offer)

    approve = add_command(
        commands,
        "approve",
        help="approve a deferred issuance",
        description="Release the deferred credential requests of an offer made with "
        "--deferred (OpenID4VCI 1.0 §9): the wallet receives them at its next poll.",
        examples=["honnin issuer approve --dev OFFER_ID"],
        parents=[settings],
    )
    approve.add_argument("offer_id", metavar="OFFER_ID", help="the offer id printed by 'offer'")
    add_json_option(approve)
    approve.set_defaults(func=_approve)

    revoke = add_command(
        commands,
        "revoke",
        help="revoke, suspend or reinstate a batch",
        description="Change the status of every copy of a batch in the issuer's status "
        "lists: revoke (final), suspend, or reinstate a suspended batch. The target is a "
        "batch id or a file holding one issued copy.",
        examples=[
            "honnin issuer revoke --dev BATCH_ID",
            "honnin issuer revoke --dev --suspend copy.txt --json",
        ],
        parents=[settings],
    )
    revoke.add_argument(
        "target", metavar="BATCH_ID|FILE", help="a batch id, or a file holding one issued copy"
    )
    change = revoke.add_mutually_exclusive_group()
    change.add_argument("--suspend", action="store_true", help="suspend instead of revoking")
    change.add_argument("--reinstate", action="store_true", help="reinstate a suspended batch")
    add_json_option(revoke)
    revoke.set_defaults(func=_revoke)

    init = add_command(
        commands,
        "init",
        help="create a test-PKI issuer key, chain and anchor",
        description="Generate a P-256 issuer key (written 0600), a certificate chain whose "
        "leaf names --iss, and the root (anchor) in DIR; prints the file names as JSON. For "
        "tests and pilots: production keys come from your own PKI.",
        examples=[
            'honnin issuer init --dir keys --name "Example Corp" --iss https://issuer.example'
        ],
    )
    init.add_argument("--dir", required=True, metavar="DIR", help="output directory")
    init.add_argument("--name", required=True, help="the organisation's name")
    init.add_argument("--iss", required=True, help="the credential issuer identifier URL")
    add_json_option(init, always=True)
    init.set_defaults(func=_init)
