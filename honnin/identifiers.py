"""Random identifiers that people copy into command lines.

A URL-safe token (RFC 4648 §5 alphabet) begins with ``-`` once in 64 draws, and a command
line then reads it as an option (``honnin verifier result -Xy…`` fails). Identifiers that the
CLI prints and takes back (transaction, offer and credential ids) are drawn again until
they do not.
"""

from __future__ import annotations

import secrets

__all__ = ["new_identifier"]


def new_identifier(nbytes: int = 16) -> str:
    """A fresh random identifier of ``nbytes`` random bytes, base64url, never starting with
    ``-`` (from ``secrets``: discarding the draws that start with ``-`` keeps the rest
    uniform)."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if token[0] != "-":
            return token
