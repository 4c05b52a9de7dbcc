"""The ``honnin`` command line.

Core sub-commands (``sd-jwt``, ``mdoc``, ``trust``, ...) are registered from the core
modules listed in ``_CORE_COMMANDS``; the roles (``issuer``, ``wallet``, ``verifier``) and
the demo add theirs through the ``honnin.commands`` entry-point group, so the core never
imports a role.

The conventions every command follows (``docs/CLI.md``) live here so they are written once:

* ``honnin GROUP COMMAND [options]``: options go after the command name. Options that the
  commands of a group share are defined once (``shared_options``) and listed in each
  command's ``--help``.
* ``--json`` (``add_json_option``): on success, exactly one JSON document on stdout (an
  object; an array of objects for a listing).
* Failures: ``error: <code>: <message>`` on stderr, nothing on stdout, exit status 1 (2 for
  a usage error) - with or without ``--json``.
* Progress and notices go to stderr (``progress``), so stdout stays parseable.
* ``--trust-list FILE`` / ``--trust-anchor PEM`` (``add_trust_options``, ``load_trust``)
  mean the same wherever something is verified.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from honnin import __version__
from honnin.errors import HonninError

if TYPE_CHECKING:
    from cryptography import x509

    from honnin.trust import TrustList

__all__ = [
    "CommandFailed",
    "Progress",
    "Subparsers",
    "Trust",
    "add_command",
    "add_group",
    "add_json_option",
    "add_serve_options",
    "add_trust_options",
    "load_settings",
    "load_trust",
    "main",
    "print_json",
    "progress",
    "serve_app",
    "shared_options",
]

#: Core modules with a ``register(subparsers)`` function.
_CORE_COMMANDS: tuple[str, ...] = ("honnin.trust._cli", "honnin.mdoc._cli", "honnin.sdjwt._cli")

#: What ``register(subparsers)`` receives and what ``add_group`` returns.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: What ``--trust-list`` / ``--trust-anchor`` load to: a trust list, or bare anchors.
Trust: TypeAlias = "TrustList | list[x509.Certificate]"
Register = Callable[[Subparsers], None]
_Options: TypeAlias = "argparse._ActionsContainer"


class CommandFailed(Exception):
    """Raised by a sub-command to exit with ``code`` after printing
    ``error: <reason>: <message>`` on stderr.

    ``reason`` is a short snake_case word a script can match (like ``HonninError.code``);
    it defaults to ``usage`` for exit status 2 and ``failed`` otherwise.
    """

    def __init__(self, message: str, code: int = 1, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = code
        self.reason = reason or ("usage" if code == 2 else "failed")


_S_co = TypeVar("_S_co", covariant=True)


class SettingsSource(Protocol[_S_co]):
    """What a service's settings class offers (``IssuerSettings``, ``VerifierSettings``)."""

    def from_file(self, path: str, **overrides: Any) -> _S_co: ...

    def from_environment(self, **overrides: Any) -> _S_co: ...


def load_settings(
    source: SettingsSource[_S_co], config: str | None, overrides: dict[str, Any]
) -> _S_co:
    """A service's settings from ``config`` (a TOML or JSON file) or the environment, with
    ``overrides`` (the command's flags) on top; a renamed setting's ``FutureWarning`` is
    shown as a progress line.

    Raises:
        CommandFailed: the settings do not validate (reason ``invalid_settings``).
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)
            if config:
                settings = source.from_file(config, **overrides)
            else:
                settings = source.from_environment(**overrides)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise CommandFailed(f"{exc}", reason="invalid_settings") from exc
    for warning in caught:
        progress(f"warning: {warning.message}")
    return settings


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (UTF-8 kept readable): a command's whole
    ``--json`` output."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def progress(message: str) -> None:
    """A progress line or notice for the person at the terminal, on stderr, so that stdout
    carries only the result (text, or the ``--json`` object)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Progress:
    """A count of long work (``Progress("QR codes", 500)``) on stderr: one line rewritten in
    place on a terminal, only the final line otherwise (logs stay short)."""

    def __init__(self, what: str, total: int) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self._live = sys.stderr.isatty()

    def step(self) -> None:
        """One more item done."""
        self.done += 1
        if self._live:
            sys.stderr.write(f"\r{self.what}: {self.done}/{self.total}")
            sys.stderr.flush()

    def finish(self, message: str) -> None:
        """End the count with ``message`` on its own line."""
        if self._live and self.done:
            sys.stderr.write("\r\x1b[K")
        progress(message)


# -- building commands --------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions are filled by ``add_command`` (paragraphs kept); the epilog's examples
    are printed as written."""


def _fill(text: str) -> str:
    width = max(min(shutil.get_terminal_size().columns, 100) - 2, 40)
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(textwrap.fill(p, width) for p in paragraphs if p)


def add_command(
    subparsers: Subparsers,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str] = (),
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.ArgumentParser:
    """Add a command with its one-line ``help`` (listed by its parent's ``--help``), a
    ``description`` (paragraphs separated by blank lines) and ``examples`` (shown as
    written under "examples:")."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    return subparsers.add_parser(
        name,
        help=help,
        description=_fill(description),
        epilog=epilog,
        parents=list(parents),
        formatter_class=_Formatter,
    )


def add_group(
    subparsers: Subparsers,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str] = (),
) -> tuple[argparse.ArgumentParser, Subparsers]:
    """Add a command group (``honnin issuer``, ...): its parser and the action its
    commands are added to with ``add_command``."""
    parser = add_command(subparsers, name, help=help, description=description, examples=examples)
    commands = parser.add_subparsers(
        title="commands",
        dest=f"{name.replace('-', '_')}_command",
        metavar="COMMAND",
        required=True,
    )
    return parser, commands


