"""Cloud Run logs through Cloud Logging v2: recent entries, and a live tail with a fallback.

The live tail uses the bidirectional `TailLogEntries` stream. Not every caller may use it
(it is rate limited, some organisations block it, emulators lack it), so when the stream is
refused as unimplemented, forbidden or exhausted the tail quietly switches to polling
`ListLogEntries` for entries newer than the last one seen, and says so once in the log view.

vLLM logs to stdout, so Cloud Run stores its lines with severity DEFAULT (0), below DEBUG:
a plain `severity>=INFO` would hide the whole engine log. Its own level is in the text
(vllm/logger.py: "%(levelname)s %(asctime)s [%(fileinfo)s:%(lineno)d] %(message)s", date
"%m-%d %H:%M:%S", after an optional "(APIServer pid=1) " process tag in ANSI colour), so
DEFAULT lines are read at that level, or at INFO when the text carries none; the query asks
for DEFAULT lines too and the entries are then filtered by that reading.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import grpc
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
from google.cloud.logging_v2.types import ListLogEntriesRequest, TailLogEntriesRequest
from google.cloud.logging_v2.types import LogEntry as GoogleLogEntry
from google.logging.type import log_severity_pb2

from console.platforms._base import SEVERITIES, LogEntry, LogQuery, LogTail
from deploy import CloudError, explain_google_error

logger = logging.getLogger(__name__)

LOGS_ROLE = "roles/logging.viewer"
# The tail holds at most this many undrained entries; the oldest fall off first.
TAIL_BUFFER = 2000
# How often the polling fallback asks for new entries.
POLL_INTERVAL_S = 2.0
# Ask the tail stream to hold entries this long so late, out-of-order entries come sorted.
TAIL_BUFFER_WINDOW_S = 2
# Errors of the streaming call that mean "this caller cannot tail here": poll instead.
_TAIL_REFUSALS = (
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
)
# Errors worth reopening the stream for, up to MAX_RECONNECTS times in a row.
_TAIL_TRANSIENT = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
)
MAX_RECONNECTS = 5


# A vLLM log line: optional ANSI-coloured process tag, then LEVEL MM-DD HH:MM:SS.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_VLLM_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_VLLM_LINE = re.compile(
    r"^(?:\([^)]*pid=\d+\)\s+)?(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d "
)
# The same shape for Logging's RE2 (=~), without backslashes so no escaping is involved.
_VLLM_QUERY = "({levels}) [0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] "


# A crash written to stdout or stderr without a level: uvicorn's "Exception in ASGI
# application", a Python traceback's first line, its frames and its last line. Cloud Run
# stores them at DEFAULT, so an ERROR filter on Logging's severity alone would hide them.
_CRASH_LINE = re.compile(
    r"Traceback \(most recent call last\)|^Exception in ASGI application"
    r"|^  File .*, line [0-9]+|^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception)(:|$)"
)
# The same for Logging's RE2, without backslashes or quotes.
_CRASH_QUERY = (
    "Traceback [(]most recent call last[)]|^Exception in ASGI application"
    "|^  File .*, line [0-9]+|^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception)(:|$)"
)


def read_severity(severity: str, message: str) -> str:
    """The severity to show and filter by: Cloud Logging's, or for DEFAULT (stdout) lines
    the level vLLM wrote into the text, ERROR for a crash report's lines; DEFAULT when the
    text says neither."""
    if severity != "DEFAULT":
        return severity
    text = _ANSI.sub("", message)
    if match := _VLLM_LINE.match(text):
        return match.group(1)
    return "ERROR" if _CRASH_LINE.search(text) else "DEFAULT"


def _rank(severity: str) -> int:
    """Order for filtering; a DEFAULT line with no level of its own counts as INFO."""
    return SEVERITIES.index("INFO" if severity == "DEFAULT" else severity)


def at_least(entries: list[LogEntry], min_severity: str | None) -> list[LogEntry]:
    """The entries at or above `min_severity` as read by `read_severity`."""
    if not min_severity:
        return entries
    floor = _rank(min_severity.upper())
    return [e for e in entries if _rank(e.severity) >= floor]


def _severity_term(severity: str) -> str:
    """`severity>=X`, widened to the DEFAULT lines that may be at X or above."""
    if _rank(severity) <= _rank("INFO"):
        return f"(severity>={severity} OR severity=DEFAULT)"
    levels = [level for level in _VLLM_LEVELS if _rank(level) >= _rank(severity)]
    if not levels:
        return f"severity>={severity}"
    pattern = _VLLM_QUERY.format(levels="|".join(levels))
    if _rank(severity) <= _rank("ERROR"):
        pattern = f"{pattern}|{_CRASH_QUERY}"
    return f'(severity>={severity} OR (severity=DEFAULT AND textPayload=~"{pattern}"))'


def quote(text: str) -> str:
    """A Logging query string literal: backslashes and double quotes escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_filter(service: str, query: LogQuery) -> str:
    """The Logging query for one Cloud Run service's revision logs and the page's filters."""
    terms = [
        'resource.type="cloud_run_revision"',
        f"resource.labels.service_name={quote(service)}",
    ]
    if query.min_severity:
        severity = query.min_severity.upper()
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {query.min_severity!r}: one of {SEVERITIES}")
        terms.append(_severity_term(severity))
    if query.text:
        literal = quote(query.text)
        terms.append(f"(textPayload:{literal} OR jsonPayload.message:{literal})")
    if query.since is not None:
        terms.append(f'timestamp>"{rfc3339(query.since)}"')
    return " AND ".join(terms)


