"""``honnin issuer``: run the OpenID4VCI service and the back office from the command line.

    honnin issuer init --dir keys --name "Example Corp" --iss https://issuer.example
    honnin issuer serve --config issuer.toml            # production settings, or
    honnin issuer serve --dev                            # loopback, generated keys
    honnin issuer offer --type withholding-slip --claims slips.json [--json] [--qr-dir DIR]
    honnin issuer approve OFFER_ID                       # release a deferred issuance
    honnin issuer revoke BATCH_ID|CREDENTIAL_FILE [--suspend | --reinstate]

Settings come from ``--config`` (JSON or TOML), ``HONNIN_ISSUER_*`` variables and flags.
Outside ``--dev``, insecure settings (no https ``public_url``, no key and chain files, no
store file) are refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from honnin.cli import CommandFailed, print_json
from honnin.clock import SystemClock
from honnin.credentials import CredentialFormat
from honnin.oauth import is_loopback_host
from honnin.trust import san_uris

from ._identity import IssuerIdentity
from ._issuer import Issuer
from ._settings import IssuerSettings, load_settings_file

__all__ = ["register"]

_DEV_STORE = "issuer-dev.db"
_DEV_KEYS = "issuer-dev-keys"


def _settings(args: argparse.Namespace, **flags: Any) -> IssuerSettings:
    overrides = {name: value for name, value in flags.items() if value is not None}
    try:
        if args.config:
            return load_settings_file(args.config, **overrides)
        return IssuerSettings(**overrides)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise CommandFailed(f"invalid issuer settings: {exc}") from exc


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
            "refusing insecure settings outside --dev: " + "; ".join(settings.insecure_reasons())
        )
    iss = settings.public_url or f"http://{settings.host}:{settings.port}"
    store = settings.store_path or (_DEV_STORE if settings.dev else None)
    if settings.key_path and settings.chain_path:
        return Issuer.load(
            settings.key_path, settings.chain_path, iss=iss, name=settings.name, store=store
        )
    identity = _dev_identity(settings, iss)
    return Issuer.load(identity.key, list(identity.chain), iss=iss, name=settings.name,
                       anchor=identity.anchor, store=store)  # fmt: skip


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ._app import create_app

    settings = _settings(args, dev=True if args.dev else None, host=args.host, port=args.port)
    if settings.dev and not is_loopback_host(settings.host):
        raise CommandFailed("--dev serves plain http with development keys: loopback hosts only")
    issuer = _issuer(settings)
    app = create_app(issuer, settings.model_copy(update={"public_url": issuer.iss}))
    sys.stderr.write(f"honnin issuer {issuer.name!r} serving {issuer.iss}\n")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )
    return 0


def _offer(args: argparse.Namespace) -> int:
    settings = _settings(args, dev=True if args.dev else None)
    issuer = _issuer(settings)
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
    )
    if args.qr_dir:
        Path(args.qr_dir).mkdir(parents=True, exist_ok=True)
        for offer in offers:
            offer.qr_png(Path(args.qr_dir) / f"{offer.offer_id}.png")
    if args.json:
        print_json([offer.to_json() for offer in offers])
        return 0
    for offer in offers:
        sys.stdout.write(f"offer {offer.offer_id}\n  uri: {offer.uri}\n")
        if offer.tx_code is not None:
            sys.stdout.write(f"  tx_code (send separately): {offer.tx_code}\n")
        if len(offers) == 1:
            sys.stdout.write(offer.qr_terminal())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    issuer = _issuer(_settings(args, dev=True if args.dev else None))
    target: str = args.target
    path = Path(target)
    if path.is_file():
        target = path.read_text(encoding="utf-8").strip()
    if args.suspend:
        issuer.suspend(target)
        action = "suspended"
    elif args.reinstate:
        issuer.reinstate(target)
        action = "reinstated"
    else:
        issuer.revoke(target)
        action = "revoked"
    sys.stdout.write(f"{action}\n")
    return 0


def _approve(args: argparse.Namespace) -> int:
    issuer = _issuer(_settings(args, dev=True if args.dev else None))
    released = issuer.approve(args.offer_id)
    if not released:
        raise CommandFailed(f"no pending deferred request for offer {args.offer_id}")
    sys.stdout.write(f"approved {released} pending request(s)\n")
    return 0


def _init(args: argparse.Namespace) -> int:
    identity = IssuerIdentity.generate(args.name, args.iss, clock=SystemClock())
    paths = identity.write(args.dir)
    print_json({name: str(path) for name, path in paths.items()})
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="settings file (JSON or TOML)")
    parser.add_argument(
        "--dev", action="store_true", help="development mode: loopback http, generated keys"
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``honnin issuer`` and its sub-commands."""
    parser = subparsers.add_parser(
        "issuer",
        help="run an OpenID4VCI issuer and its back office",
        description="Issue credentials over OpenID4VCI 1.0: serve the issuer, make offers "
        "(QR + tx_code), approve deferred issuance, revoke.",
    )
    commands = parser.add_subparsers(dest="issuer_command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="serve the issuer over HTTP (uvicorn)")
    _common(serve)
    serve.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default 8080)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default info)",
    )
    serve.add_argument("--no-access-log", action="store_true", help="no per-request log line")
    serve.set_defaults(func=_serve)

    offer = commands.add_parser("offer", help="make credential offers from a claims file")
    _common(offer)
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
    offer.add_argument("--qr-dir", metavar="DIR", help="write one QR PNG per offer here")
    offer.add_argument("--json", action="store_true", help="print the offers as JSON")
    offer.set_defaults(func=_offer)

    approve = commands.add_parser("approve", help="approve a deferred issuance")
    _common(approve)
    approve.add_argument("offer_id", help="the offer id printed by 'offer'")
    approve.set_defaults(func=_approve)

    revoke = commands.add_parser("revoke", help="revoke, suspend or reinstate a batch")
    _common(revoke)
    revoke.add_argument("target", help="a batch id, or a file holding one issued copy")
    change = revoke.add_mutually_exclusive_group()
    change.add_argument("--suspend", action="store_true", help="suspend instead of revoking")
    change.add_argument("--reinstate", action="store_true", help="reinstate a suspended batch")
    revoke.set_defaults(func=_revoke)

    init = commands.add_parser("init", help="create a test-PKI issuer key, chain and anchor")
    init.add_argument("--dir", required=True, help="output directory")
    init.add_argument("--name", required=True, help="the organisation's name")
    init.add_argument("--iss", required=True, help="the credential issuer identifier URL")
    init.set_defaults(func=_init)
