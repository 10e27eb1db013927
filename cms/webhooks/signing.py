"""Signing webhook payloads: HMAC-SHA256 over ``{timestamp}.{body}``, keyed by the secret.

Every request carries ``X-CMS-Signature: t=<unix seconds>,v1=<hex digest>``. The timestamp is
the moment of that attempt (a retry is signed anew), so a receiver can refuse requests older
than a few minutes and a captured request cannot be replayed later. ``v1`` names the scheme;
a future scheme would be added beside it (``t=...,v1=...,v2=...``) so that receivers can move
over without a flag day.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "signature", "signature_header", "verify"]

SIGNATURE_HEADER = "X-CMS-Signature"
# How old a signed timestamp ``verify`` accepts by default, in seconds.
DEFAULT_TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``{timestamp}.{body}`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at most ``tolerance`` seconds ago.

    What a receiver written in Python runs; the README shows the same steps.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))
