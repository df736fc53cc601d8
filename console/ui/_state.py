"""What the pages share: one `Operations` per process, who is asking, and the sidebar.

Streamlit reruns a page's script on every click; building the platform on each rerun would
be slow and leak, so it is an `st.cache_resource` singleton. It has no background duties
(the worker runs jobs, keep-warm and the samplers): the pages read the store and act
through `Operations`. Tests hand the app an `Operations` of their choosing with
`install_operations` instead of patching anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

import pandas as pd
import streamlit as st

from console._disk import store_disk_notice
from console._identity import (
    IAP_ASSERTION_HEADER,
    Identity,
    IdentityError,
    IdentitySettings,
    Role,
    oidc_configured,
    resolve_identity,
)
from console._render import escape_markdown
from console.platforms import LogEntry, ServiceState, ServiceStatus
from console.runtime import build_runtime
from console.service import Operations, WarmUpRecord, live_workers, worker_breaker
from ocr_core import BreakerState

STATE_COLOURS: dict[ServiceState, str] = {
    ServiceState.READY: "green",
    ServiceState.STARTING: "orange",
    ServiceState.DEGRADED: "red",
    ServiceState.DOWN: "gray",
    ServiceState.UNKNOWN: "violet",
}
BREAKER_COLOURS: dict[BreakerState, str] = {
    BreakerState.CLOSED: "green",
    BreakerState.HALF_OPEN: "orange",
    BreakerState.OPEN: "red",
}

T = TypeVar("T")
IAP_HEADER = IAP_ASSERTION_HEADER.lower()
logger = logging.getLogger("console")

_installed: Operations | None = None


def install_operations(operations: Operations | None) -> None:
    """Make every page use `operations` (None goes back to the one built from the environment)."""
    global _installed
    _installed = operations


@st.cache_resource(show_spinner="Opening the platform…")
def _operations_from_env() -> Operations:
    # No background duties here: the worker (python -m console.worker) has them.
    return build_runtime(background=False).operations


def get_operations() -> Operations:
    return _installed if _installed is not None else _operations_from_env()


def current_identity() -> Identity:
    """The person behind this session, verified; the page stops with "not signed in" if not.

    Behind IAP the signed assertion rides on every request (the websocket's too); it is
    verified once per session and per assertion, and re-verified when IAP sends a new one.
    With st.login (an `[auth]` section in the secrets) the person is `st.user`.
    """
    settings = IdentitySettings.from_env()
    if settings.mode == "local" and oidc_configured(_auth_secrets()):
        settings = dataclasses.replace(settings, mode="oidc")  # st.login is set up: use it
    if settings.mode == "local":  # the person at the keyboard: the Operations' own actor
        return Identity(get_operations().actor, Role.OPERATOR, "local")
    headers = dict(st.context.headers)
    if settings.mode == "oidc":  # Streamlit's signed cookie says who, through st.user
        who = repr(sorted(dict(st.user).items()))
    else:
        who = next((v for k, v in headers.items() if k.lower() == IAP_HEADER), None) or ""
    cache_key = hashlib.sha256(who.encode()).hexdigest()
    cached = st.session_state.get("_identity")
    if cached is not None and cached[0] == cache_key and not cached[1].expired(time.time()):
        return cast(Identity, cached[1])
    try:
        if settings.mode == "oidc" and not oidc_configured(_auth_secrets()):
            raise IdentityError("LIGHTONOCR_IDENTITY=oidc needs an [auth] section in secrets.toml")
        oidc_user = dict(st.user) if settings.mode == "oidc" else None
        identity = resolve_identity(settings, headers, oidc_user=oidc_user)
    except IdentityError as refusal:
        logger.warning("refused a console session: %s", refusal)  # the reason, never the token
        st.title("Not signed in")
        st.error(escape_markdown(str(refusal)))
        if settings.mode == "oidc" and oidc_configured(_auth_secrets()):
            if st.user.is_logged_in:
                st.button("Sign out", key="identity_sign_out", on_click=st.logout)
            else:
                st.button("Sign in", key="identity_sign_in", on_click=st.login)
        st.stop()
    st.session_state["_identity"] = (cache_key, identity)
    return identity


def _auth_secrets() -> dict[str, object] | None:
    """The `[auth]` section of Streamlit's secrets, or None (no secrets file at all is fine)."""
    try:
        auth = st.secrets.get("auth")
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return None
    return auth.to_dict() if hasattr(auth, "to_dict") else (dict(auth) if auth else None)


_status_lock = threading.Lock()
_last_status: dict[int, tuple[float, ServiceStatus]] = {}


def read_status(operations: Operations, *, max_age_s: float = 0.0) -> ServiceStatus:
    """The service status; UNKNOWN, saying why, when it could not be read (a page must still
    render). With `max_age_s`, a status read that recently (by any page of this process) is
    reused: the sidebar redraws every few seconds and must not double the page's calls."""
    key = id(operations)
    if max_age_s > 0:
        with _status_lock:
            cached = _last_status.get(key)
        if cached is not None and time.monotonic() - cached[0] <= max_age_s:
            return cached[1]
    try:
        status = operations.status()
    except Exception as error:  # a platform outage must not take the console down with it
        status = ServiceStatus.unreadable(operations.platform.service_url, error)
    with _status_lock:
        _last_status[key] = (time.monotonic(), status)
    return status


def keep_warm_notices(
    operations: Operations, status: ServiceStatus
) -> tuple[str | None, str | None]:
    """(countdown, warning) of keep-warm for the page and the sidebar; (None, None) when the
    store cannot be read (the page still renders)."""
    try:
        return operations.keep_warm.notices(status.min_instances)
    except Exception as error:
        logger.warning("keep-warm state unreadable: %s", error)
        return None, None


def platform_call(call: Callable[[], T], what: str) -> T | None:
    """A read from the platform (logs, metrics), or None after saying in the page why not.

    Cloud APIs fail (permissions, quotas, outages); the page must say so, not show a traceback.
    """
    try:
        return call()
    except Exception as error:
        st.error(f"{what} unavailable: {escape_markdown(f'{type(error).__name__}: {error}')}")
        return None


# How often the sidebar's status redraws on its own, and how old a status it may reuse.
SIDEBAR_REFRESH_S = 15.0
SIDEBAR_STATUS_MAX_AGE_S = 5.0


@st.fragment(run_every=SIDEBAR_REFRESH_S)
def _sidebar_status() -> None:
    """Service state, keep-warm countdown and breaker: redrawn every SIDEBAR_REFRESH_S without
    rerunning the page. Only reads: the status (reused if a page just read it), two store
    rows and the breaker's in-memory state."""
    operations = get_operations()
    status = read_status(operations, max_age_s=SIDEBAR_STATUS_MAX_AGE_S)
    st.badge(f"service: {status.state.value}", color=STATE_COLOURS[status.state])
    if status.state is ServiceState.UNKNOWN:
        st.error(escape_markdown(status.detail))
    elif status.revision == "external":  # documents go to a program this console did not start
        st.warning(escape_markdown(status.detail), icon=":material/warning:")
    pending, warning = keep_warm_notices(operations, status)
    if pending:
        st.caption(f":material/timer: {pending}")
    if warning:
        st.warning(warning, icon=":material/payments:")
    if full := store_disk_notice(operations.store):  # before "worker: not running": why
        st.error(escape_markdown(full), icon=":material/hard_drive:")
    workers = live_workers(operations.store)
    if not workers:
        st.badge("worker: not running", color="red")
        st.caption(
            "Jobs wait and keep-warm is not reverted until `python -m console` (or "
            "`python -m console.worker`) runs."
        )
    # The worker's breaker when one runs: job pages go through it, not through this process.
    snapshot = worker_breaker(operations.store) or operations.breaker.snapshot()
    label = f"breaker: {snapshot.state.value.replace('_', '-')}"
    if snapshot.state is BreakerState.OPEN:
        wait = snapshot.retry_in_s
        label += f" (next probe in {wait:.0f} s)" if wait >= 1 else " (the next page probes)"
    st.badge(label, color=BREAKER_COLOURS[snapshot.state])
    if snapshot.last_error and snapshot.state is not BreakerState.CLOSED:
        st.caption(f"last error: {escape_markdown(snapshot.last_error)}")
    st.caption(f"Checked {time.strftime('%H:%M:%S', time.gmtime())} UTC")


def render_sidebar() -> None:
    """Platform, service URL, service state and breaker state, on every page."""
    operations = get_operations()
    with st.sidebar:
        st.markdown("### LightOnOCR console")
        identity = current_identity()
        st.caption(f"Signed in as **{escape_markdown(identity.name)}** · {identity.role.value}")
        if identity.source == "oidc":
            st.button("Sign out", key="sidebar_sign_out", on_click=st.logout)
        st.caption("Platform")
        st.markdown(f"**{operations.platform.name}**")
        st.code(operations.platform.service_url, language=None)
        _sidebar_status()
        st.button("Refresh", key="sidebar_refresh", icon=":material/refresh:")


class LogBuffer:
    """Log entries held by the Logs page, newest first, never more than `cap`."""

    def __init__(self, cap: int, entries: Iterable[LogEntry] = ()) -> None:
        self._entries: deque[LogEntry] = deque(list(entries)[:cap], maxlen=cap)

    def add(self, entries_oldest_first: Iterable[LogEntry]) -> int:
        """Put newly tailed entries on top; the oldest fall off past the cap. Returns how many."""
        added = 0
        for entry in entries_oldest_first:
            self._entries.appendleft(entry)
            added += 1
        return added

    def entries(self) -> list[LogEntry]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def warm_up_outcome(record: WarmUpRecord) -> str:
    """What one warm-up found, in the words of the history tables."""
    if record.cold:
        return "cold start"
    return "already warm" if record.ready else "not ready"


def warm_up_table(records: Iterable[WarmUpRecord]) -> pd.DataFrame:
    """The warm-up history as the Service and Metrics pages show it (each picks its columns).

    The outcome says what the seconds are: a cold-start time, a warm service's answer time,
    or how long the warm-up waited before giving up.
    """
    return pd.DataFrame(
        [
            {
                "when": record.at,
                "platform": record.platform,
                "outcome": warm_up_outcome(record),
                "seconds": round(record.seconds, 2),
                "health checks": record.attempts,
                "error": record.error or "",
            }
            for record in records
        ],
        columns=["when", "platform", "outcome", "seconds", "health checks", "error"],
    )
