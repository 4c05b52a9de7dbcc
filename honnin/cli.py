"""The ``honnin`` command line.

Core sub-commands (``sd-jwt``, ``mdoc``, ``trust``, ...) are registered from the core
modules listed in ``_CORE_COMMANDS``; the roles (``issuer``, ``wallet``, ``verifier``) and
the demo add theirs through the ``honnin.commands`` entry-point group, so the core never
imports a role.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from honnin import __version__
from honnin.errors import HonninError

__all__ = ["CommandFailed", "main", "print_json"]

#: Core modules with a ``register(subparsers)`` function.
_CORE_COMMANDS: tuple[str, ...] = ("honnin.trust._cli", "honnin.mdoc._cli", "honnin.sdjwt._cli")

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


class CommandFailed(Exception):
    """Raised by a sub-command to exit with ``code`` after printing ``message`` on stderr."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (UTF-8 kept readable)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="honnin",
        description="Verifiable credentials that flow through the person: issue, hold, present"
        " and verify SD-JWT VC and ISO mdoc credentials over OpenID4VCI / OpenID4VP.",
    )
    parser.add_argument("--version", action="version", version=f"honnin {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
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
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except OSError as exc:
        sys.stderr.write(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
