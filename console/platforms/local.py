"""The embedded default platform: the local OCR server as a child process on 127.0.0.1.

The local "service" is one process, so scaling is 0 or 1: a floor of 1 starts it, 0 stops
it (SIGTERM, then SIGKILL after a grace period), and the ceiling is fixed at 1. The floor is
kept in the store, so a console restart brings the service back as it was; with no floor
recorded the platform starts the server (the console opens with a working service).

Lifetime. The server is the console's child: `close()` stops a server this platform
started, because an orphan would keep the port after the console is gone. If the console
dies without closing (killed, crashed), the pid is in the store and the next console adopts
that server (and can stop it) instead of starting a second one. A server somebody else
started on the port is used, read and reported as "external", but never stopped.

Its output (JSON lines on stderr) goes to `data_dir/server.log`, which is the source of the
Logs page. The file is rotated to `server.log.1` when a start finds it above
`log_max_bytes` (a running child owns its file descriptor, so rotation happens at start).

Metrics are scraped from the server's `/metrics` every `sample_interval_s` by a daemon
thread and kept in the store, so charts survive a console restart.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

from console._metrics_text import LogSampler, ScrapeDeltas, parse_scrape, total_memory_bytes
from console._store import Sample, Store
from console.platforms._base import (
    SEVERITIES,
    ActionResult,
    LogEntry,
    LogQuery,
    LogTail,
    MetricKey,
    MetricSeries,
    Platform,
    ServiceState,
    ServiceStatus,
)
from ocr_core import (
    ClientSettings,
    DocumentSettings,
    OCRError,
    ServiceUnavailable,
    SyncOCRClient,
    WarmUpReport,
)

NAME = "local"
FLOOR_SETTING = "local.floor"
PID_SETTING = "local.server"
LOG_NAME = "server.log"
SERVER_MODULE = "ocr_core.server"

UNITS: dict[MetricKey, str] = {
    MetricKey.STARTUP_LATENCY_S: "s",
    MetricKey.MEMORY_UTILIZATION: "ratio",
    MetricKey.CPU_UTILIZATION: "ratio",
    MetricKey.GPU_MEMORY_UTILIZATION: "ratio",
    MetricKey.INSTANCE_COUNT: "instances",
    MetricKey.REQUEST_LATENCY_S: "s",
    MetricKey.REQUEST_COUNT: "requests",
    MetricKey.ERROR_RATE: "ratio",
}
_SEVERITY_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "CRIT": "CRITICAL", "ERR": "ERROR"}
_PROGRESS_EVERY_S = 0.25
_HEALTH_POLL_S = 0.1
_PRUNE_EVERY_S = 3600.0
# The runbook's error-rate line: above it over the recent window, a ready server is degraded.
DEGRADED_ERROR_RATE = 0.05
_RECENT = timedelta(minutes=2)


# --- logs ----------------------------------------------------------------------------------------


def severity_rank(severity: str) -> int:
    """Order of severities; DEFAULT (unknown) ranks below DEBUG."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def _severity(value: object) -> str:
    name = str(value).upper()
    name = _SEVERITY_ALIASES.get(name, name)
    return name if name in SEVERITIES else "DEFAULT"


