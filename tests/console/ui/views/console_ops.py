"""The console's pages on a real local platform: the simulated engine on a free port, a tmp
data folder, handed to the app with `install_operations` (dependency injection, no patching)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from console._identity import Identity, Role
from console.platforms._base import ServiceState
from console.runtime import Runtime
from console.service import Operations
from console.ui._state import install_operations
from console.worker import Worker
from tests.console.local_platform import local_platforms
from tests.waits import wait_until

CONSOLE = Path(__file__).resolve().parents[4] / "console" / "ui"
APP = CONSOLE / "app.py"
VIEWS = CONSOLE / "views"
# Generous for a shared 2-core machine; runs take well under a second when idle.
RUN_TIMEOUT_S = 60


@contextmanager
def installed_operations(
    data_dir: Path, *, worker: bool = True, **platform_options: Any
) -> Iterator[Operations]:
    """Operations over a LocalPlatform (floor 1 unless told) that every page will use, with
    a worker beside it as `python -m console` runs one (its runner reads the jobs)."""
    with local_platforms(data_dir) as make:
        platform = make(**{"default_floor": 1, **platform_options})
        if platform.floor >= 1:  # tests start from a warm service unless they ask otherwise
            assert wait_until(lambda: platform.status().state is ServiceState.READY)
        operations = Operations(platform, platform.store, actor="qa-tester")
        install_operations(operations)
        running = Worker(Runtime(operations), poll_s=0.05).start() if worker else None
        try:
            yield operations
        finally:
            if running is not None:
                running.stop()
            install_operations(None)


def page(name: str) -> AppTest:
    """One page file on its own, as `streamlit run console/ui/views/<name>.py` would run it."""
    return AppTest.from_file(VIEWS / f"{name}.py", default_timeout=RUN_TIMEOUT_S)


def as_viewer(at: AppTest, monkeypatch: Any) -> AppTest:
    """The page for an IAP session already verified as a viewer (verification is
    test_identity's)."""
    monkeypatch.setenv("LIGHTONOCR_IDENTITY", "iap")
    monkeypatch.setenv("LIGHTONOCR_IAP_AUDIENCE", "/projects/1/locations/r/services/console")
    viewer = Identity("viewer@bank.example", Role.VIEWER, "iap")
    at.session_state["_identity"] = (hashlib.sha256(b"").hexdigest(), viewer)
    return at


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)


# AppTest element types that carry text. Reading `.value` of any other element is not safe:
# an element AppTest has no class for (a chart, at streamlit 1.61) looks its value up in the
# widget state and raises KeyError.
TEXT_ELEMENTS = frozenset(
    {
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "text",
        "error",
        "warning",
        "info",
        "success",
        "exception",
    }
)


def text_of(element: Any) -> str | None:
    """The element's text when it is a text element, else None."""
    if getattr(element, "type", None) in TEXT_ELEMENTS:
        value = element.value
        return value if isinstance(value, str) else None
    return None
