"""Who may look and act: a token turned into a session cookie, and CSRF protection.

The server prints a login link carrying its token. Visiting it sets an HttpOnly, SameSite=Strict
session cookie derived from the token; every page needs that cookie. Every action is a POST
that must carry a CSRF value derived from the session, and its Origin (when the browser sends
one) must be this server.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

SESSION_COOKIE = "rw_session"


def new_token() -> str:
    """A fresh random token for a server run."""
    return secrets.token_urlsafe(24)


def _mac(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The session cookie value for this server's token."""
    return _mac(token, "session")


def csrf_value(token: str) -> str:
    """The CSRF value forms must carry."""
    return _mac(token, "csrf")


def same(a: str | None, b: str) -> bool:
    """Constant-time comparison that treats None as a mismatch."""
    return a is not None and hmac.compare_digest(a, b)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
