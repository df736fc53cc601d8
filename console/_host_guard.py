"""The console serves only this machine, however it was started.

The console can scale and stop the service and read its logs with the operator's
credentials, and it has no login of its own. So:

- It must listen on loopback. `dev.py console` and `.streamlit/config.toml` say so, but
  `streamlit run /path/console/ui/app.py` from another folder reads neither and listens on
  every interface; the app then refuses to serve at all and says how to start it.
- It must answer only requests that name it as this machine. A page on attacker.example
  can re-point its own name at 127.0.0.1 (DNS rebinding): the browser then sends
  `Host: attacker.example` with a matching Origin, which Streamlit's same-origin check
  accepts. Streamlit's `server.allowedHosts` refuses such a websocket handshake (set by
  `dev.py` and the config file); the app checks the session's Host header itself as well,
  for consoles started without that option.

A console shared behind an authenticating proxy names the proxy's host names in
`LIGHTONOCR_CONSOLE_HOSTS` (comma-separated); those are then allowed too, and listening
on a non-loopback address is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from console._loopback import LOOPBACK_ADDRESS, is_loopback
from console.settings import CONSOLE_HOSTS, ConsoleSettings

HOSTS_ENV = CONSOLE_HOSTS.name
# Streamlit's `server.allowedHosts` for a console on loopback (the port is ignored).
LOOPBACK_ALLOWED_HOSTS = ("localhost", LOOPBACK_ADDRESS, "::1")
START_HINT = "python3 dev.py console (or python -m console, which listens on 127.0.0.1)"


def extra_hosts(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Host names an operator allowed on top of loopback (a proxy in front of the console)."""
    return frozenset(ConsoleSettings.from_env(env).console_hosts)


def _host_name(host_header: str) -> str | None:
    """The name in a Host header (`name`, `name:port`, `[::1]:port`), or None if malformed."""
    try:
        parsed = urlsplit(f"//{host_header.strip()}")
        _ = parsed.port  # validates the port
    except ValueError:
        return None
    if parsed.username or parsed.password or parsed.path or parsed.query or parsed.fragment:
        return None
    return parsed.hostname.rstrip(".") if parsed.hostname else None


def refusal(
    *, bound_address: str | None, host_header: str | None, allowed: frozenset[str] = frozenset()
) -> str | None:
    """Why this request must not be served, or None when it may be.

    `bound_address` is Streamlit's `server.address` (empty = every interface);
    `host_header` is the session's Host header. None means no HTTP request carried one (a
    script run without a browser, or a client that reached the loopback socket directly
    without HTTP/1.1): a rebinding page always sends its own name, so only a named host is
    checked.
    """
    if not allowed and not is_loopback(bound_address):
        where = bound_address or "every network interface"
        return (
            f"This console is listening on {where}, where anyone who reaches it could scale "
            f"the service and read its logs: it only serves on loopback. Start it with "
            f"`{START_HINT}`, or name the host of an authenticating proxy in `{HOSTS_ENV}`."
        )
    if host_header is None:
        return None
    name = _host_name(host_header)
    if name is None or not (is_loopback(name) or name.casefold() in allowed):
        return (
            f"Refused: this console answers only requests addressed to this machine "
            f"(localhost, {LOOPBACK_ADDRESS}), not to {host_header or 'no host'}."
        )
    return None
