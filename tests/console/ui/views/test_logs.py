"""The Logs page on its own, reading the real local server's log."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from streamlit.testing.v1 import AppTest

from console.platforms._base import SEVERITIES, LogEntry, LogQuery
from console.service import Operations
from console.ui._state import LogBuffer
from tests.console.ui.views.console_ops import page
from tests.waits import wait_until

STARTED = "console starts the OCR server"
INVALID_REQUEST = "Invalid HTTP request received."


def _provoke_warning(operations: Operations) -> None:
    """Send the server bytes that are not HTTP: uvicorn logs a WARNING for them."""
    port = int(operations.platform.service_url.rsplit(":", 1)[1])
    before = len(operations.logs(LogQuery(min_severity="WARNING")))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        sock.recv(1024)
    assert wait_until(lambda: len(operations.logs(LogQuery(min_severity="WARNING"))) > before)


def _rows(at: AppTest) -> list[tuple[str, str]]:
    frame = at.dataframe[0].value
    return list(zip(frame["severity"], frame["message"], strict=True))


def test_recent_entries_are_listed_newest_first(operations: Operations) -> None:
    at = page("logs").run()
    assert not at.exception
    times = list(at.dataframe[0].value["time"])
    assert len(times) > 1
    assert times == sorted(times, reverse=True)
    assert any(STARTED in message for _, message in _rows(at))


def test_severity_filter_keeps_that_level_and_above(operations: Operations) -> None:
    _provoke_warning(operations)
    at = page("logs").run()
    assert {severity for severity, _ in _rows(at)} >= {"INFO", "WARNING"}
    at.selectbox(key="logs_severity").set_value("WARNING").run()
    rows = _rows(at)
    assert any(INVALID_REQUEST in message for _, message in rows)
    assert all(SEVERITIES.index(s) >= SEVERITIES.index("WARNING") for s, _ in rows)


def test_text_filter_keeps_only_matching_messages(operations: Operations) -> None:
    at = page("logs").run()
    at.text_input(key="logs_text").set_value("STARTS the ocr").run()
    rows = _rows(at)
    assert rows
    assert all(STARTED in message for _, message in rows)


def test_a_filter_that_matches_nothing_says_so(operations: Operations) -> None:
    at = page("logs").run()
    at.text_input(key="logs_text").set_value("no line says this").run()
    assert not at.dataframe
    assert at.info[0].value == "No log entries match."


def test_live_tail_appends_new_entries_and_reports_what_it_holds(
    operations: Operations,
) -> None:
    at = page("logs").run()
    at.toggle(key="logs_live").set_value(True).run()
    assert not at.exception
    held = len(at.dataframe[0].value)
    assert at.caption[0].value.startswith(f"Live: {held} entries held (at most 1000)")
    _provoke_warning(operations)
    at.run()
    severity, message = _rows(at)[0]
    assert (severity, message) == ("WARNING", INVALID_REQUEST)
    assert len(at.dataframe[0].value) == held + 1


def test_turning_the_live_tail_off_closes_it(operations: Operations) -> None:
    at = page("logs").run()
    at.toggle(key="logs_live").set_value(True).run()
    tail = at.session_state["logs_live_tail"].tail
    at.toggle(key="logs_live").set_value(False).run()
    assert "logs_live_tail" not in at.session_state
    _provoke_warning(operations)
    assert tail.drain() == []  # an open tail would have picked the warning up


def test_the_live_buffer_keeps_the_newest_entries_up_to_its_cap() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [LogEntry(start + timedelta(seconds=i), "INFO", f"line {i}") for i in range(6)]
    buffer = LogBuffer(cap=4, entries=reversed(entries[:3]))  # seeded newest first
    assert buffer.add(entries[3:]) == 3  # tailed oldest first
    assert [e.message for e in buffer.entries()] == ["line 5", "line 4", "line 3", "line 2"]
    assert len(buffer) == 4
