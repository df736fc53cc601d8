"""Which hosts are this machine: the one spelling of loopback the console uses everywhere.

The local OCR server binds `LOOPBACK_ADDRESS`; a LIGHTONOCR_SERVICE_URL on a loopback host
selects the local platform; the console itself listens only on loopback and answers only
requests whose Host header names it that way (see `console/_host_guard.py`).
"""

from __future__ import annotations

import ipaddress

LOOPBACK_ADDRESS = "127.0.0.1"
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str | None) -> bool:
    """True for `localhost` and any loopback IP (127.0.0.0/8, ::1), bracketed or not."""
    if not host:
        return False
    name = host.strip().removeprefix("[").removesuffix("]").casefold()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
