"""``honnin wallet``: a wallet on the command line.

    honnin wallet init                                  # create it (prints the recovery code)
    honnin wallet receive OFFER [--tx-code CODE]        # OpenID4VCI offer link or QR text
    honnin wallet list [--json]
    honnin wallet present REQUEST_URI [--yes]           # shows the consent, asks, posts
    honnin wallet delete ID
    honnin wallet log [--json | --verify]               # who received what, and when

The wallet file is ``--wallet`` (or ``HONNIN_WALLET``, default ``honnin.wallet``); the PIN
comes from ``--pin``, ``HONNIN_WALLET_PIN`` or a prompt. Trust: ``--trust-list FILE`` (or
``HONNIN_WALLET_TRUST_LIST``) and/or ``--trust-anchor PEM``; without either, signatures are
checked but no party can be trusted, and the consent says so.
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

from cryptography import x509

from honnin.cli import CommandFailed, print_json
from honnin.oid4vci import TxCode
from honnin.trust import TrustList, load_certificates

from ._consent import ConsentRequest
from ._holdings import HeldCredential
from ._keywrap import KdfParams
from ._wallet import Wallet

__all__ = ["register"]

_DEFAULT_PATH = "honnin.wallet"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``honnin wallet`` and its sub-commands."""
    parser = subparsers.add_parser(
        "wallet",
        help="hold credentials: receive (OpenID4VCI), list, present (OpenID4VP), delete, log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--wallet", metavar="PATH", help="the wallet file")
    parser.add_argument("--pin", help="the PIN (prefer HONNIN_WALLET_PIN or the prompt)")
    parser.add_argument("--trust-list", metavar="FILE", help="a trust list (JSON)")
    parser.add_argument(
        "--trust-anchor", action="append", default=[], metavar="PEM",
        help="a certificate trusted for issuers and verifiers (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--allow-loopback-http",
        action="store_true",
        help="development only: accept http:// URLs on localhost / 127.0.0.1",
    )
    commands = parser.add_subparsers(dest="wallet_command", metavar="COMMAND", required=True)

    init = commands.add_parser("init", help="create an encrypted wallet")
    # Argon2id at 8 MiB for test suites only (KdfParams.INSECURE_TEST_ONLY); never for people.
    init.add_argument("--insecure-test-kdf", action="store_true", help=argparse.SUPPRESS)
    init.set_defaults(func=_init)

    receive = commands.add_parser("receive", help="receive the credentials of an offer")
    receive.add_argument("offer", metavar="OFFER", help="openid-credential-offer:// link")
    receive.add_argument("--tx-code", metavar="CODE", help="the transaction code")
    receive.add_argument("--copies", type=int, metavar="N", help="copies to ask for")
    receive.set_defaults(func=_receive)

    listing = commands.add_parser("list", help="list the credentials held")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_list)

    present = commands.add_parser("present", help="answer a presentation request")
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
    present.set_defaults(func=_present)

    delete = commands.add_parser("delete", help="delete a credential and its keys")
    delete.add_argument("credential_id", metavar="ID")
    delete.set_defaults(func=_delete)

    log = commands.add_parser(
        "log", help="the transparency log: every issuance, presentation, refusal, deletion"
    )
    log.add_argument("--json", action="store_true", help="print the verified log as JSON")
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


def _trust(args: argparse.Namespace) -> TrustList | list[x509.Certificate] | None:
    list_file = args.trust_list or os.environ.get("HONNIN_WALLET_TRUST_LIST")
    anchors = [c for pem in args.trust_anchor for c in load_certificates(Path(pem).read_bytes())]
    if list_file:
        if anchors:
            raise CommandFailed("give --trust-list or --trust-anchor, not both", code=2)
        return TrustList.load(list_file)
    return anchors or None


def _open(args: argparse.Namespace) -> Wallet:
    path = _path(args)
    if not path.exists():
        raise CommandFailed(f"no wallet at {path}; create one with 'honnin wallet init'")
    return Wallet.open(
        path,
        _pin(args),
        create=False,
        trust=_trust(args),
        allow_loopback_http=args.allow_loopback_http,
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
        receipt = wallet.receive(
            args.offer, tx_code=args.tx_code or _ask_tx_code, copies=args.copies
        )
    for held in receipt.credentials:
        print(
            f"received {held.name('ja')} / {held.name('en')} from {held.issuer_name}:"
            f" {held.copies} copies, id {held.id}"
        )
    return 0


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
    with _open(args) as wallet:
        consent = wallet.consider(args.request)
        for line in _lines(consent):
            print(line)
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
                print("not sent; the verifier was told no")
                return 1
        submission = wallet.present(approval, post=True)
    print(f"sent: the verifier answered HTTP {submission.status}")
    if submission.redirect_uri:
        print(f"continue at {submission.redirect_uri}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _open(args) as wallet:
        wallet.delete(args.credential_id)
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
