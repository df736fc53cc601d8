"""The embedded default platform: the local OCR server as a child process on loopback.

The local "service" is one process, so scaling is 0 or 1: a floor of 1 starts it, 0 stops
it (SIGTERM, then SIGKILL after a grace period), and the ceiling is fixed at 1. The floor is
kept in the store, so a restart brings the service back as it was (no floor: started).

Lifetime. The worker's platform (`background`) keeps the server up and samples it, and
`close()` stops it; the UI's adopts the server the store records and acts only when asked.
A server a dead console left is adopted (`_local_process`); one somebody else started on
the port is used and reported as "external", but never stopped.

The parts live beside this file: `_local_process` (start, stop, adopt), `_local_logs` (the
server log), `_local_metrics` (the sampler thread) and `_local_revisions` (the one
pseudo-revision, requests in flight). This module judges status, scales and warms up.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from console._loopback import LOOPBACK_ADDRESS
from console._store import Sample, Store
from console.platforms._base import (
    ActionResult,
    LogEntry,
    LogQuery,
    LogTail,
    MetricSeries,
    Platform,
    Revision,
    ServiceState,
    ServiceStatus,
    WarmUpMeasurement,
)
from console.platforms._local_logs import (
    LOG_NAME,
    LocalLogTail,
    exit_reason,
    follow,
    recent_entries,
)
from console.platforms._local_metrics import LocalMetrics
from console.platforms._local_process import PID_SETTING, PortTaken, ServerProcess, Supervisor
from console.platforms._local_revisions import (
    TRAFFIC_UNAVAILABLE,
    pseudo_revision,
    scrape_in_flight,
)
from console.platforms._local_status import unmanaged_status
from console.platforms._local_warm_up import probe_ocr, wait_for_health
from console.platforms._port_holder import port_holder
from ocr_core import HEALTH_PATH, MODELS_PATH, ClientSettings

__all__ = ["FLOOR_SETTING", "LOG_NAME", "NAME", "PID_SETTING", "LocalPlatform"]

NAME = "local"
FLOOR_SETTING = "local.floor"


class LocalPlatform(Platform):
    """The local OCR server on loopback, started and stopped as a child process."""

    name = NAME
    progress_tick_s = 0.25
    in_flight_source = "requests running or waiting in the server (its /metrics)"

    def __init__(
        self,
        *,
        host: str = LOOPBACK_ADDRESS,
        port: int = 8000,
        data_dir: Path,
        server_args: Sequence[str] = (),
        store: Store,
        sample_interval_s: float = 5.0,
        python: str = sys.executable,
        default_floor: int = 1,
        stop_grace_s: float = 10.0,
        log_max_bytes: int = 10 << 20,
        client_settings: ClientSettings | None = None,
        background: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / LOG_NAME
        self.server_args = tuple(server_args)
        self.store = store
        self.sample_interval_s = sample_interval_s
        self._client_settings = client_settings or ClientSettings()
        self._lock = threading.RLock()
        self._http = httpx.Client(timeout=httpx.Timeout(2.0, connect=1.0))
        self._ready_since: datetime | None = None
        self._model: str | None = None
        self._tails: list[LocalLogTail] = []
        self._process = Supervisor(
            python=python,
            host=host,
            port=port,
            server_args=self.server_args,
            log_path=self.log_path,
            store=store,
            stop_grace_s=stop_grace_s,
            log_max_bytes=log_max_bytes,
        )
        self._metrics = LocalMetrics(
            platform=NAME,
            service_url=self.service_url,
            http=self._http,
            store=store,
            log_path=self.log_path,
            interval_s=sample_interval_s,
            server_alive=lambda: self._process.own_alive,
        )
        self._floor = int(self.store.get_setting(FLOOR_SETTING, default_floor))
        self._process.adopt(say=background)
        self.background = background
        if background:
            if self._floor >= 1 and not self._process.own_alive and self._health() is None:
                with contextlib.suppress(PortTaken):  # status says so, with who holds it
                    self._start()
            self._metrics.start()

    def __repr__(self) -> str:
        return f"LocalPlatform(url={self.service_url!r}, data_dir={str(self.data_dir)!r})"

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def floor(self) -> int:
        return self._floor

    def client_settings(self) -> ClientSettings:
        """The given settings (timeouts, concurrency...) aimed at this server, without auth."""
        args = list(self.server_args)
        model = self._client_settings.model
        if "--served-model-name" in args[:-1]:
            model = args[args.index("--served-model-name") + 1]
        return replace(
            self._client_settings, base_url=self.service_url, model=model, auth="none", token=None
        )

    def _health(self) -> int | None:
        """The /health status code, or None when nothing answers on the port."""
        try:
            return self._http.get(f"{self.service_url}{HEALTH_PATH}").status_code
        except httpx.HTTPError:
            return None

    def _start(self) -> ServerProcess:
        server = self._process.start()
        self._ready_since = None
        self._model = None
        return server

    def _stop(self, server: ServerProcess) -> str:
        how = self._process.stop(server)
        self._ready_since = None
        return how

    def _observed_ready(self) -> None:
        if self._ready_since is None:
            self._ready_since = datetime.now(UTC)

    # --- status --------------------------------------------------------------------------------

    def _model_name(self) -> str | None:
        if self._model is None:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
                response = self._http.get(f"{self.service_url}{MODELS_PATH}")
                response.raise_for_status()
                self._model = str(response.json()["data"][0]["id"])
        return self._model

    def status(self) -> ServiceStatus:
        with self._lock:
            if not self._process.own_alive:  # the worker (or another console) may have one
                self._process.adopt()
            server = self._process.server
            code = self._health()

            def make(state: ServiceState, detail: str, revision: str | None) -> ServiceStatus:
                return ServiceStatus(
                    state=state,
                    url=self.service_url,
                    model=self._model,
                    revision=revision,
                    min_instances=self._floor,
                    max_instances=1,
                    gpu=None,
                    ready_since=self._ready_since if state is ServiceState.READY else None,
                    detail=detail,
                )

            if server is not None and server.alive:
                revision = f"pid {server.pid}"
                if code == 200:
                    self._observed_ready()
                    if self._model_name() is None:
                        return make(
                            ServiceState.DEGRADED,
                            f"Health is OK but {MODELS_PATH} does not answer.",
                            revision,
                        )
                    failing = self._metrics.recent_failures()
                    if failing:
                        return make(ServiceState.DEGRADED, failing, revision)
                    return make(ServiceState.READY, "Local OCR server is answering.", revision)
                elapsed = time.monotonic() - server.started_monotonic
                return make(
                    ServiceState.STARTING,
                    f"Process running for {elapsed:.0f} s; the engine is loading.",
                    revision,
                )
            if server is not None and not server.stopping:
                exit_code = server.exit_code()
                if exit_code:
                    why = exit_reason(self.log_path, server.started_at)
                    return make(
                        ServiceState.DEGRADED,
                        f"The OCR server exited with code {exit_code}"
                        + (f": {why}" if why else "")
                        + ". See the Logs page; Warm up starts it again.",
                        f"pid {server.pid} (exited)",
                    )
            state, detail, revision = unmanaged_status(
                code, port_holder(self.port), self.port, self._floor
            )
            if state is ServiceState.READY:
                self._observed_ready()
            elif code is None:
                self._ready_since = None
            return make(state, detail, revision)

    def accepting_work(self) -> bool:  # not while loading: its jobs wait, not fail on 503s
        return self.status().state is not ServiceState.STARTING

    # --- scale ---------------------------------------------------------------------------------

    def scale(self, *, min_instances: int, max_instances: int | None = None) -> ActionResult:
        if min_instances < 0 or min_instances > 1:
            return ActionResult(
                False,
                f"The local platform runs one OCR server: the floor can be 0 (stopped) or 1 "
                f"(running), not {min_instances}.",
            )
        if max_instances is not None and max_instances < max(min_instances, 1):
            return ActionResult(
                False, f"The ceiling ({max_instances}) must be at least 1 and not below the floor."
            )
        note = " The ceiling stays 1: locally there is only one server process."
        note = note if max_instances is not None and max_instances > 1 else ""
        with self._lock:
            self._floor = min_instances
            self.store.set_setting(FLOOR_SETTING, min_instances)
            server = self._process.server
            if min_instances == 0:
                if server is not None and server.alive:
                    how = self._stop(server)
                    self._process.server = None
                    return ActionResult(True, f"Local OCR server (pid {server.pid}) {how}." + note)
                self._process.server = None
                if self._health() is not None:
                    return ActionResult(
                        False,
                        f"The server on port {self.port} was not started by this console, so it "
                        "cannot be stopped from here: stop it where it was started. Floor set "
                        "to 0.",
                    )
                return ActionResult(True, "Floor set to 0; the server was already stopped." + note)
            if server is not None and server.alive:
                return ActionResult(True, f"Already running (pid {server.pid})." + note)
            if self._health() is not None:
                return ActionResult(
                    True,
                    f"An external OCR server already answers on port {self.port}; the console "
                    "uses it." + note,
                )
            try:
                started = self._start()
            except PortTaken as taken:
                return ActionResult(False, f"Not started: {taken}.")
            return ActionResult(
                True,
                f"Started the local OCR server (pid {started.pid}); it is loading its engine. "
                "Warm up to wait for it." + note,
            )

    def measure_warm_up(self, timeout_s: float) -> WarmUpMeasurement:
        """Start the server if needed and time it until it OCRs a small generated image.

        From a stopped server the clock starts at process start; a server this console started
        that never answered yet is timed from its start too; otherwise from this call. Starting
        sets the floor to 1 (locally nothing scales an idle server back down). The service was
        already ready when nothing had to start and the first health check said 200.
        """
        called = time.monotonic()
        try:
            return self._timed_warm_up(timeout_s, called)
        except Exception as error:  # reported, not raised: the page shows why
            return WarmUpMeasurement(
                False, time.monotonic() - called, 0, error=f"{type(error).__name__}: {error}"
            )

    def _timed_warm_up(self, timeout_s: float, called: float) -> WarmUpMeasurement:
        with self._lock:
            server = self._process.server
            if not self._process.own_alive and self._health() is None:
                self._floor = 1
                self.store.set_setting(FLOOR_SETTING, 1)
                server = self._start()
            if server is not None and server.alive and self._ready_since is None:
                started = server.started_monotonic
            else:
                started = called
        deadline = max(started, called) + timeout_s  # a server started here: from its start
        marks: dict[str, datetime] = {}  # the probe's own timeline marks

        def measured(ready: bool, error: str | None = None) -> WarmUpMeasurement:
            was_ready = ready and started == called and attempts == 1
            elapsed = time.monotonic() - started
            return WarmUpMeasurement(ready, elapsed, attempts, was_ready, error, marks)

        attempts, failed = wait_for_health(self._health, server, self.log_path, deadline, timeout_s)
        if failed:
            return measured(False, failed)
        remaining = max(deadline - time.monotonic(), 1.0)
        failed = probe_ocr(self.client_settings(), remaining, marks)
        if failed:
            return measured(False, failed)
        self._observed_ready()
        return measured(True)

    # --- logs and metrics ----------------------------------------------------------------------

    def logs(self, query: LogQuery) -> list[LogEntry]:
        """Newest first, from the end of the server log (and the rotated one before it)."""
        return recent_entries(self.log_path, query)

    def tail(self, query: LogQuery) -> LogTail:
        """Follows new lines from now; with `query.since`, also recent lines after that time."""
        tail = follow(self.log_path, query)
        with self._lock:
            self._tails = [t for t in self._tails if not t.closed] + [tail]
        return tail

    def sample_once(self) -> list[Sample]:
        """Scrape /metrics and read the new log lines once, and store the samples (the sampler
        thread does this every `sample_interval_s`)."""
        return self._metrics.sample_once()

    def metrics(self, window: timedelta) -> list[MetricSeries]:
        """Stored samples in the window, one series per (metric, label)."""
        return self._metrics.series(window)

    # --- revisions and requests in flight (_local_revisions) ---------------------------------

    def revisions(self) -> list[Revision]:
        server = self._process.server if self._process.own_alive else None
        return [pseudo_revision(self.status(), self.server_args, server and server.started_at)]

    def set_traffic(self, split: Mapping[str, int]) -> ActionResult:
        return TRAFFIC_UNAVAILABLE

    def requests_in_flight(self) -> int | None:
        return scrape_in_flight(self._http, self.service_url)

    def close(self) -> None:
        """Stop the tails, the server if this platform keeps it (the worker's), then sampling."""
        with self._lock:
            for tail in self._tails:
                tail.close()
            self._tails.clear()
            server = self._process.server
            if server is not None and server.alive and self.background:
                self._stop(server)
            self._process.server = None
        self._metrics.close()
        self._http.close()
