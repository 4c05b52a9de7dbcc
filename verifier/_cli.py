"""``honnin verifier``: run the OpenID4VP verifier service and use its back office.

    honnin verifier serve --config verifier.toml        # production settings, or
    honnin verifier serve --dev                          # loopback, generated key
    honnin verifier request --type withholding-slip --claims payment_amount,withholding_tax \\
        --purpose "unemployment benefit application" [--server URL] [--json]
    honnin verifier result TX_ID [--server URL] [--wait 60] [--json]

Settings come from ``--config`` (TOML or JSON), ``HONNIN_VERIFIER_*`` variables and flags.
Outside ``--dev``, insecure settings (plain-HTTP public URL, no back-office token, no own key
and certificate, no trust configuration) are refused. The back-office commands read the
token from ``--token`` or ``HONNIN_VERIFIER_API_TOKEN``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from honnin.cli import CommandFailed, print_json
from honnin.clock import SystemClock
from honnin.encoding import json_loads
from honnin.errors import MalformedInput
from honnin.http import error_from_oauth_response
from honnin.trust import TrustList, certificates_to_pem, load_certificates

from ._identity import VerifierIdentity
from ._qr import qr_text
from ._settings import VerifierSettings
from ._store_sqlite import SqliteTransactionStore
from ._verifier import Verifier

__all__ = ["register"]

_DEV_KEYS = "verifier-dev-keys"
_DEFAULT_SERVER = "http://127.0.0.1:8400"


def _settings(args: argparse.Namespace, **flags: Any) -> VerifierSettings:
    overrides = {name: value for name, value in flags.items() if value is not None}
    try:
        if args.config:
            return VerifierSettings.from_file(args.config, **overrides)
        return VerifierSettings(**overrides)
    except (ValueError, OSError) as exc:  # pydantic.ValidationError is a ValueError
        raise CommandFailed(f"invalid verifier settings: {exc}") from exc


def _trust(settings: VerifierSettings) -> TrustList | list[x509.Certificate]:
    if settings.trust_list_file:
        return TrustList.load(settings.trust_list_file)
    anchors: list[x509.Certificate] = []
    for path in settings.trust_anchor_files:
        anchors.extend(load_certificates(Path(path).read_bytes()))
    if not anchors:
        sys.stderr.write("warning: no trust anchors: every presentation will be rejected\n")
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
    if not settings.dev and settings.problems():
        raise CommandFailed(
            "refusing insecure settings outside --dev: " + "; ".join(settings.problems())
        )
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    if settings.key_file and settings.certificate_file:
        identity = VerifierIdentity.load(
            settings.name, Path(settings.key_file), Path(settings.certificate_file),
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
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ._app import create_app

    settings = _settings(args, dev=True if args.dev else None, host=args.host, port=args.port)
    verifier = build_verifier(settings)
    try:
        app = create_app(verifier, settings)
    except ValueError as exc:
        raise CommandFailed(str(exc)) from exc
    sys.stderr.write(
        f"verifier {verifier.client_id} at {settings.base_url}"
        f"{' (development mode)' if settings.dev else ''}\n"
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=args.log_level in ("debug", "info"),
    )
    return 0


def _token(args: argparse.Namespace) -> dict[str, str]:
    token = args.token or os.environ.get("HONNIN_VERIFIER_API_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _call(method: str, url: str, args: argparse.Namespace, **options: Any) -> Any:
    try:
        with httpx.Client(timeout=float(getattr(args, "wait", 0) or 0) + 30) as client:
            answer = client.request(method, url, headers=_token(args), **options)
    except httpx.HTTPError as exc:
        raise CommandFailed(f"cannot reach the verifier at {url}: {exc}") from exc
    if answer.status_code >= 400:
        raise error_from_oauth_response(answer.status_code, answer.content)
    try:
        return json_loads(answer.content)
    except MalformedInput as exc:
        raise CommandFailed(f"the verifier answered {answer.status_code} without JSON") from exc


def _request(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"purpose": args.purpose}
    if args.dcql:
        body["dcql_query"] = json_loads(Path(args.dcql).read_bytes())
    elif args.type:
        body["credential_type"] = args.type
        body["claims"] = [c.strip() for c in (args.claims or "").split(",") if c.strip()]
        if args.format:
            body["format"] = args.format
    else:
        raise CommandFailed("give --type (with --claims) or --dcql FILE")
    if args.redirect_uri:
        body["redirect_uri"] = args.redirect_uri
    created = _call("POST", f"{args.server.rstrip('/')}/transactions", args, json=body)
    if args.json:
        print_json(created)
        return 0
    sys.stdout.write(qr_text(created["uri"]))
    sys.stdout.write(f"\n{created['uri']}\n\ntransaction: {created['transaction_id']}\n")
    return 0


def _result(args: argparse.Namespace) -> int:
    url = f"{args.server.rstrip('/')}/transactions/{args.transaction_id}/result"
    params: dict[str, Any] = {"wait": args.wait} if args.wait else {}
    if args.response_code:
        params["response_code"] = args.response_code
    result = _call("GET", url, args, params=params)
    if args.json:
        print_json(result)
    elif result.get("status") == "pending":
        sys.stdout.write("pending: no response yet\n")
    else:
        sys.stdout.write(f"verified: {str(result['verified']).lower()}\n")
        for key, value in result.get("claims", {}).items():
            sys.stdout.write(f"  {key}: {value}\n")
        for error in result.get("errors", []):
            where = f" [{error['query_id']}]" if error.get("query_id") else ""
            sys.stdout.write(f"  error{where}: {error['code']}: {error['message']}\n")
    if result.get("status") == "pending":
        return 3
    return 0 if result.get("verified") else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``honnin verifier ...`` to the ``honnin`` command line."""
    parser = subparsers.add_parser("verifier", help="OpenID4VP verifier service and back office")
    commands = parser.add_subparsers(dest="verifier_command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the verifier service (uvicorn)")
    serve.add_argument("--config", help="settings file (TOML or JSON)")
    serve.add_argument("--dev", action="store_true", help="development mode (insecure defaults)")
    serve.add_argument("--host", help="listen address")
    serve.add_argument("--port", type=int, help="listen port")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    def back_office(command: argparse.ArgumentParser) -> None:
        command.add_argument("--server", default=_DEFAULT_SERVER, help="verifier service URL")
        command.add_argument("--token", help="back-office token (or HONNIN_VERIFIER_API_TOKEN)")
        command.add_argument("--json", action="store_true", help="print the JSON answer")

    request = commands.add_parser("request", help="create a presentation request")
    request.add_argument("--type", help="catalogue credential type (e.g. withholding-slip)")
    request.add_argument("--claims", help="comma-separated claim paths (a,b.c)")
    request.add_argument("--format", choices=["dc+sd-jwt", "mso_mdoc"])
    request.add_argument("--dcql", help="a DCQL query file instead of --type/--claims")
    request.add_argument("--purpose", required=True, help="why the claims are needed")
    request.add_argument("--redirect-uri", help="same-device return URL")
    back_office(request)
    request.set_defaults(func=_request)

    result = commands.add_parser("result", help="show the result of a transaction")
    result.add_argument("transaction_id")
    result.add_argument("--wait", type=float, default=0, help="long-poll up to N seconds")
    result.add_argument("--response-code", help="same-device response_code")
    back_office(result)
    result.set_defaults(func=_result)
