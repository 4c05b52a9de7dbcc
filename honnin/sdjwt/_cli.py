"""``honnin sd-jwt``: decode, issue, present and verify SD-JWTs (RFC 9901) for interop work.

honnin sd-jwt keygen --public-out issuer.pub.jwk > issuer.jwk
honnin sd-jwt issue --key issuer.jwk --claims claims.json --sd-all > token.txt
honnin sd-jwt present token.txt --disclose /given_name > presented.txt
honnin sd-jwt verify presented.txt --issuer-key issuer.pub.jwk
honnin sd-jwt decode token.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from honnin.cli import (
    CommandFailed,
    Subparsers,
    add_command,
    add_group,
    add_json_option,
    print_json,
)
from honnin.errors import HonninError
from honnin.jose import (
    JwsAlgorithm,
    PrivateKey,
    PublicKey,
    generate_key,
    jwk_from_private_key,
    jwk_from_public_key,
    parse_jws,
    private_key_from_jwk,
    public_key_from_jwk,
    public_key_from_pem,
)

from ._holder import SdJwt
from ._issue import issue_sd_jwt
from ._key_binding import KeyBinding
from ._paths import ClaimPath, parse_claim_path
from ._serialization import Serialization
from ._unverified import parse_sd_jwt
from ._verify import verify_sd_jwt

__all__ = ["register"]

#: Claims ``--sd-all`` leaves in plain text: validity, key binding and type claims must stay
#: visible (RFC 9901 §9.7; SD-JWT VC §3.2.2.2 registered claims).
_KEEP_PLAIN = frozenset(
    {"iss", "aud", "iat", "exp", "nbf", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)


def register(subparsers: Subparsers) -> None:
    """Add ``honnin sd-jwt`` and its sub-commands."""
    _, commands = add_group(
        subparsers,
        "sd-jwt",
        help="decode, issue, present and verify SD-JWTs",
        description="Work with SD-JWTs (RFC 9901) directly, for interop testing: make a key, "
        "issue from a JSON claims file, present chosen claims (with a key-binding JWT when "
        "the token is bound), verify with the issuer's key, or decode without verifying. "
        "FILE may be - for stdin.",
        examples=[
            "honnin sd-jwt keygen --public-out issuer.pub.jwk > issuer.jwk",
            "honnin sd-jwt issue --key issuer.jwk --claims claims.json --sd-all > token.txt",
            "honnin sd-jwt verify token.txt --issuer-key issuer.pub.jwk",
        ],
    )

    decode = add_command(
        commands,
        "decode",
        help="print header, payload and disclosures as JSON, WITHOUT verifying",
        description="Split and decode an SD-JWT (compact or JSON) and print its parts with "
        "each disclosure's digest. Nothing is verified: the output says so.",
        examples=["honnin sd-jwt decode token.txt", "cat token.txt | honnin sd-jwt decode -"],
    )
    decode.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    add_json_option(decode, always=True)
    decode.set_defaults(func=_decode)

    issue = add_command(
        commands,
        "issue",
        help="issue an SD-JWT from a JSON claims file",
        description="Sign the claims of a JSON object with the issuer's private JWK, making "
        "the --sd claims (or with --sd-all every top-level claim but the registered ones) "
        "selectively disclosable. --holder-key binds the token to a holder key (cnf). "
        "Prints the SD-JWT.",
        examples=[
            "honnin sd-jwt issue --key issuer.jwk --claims claims.json --sd /address/locality",
            "honnin sd-jwt issue --key issuer.jwk --claims claims.json --sd-all "
            "--holder-key holder.pub.jwk --typ dc+sd-jwt",
        ],
    )
    issue.add_argument("--key", required=True, metavar="ISSUER_JWK", help="private JWK file")
    issue.add_argument("--claims", required=True, metavar="CLAIMS_JSON", help="a JSON object")
    which = issue.add_mutually_exclusive_group()
    which.add_argument(
        "--sd",
        action="append",
        default=[],
        metavar="PATH",
        help="JSON pointer of a selectively disclosable claim, e.g. /address/locality "
        "(repeat; nest them for recursive disclosures)",
    )
    which.add_argument(
        "--sd-all",
        action="store_true",
        help="make every top-level claim selectively disclosable except "
        + ", ".join(sorted(_KEEP_PLAIN)),
    )
    issue.add_argument("--holder-key", metavar="HOLDER_JWK_OR_PEM", help="public key for cnf")
    issue.add_argument("--decoys", type=int, default=0, metavar="N", help="decoys per object")
    issue.add_argument("--typ", metavar="T", help="JOSE header typ, e.g. dc+sd-jwt")
    issue.add_argument(
        "--serialization",
        choices=[s.value for s in Serialization],
        default="compact",
        help="compact (default) or JSON serialization",
    )
    add_json_option(issue)
    issue.set_defaults(func=_issue)

    present = add_command(
        commands,
        "present",
        help="present chosen claims of an issued SD-JWT (with a KB-JWT if keyed)",
        description="Keep the disclosures of the --disclose claims and drop the others. "
        "With --holder-key (and --nonce, --aud) a key-binding JWT is appended (RFC 9901 "
        "§4.3). Prints the presentation.",
        examples=[
            "honnin sd-jwt present token.txt --disclose /given_name",
            "honnin sd-jwt present token.txt --disclose /age_over_18 --holder-key holder.jwk "
            "--nonce n-0S6_WzA2Mj --aud https://verifier.example",
        ],
    )
    present.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    present.add_argument(
        "--disclose", action="append", default=[], metavar="PATH",
        help="JSON pointer of a claim to disclose (repeatable)",
    )  # fmt: skip
    present.add_argument("--holder-key", metavar="HOLDER_JWK", help="private JWK file")
    present.add_argument("--nonce", metavar="N", help="the verifier's nonce (KB-JWT)")
    present.add_argument("--aud", metavar="A", help="the verifier (KB-JWT audience)")
    add_json_option(present)
    present.set_defaults(func=_present)

    verify = add_command(
        commands,
        "verify",
        help="verify an SD-JWT(+KB) and print the processed payload as JSON",
        description="Verify the issuer signature with --issuer-key (a bare public key: JWK "
        "or PEM, no certificate chain), every disclosure's digest and, when required, the "
        "key-binding JWT over --nonce and --aud; print the processed payload.",
        examples=[
            "honnin sd-jwt verify token.txt --issuer-key issuer.pub.jwk",
            "honnin sd-jwt verify presented.txt --issuer-key issuer.pem --nonce n-0S6_WzA2Mj "
            "--aud https://verifier.example",
        ],
    )
    verify.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    verify.add_argument(
        "--issuer-key", required=True, metavar="JWK_OR_PEM",
        help="the issuer's public key (JWK or PEM public key / certificate)",
    )  # fmt: skip
    verify.add_argument("--nonce", metavar="N", help="the expected KB-JWT nonce")
    verify.add_argument("--aud", metavar="A", help="the expected KB-JWT audience")
    verify.add_argument(
        "--key-binding",
        choices=["required", "forbidden"],
        help="default: required when --nonce or --aud is given, forbidden otherwise",
    )
    verify.add_argument("--at", type=int, metavar="UNIX_TIME", help="validation time")
    add_json_option(verify, always=True)
    verify.set_defaults(func=_verify)

    keygen = add_command(
        commands,
        "keygen",
        help="print a fresh private JWK",
        description="Generate a key pair and print the private JWK; --public-out also "
        "writes the public JWK.",
        examples=["honnin sd-jwt keygen --alg ES256 --public-out issuer.pub.jwk > issuer.jwk"],
    )
    keygen.add_argument(
        "--alg",
        choices=[a.value for a in JwsAlgorithm],
        default="ES256",
        help="signature algorithm (default ES256)",
    )
    keygen.add_argument("--public-out", metavar="FILE", help="also write the public JWK here")
    add_json_option(keygen, always=True)
    keygen.set_defaults(func=_keygen)


def _read_text(name: str) -> str:
    text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    return text.strip()


def _read_json(name: str, what: str) -> Any:
    try:
        return json.loads(Path(name).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CommandFailed(f"{what} {name!r} is not JSON: {exc}", code=2) from exc


def _private_key(name: str) -> PrivateKey:
    return private_key_from_jwk(_read_json(name, "key file"))


def _public_key(name: str) -> PublicKey:
    raw = Path(name).read_bytes()
    if raw.lstrip().startswith(b"-----BEGIN"):
        return public_key_from_pem(raw)
    return public_key_from_jwk(_read_json(name, "key file"))


def _path(pointer: str) -> ClaimPath:
    try:
        return parse_claim_path(pointer)
    except ValueError as exc:
        raise CommandFailed(str(exc), code=2) from exc


def _decode(args: argparse.Namespace) -> int:
    unverified = parse_sd_jwt(_read_text(args.file))
    kb: dict[str, Any] | None = None
    if unverified.kb_jwt is not None:
        try:
            jws = parse_jws(unverified.kb_jwt)
            kb = {"header": jws.header, "payload": jws.unverified_claims()}
        except HonninError as exc:
            kb = {"error": f"{exc.code}: {exc.message}"}
    print_json(
        {
            "verified": False,
            "note": "decoded only: no signature, digest or key binding was checked",
            "serialization": unverified.serialization.value,
            "header": unverified.unverified_header,
            "payload": unverified.unverified_payload,
            "disclosures": [
                {
                    "digest": d.digest,
                    "salt": d.salt,
                    **({} if d.name is None else {"name": d.name}),
                    "value": d.value,
                    "disclosure": d.encoded,
                }
                for d in unverified.disclosures
            ],
            "key_binding_jwt": kb,
        }
    )
    return 0


def _issue(args: argparse.Namespace) -> int:
    claims = _read_json(args.claims, "claims file")
    if not isinstance(claims, dict):
        raise CommandFailed("the claims file must hold a JSON object", code=2)
    if args.sd_all:
        paths: list[ClaimPath] = [(name,) for name in claims if name not in _KEEP_PLAIN]
    else:
        paths = [_path(p) for p in args.sd]
    holder = None if args.holder_key is None else _public_key(args.holder_key)
    header = {"typ": args.typ} if args.typ else None
    try:
        token = issue_sd_jwt(
            claims,
            _private_key(args.key),
            disclosable=paths,
            holder_key=holder,
            decoys=args.decoys,
            header=header,
            serialization=Serialization(args.serialization),
        )
    except (ValueError, TypeError) as exc:
        raise CommandFailed(str(exc), code=2) from exc
    if args.json:
        print_json({"sd_jwt": token})
    else:
        sys.stdout.write(token + "\n")
    return 0


def _present(args: argparse.Namespace) -> int:
    credential = SdJwt.parse(_read_text(args.file))
    holder = None if args.holder_key is None else _private_key(args.holder_key)
    if holder is not None and (args.nonce is None or args.aud is None):
        raise CommandFailed("--holder-key needs --nonce and --aud for the KB-JWT", code=2)
    try:
        text = credential.present(
            [_path(p) for p in args.disclose], holder_key=holder, nonce=args.nonce, aud=args.aud
        )
    except ValueError as exc:
        raise CommandFailed(str(exc), code=2) from exc
    if args.json:
        print_json({"presentation": text})
    else:
        sys.stdout.write(text + "\n")
    return 0


def _verify(args: argparse.Namespace) -> int:
    policy = args.key_binding or ("required" if args.nonce or args.aud else "forbidden")
    if policy == "required" and (args.nonce is None or args.aud is None):
        raise CommandFailed("--key-binding required needs --nonce and --aud", code=2)
    verified = verify_sd_jwt(
        _read_text(args.file),
        _public_key(args.issuer_key),
        key_binding=KeyBinding(policy),
        nonce=args.nonce,
        aud=args.aud,
        now=args.at,
    )
    print_json(verified.claims)
    return 0


def _keygen(args: argparse.Namespace) -> int:
    key = generate_key(JwsAlgorithm(args.alg))
    if args.public_out:
        Path(args.public_out).write_text(json.dumps(jwk_from_public_key(key)) + "\n")
    print_json(jwk_from_private_key(key))
    return 0
