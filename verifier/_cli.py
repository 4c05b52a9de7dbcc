"""``honnin verifier``: run the OpenID4VP verifier service and use its back office.

    honnin verifier serve --config verifier.toml        # production settings, or
    honnin verifier serve --dev --trust-list trust/trust-list.json
    honnin verifier request --type withholding-slip --claims payment_amount,withholding_tax \\
        --purpose "unemployment benefit application" [--server URL] [--json]
    honnin verifier result TX_ID [--server URL] [--wait 60] [--json]

Settings come from ``--config`` (TOML or JSON), ``HONNIN_VERIFIER_*`` variables and flags
(``docs/CLI.md``). Outside ``--dev``, insecure settings (no https public URL, no back-office
token, no own key and certificate chain, no trust configuration) are refused. The back-office
commands read the token from ``--token`` or ``HONNIN_VERIFIER_API_TOKEN``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from honnin.cli import (
    CommandFailed,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    add_serve_options,
    add_trust_options,
    load_settings,
    print_json,
    progress,
    serve_app,
    shared_options,
)
from honnin.clock import SystemClock
from honnin.encoding import json_loads
from honnin.errors import FetchError
from honnin.oauth import is_loopback_host
from honnin.qr import QrCode
from honnin.trust import TrustList, certificates_to_pem, load_certificates

from ._client import VerifierClient
from ._identity import VerifierIdentity
from ._settings import VerifierSettings
from ._store_sqlite import SqliteTransactionStore
from ._verifier import Verifier

__all__ = ["register"]

_DEV_KEYS = "verifier-dev-keys"
_DEFAULT_SERVER = "http://127.0.0.1:8400"


def _settings(args: argparse.Namespace, **flags: Any) -> VerifierSettings:
    overrides = {name: value for name, value in flags.items() if value is not None}
    if args.dev:
        overrides["dev"] = True
    if args.trust_list or args.trust_anchor:
        # The flags replace the trust configuration of the file and the environment.
        overrides["trust_list_file"] = args.trust_list
        overrides["trust_anchor_files"] = tuple(args.trust_anchor or ())
    if getattr(args, "registration", None):
        overrides["registration_files"] = tuple(args.registration)
    return load_settings(VerifierSettings, args.config, overrides)


def _trust(settings: VerifierSettings) -> TrustList | list[x509.Certificate]:
    if settings.trust_list_file and settings.trust_anchor_files:
        raise CommandFailed(
            "give trust_list_file (--trust-list) or trust_anchor_files (--trust-anchor), not both",
            code=2,
        )
    if settings.trust_list_file:
        return TrustList.load(Path(settings.trust_list_file))
    anchors: list[x509.Certificate] = []
    for path in settings.trust_anchor_files:
        anchors.extend(load_certificates(Path(path).read_bytes()))
    if not anchors:
        progress("warning: no trust anchors: every presentation will be rejected")
    return anchors


def _dev_identity(settings: VerifierSettings, host: str) -> VerifierIdentity:
    """A development key and certificate, generated once and reused across restarts."""
    directory = Path(_DEV_KEYS)
    key, chain, anchor = (directory / n for n in ("verifier.key.pem", "chain.pem", "anchor.pem"))
    if key.exists() and chain.exists() and anchor.exists():
        identity = VerifierIdentity.load(
            settings.name, key, chain, prefix=settings.client_id_prefix,
            anchor=load_certificates(anchor.read_bytes())[0],
        )  # fmt: skip
        if identity.client_id.endswith(f":{host}") or settings.client_id_prefix == "x509_hash":
            return identity
    identity = VerifierIdentity.generate(
        settings.name, host, prefix=settings.client_id_prefix, clock=SystemClock()
    )
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            identity.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    chain.write_text(certificates_to_pem(identity.chain), encoding="ascii")
    assert identity.anchor is not None
    anchor.write_text(certificates_to_pem([identity.anchor]), encoding="ascii")
    return identity


def build_verifier(settings: VerifierSettings) -> Verifier:
    """The ``Verifier`` a ``serve`` run uses, from ``settings``."""
    if not settings.dev and settings.insecure_reasons():
        raise CommandFailed(
            "refusing insecure settings outside --dev: " + "; ".join(settings.insecure_reasons()),
            reason="insecure_settings",
        )
    host = urlsplit(settings.base_url).hostname or "localhost"
    if settings.key_file and settings.chain_file:
        identity = VerifierIdentity.load(
            settings.name, Path(settings.key_file), Path(settings.chain_file),
            prefix=settings.client_id_prefix, host=host if settings.client_id_prefix ==
            "x509_san_dns" else None,
        )  # fmt: skip
    else:
        identity = _dev_identity(settings, host)
    return Verifier(
        identity,
        _trust(settings),
        store=SqliteTransactionStore(settings.store_path),
        base_url=settings.base_url,
        transaction_lifetime=settings.transaction_lifetime,
        registrations=_registrations(settings),
    )


def _registrations(settings: VerifierSettings) -> list[str]:
    """The registration JWTs of ``registration_files`` (the ``Verifier`` verifies them)."""
    tokens = []
    for name in settings.registration_files:
        try:
            tokens.append(Path(name).read_text(encoding="ascii").strip())
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandFailed(
                f"cannot read the registration file {name}: {exc}", reason="invalid_settings"
            ) from exc
    return tokens


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
    with build_verifier(settings) as verifier:
        try:
            app = create_app(verifier, settings)
        except ValueError as exc:
            raise CommandFailed(str(exc), reason="insecure_settings") from exc
        mode = " (development mode)" if settings.dev else ""
        progress(f"honnin verifier {verifier.client_id} serving {settings.base_url}{mode}")
        serve_app(app, settings)
    return 0


def _back_office(args: argparse.Namespace, wait: float = 0) -> VerifierClient:
    token = args.token or os.environ.get("HONNIN_VERIFIER_API_TOKEN")
    try:
        return VerifierClient(args.server, api_token=token, timeout=30.0 + wait)
    except ValueError as exc:
        # The bearer token goes with every call: never in clear to another machine.
        raise CommandFailed(f"--server {args.server}: {exc}", reason="insecure_settings") from exc


def _unreachable(args: argparse.Namespace, exc: FetchError) -> CommandFailed:
    return CommandFailed(
        f"cannot reach the verifier at {args.server}: {exc.message}", reason="unreachable"
    )


def _request(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {}
    if args.dcql:
        query["dcql_query"] = json_loads(Path(args.dcql).read_bytes())
    elif args.type:
        query["credential_type"] = args.type
        query["claims"] = [c.strip() for c in (args.claims or "").split(",") if c.strip()]
        query["format"] = args.format
    elif not args.pseudonym:
        raise CommandFailed("give --type (with --claims), --dcql FILE or --pseudonym", code=2)
    with _back_office(args) as office:
        try:
            created = office.request(
                purpose=args.purpose,
                pseudonym=args.pseudonym,
                redirect_uri=args.redirect_uri,
                **query,
            )
        except FetchError as exc:
            raise _unreachable(args, exc) from exc
    if args.json:
        print_json(dataclasses.asdict(created))
        return 0
    sys.stdout.write(QrCode.encode(created.uri).text())
    sys.stdout.write(f"\n{created.uri}\n\ntransaction: {created.transaction_id}\n")
    return 0


def _result(args: argparse.Namespace) -> int:
    wait = float(args.wait or 0)
    if not 0 <= wait < float("inf"):
        raise CommandFailed("--wait is a number of seconds, 0 or more", code=2)
    if wait:
        progress(f"waiting up to {wait:g} s for the wallet's response...")
    with _back_office(args, wait) as office:
        try:
            result = office.result(
                args.transaction_id, wait=wait, response_code=args.response_code or None
            )
        except FetchError as exc:
            raise _unreachable(args, exc) from exc
    if result is None:
        if args.json:
            print_json({"status": "pending", "transaction_id": args.transaction_id})
        else:
            sys.stdout.write("pending: no response yet\n")
        return 3
    if args.json:
        # The service's answer: its status, then the result (VerificationResult.to_json).
        print_json({"status": "verified" if result.verified else "rejected", **result.to_json()})
    else:
        sys.stdout.write(f"verified: {str(result.verified).lower()}\n")
        if result.pseudonym:
            sys.stdout.write(f"  pseudonym: {result.pseudonym}\n")
        for key, value in result.claims.items():
            sys.stdout.write(f"  {key}: {value}\n")
        for error in result.errors:
            where = f" [{error.query_id}]" if error.query_id else ""
            sys.stdout.write(f"  error{where}: {error.code}: {error.message}\n")
    return 0 if result.verified else 1


def _settings_options(parser: Any) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="settings file: TOML with a [verifier] table, or JSON"
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development mode: plain http on loopback, a generated key and certificate, "
        "no back-office token needed",
    )


def _back_office_options(parser: Any) -> None:
    parser.add_argument(
        "--server", default=_DEFAULT_SERVER, metavar="URL",
        help=f"the verifier service (default {_DEFAULT_SERVER})",
    )  # fmt: skip
    parser.add_argument(
        "--token", help="back-office bearer token (prefer HONNIN_VERIFIER_API_TOKEN)"
    )


def register(subparsers: Subparsers) -> None:
    """Add ``honnin verifier ...`` to the ``honnin`` command line."""
    _, commands = add_group(
        subparsers,
        "verifier",
        help="run an OpenID4VP verifier service and use its back office",
        description="Ask for and verify presentations over OpenID4VP 1.0: serve the "
        "verifier, create a presentation request (QR code) for the claims a procedure needs "
        "and its purpose, and read the verified result.\n\nSettings come from --config FILE, "
        "HONNIN_VERIFIER_* environment variables and flags (docs/CLI.md). Outside --dev, "
        "insecure settings are refused.",
        examples=[
            "honnin verifier serve --dev --trust-list trust/trust-list.json",
            "honnin verifier request --type withholding-slip --claims payment_amount "
            '--purpose "benefit application"',
            "honnin verifier result TX_ID --wait 60 --json",
        ],
    )
    settings = shared_options("settings", _settings_options)
    back_office = shared_options("back office", _back_office_options)

    serve = add_command(
        commands,
        "serve",
        help="serve the verifier over HTTP (uvicorn)",
        description="Serve the OpenID4VP endpoints (request objects, direct_post responses) "
        "and the back office (transactions, results, QR codes). --trust-list or "
        "--trust-anchor replace the trust configuration of the settings. With --dev: plain "
        "http on a loopback address and a development key in verifier-dev-keys/.",
        examples=[
            "honnin verifier serve --dev --trust-anchor issuer-root.pem",
            "honnin verifier serve --config verifier.toml --log-level warning --no-access-log",
        ],
        parents=[settings],
    )
    add_serve_options(serve, port=8400)
    add_trust_options(serve)
    serve.add_argument(
        "--registration",
        action="append",
        metavar="FILE",
        help="a registration JWT a registrar signed for this verifier, one purpose per file "
        "(repeat for more; replaces the settings' registration_files)",
    )
    serve.set_defaults(func=_serve)

    request = add_command(
        commands,
        "request",
        help="create a presentation request (prints its QR code)",
        description="Create a transaction on the verifier service: a signed request for the "
        "claims of a catalogue credential type (or a DCQL query) with its purpose. Prints "
        "the openid4vp:// URI as a QR code, the URI and the transaction id.",
        examples=[
            "honnin verifier request --type withholding-slip --claims "
            'payment_amount,withholding_tax --purpose "benefit application"',
            'honnin verifier request --dcql query.json --purpose "age check" --json',
            'honnin verifier request --pseudonym --purpose "sign in to My Page"',
        ],
        parents=[back_office],
    )
    request.add_argument("--type", help="catalogue credential type (e.g. withholding-slip)")
    request.add_argument("--claims", help="comma-separated claim paths (a,b.c)")
    request.add_argument("--format", choices=["dc+sd-jwt", "mso_mdoc"])
    request.add_argument("--dcql", metavar="FILE", help="a DCQL query instead of --type/--claims")
    request.add_argument(
        "--pseudonym",
        action="store_true",
        help="also ask for the wallet's pairwise pseudonym for this verifier (alone: a sign-in)",
    )
    request.add_argument("--purpose", required=True, help="why the claims are needed")
    request.add_argument("--redirect-uri", help="same-device return URL")
    add_json_option(request)
    request.set_defaults(func=_request)

    result = add_command(
        commands,
        "result",
        help="show the result of a transaction",
        description="Read a transaction's result: the verified claims, or why not. Exit "
        "status 0 when verified, 1 when not, 3 while no response has arrived.",
        examples=["honnin verifier result TX_ID --wait 60", "honnin verifier result TX_ID --json"],
        parents=[back_office],
    )
    result.add_argument("transaction_id", metavar="TX_ID")
    result.add_argument("--wait", type=float, default=0, help="long-poll up to N seconds")
    result.add_argument("--response-code", help="same-device response_code")
    add_json_option(result)
    result.set_defaults(func=_result)
