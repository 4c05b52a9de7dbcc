"""The pages of the authorization endpoint: what is to be issued, to which wallet, with an
approve and a decline button (``issuer._authorization``). Plain HTML, every value escaped,
no script; the form carries a one-time decision token, so it cannot be forged from another
site (the page is never framed: ``X-Frame-Options``, CSP ``frame-ancestors``).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from honnin.credential_types import CredentialType

from ._authorization import Pending

__all__ = ["approval_error_page", "approval_page"]

_STYLE = "body{font-family:sans-serif;max-width:32em;margin:2em auto}button{margin:.5em}"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def approval_page(
    issuer_name: str, credential_type: CredentialType, pending: Pending, token: str
) -> str:
    """The approval page for one pushed authorization request."""
    wallet_host = urlsplit(pending.redirect_uri).hostname or urlsplit(pending.redirect_uri).scheme
    name = f"{credential_type.name('ja')} / {credential_type.name('en')}"
    return _page(
        f"{issuer_name}: {name}",
        f"<h1>{escape(issuer_name)}</h1>"
        f"<p>発行する証明書 / to be issued: <strong>{escape(name)}</strong></p>"
        f"<p>ウォレット / to the wallet: <strong>{escape(pending.client_id)}</strong>"
        f" ({escape(wallet_host)})</p>"
        '<form method="post">'
        f'<input type="hidden" name="decision_token" value="{escape(token, quote=True)}">'
        '<button type="submit" name="approve" value="yes">発行する / Approve</button>'
        '<button type="submit" name="approve" value="no">発行しない / Decline</button>'
        "</form>",
    )


def approval_error_page(message: str) -> str:
    """A page for a request the endpoint refuses (it never redirects then)."""
    return _page(
        "authorization request refused",
        f"<h1>authorization request refused</h1><p>{escape(message)}</p>",
    )
