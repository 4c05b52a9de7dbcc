"""``honnin wallet withdraw`` and ``honnin wallet revoke``: the person's controls on the
command line (DESIGN "Controllability"; spec/PROFILE.md "Privacy").

    honnin wallet withdraw CLIENT_ID [--json]            # end a standing relationship
    honnin wallet revoke ID [--yes] [--json]             # ask the issuer to revoke, for good

Registered by ``wallet._cli`` among the other wallet commands, with its shared options and
its way of opening the wallet.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial

from honnin.cli import CommandFailed, Subparsers, add_command, add_json_option, print_json, progress

from ._holdings import HeldCredential
from ._wallet import Wallet

__all__ = ["register_controls"]

Opener = Callable[[argparse.Namespace], Wallet]


def register_controls(
    commands: Subparsers, wallet: argparse.ArgumentParser, open_wallet: Opener
) -> None:
    """Add ``withdraw`` and ``revoke`` to ``commands``; ``wallet`` holds the shared wallet
    options, ``open_wallet`` opens the wallet they name."""
    withdraw = add_command(
        commands,
        "withdraw",
        help="end the standing relationship with a verifier",
        description="Withdraw from a verifier: the copies bound to it under the per_verifier "
        "policy are destroyed with their keys, and its pairwise pseudonym is forgotten (it "
        "gets a new one next time). The withdrawal is written to the transparency log. A "
        "verifier the wallet never dealt with is not an error: nothing is destroyed.",
        examples=[
            "honnin wallet withdraw x509_san_dns:hellowork.example",
            "honnin wallet withdraw x509_san_dns:hellowork.example --json",
        ],
        parents=[wallet],
    )
    withdraw.add_argument(
        "client_id", metavar="CLIENT_ID", help="the verifier's client_id (as 'log' shows it)"
    )
    add_json_option(withdraw)
    withdraw.set_defaults(func=partial(_withdraw, open_wallet=open_wallet))

    revoke = add_command(
        commands,
        "revoke",
        help="ask the issuer to revoke a credential, for good",
        description="Ask the credential's issuer to revoke it: every copy of its batch, for "
        "good (it cannot be undone). The wallet proves possession of one copy's key over a "
        "fresh nonce from the issuer. Asks before sending (or --yes). The copies stay in the "
        "wallet: remove them with 'honnin wallet delete ID'. The request, answered or not, "
        "is written to the transparency log.",
        examples=[
            "honnin wallet revoke CREDENTIAL_ID",
            "honnin wallet revoke CREDENTIAL_ID --yes --json",
        ],
        parents=[wallet],
    )
    revoke.add_argument("credential_id", metavar="ID", help="the id 'list' shows")
    revoke.add_argument("--yes", action="store_true", help="send without asking")
    add_json_option(revoke)
    revoke.set_defaults(func=partial(_revoke, open_wallet=open_wallet))


def _withdraw(args: argparse.Namespace, *, open_wallet: Opener) -> int:
    with open_wallet(args) as wallet:
        withdrawal = wallet.withdraw(args.client_id)
    credentials = list(withdrawal.credentials)
    # per_verifier binds at most one copy of a credential to a verifier
    # (_usage_policy.UsagePlanner.choose), so one destroyed copy per credential listed.
    copies = len(credentials)
    if args.json:
        print_json(
            {
                "client_id": withdrawal.client_id,
                "copies_destroyed": copies,
                "credentials": credentials,
                "pseudonym_forgotten": withdrawal.pseudonym_forgotten,
            }
        )
        return 0
    if not credentials and not withdrawal.pseudonym_forgotten:
        print(
            f"withdrew from {withdrawal.client_id}: nothing was bound to it, nothing destroyed"
            " (the withdrawal is logged)"
        )
        return 0
    print(f"withdrew from {withdrawal.client_id}:")
    print(f"  copies destroyed with their keys: {copies}"
          + (f" (of {', '.join(credentials)})" if credentials else ""))  # fmt: skip
    forgotten = "forgotten" if withdrawal.pseudonym_forgotten else "none was kept"
    print(f"  pseudonym: {forgotten}")
    return 0


def _revocation_lines(held: HeldCredential) -> list[str]:
    return [
        f"Credential: {held.name('ja')} / {held.name('en')} [{held.id}]",
        f"Issuer:     {held.issuer_name} ({held.issuer})",
        f"The issuer will revoke all of its copies ({held.copies} in this wallet) for good:"
        " this cannot be undone.",
    ]


def _revoke(args: argparse.Namespace, *, open_wallet: Opener) -> int:
    # With --json the question is still shown, on stderr: stdout carries only the result.
    show = progress if args.json else print
    with open_wallet(args) as wallet:
        held = wallet.credential(args.credential_id)  # NotFound before anything is asked
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandFailed("not sent: confirm in a terminal or pass --yes")
            for line in _revocation_lines(held):
                show(line)
            answer = input(f"Ask {held.issuer_name} to revoke it? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                raise CommandFailed("not sent; nothing was asked of the issuer", reason="declined")
        progress(f"asking {held.issuer_name} to revoke {held.id}...")
        wallet.request_revocation(held.id)
        copies = wallet.credential(held.id).copies
    if args.json:
        print_json(
            {
                "revoked": held.id,
                "issuer": held.issuer,
                "issuer_name": held.issuer_name,
                "copies_kept": copies,
            }
        )
        return 0
    print(f"revoked: {held.issuer_name} revoked every copy of {held.id}")
    print(
        f"the {copies} copies stay in this wallet, no longer valid;"
        f" remove them with 'honnin wallet delete {held.id}'"
    )
    return 0
