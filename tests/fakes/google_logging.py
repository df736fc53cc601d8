"""An in-process Cloud Logging v2 server on loopback, for the real `LoggingServiceV2Client`.

It implements the two RPCs the console uses, `ListLogEntries` and the bidirectional
`TailLogEntries`, over real gRPC with Google's own proto-plus (de)serialisers, so the client
library, its pager and its streaming wrapper all run for real. It records every request,
serves canned entries, and can be told to fail an RPC with a gRPC status.

`ListLogEntries` understands the clauses `CloudRunPlatform` writes (service name, `severity>=`
with its `OR severity=DEFAULT [AND textPayload=~"RE2"]` branch for stdout lines, `timestamp>`,
and `textPayload:"..."`/`jsonPayload.message:"..."` substring terms) well enough
that a polling tail or a page filter sees what Cloud Logging would return; it is not a general
query-language evaluator.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import grpc
from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
from google.cloud.logging_v2.services.logging_service_v2.transports import (
    LoggingServiceV2GrpcTransport,
)
from google.cloud.logging_v2.types import (
    ListLogEntriesRequest,
    ListLogEntriesResponse,
    LogEntry,
    TailLogEntriesRequest,
    TailLogEntriesResponse,
)
from google.logging.type import log_severity_pb2

from tests.fakes._grpc import LoopbackGrpc

SERVICE_NAME = "google.logging.v2.LoggingServiceV2"

_SERVICE_TERM = re.compile(r'resource\.labels\.service_name="((?:[^"\\]|\\.)*)"')
_REVISION_TERM = re.compile(r'resource\.labels\.revision_name="((?:[^"\\]|\\.)*)"')
_SEVERITY_TERM = re.compile(r"severity>=([A-Z]+)")
_SINCE_TERM = re.compile(r'timestamp>"([^"]+)"')
_TEXT_TERM = re.compile(r'textPayload:"((?:[^"\\]|\\.)*)"')
# `severity=DEFAULT`, optionally narrowed by a regular expression on the text (RE2 `=~`,
# which matches anywhere in the field, like re.search).
_DEFAULT_TERM = re.compile(r'severity=DEFAULT(?: AND textPayload=~"((?:[^"\\]|\\.)*)")?')


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted)


def entry(
    message: str,
    *,
    at: datetime,
    severity: str = "INFO",
    revision: str = "lightonocr-00001-abc",
    service: str = "lightonocr",
    json_message: bool = False,
    insert_id: str | None = None,
) -> LogEntry:
    """A Cloud Run revision log entry as Cloud Logging stores it (text or JSON payload)."""
    payload = {"json_payload": {"message": message}} if json_message else {"text_payload": message}
    return LogEntry(
        log_name="projects/demo/logs/run.googleapis.com%2Fstdout",
        resource={
            "type": "cloud_run_revision",
            "labels": {
                "service_name": service,
                "revision_name": revision,
                "location": "europe-west4",
            },
        },
        timestamp=at,
        severity=log_severity_pb2.LogSeverity.Value(severity),
        insert_id=insert_id or f"{at.timestamp():.6f}-{abs(hash(message)) % 10_000}",
        **payload,
    )


def _text(log_entry: LogEntry) -> str:
    if log_entry.text_payload:
        return log_entry.text_payload
    return str(dict(log_entry.json_payload).get("message", ""))


def _matches(log_entry: LogEntry, filter_: str) -> bool:
    service = _SERVICE_TERM.search(filter_)
    if service and log_entry.resource.labels.get("service_name") != _unescape(service.group(1)):
        return False
    revision = _REVISION_TERM.search(filter_)
    if revision and log_entry.resource.labels.get("revision_name") != _unescape(revision.group(1)):
        return False
    severity = _SEVERITY_TERM.search(filter_)
    if severity and log_entry.severity < log_severity_pb2.LogSeverity.Value(severity.group(1)):
        default = _DEFAULT_TERM.search(filter_)
        if not default or log_entry.severity != log_severity_pb2.LogSeverity.DEFAULT:
            return False
        if default.group(1) and not re.search(_unescape(default.group(1)), _text(log_entry)):
            return False
    since = _SINCE_TERM.search(filter_)
    if since:
        bound = datetime.fromisoformat(since.group(1).replace("Z", "+00:00"))
        if log_entry.timestamp <= bound:
            return False
    text = _TEXT_TERM.search(filter_)
    return not text or _unescape(text.group(1)).lower() in _text(log_entry).lower()


@dataclass
class FakeLogging:
    """Start with `start()` (or as a context manager); `client()` builds a real client for it."""

    entries: list[LogEntry] = field(default_factory=list)
    list_requests: list[ListLogEntriesRequest] = field(default_factory=list)
    tail_requests: list[TailLogEntriesRequest] = field(default_factory=list)
    # RPC name ("ListLogEntries" / "TailLogEntries") -> (status, message, calls left or None).
    errors: dict[str, tuple[grpc.StatusCode, str, int | None]] = field(default_factory=dict)
    address: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: list[queue.Queue[list[LogEntry] | None]] = []
        self._grpc = LoopbackGrpc()

    # --- scripting ---------------------------------------------------------------------------

    def fail(
        self,
        rpc: str,
        code: grpc.StatusCode,
        message: str = "injected",
        *,
        times: int | None = None,
    ) -> None:
        """Fail the next `times` calls of `rpc` (None: every call until cleared)."""
        self.errors[rpc] = (code, message, times)

    def _injected(self, rpc: str, context: grpc.ServicerContext) -> None:
        with self._lock:
            failure = self.errors.get(rpc)
            if failure is None:
                return
            code, message, left = failure
            if left is not None:
                if left <= 1:
                    del self.errors[rpc]
                else:
                    self.errors[rpc] = (code, message, left - 1)
        context.abort(code, message)

    def push(self, *entries: LogEntry) -> None:
        """New entries arrive: stored for listing and sent to every open tail stream."""
        with self._lock:
            self.entries.extend(entries)
            for stream in self._streams:
                stream.put(list(entries))

    def open_tails(self) -> int:
        with self._lock:
            return len(self._streams)

    # --- RPCs --------------------------------------------------------------------------------

    def _list(
        self, request: ListLogEntriesRequest, context: grpc.ServicerContext
    ) -> ListLogEntriesResponse:
        with self._lock:
            self.list_requests.append(request)
            stored = list(self.entries)
        self._injected("ListLogEntries", context)
        matching = [e for e in stored if _matches(e, request.filter)]
        matching.sort(key=lambda e: e.timestamp, reverse="desc" in request.order_by)
        start = int(request.page_token or 0)
        size = request.page_size or 50
        page = matching[start : start + size]
        more = start + size < len(matching)
        return ListLogEntriesResponse(
            entries=page, next_page_token=str(start + size) if more else ""
        )

    def _tail(
        self, requests: Iterator[TailLogEntriesRequest], context: grpc.ServicerContext
    ) -> Iterator[TailLogEntriesResponse]:
        first = next(requests)
        with self._lock:
            self.tail_requests.append(first)
        self._injected("TailLogEntries", context)
        stream: queue.Queue[list[LogEntry] | None] = queue.Queue()
        with self._lock:
            self._streams.append(stream)
        try:
            while context.is_active():
                try:
                    batch = stream.get(timeout=0.05)
                except queue.Empty:
                    continue
                if batch is None:
                    return
                matching = [e for e in batch if _matches(e, first.filter)]
                if matching:
                    yield TailLogEntriesResponse(entries=matching)
        finally:
            with self._lock:
                self._streams.remove(stream)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeLogging:
        handlers = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "ListLogEntries": grpc.unary_unary_rpc_method_handler(
                    self._list,
                    request_deserializer=ListLogEntriesRequest.deserialize,
                    response_serializer=ListLogEntriesResponse.serialize,
                ),
                "TailLogEntries": grpc.stream_stream_rpc_method_handler(
                    self._tail,
                    request_deserializer=TailLogEntriesRequest.deserialize,
                    response_serializer=TailLogEntriesResponse.serialize,
                ),
            },
        )
        self.address = self._grpc.start([handlers])
        return self

    def client(self) -> LoggingServiceV2Client:
        """The real Logging client, on an insecure loopback channel (no credentials needed)."""
        channel = self._grpc.channel()
        return LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))

    def stop(self) -> None:
        with self._lock:
            for stream in self._streams:
                stream.put(None)
        self._grpc.stop()

    def __enter__(self) -> FakeLogging:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