def _parse_json_line(line: str) -> LogEntry | None:
    """The entry in one of the server's JSON log lines, or None for any other line."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
        timestamp = datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(record, dict):
        return None
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    message = str(record.get("message", ""))
    if record.get("exception"):
        message = f"{message}\n{record['exception']}"
    return LogEntry(timestamp.astimezone(UTC), _severity(record.get("severity")), message, NAME)


def parse_log_lines(lines: Sequence[str], *, fallback_time: datetime) -> list[LogEntry]:
    """Entries in file order. A line that is not JSON (a traceback, a print) continues the
    entry before it; with none before it, it becomes a DEFAULT entry at `fallback_time`."""
    entries: list[LogEntry] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        entry = _parse_json_line(line)
        if entry is not None:
            entries.append(entry)
        elif entries:
            last = entries[-1]
            entries[-1] = LogEntry(last.timestamp, last.severity, f"{last.message}\n{line}", NAME)
        else:
            entries.append(LogEntry(fallback_time, "DEFAULT", line, NAME))
    return entries


def matches(entry: LogEntry, query: LogQuery) -> bool:
    if query.min_severity and severity_rank(entry.severity) < severity_rank(
        _severity(query.min_severity)
    ):
        return False
    if query.text and query.text.casefold() not in entry.message.casefold():
        return False
    return query.since is None or entry.timestamp > query.since


def _read_tail(path: Path, max_bytes: int) -> list[str]:
    """The last complete lines within `max_bytes` of the end of `path` (none if missing)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, io.SEEK_END)
            start = max(0, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if start > 0 and lines else lines


def _line_start(path: Path, offset: int) -> int:
    """The offset of the first whole line at or after `offset`."""
    if offset <= 0:
        return 0
    with path.open("rb") as handle:
        handle.seek(offset - 1)
        handle.readline()  # the rest of the line `offset` falls in (nothing if it starts one)
        return handle.tell()


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return datetime.now(UTC)


class LocalLogTail(LogTail):
    """Follows the server log from an offset; each drain reads only what was appended.

    Memory stays bounded: a drain reads at most `max_read_bytes` (after a burst it skips to
    the newest part) and returns at most `max_entries`. A file that shrank was rotated or
    truncated, so reading starts again from its beginning.
    """

    def __init__(
        self,
        path: Path,
        query: LogQuery,
        *,
        offset: int,
        max_read_bytes: int = 1 << 20,
        max_entries: int = 1000,
    ) -> None:
        self.path = path
        self.query = query
        self._offset = offset
        self._pending = b""
        self._max_read = max_read_bytes
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._closed = False

    def drain(self) -> list[LogEntry]:
        with self._lock:
            if self._closed:
                return []
            try:
                with self.path.open("rb") as handle:
                    size = handle.seek(0, io.SEEK_END)
                    if size < self._offset:
                        self._offset, self._pending = 0, b""
                    skip_partial = False
                    if size - self._offset > self._max_read:
                        self._offset, self._pending = size - self._max_read, b""
                        skip_partial = True
                    handle.seek(self._offset)
                    chunk = handle.read(size - self._offset)
            except FileNotFoundError:
                return []
            self._offset += len(chunk)
            data = self._pending + chunk
            complete, _, self._pending = data.rpartition(b"\n")
            lines = complete.decode("utf-8", errors="replace").splitlines() if complete else []
            if skip_partial and lines:
                lines = lines[1:]
            entries = parse_log_lines(lines, fallback_time=datetime.now(UTC))
            return [entry for entry in entries if matches(entry, self.query)][-self._max_entries :]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pending = b""


# --- the server process --------------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _is_our_server(pid: int, port: int) -> bool:
    """True when `pid` is alive and is an OCR server on `port` (guards against pid reuse)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    cmdline = _cmdline(pid)
    return state != "Z" and SERVER_MODULE in cmdline and f"--port {port}" in cmdline


@dataclass
class _Server:
    """A server process this platform manages: its own child, or one adopted from the store."""

    pid: int
    port: int
    started_monotonic: float
    started_at: datetime
    popen: subprocess.Popen[bytes] | None = None
    stopping: bool = False

    def signal(self, signum: int) -> None:
        """Send `signum` unless the process is gone (Popen knows when its child was reaped)."""
        with contextlib.suppress(ProcessLookupError):
            if self.popen is not None:
                self.popen.send_signal(signum)
            elif self.alive:
                os.kill(self.pid, signum)

    def exit_code(self) -> int | None:
        """None while it runs; the exit code after (0 when an adopted process went away)."""
        if self.popen is not None:
            return self.popen.poll()
        return None if _is_our_server(self.pid, self.port) else 0

    @property
    def alive(self) -> bool:
        return self.exit_code() is None


# The warm-up's probe page: small, and sent at its own size, so that on a CPU engine the
# measured cold start is the server's start plus one quick answer, not a full page's OCR.
PROBE_SIDE = 320


def _probe_image() -> bytes:
    """A small generated page with a few words: enough for a real OCR round trip."""
    image = Image.new("RGB", (PROBE_SIDE, 80), "white")
    ImageDraw.Draw(image).text((16, 32), "Warm up 1 2 3", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class LocalPlatform(Platform):
    """The local OCR server on 127.0.0.1, started and stopped as a child process."""

    name = NAME

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
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
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / LOG_NAME
        self.server_args = tuple(server_args)
        self.store = store
        self.sample_interval_s = sample_interval_s
        self.python = python
        self.stop_grace_s = stop_grace_s
        self.log_max_bytes = log_max_bytes
        self._client_settings = client_settings or ClientSettings()
        self._lock = threading.RLock()
        self._http = httpx.Client(timeout=httpx.Timeout(2.0, connect=1.0))
        self._server: _Server | None = None
        self._ready_since: datetime | None = None
        self._model: str | None = None
        self._tails: list[LocalLogTail] = []
        self._deltas = ScrapeDeltas(total_memory_bytes())
        self._log_sampler = LogSampler()
        self._sampling_lock = threading.Lock()
        # The sampler's own reader of the log: request answers and engine start times.
        self._log_follower = LocalLogTail(
            self.log_path,
            LogQuery(),
            offset=self._log_size(),
            max_read_bytes=8 << 20,
            max_entries=1 << 20,
        )
        self._stop_sampling = threading.Event()
        self._sampler: threading.Thread | None = None

        self._floor = int(self.store.get_setting(FLOOR_SETTING, default_floor))
        self._adopt()
        if self._floor >= 1 and not self._own_alive() and self._health() is None:
            self._start()
        if sample_interval_s > 0:
            self._sampler = threading.Thread(
                target=self._sample_loop, name="local-metrics-sampler", daemon=True
            )
            self._sampler.start()

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
            return self._http.get(f"{self.service_url}/health").status_code
        except httpx.HTTPError:
            return None

    def _own_alive(self) -> bool:
        return self._server is not None and self._server.alive

    def _adopt(self) -> None:
        """Take back a server a previous console started and did not stop."""
        record = self.store.get_setting(PID_SETTING)
        if record and record.get("port") == self.port and _is_our_server(record["pid"], self.port):
            self._server = _Server(
                pid=int(record["pid"]),
                port=self.port,
                started_monotonic=time.monotonic(),
                started_at=datetime.now(UTC),
            )

    def _note(self, message: str, severity: str = "INFO") -> None:
        """A console line in the server log, in the server's own format."""
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = {"time": stamp, "severity": severity, "logger": "console", "message": message}
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    def _rotate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_path.stat().st_size > self.log_max_bytes:
                self.log_path.replace(self.log_path.with_name(LOG_NAME + ".1"))

    def _start(self) -> _Server:
        self._rotate_log()
        command = [
            self.python,
            "-m",
            SERVER_MODULE,
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.server_args,
        ]
        self._note(f"console starts the OCR server: {' '.join(command[1:])}")
        with self.log_path.open("ab") as log:
            popen = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self._server = _Server(
            pid=popen.pid,
            port=self.port,
            started_monotonic=time.monotonic(),
            started_at=datetime.now(UTC),
            popen=popen,
        )
        self._ready_since = None
        self._model = None
        self.store.set_setting(PID_SETTING, {"pid": popen.pid, "port": self.port})
        return self._server

    def _stop(self, server: _Server) -> str:
        """Terminate, then kill after the grace period; says how it ended."""
        server.stopping = True
        how = "stopped"
        server.signal(signal.SIGTERM)
        if not self._wait_gone(server, self.stop_grace_s):
            how = f"killed (no exit {self.stop_grace_s:g} s after SIGTERM)"
            server.signal(signal.SIGKILL)
            self._wait_gone(server, 5.0)
        self._ready_since = None
        self.store.delete_setting(PID_SETTING)
        self._note(f"console {how} the OCR server (pid {server.pid})")
        return how

    @staticmethod
    def _wait_gone(server: _Server, timeout_s: float) -> bool:
        if server.popen is not None:
            try:
                server.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while server.alive:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _observed_ready(self) -> None:
        if self._ready_since is None:
            self._ready_since = datetime.now(UTC)

    def _exit_reason(self, server: _Server) -> str:
        """Why `server` ended, from its output: its last ERROR entry, else its last line
        (an argparse error or a traceback's final line)."""
        lines = _read_tail(self.log_path, 64 << 10)
        entries = [
            entry
            for entry in parse_log_lines(lines, fallback_time=_mtime(self.log_path))
            if entry.timestamp >= server.started_at - timedelta(seconds=1)
        ]
        for entry in reversed(entries):
            if severity_rank(entry.severity) >= severity_rank("ERROR"):
                first, *rest = entry.message.splitlines() or [""]
                return f"{first} ({rest[-1].strip()})" if rest else first
        output = [line for entry in entries for line in entry.message.splitlines()]
        return output[-1].strip() if output else ""

    # --- status --------------------------------------------------------------------------------

    def _model_name(self) -> str | None:
        if self._model is None:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
                response = self._http.get(f"{self.service_url}/v1/models")
                response.raise_for_status()
                self._model = str(response.json()["data"][0]["id"])
        return self._model

    def _recent_failures(self) -> str | None:
        """Why the server counts as degraded by its recent 5xx answers, if it does."""
        window = max(_RECENT, timedelta(seconds=3 * self.sample_interval_s))
        answered = failed = 0.0
        for sample in self.store.samples(self.name, datetime.now(UTC) - window):
            if sample.key == MetricKey.REQUEST_COUNT:
                answered += sample.value
                failed += sample.value if sample.label == "5xx" else 0.0
        if answered and failed / answered > DEGRADED_ERROR_RATE:
            minutes = window.total_seconds() / 60
            return (
                f"{failed:.0f} of {answered:.0f} OCR requests failed with a server error in the "
                f"last {minutes:.0f} min: see the Logs page."
            )
        return None

    def status(self) -> ServiceStatus:
        with self._lock:
            server = self._server
            code = self._health()
            own_alive = server is not None and server.alive

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

            if own_alive and server is not None:
                revision = f"pid {server.pid}"
                if code == 200:
                    self._observed_ready()
                    if self._model_name() is None:
                        return make(
                            ServiceState.DEGRADED,
                            "Health is OK but /v1/models does not answer.",
                            revision,
                        )
                    failing = self._recent_failures()
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
                    why = self._exit_reason(server)
                    return make(
                        ServiceState.DEGRADED,
                        f"The OCR server exited with code {exit_code}"
                        + (f": {why}" if why else "")
                        + ". See the Logs page; Warm up starts it again.",
                        f"pid {server.pid} (exited)",
                    )
            if code == 200:
                self._observed_ready()
                return make(
                    ServiceState.READY,
                    f"An external OCR server (not started by this console) answers on port "
                    f"{self.port}: it is used and monitored, but cannot be stopped from here.",
                    "external",
                )
            if code is not None:
                return make(
                    ServiceState.STARTING,
                    f"An external server on port {self.port} answers /health with {code}.",
                    "external",
                )
            self._ready_since = None
            detail = (
                "Stopped (floor 0). Warm up or set the floor to 1 to start it."
                if self._floor == 0
                else "Not running. Warm up or scale to 1 to start it."
            )
            return make(ServiceState.DOWN, detail, None)

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
        note = (
            " The ceiling stays 1: locally there is only one server process."
            if max_instances is not None and max_instances > 1
            else ""
        )
        with self._lock:
            self._floor = min_instances
            self.store.set_setting(FLOOR_SETTING, min_instances)
            server = self._server
            if min_instances == 0:
                if server is not None and server.alive:
                    how = self._stop(server)
                    self._server = None
                    return ActionResult(True, f"Local OCR server (pid {server.pid}) {how}." + note)
                self._server = None
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
            started = self._start()
            return ActionResult(
                True,
                f"Started the local OCR server (pid {started.pid}); it is loading its engine. "
                "Warm up to wait for it." + note,
            )

    # --- warm-up -------------------------------------------------------------------------------

    def warm_up(
        self, *, timeout_s: float = 300.0, on_progress: Callable[[float], None] | None = None
    ) -> WarmUpReport:
        """Start the server if needed and time it until it OCRs a small generated image.

        From a stopped server the clock starts at process start; a server this console started
        that never answered yet is timed from its start too; otherwise from this call. Starting
        sets the floor to 1 (locally nothing scales an idle server back down).
        """
        called = time.monotonic()
        outcome: list[WarmUpReport] = []
        worker = threading.Thread(
            target=lambda: outcome.append(self._warm_up(timeout_s, called)),
            name="local-warm-up",
            daemon=True,
        )
        worker.start()
        while worker.is_alive():
            if on_progress is not None:
                on_progress(time.monotonic() - called)
            worker.join(_PROGRESS_EVERY_S)
        return outcome[0]

    def _warm_up(self, timeout_s: float, called: float) -> WarmUpReport:
        try:
            return self._timed_warm_up(timeout_s, called)
        except Exception as error:  # reported, not raised: the page shows why
            return WarmUpReport(
                False,
                time.monotonic() - called,
                0,
                OCRError(f"{type(error).__name__}: {error}"),
                self.service_url,
            )

    def _timed_warm_up(self, timeout_s: float, called: float) -> WarmUpReport:
        with self._lock:
            server = self._server
            if not self._own_alive() and self._health() is None:
                self._floor = 1
                self.store.set_setting(FLOOR_SETTING, 1)
                server = self._start()
            if server is not None and server.alive and self._ready_since is None:
                started = server.started_monotonic
            else:
                started = called
        deadline = called + timeout_s
        attempts = 0

        def report(ready: bool, error: OCRError | None = None) -> WarmUpReport:
            return WarmUpReport(
                ready, time.monotonic() - started, attempts, error, self.service_url
            )

        while True:
            attempts += 1
            if self._health() == 200:
                break
            if server is not None and not server.alive:
                why = self._exit_reason(server)
                return report(
                    False,
                    ServiceUnavailable(
                        f"the OCR server exited with code {server.exit_code()}"
                        + (f": {why}" if why else "")
                    ),
                )
            if time.monotonic() >= deadline:
                return report(
                    False,
                    ServiceUnavailable(f"not ready after {timeout_s:g} s (/health never said 200)"),
                )
            time.sleep(_HEALTH_POLL_S)
        remaining = max(deadline - time.monotonic(), 1.0)
        settings = self.client_settings().with_overrides(
            max_attempts=1,
            timeout_s=remaining,
            documents=DocumentSettings(longest_side=PROBE_SIDE),
        )
        with SyncOCRClient(settings=settings) as client:
            ready = client.warm_up(timeout=remaining)
            if not ready.ready:
                return report(False, ready.error)
            try:
                client.extract_text(_probe_image(), filename="warm-up.png")
            except OCRError as error:
                return report(False, error)
        self._observed_ready()
        return report(True)

    # --- logs ----------------------------------------------------------------------------------

    def logs(self, query: LogQuery) -> list[LogEntry]:
        """Newest first, from the end of the server log (and the rotated one before it)."""
        budget = 4 << 20
        lines = _read_tail(self.log_path, budget)
        rotated = self.log_path.with_name(LOG_NAME + ".1")
        used = sum(len(line) + 1 for line in lines)
        if used < budget and rotated.exists():
            lines = _read_tail(rotated, budget - used) + lines
        entries = parse_log_lines(lines, fallback_time=_mtime(self.log_path))
        found: list[LogEntry] = []
        for entry in reversed(entries):
            if matches(entry, query):
                found.append(entry)
                if len(found) >= query.limit:
                    break
        return found

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def tail(self, query: LogQuery) -> LogTail:
        """Follows new lines from now; with `query.since`, also recent lines after that time."""
        size = self._log_size()
        offset = size if query.since is None else _line_start(self.log_path, size - (256 << 10))
        tail = LocalLogTail(self.log_path, query, offset=offset)
        with self._lock:
            self._tails = [t for t in self._tails if not t._closed] + [tail]
        return tail

    # --- metrics -------------------------------------------------------------------------------

    def sample_once(self) -> list[Sample]:
        """Scrape /metrics and read the new log lines once, and store the samples.

        The sampler thread calls this every `sample_interval_s`.
        """
        with self._sampling_lock:
            at = datetime.now(UTC)
            try:
                response = self._http.get(f"{self.service_url}/metrics")
                response.raise_for_status()
                samples = self._deltas.samples(at, parse_scrape(response.text))
            except (httpx.HTTPError, ValueError):
                samples = [Sample(MetricKey.INSTANCE_COUNT, "running", at, 0.0)]
            samples += self._log_sampler.samples(at, self._log_follower.drain())
        self.store.add_samples(self.name, samples)
        return samples

    def _sample_loop(self) -> None:
        last_prune = 0.0
        while not self._stop_sampling.is_set():
            try:
                self.sample_once()
                if time.monotonic() - last_prune > _PRUNE_EVERY_S:
                    self.store.prune()
                    last_prune = time.monotonic()
            except Exception as error:  # a broken sample must not end sampling for good
                with contextlib.suppress(OSError):
                    self._note(f"console metrics sampling failed: {error}", "WARNING")
            self._stop_sampling.wait(self.sample_interval_s)

    def metrics(self, window: timedelta) -> list[MetricSeries]:
        """Stored samples in the window, one series per (metric, label)."""
        points: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
        for sample in self.store.samples(self.name, datetime.now(UTC) - window):
            points[(sample.key, sample.label)].append((sample.at, sample.value))
        return [
            MetricSeries(MetricKey(key), label, UNITS[MetricKey(key)], line)
            for (key, label), line in points.items()
        ]

    # --- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop sampling and tails, and stop the server if this platform manages it."""
        self._stop_sampling.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5)
        with self._lock:
            for tail in [*self._tails, self._log_follower]:
                tail.close()
            self._tails.clear()
            if self._server is not None and self._server.alive:
                self._stop(self._server)
            self._server = None
        self._http.close()