def _message(entry: GoogleLogEntry) -> str:
    payload = GoogleLogEntry.pb(entry).WhichOneof("payload")
    if payload == "text_payload":
        return entry.text_payload
    if payload == "json_payload":
        fields = dict(entry.json_payload)
        message = fields.get("message") or fields.get("msg") or fields.get("textPayload")
        return str(message) if message is not None else str(fields)
    if payload == "proto_payload":
        # Audit and request logs: their type says what happened (the body is not text).
        return f"[{entry.proto_payload.type_url.rsplit('/', 1)[-1]}]"
    if entry.http_request and entry.http_request.request_url:
        request = entry.http_request
        return f"{request.request_method} {request.request_url} {request.status}"
    return ""


def to_entry(entry: GoogleLogEntry) -> LogEntry:
    """A Cloud Logging entry as the console shows it; the revision is its source."""
    message = _message(entry)
    severity = read_severity(log_severity_pb2.LogSeverity.Name(entry.severity), message)
    timestamp = entry.timestamp or entry.receive_timestamp
    labels = entry.resource.labels
    return LogEntry(
        timestamp=timestamp.astimezone(UTC) if timestamp else datetime.fromtimestamp(0, UTC),
        severity=severity,
        message=message,
        source=labels.get("revision_name") or entry.log_name.rsplit("/", 1)[-1],
    )


def list_entries(
    client: LoggingServiceV2Client, project: str, service: str, query: LogQuery
) -> list[LogEntry]:
    """Recent entries, newest first, at most `query.limit`."""
    request = ListLogEntriesRequest(
        resource_names=[f"projects/{project}"],
        filter=build_filter(service, query),
        order_by="timestamp desc",
        page_size=query.limit,
    )
    entries: list[LogEntry] = []
    try:
        for entry in client.list_log_entries(request=request):
            entries.extend(at_least([to_entry(entry)], query.min_severity))
            if len(entries) >= query.limit:
                break
    except (gexc.GoogleAPIError, auth_exc.GoogleAuthError) as exc:
        raise _explain(exc, service, project) from None
    return entries


def _explain(exc: Exception, service: str, project: str) -> CloudError:
    return explain_google_error(
        exc, action=f"reading logs of {service}", role=LOGS_ROLE, project=project
    )


