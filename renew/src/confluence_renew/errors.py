"""The renew errors: one clear line each, never holding a credential value."""

from __future__ import annotations

from collections.abc import Iterable

from confluence_core.errors import ConfluenceError


class RenewError(ConfluenceError):
    """Renewal or schedule management failed for a reason the operator can act on."""


class LoginRefusedError(RenewError):
    """Earthdata Login refused the user name and password (HTTP 401/403 or its login page)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every occurrence of a (non-trivial) secret replaced by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
