"""CloudRunPlatform logs and live tail: the real Logging client against a fake Logging server."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from console.platforms._base import LogEntry, LogQuery, LogTail
from console.platforms._cloudrun_logs import CloudLoggingTail, build_filter, read_severity
from deploy import CloudError
from tests.fakes.cloud import CloudFakes
from tests.fakes.google_logging import entry
from tests.waits import eventually

SERVICE_TERMS = 'resource.type="cloud_run_revision" AND resource.labels.service_name="lightonocr"'


def drain_until(tail: LogTail, count: int, timeout_s: float = 60.0) -> list[LogEntry]:
    got: list[LogEntry] = []

    def enough() -> bool:
        got.extend(tail.drain())
        return len(got) >= count

    eventually(enough, timeout_s=timeout_s, what=f"{count} log lines")
    return got


def test_logs_ask_for_the_service_newest_first_within_the_limit(cloud: CloudFakes) -> None:
    cloud.platform.logs(LogQuery(limit=5))

    (request,) = cloud.logging.list_requests
    assert list(request.resource_names) == ["projects/demo-project"]
    assert request.filter == SERVICE_TERMS
    assert request.order_by == "timestamp desc"
    assert request.page_size == 5


def test_logs_filter_by_severity_text_and_time(cloud: CloudFakes) -> None:
    since = datetime(2026, 3, 2, 11, 0, 0, 250_000, tzinfo=UTC)

    cloud.platform.logs(LogQuery(min_severity="warning", text="max_tokens", since=since))

    assert cloud.logging.list_requests[-1].filter == (
        f"{SERVICE_TERMS} AND (severity>=WARNING OR (severity=DEFAULT AND textPayload=~"
        '"(WARNING|ERROR|CRITICAL) [0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] '
        "|Traceback [(]most recent call last[)]|^Exception in ASGI application"
        '|^  File .*, line [0-9]+|^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception)(:|$)"))'
        ' AND (textPayload:"max_tokens" OR jsonPayload.message:"max_tokens")'
        ' AND timestamp>"2026-03-02T11:00:00.250000Z"'
    )


def test_quotes_and_backslashes_in_the_text_filter_are_escaped() -> None:
    query = LogQuery(text='say "hi" \\o/')

    assert build_filter("lightonocr", query).endswith(
        '(textPayload:"say \\"hi\\" \\\\o/" OR jsonPayload.message:"say \\"hi\\" \\\\o/")'
    )


def test_an_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown severity"):
        build_filter("lightonocr", LogQuery(min_severity="LOUD"))


def test_entries_come_back_newest_first_with_severity_and_revision(cloud: CloudFakes) -> None:
    entries = cloud.platform.logs(LogQuery())

    assert len(entries) == 8
    assert [e.timestamp for e in entries] == sorted((e.timestamp for e in entries), reverse=True)
    assert all(
        e.timestamp.tzinfo is not None and e.timestamp.utcoffset() == timedelta(0) for e in entries
    )
    assert entries[-1].message == "Starting vLLM API server on http://0.0.0.0:8000"
    assert {e.source for e in entries} == {cloud.revision}
    assert {e.severity for e in entries} == {"INFO", "WARNING", "ERROR"}


def test_json_payload_entries_show_their_message(cloud: CloudFakes) -> None:
    (oom,) = cloud.platform.logs(LogQuery(min_severity="ERROR"))

    assert oom.severity == "ERROR"
    assert oom.message == "CUDA out of memory while allocating the KV cache"


def test_the_limit_caps_what_comes_back_across_pages(cloud: CloudFakes) -> None:
    entries = cloud.platform.logs(LogQuery(limit=3))

    assert len(entries) == 3
    assert len(cloud.logging.list_requests) == 1


def test_reading_logs_without_permission_names_the_logging_viewer_role(cloud: CloudFakes) -> None:
    cloud.logging.fail("ListLogEntries", grpc.StatusCode.PERMISSION_DENIED)

    with pytest.raises(CloudError, match=r"roles/logging\.viewer"):
        cloud.platform.logs(LogQuery())


def test_tail_streams_new_entries_oldest_first(cloud: CloudFakes) -> None:
    tail = cloud.platform.tail(LogQuery(min_severity="INFO"))
    eventually(lambda: cloud.logging.open_tails() == 1, what="one open tail")
    later = cloud.now + timedelta(seconds=1)

    cloud.logging.push(
        entry("first page done", at=later, revision=cloud.revision),
        entry("debug noise", at=later, severity="DEBUG", revision=cloud.revision),
        entry("second page done", at=later + timedelta(seconds=1), revision=cloud.revision),
    )

    got = drain_until(tail, 2)
    assert [e.message for e in got] == ["first page done", "second page done"]
    (request,) = cloud.logging.tail_requests
    assert request.filter == f"{SERVICE_TERMS} AND (severity>=INFO OR severity=DEFAULT)"
    assert list(request.resource_names) == ["projects/demo-project"]
    tail.close()


def test_closing_the_tail_ends_the_stream(cloud: CloudFakes) -> None:
    tail = cloud.platform.tail(LogQuery())
    eventually(lambda: cloud.logging.open_tails() == 1, what="one open tail")

    closing = threading.Thread(target=tail.close)
    closing.start()
    closing.join(timeout=30)  # a limit on the wait, not a speed: close must not block

    assert not closing.is_alive(), "close() blocked on the open stream"
    eventually(lambda: cloud.logging.open_tails() == 0, what="no open tail")
    assert tail.drain() == []


def test_tail_falls_back_to_polling_when_streaming_is_unimplemented(cloud: CloudFakes) -> None:
    cloud.logging.fail("TailLogEntries", grpc.StatusCode.UNIMPLEMENTED)
    tail = cloud.platform.tail(LogQuery(text="page"))
    later = cloud.now + timedelta(seconds=5)

    notice = drain_until(tail, 1)
    cloud.logging.push(entry("page 1 done", at=later, revision=cloud.revision))
    first = drain_until(tail, 1)
    cloud.logging.push(entry("page 2 done", at=later + timedelta(seconds=1)))
    second = drain_until(tail, 1)
    tail.close()

    assert tail.mode == "poll"  # type: ignore[attr-defined]
    assert notice[0].source == "console"
    assert "polling" in notice[0].message
    assert [e.message for e in first + second] == ["page 1 done", "page 2 done"]
    polls = [r.filter for r in cloud.logging.list_requests]
    assert f'timestamp>"{cloud.now:%Y-%m-%dT%H:%M:%S}.000000Z"' in polls[0]
    assert any(f'timestamp>"{later:%Y-%m-%dT%H:%M:%S}.000000Z"' in f for f in polls)


def test_a_polling_tail_that_loses_permission_stops_and_says_why(cloud: CloudFakes) -> None:
    cloud.logging.fail("TailLogEntries", grpc.StatusCode.PERMISSION_DENIED)
    cloud.logging.fail("ListLogEntries", grpc.StatusCode.PERMISSION_DENIED)
    tail = cloud.platform.tail(LogQuery())

    got = drain_until(tail, 2)

    assert got[-1].severity == "ERROR"
    assert "roles/logging.viewer" in got[-1].message
    eventually(lambda: not tail.running, what="the tail stopped")  # type: ignore[attr-defined]


def test_the_tail_buffer_is_bounded_and_counts_what_it_dropped(cloud: CloudFakes) -> None:
    tail = CloudLoggingTail(
        cloud.logging.client(), "demo-project", "lightonocr", LogQuery(), max_buffered=3
    )
    eventually(lambda: cloud.logging.open_tails() == 1, what="one open tail")
    at = cloud.now + timedelta(seconds=1)

    cloud.logging.push(*(entry(f"line {i}", at=at + timedelta(seconds=i)) for i in range(5)))
    eventually(lambda: tail.dropped == 2, what="two lines dropped")

    assert [e.message for e in tail.drain()] == ["line 2", "line 3", "line 4"]
    tail.close()


def test_a_dropped_stream_is_reopened(cloud: CloudFakes) -> None:
    cloud.logging.fail("TailLogEntries", grpc.StatusCode.UNAVAILABLE, times=1)
    tail = cloud.platform.tail(LogQuery())
    eventually(lambda: cloud.logging.open_tails() == 1, what="one open tail")

    cloud.logging.push(entry("after the reconnect", at=cloud.now + timedelta(seconds=1)))

    assert [e.message for e in drain_until(tail, 1)] == ["after the reconnect"]
    assert len(cloud.logging.tail_requests) == 2
    assert tail.mode == "stream"  # type: ignore[attr-defined]
    tail.close()


def test_audit_entries_show_their_payload_type(empty_cloud: CloudFakes) -> None:
    audit = entry("unused", at=empty_cloud.now, severity="NOTICE")
    audit.proto_payload = {"type_url": "type.googleapis.com/google.cloud.audit.AuditLog"}
    empty_cloud.logging.push(audit)

    (shown,) = empty_cloud.platform.logs(LogQuery())

    assert shown.message == "[google.cloud.audit.AuditLog]"
    assert shown.severity == "NOTICE"


def vllm_line(level: int, message: str, *, process: str = "APIServer") -> str:
    """A line as vLLM 0.11.2 prints it: its logger's format and date format
    (vllm/logger.py; its formatter fills %(fileinfo)s with the file name at INFO) behind the
    coloured process tag of vllm/utils/system_utils.py `_add_prefix`."""
    formatter = logging.Formatter(
        "%(levelname)s %(asctime)s [%(filename)s:%(lineno)d] %(message)s", "%m-%d %H:%M:%S"
    )
    record = logging.LogRecord("vllm", level, "api_server.py", 1839, message, None, None)
    return f"\033[1;36m({process} pid=1)\033[0;0m {formatter.format(record)}"


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (logging.DEBUG, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARNING"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "CRITICAL"),
    ],
)
def test_a_vllm_stdout_line_is_read_at_the_level_vllm_wrote(level: int, expected: str) -> None:
    assert read_severity("DEFAULT", vllm_line(level, "engine ready")) == expected
    assert read_severity("DEFAULT", vllm_line(level, "x", process="EngineCore_DP0")) == expected


def test_stdout_text_without_a_level_stays_default_and_real_severities_are_kept() -> None:
    assert read_severity("DEFAULT", "GET /health 200") == "DEFAULT"
    assert read_severity("ERROR", vllm_line(logging.INFO, "x")) == "ERROR"


@pytest.mark.parametrize(
    "line",
    [
        "Exception in ASGI application",
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3.12/site-packages/vllm/engine.py", line 212, in step',
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        "RuntimeError",
    ],
)
def test_a_crash_report_on_stdout_is_read_as_an_error(line: str) -> None:
    assert read_severity("DEFAULT", line) == "ERROR"


def test_a_traceback_at_default_severity_shows_under_an_error_filter(
    empty_cloud: CloudFakes,
) -> None:
    at = empty_cloud.now - timedelta(minutes=1)
    lines = [
        "Exception in ASGI application",
        "Traceback (most recent call last):",
        '  File "/app/server.py", line 9, in handle',
        "ValueError: boom",
        "GET /health 200",
    ]
    empty_cloud.logging.entries.extend(entry(line, at=at, severity="DEFAULT") for line in lines)

    shown = empty_cloud.platform.logs(LogQuery(min_severity="ERROR"))

    assert sorted(e.message for e in shown) == sorted(lines[:4])
    assert {e.severity for e in shown} == {"ERROR"}


def test_vllm_stdout_lines_show_under_an_info_filter(empty_cloud: CloudFakes) -> None:
    at = empty_cloud.now - timedelta(minutes=1)
    empty_cloud.logging.entries.extend(
        [
            entry(vllm_line(logging.INFO, "Starting vLLM API server"), at=at, severity="DEFAULT"),
            entry(vllm_line(logging.DEBUG, "scheduler tick"), at=at, severity="DEFAULT"),
            entry("Traceback (most recent call last):", at=at, severity="DEFAULT"),
            entry("request log", at=at, severity="DEBUG"),
        ]
    )

    shown = empty_cloud.platform.logs(LogQuery(min_severity="INFO"))

    assert sorted((e.severity, e.message.split()[-1]) for e in shown) == [
        ("ERROR", "last):"),
        ("INFO", "server"),
    ]


def test_a_vllm_warning_on_stdout_is_found_by_the_warning_filter(empty_cloud: CloudFakes) -> None:
    at = empty_cloud.now - timedelta(minutes=1)
    empty_cloud.logging.entries.extend(
        [
            entry(vllm_line(logging.WARNING, "KV cache is full"), at=at, severity="DEFAULT"),
            entry(vllm_line(logging.INFO, "WARNING in text only"), at=at, severity="DEFAULT"),
            entry("Traceback (most recent call last):", at=at, severity="DEFAULT"),
            entry("out of memory", at=at, severity="ERROR"),
        ]
    )

    shown = empty_cloud.platform.logs(LogQuery(min_severity="WARNING"))

    assert sorted((e.severity, e.message[-16:]) for e in shown) == [
        ("ERROR", "cent call last):"),  # a crash report's line: an error, whatever Logging says
        ("ERROR", "out of memory"),
        ("WARNING", "KV cache is full"),
    ]


def test_the_tail_reads_vllm_levels_and_drops_what_is_below_the_filter(cloud: CloudFakes) -> None:
    tail = cloud.platform.tail(LogQuery(min_severity="INFO"))
    eventually(lambda: cloud.logging.open_tails() == 1, what="one open tail")
    later = cloud.now + timedelta(seconds=1)

    cloud.logging.push(
        entry(vllm_line(logging.DEBUG, "noise"), at=later, severity="DEFAULT"),
        entry(
            vllm_line(logging.INFO, "Application startup complete."), at=later, severity="DEFAULT"
        ),
    )

    [got] = drain_until(tail, 1)
    assert (got.severity, got.message.endswith("startup complete.")) == ("INFO", True)
    tail.close()