class CloudLoggingTail(LogTail):
    """Entries for one query, gathered by a daemon thread until `close()`.

    Streams with `TailLogEntries` (cancelled on close, so closing is immediate), or polls
    `ListLogEntries` every `poll_interval_s` when streaming is refused. A failure that polling
    cannot get past either (no permission) ends the tail with one explanatory entry.
    """

    def __init__(
        self,
        client: LoggingServiceV2Client,
        project: str,
        service: str,
        query: LogQuery,
        *,
        poll_interval_s: float = POLL_INTERVAL_S,
        max_buffered: int = TAIL_BUFFER,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._project = project
        self._service = service
        self._query = query
        self._poll_interval_s = poll_interval_s
        self._now = now
        self._buffer: deque[LogEntry] = deque(maxlen=max_buffered)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._call: grpc.Future | None = None
        # Entries that fell off a full buffer, and how entries arrive: "stream" or "poll".
        self.dropped = 0
        self.mode = "stream"
        self._thread = threading.Thread(target=self._run, name="cloudrun-log-tail", daemon=True)
        self._thread.start()

    def drain(self) -> list[LogEntry]:
        with self._lock:
            entries = list(self._buffer)
            self._buffer.clear()
        return entries

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()
        self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _add(self, entries: list[LogEntry]) -> None:
        with self._lock:
            overflow = len(self._buffer) + len(entries) - (self._buffer.maxlen or 0)
            if overflow > 0:
                self.dropped += overflow
            self._buffer.extend(entries)

    def _note(self, severity: str, message: str) -> None:
        self._add([LogEntry(self._now(), severity, message, source="console")])

    def _run(self) -> None:
        """Stream; reopen a stream that ended or dropped; poll when streaming is refused."""
        reconnects = 0
        while not self._stop.is_set():
            try:
                self._stream()
                reconnects = 0  # a clean end (the server's session limit): open a new one
                self._stop.wait(self._poll_interval_s)
                continue
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    return
                code = exc.code()  # type: ignore[attr-defined]
                if code in _TAIL_REFUSALS:
                    self._fall_back_to_polling(code)
                    return
                if code in _TAIL_TRANSIENT and reconnects < MAX_RECONNECTS:
                    reconnects += 1
                    self._stop.wait(min(self._poll_interval_s * 2**reconnects, 30.0))
                    continue
                error = _explain(gexc.from_grpc_error(exc), self._service, self._project)
                self._note("ERROR", f"live tail stopped: {error}")
                return

    def _fall_back_to_polling(self, code: grpc.StatusCode) -> None:
        self.mode = "poll"
        logger.info("log tail stream refused (%s); polling instead", code.name)
        self._note(
            "NOTICE",
            f"live streaming is not available here ({code.name}); "
            f"polling every {self._poll_interval_s:g} s instead",
        )
        self._poll()

    def _requests(self, ended: threading.Event) -> Iterator[TailLogEntriesRequest]:
        yield TailLogEntriesRequest(
            resource_names=[f"projects/{self._project}"],
            filter=build_filter(self._service, self._query),
            buffer_window={"seconds": TAIL_BUFFER_WINDOW_S},
        )
        # Keep the request side open until this stream ends: half-closing could end the
        # tail on the server, and a generator left waiting would pin gRPC's sender thread.
        ended.wait()

    def _stream(self) -> None:
        ended = threading.Event()
        # The transport's raw stream gives a call object that close() can cancel at once
        # (the client wrapper blocks until the first response before handing one back).
        call = self._client.transport.tail_log_entries(self._requests(ended))
        call.add_done_callback(lambda _: ended.set())
        with self._lock:
            self._call = call
        if self._stop.is_set():
            call.cancel()
        try:
            for response in call:
                entries = [to_entry(e) for e in response.entries]
                self._add(at_least(entries, self._query.min_severity))
        finally:
            ended.set()

    def _poll(self) -> None:
        """Ask for entries strictly newer than the newest seen, oldest first into the buffer."""
        since = self._query.since or self._now()
        wait = 0.0
        while not self._stop.wait(wait):
            wait = self._poll_interval_s
            query = LogQuery(self._query.min_severity, self._query.text, since, self._query.limit)
            try:
                newest_first = list_entries(self._client, self._project, self._service, query)
            except CloudError as exc:
                self._note("ERROR", f"live tail stopped: {exc}")
                return
            if newest_first:
                since = newest_first[0].timestamp
                self._add(newest_first[::-1])
