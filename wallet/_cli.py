"""``honnin wallet``: a wallet on the command line.

    honnin wallet init                                  # create it (prints the recovery code)
    honnin wallet receive OFFER [--tx-code CODE]        # OpenID4VCI offer link or QR text
    honnin wallet list [--json]
    honnin wallet present REQUEST_URI [--yes]           # shows the consent, asks, posts
    honnin wallet delete ID
    honnin wallet withdraw CLIENT_ID [--json]           # end a verifier relationship
    honnin wallet revoke ID [--yes]                     # ask the issuer to revoke, for good
    honnin wallet log [--json | --verify]               # who received what, and when

The wallet options (``--wallet``, ``--pin``, ``--trust-list``, ``--trust-anchor``, ``--dev``)
go after the command name like any other option; they are also accepted before it, as
earlier releases required. The wallet file is ``--wallet`` (or ``HONNIN_WALLET``, default
``honnin.wallet``); the PIN comes from ``--pin``, ``HONNIN_WALLET_PIN`` or a prompt. Trust:
``--trust-list FILE`` (or ``HONNIN_WALLET_TRUST_LIST``) or ``--trust-anchor PEM``; without
either, signatures are checked but no party can be trusted, and the consent says so.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from honnin.cli import (
    CommandFailed,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    add_trust_options,
    load_trust,
    print_json,
    progress,
    shared_options,
)
from honnin.errors import UnsupportedGrantType
from honnin.oid4vci import TxCode

from ._cli_controls import register_controls
from ._consent import ConsentRequest
from ._holdings import HeldCredential
from ._issuance import Receipt
from ._keywrap import KdfParams
from ._loopback_redirect import LoopbackRedirect
from ._wallet import Wallet

__all__ = ["register"]

_DEFAULT_PATH = "honnin.wallet"


def _wallet_options(parser: Any) -> None:
    parser.add_argument(
        "--wallet", metavar="PATH", help="the wallet file (or HONNIN_WALLET; honnin.wallet)"
    )
    parser.add_argument("--pin", help="the PIN (prefer HONNIN_WALLET_PIN or the prompt)")
    add_trust_options(parser, anchors_for="issuers and verifiers")
    parser.add_argument(
        "--dev",
        "--allow-loopback-http",
        dest="dev",
        action="store_true",
        help="development mode: accept http:// URLs on localhost / 127.0.0.1"
        " (--allow-loopback-http is the old name)",
    )


def register(subparsers: Subparsers) -> None:
    """Add ``honnin wallet`` and its sub-commands."""
    parser, commands = add_group(
        subparsers,
        "wallet",
        help="hold credentials: receive (OpenID4VCI), list, present (OpenID4VP), delete,"
        " withdraw, revoke, log",
        description="A wallet in one encrypted file: receive credentials from an offer, "
        "list them, answer a presentation request after showing who asks for what and why, "
        "delete credentials, withdraw from a verifier, ask an issuer to revoke, and read "
        "the transparency log of every disclosure.\n\nThe "
        "file is --wallet (or HONNIN_WALLET, default honnin.wallet); the PIN comes from "
        "--pin, HONNIN_WALLET_PIN or a prompt. Trust: --trust-list FILE (or "
        "HONNIN_WALLET_TRUST_LIST) or --trust-anchor PEM; without either, signatures are "
        "checked but no party can be trusted, and the consent says so.",
        examples=[
            "honnin wallet init --wallet alice.wallet",
            "honnin wallet receive 'openid-credential-offer://?...' --trust-list trust.json",
            "honnin wallet present 'openid4vp://?...' --trust-list trust.json",
            "honnin wallet log --json",
        ],
    )
    wallet = shared_options("wallet", _wallet_options, also_before=parser)

    init = add_command(
        commands,
        "init",
        help="create an encrypted wallet",
        description="Create the wallet file, encrypted at rest with a key derived from the "
        "PIN (Argon2id), and print the recovery code once: write it down.",
        examples=["honnin wallet init --wallet alice.wallet"],
        parents=[wallet],
    )
    # Argon2id at 8 MiB for test suites only (KdfParams.INSECURE_TEST_ONLY); never for people.
    init.add_argument("--insecure-test-kdf", action="store_true", help=argparse.SUPPRESS)
    add_json_option(init)
    init.set_defaults(func=_init)

    receive = add_command(
        commands,
        "receive",
        help="receive the credentials of an offer",
        description="Follow an OpenID4VCI credential offer (the link or the text of its QR "
        "code): fetch the issuer's metadata, redeem the pre-authorized code with the "
        "Transaction Code, and store a batch of copies, each bound to its own key.",
        examples=[
            "honnin wallet receive 'openid-credential-offer://?...' --tx-code 123456",
        ],
        parents=[wallet],
    )
    receive.add_argument("offer", metavar="OFFER", help="openid-credential-offer:// link")
    receive.add_argument("--tx-code", metavar="CODE", help="the transaction code")
    receive.add_argument("--copies", type=int, metavar="N", help="copies to ask for")
    receive.add_argument(
        "--wait", type=float, default=300, metavar="SECONDS",
        help="for an authorization code offer: how long to wait for the browser (default 300)",
    )  # fmt: skip
    add_json_option(receive)
    receive.set_defaults(func=_receive)

    listing = add_command(
        commands,
        "list",
        help="list the credentials held",
        description="List the credentials in the wallet with their issuer, whether the "
        "issuer is trusted, the copies left and the validity.",
        examples=["honnin wallet list", "honnin wallet list --json"],
        parents=[wallet],
    )
    add_json_option(listing)
    listing.set_defaults(func=_list)

    present = add_command(
        commands,
        "present",
        help="answer a presentation request",
        description="Show who asks (the verified verifier and whether it is trusted), why, "
        "and each claim asked for with its value, and what is refused and why; then ask "
        "before sending (or --yes). --drop leaves out an optional claim or credential.",
        examples=[
            "honnin wallet present 'openid4vp://?...'",
            "honnin wallet present 'openid4vp://?...' --drop address --yes --json",
        ],
        parents=[wallet],
    )
    present.add_argument("request", metavar="REQUEST_URI", help="openid4vp:// link")
    present.add_argument("--yes", action="store_true", help="send without asking")
    present.add_argument(
        "--drop", action="append", default=[], metavar="CLAIM",
        help="leave out an optional claim or credential (repeatable)",
    )  # fmt: skip
    present.add_argument(
        "--allow-untrusted-verifier",
        action="store_true",
        help="answer a verifier the trust configuration does not trust",
    )
    add_json_option(present)
    present.set_defaults(func=_present)

    delete = add_command(
        commands,
        "delete",
        help="delete a credential and its keys",
        description="Delete a credential with all its copies and binding keys (the "
        "deletion is written to the transparency log).",
        examples=["honnin wallet delete CREDENTIAL_ID"],
        parents=[wallet],
    )
    delete.add_argument("credential_id", metavar="ID", help="the id 'list' shows")
    add_json_option(delete)
    delete.set_defaults(func=_delete)

    register_controls(commands, wallet, _open)  # withdraw, revoke (wallet/_cli_controls.py)

    log = add_command(
        commands,
        "log",
        help="the transparency log: every issuance, presentation, refusal, deletion",
        description="Show the wallet's hash-chained transparency log: who received what, "
        "when and why, and what was refused. --verify checks the hash chain and the head.",
        examples=["honnin wallet log", "honnin wallet log --json", "honnin wallet log --verify"],
        parents=[wallet],
    )
    add_json_option(log)
    log.add_argument("--verify", action="store_true", help="check the hash chain and say so")
    log.set_defaults(func=_log)


# -- opening --------------------------------------------------------------------------------


def _path(args: argparse.Namespace) -> Path:
    return Path(args.wallet or os.environ.get("HONNIN_WALLET") or _DEFAULT_PATH)


def _pin(args: argparse.Namespace) -> str:
    pin = args.pin or os.environ.get("HONNIN_WALLET_PIN")
    if pin:
        return str(pin)
    if not sys.stdin.isatty():
        raise CommandFailed("no PIN: pass --pin, set HONNIN_WALLET_PIN or run in a terminal")
    return getpass.getpass("wallet PIN: ")


def _open(args: argparse.Namespace) -> Wallet:
    path = _path(args)
    if not path.exists():
        raise CommandFailed(f"no wallet at {path}; create one with 'honnin wallet init'")
    return Wallet.open(
        path,
        _pin(args),
        create=False,
        trust=load_trust(args, list_env="HONNIN_WALLET_TRUST_LIST"),
        allow_loopback_http=args.dev,
    )


# -- commands -------------------------------------------------------------------------------


def _init(args: argparse.Namespace) -> int:
    path = _path(args)
    if path.exists():
        raise CommandFailed(f"{path} exists already")
    pin = _pin(args)
    kdf = KdfParams.INSECURE_TEST_ONLY if args.insecure_test_kdf else KdfParams.STRONG
    with Wallet.open(path, pin, kdf=kdf) as wallet:
        code = wallet.vault.recovery_code
    if args.json:
        print_json({"wallet": str(path), "recovery_code": code})
        return 0
    print(f"created {path}")
    print(f"recovery code (write it down, it is shown once): {code}")
    return 0


def _describe(held: HeldCredential) -> dict[str, Any]:
    return {
        "id": held.id,
        "type": held.credential_type,
        "name": {"ja": held.name("ja"), "en": held.name("en")},
        "format": held.format,
        "issuer": held.issuer,
        "issuer_name": held.issuer_name,
        "trust": held.trust,
        "copies": held.copies,
        "valid_until": held.valid_until,
    }


def _ask_tx_code(hint: TxCode) -> str:
    if not sys.stdin.isatty():
        raise CommandFailed("the offer needs a transaction code: pass --tx-code")
    shape = f"{hint.length} " if hint.length else ""
    text = f"transaction code ({shape}{hint.effective_input_mode.value})"
    return input(f"{text}{': ' + hint.description if hint.description else ''}: ").strip()


def _receive(args: argparse.Namespace) -> int:
    with _open(args) as wallet:
        progress("receiving the offer (OpenID4VCI)...")
        try:
            receipt = wallet.receive(
                args.offer, tx_code=args.tx_code or _ask_tx_code, copies=args.copies
            )
        except UnsupportedGrantType as exc:
            if exc.fields.get("grant_type") != "authorization_code":
                raise
            receipt = _receive_in_browser(wallet, args)
    if args.json:
        print_json(
            {
                "credential_issuer": receipt.credential_issuer,
                "issuer_name": receipt.issuer_name,
                "credentials": [_describe(held) for held in receipt.credentials],
                "notified": list(receipt.notified),
                "sender_constrained": receipt.sender_constrained,
            }
        )
        return 0
    for held in receipt.credentials:
        print(
            f"received {held.name('ja')} / {held.name('en')} from {held.issuer_name}:"
            f" {held.copies} copies, id {held.id}"
        )
    return 0


def _receive_in_browser(wallet: Wallet, args: argparse.Namespace) -> Receipt:
    # OpenID4VCI §3.4: the person approves at the issuer in a browser, which comes back to
    # a loopback listener of this process (RFC 8252 §7.3).
    with LoopbackRedirect() as redirect:
        started = wallet.authorize(args.offer, redirect_uri=redirect.uri)
        progress(f"approve at the issuer, in a browser: {started.url}")
        back = redirect.wait(timeout=float(args.wait))
    return wallet.finish_authorization(started, back, copies=args.copies)


def _list(args: argparse.Namespace) -> int:
    with _open(args) as wallet:
        held = wallet.credentials()
    if args.json:
        print_json([_describe(h) for h in held])
        return 0
    if not held:
        print("no credentials")
    for h in held:
        print(f"{h.id}  {h.name('ja')} / {h.name('en')}  {h.format}  {h.issuer_name}"
              f"  copies: {h.copies}  issuer trust: {h.trust}")  # fmt: skip
    return 0


def _lines(consent: ConsentRequest) -> Iterable[str]:
    verifier = consent.verifier
    trust = {
        True: "trusted",
        False: f"NOT TRUSTED ({verifier.trust_reason})",
        None: "trust not configured",
    }[verifier.trusted]
    signed = "" if verifier.signed else ", UNSIGNED request"
    yield f"Verifier: {verifier.name} [{verifier.client_id}] - {trust}{signed}"
    yield f"Purpose:  {consent.purpose or '(none given)'}"
    for choice in consent.credentials:
        need = "required" if choice.required else "optional"
        yield (
            f"Credential ({need}): {choice.name('ja')} / {choice.name('en')},"
            f" issued by {choice.issuer_name}, copies left {choice.copies_left}"
        )
        for claim in choice.claims:
            flag = "required" if claim.required else "optional, --drop " + claim.key
            yield f"  * {claim.label('ja')} / {claim.label('en')}: {claim.value}  [{flag}]"
        if choice.always_disclosed:
            yield f"  always visible: {', '.join(choice.always_disclosed)}"
    for refused in consent.refused:
        yield f"Refused: {refused.label('ja')} / {refused.label('en')} - {refused.message}"


def _present(args: argparse.Namespace) -> int:
    # With --json the consent is still shown, on stderr: stdout carries only the result.
    show = progress if args.json else print
    with _open(args) as wallet:
        consent = wallet.consider(args.request)
        for line in _lines(consent):
            show(line)
        try:
            approval = consent.approve(
                drop=args.drop, allow_untrusted_verifier=args.allow_untrusted_verifier
            )
        except ValueError as exc:  # a --drop the request does not ask for
            raise CommandFailed(str(exc), code=2) from exc
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandFailed("not sent: confirm in a terminal or pass --yes")
            answer = input(f"Send this to {consent.verifier.name}? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                wallet.submit(consent.refuse())
                raise CommandFailed("not sent; the verifier was told no", reason="declined")
        submission = wallet.present(approval, post=True)
    if args.json:
        verifier = consent.verifier
        print_json(
            {
                "sent": True,
                "verifier": {
                    "name": verifier.name,
                    "client_id": verifier.client_id,
                    "trusted": verifier.trusted,
                },
                "purpose": consent.purpose,
                "status": submission.status,
                "redirect_uri": submission.redirect_uri,
            }
        )
        return 0
    print(f"sent: the verifier answered HTTP {submission.status}")
    if submission.redirect_uri:
        print(f"continue at {submission.redirect_uri}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _open(args) as wallet:
        wallet.delete(args.credential_id)
    if args.json:
        print_json({"deleted": args.credential_id})
        return 0
    print(f"deleted {args.credential_id} with its copies and keys")
    return 0


def _claims_text(items: Iterable[Any]) -> str:
    return "; ".join(
        f"{item.credential_type}: "
        + (", ".join(".".join("*" if p is None else str(p) for p in c) for c in item.claims) or "-")
        for item in items
    )


def _log(args: argparse.Namespace) -> int:
    with _open(args) as wallet:
        journal = wallet.log()
        if args.verify:
            count = journal.verify()  # raises WalletCorrupted naming the first bad entry
            if args.json:
                print_json({"verified": True, "entries": count, "head": journal.head()[1]})
                return 0
            print(f"ok: {count} entries, hash chain and head intact ({journal.head()[1]})")
            return 0
        if args.json:
            print(journal.export_json(), end="")
            return 0
        entries = journal.entries()
    if not entries:
        print("the log is empty")
    for entry in entries:
        when = datetime.fromtimestamp(entry.time, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        who = f"{entry.party_name or '-'} [{entry.party_id or '-'}]"
        print(f"{entry.seq:>4}  {when} UTC  {entry.event.value:<18} {who}  {entry.outcome}")
        if entry.purpose:
            print(f"      purpose: {entry.purpose}")
        if entry.disclosed and entry.event.value == "presentation":
            print(f"      disclosed: {_claims_text(entry.disclosed)}")
        if entry.refused:
            print(f"      refused: {_claims_text(entry.refused)}")
        if entry.detail:
            print(f"      detail: {entry.detail}")
    return 0