def shared_options(
    title: str,
    define: Callable[[_Options], None],
    *,
    also_before: argparse.ArgumentParser | None = None,
) -> argparse.ArgumentParser:
    """A parent parser (``add_command(..., parents=[...])``) with the options a group's
    commands share, defined once by ``define`` and shown under ``title`` in each command's
    ``--help``.

    The options go after the command name, like any other. With ``also_before`` (the group's
    parser) they are accepted between the group and the command name too, as older scripts
    wrote them (``honnin wallet --wallet W list``); a value given there is kept unless the
    same option is given again after the command name.
    """
    parent = argparse.ArgumentParser(add_help=False)
    define(parent.add_argument_group(title))
    if also_before is not None:
        define(also_before.add_argument_group(title))
        # argparse copies the command's namespace over the group's: without this, the
        # command's defaults would overwrite what was given before the command name.
        for action in parent._actions:
            action.default = argparse.SUPPRESS
    return parent


def add_json_option(parser: _Options, *, always: bool = False) -> None:
    """``--json``: the result as one JSON document on stdout instead of text. ``always``:
    the command prints JSON anyway and accepts the flag so that scripts can pass it to
    every command."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="JSON output (the default for this command)"
        if always
        else "print the result as JSON on stdout instead of text",
    )


def add_serve_options(parser: _Options, *, port: int) -> None:
    """The options of a service's ``serve`` command: where to listen and what to log.
    Unset, they fall back to the settings (file, environment, defaults)."""
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"listen port (default {port})")
    parser.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default info)",
    )
    parser.add_argument("--no-access-log", action="store_true", help="no log line per HTTP request")


class _ServeSettings(Protocol):
    """What ``serve_app`` reads from a service's settings."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def log_level(self) -> str: ...
    @property
    def access_log(self) -> bool: ...


def serve_app(app: Any, settings: _ServeSettings) -> None:
    """Serve an ASGI ``app`` with uvicorn until the process is stopped (a ``serve`` command).

    Everything built before (modules, keys, catalogue, metadata) lives as long as the process:
    it is kept out of the cyclic collector's full passes, which otherwise scan it every few
    hundred requests and stall every answer waiting behind them.
    """
    import gc

    import uvicorn  # only a serve command needs it: the rest of the CLI starts without it

    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        # No "server: uvicorn" banner: nothing a client needs, something a scanner uses.
        server_header=False,
    )


def add_trust_options(parser: _Options, *, anchors_for: str = "issuers") -> None:
    """``--trust-list FILE`` and ``--trust-anchor PEM`` (repeatable), the one meaning of
    trust configuration on the command line; read them back with ``load_trust``."""
    parser.add_argument(
        "--trust-list",
        metavar="FILE",
        help="a trust list (JSON, 'honnin trust init' writes one): the trust anchors, who"
        " may issue which credential type, the verifier access anchors",
    )
    parser.add_argument(
        "--trust-anchor",
        action="append",
        metavar="PEM",
        help=f"a PEM file of root certificates trusted for {anchors_for}, without"
        " entitlements (repeatable; instead of --trust-list)",
    )


def load_trust(
    args: argparse.Namespace, *, required: bool = False, list_env: str | None = None
) -> Trust | None:
    """What ``--trust-list`` or ``--trust-anchor`` name (``list_env``: a variable that
    stands in for ``--trust-list``); ``None`` when neither is given and not ``required``.

    Raises:
        CommandFailed: both, or (``required``) neither, are given.
        HonninError: the trust list or a certificate file is malformed.
        OSError: a file cannot be read.
    """
    from honnin.trust import TrustList, load_certificates

    list_file = getattr(args, "trust_list", None) or (os.environ.get(list_env or "") or None)
    anchor_files: list[str] = getattr(args, "trust_anchor", None) or []
    if list_file and anchor_files:
        raise CommandFailed("give --trust-list or --trust-anchor, not both", code=2)
    if list_file:
        return TrustList.load(Path(list_file))
    if anchor_files:
        return [c for name in anchor_files for c in load_certificates(Path(name).read_bytes())]
    if required:
        raise CommandFailed("give --trust-list FILE or --trust-anchor PEM", code=2)
    return None


# -- running ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="honnin",
        description="Verifiable credentials that flow through the person: issue, hold, present"
        " and verify SD-JWT VC and ISO mdoc credentials over OpenID4VCI / OpenID4VP.",
        epilog="Run 'honnin COMMAND --help' for a command's options. Results go to stdout"
        " (JSON with --json), progress and errors to stderr; the exit status is 0 on"
        " success, 1 on failure, 2 on a usage error. Conventions and settings: docs/CLI.md.",
    )
    parser.add_argument("--version", action="version", version=f"honnin {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module_name in _CORE_COMMANDS:
        register: Register = importlib.import_module(module_name).register
        register(subparsers)
    for ep in sorted(entry_points(group="honnin.commands"), key=lambda e: e.name):
        ep.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except HonninError as exc:
        sys.stderr.write(f"error: {exc.code}: {exc.message}\n")
        return 1
    except CommandFailed as exc:
        sys.stderr.write(f"error: {exc.reason}: {exc}\n")
        return exc.exit_code
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename is not None else ""
        sys.stderr.write(f"error: io_error: {exc.strerror or exc}{where}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted: stopped before the command finished\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
