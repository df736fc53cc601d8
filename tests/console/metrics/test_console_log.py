"""The console's failed pages are log lines beside the server's (the Logs page's ERROR view
shows pages that never reached the server)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from console._store import Store
from console.metrics._console_log import SOURCE, MergedTail, console_log, merged
from console.platforms._base import LogEntry, LogQuery, LogTail
from tests.console.local_platform import free_port
from tests.console.metrics.test_console_failures import _run_job

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def refused(store: Store) -> str:
    """A service nobody listens on, and a 2-page job whose pages it refused."""
    nobody = f"http://127.0.0.1:{free_port()}"
    _run_job(store, nobody, pages=2)
    return nobody


def test_a_page_that_never_reached_the_server_is_an_error_line(store: Store, refused: str) -> None:
    entries = console_log(store, refused, LogQuery(min_severity="ERROR"))
    assert len(entries) == 2
    assert {entry.severity for entry in entries} == {"ERROR"}
    assert {entry.source for entry in entries} == {SOURCE}
    [first] = [e.message for e in entries if "scan.pdf page 1 failed" in e.message]
    assert "page 1 failed after 1 attempt: ServiceUnavailable" in first
    assert re.search(r"; request [0-9a-f]{32}$", first)  # the id the workbench links by


def test_the_text_filter_finds_a_page_by_its_failure(store: Store, refused: str) -> None:
    assert len(console_log(store, refused, LogQuery(text="page 2 failed"))) == 1
    assert console_log(store, refused, LogQuery(text="no such words")) == []


def test_only_the_given_services_pages_are_lines(store: Store, refused: str) -> None:
    assert console_log(store, "http://elsewhere", LogQuery()) == []


def test_server_and_console_lines_are_merged_newest_first() -> None:
    server = [LogEntry(NOW - timedelta(seconds=s), "INFO", f"server {s}") for s in (1, 30)]
    console = [LogEntry(NOW - timedelta(seconds=10), "ERROR", "console 10", SOURCE)]
    lines = merged(server, console, limit=2)
    assert [entry.message for entry in lines] == ["server 1", "console 10"]


class _Quiet(LogTail):
    def drain(self) -> list[LogEntry]:
        return []

    def close(self) -> None:
        pass


def test_a_live_tail_brings_each_new_console_failure_once(store: Store, refused: str) -> None:
    def ours(query: LogQuery) -> list[LogEntry]:
        return console_log(store, refused, query)

    tail = MergedTail(_Quiet(), ours, LogQuery())
    first, again = tail.drain(), tail.drain()
    _run_job(store, refused, pages=1)
    later = tail.drain()
    assert len(first) == 2 and first[0].timestamp <= first[1].timestamp  # oldest first
    assert again == []
    assert len(later) == 1
