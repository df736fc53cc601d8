"""The local platform's log: the server's own JSON lines, newest first, filters, the live
tail and rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.platforms._base import LogQuery, ServiceState
from console.platforms.local import LOG_NAME
from tests.console.local_platform import (
    append_lines,
    json_line,
)
from tests.waits import wait_until


def test_logs_are_the_servers_own_lines_newest_first(make_platform) -> None:
    platform = make_platform()
    assert platform.warm_up(timeout_s=60).ready
    entries = platform.logs(LogQuery())
    assert entries, "the server wrote nothing"
    times = [entry.timestamp for entry in entries]
    assert times == sorted(times, reverse=True)
    assert all(entry.timestamp.tzinfo is not None for entry in entries)
    assert {entry.severity for entry in entries} <= {"DEBUG", "INFO", "WARNING", "ERROR"}
    assert any("engine ready" in entry.message.lower() for entry in entries)


def test_logs_filter_by_minimum_severity_and_text_case_insensitively(make_platform) -> None:
    platform = make_platform()
    append_lines(
        platform,
        json_line("INFO", "page 1 done"),
        json_line("WARNING", "Slow page 2"),
        json_line("ERROR", "page 3 failed"),
    )
    warnings_up = platform.logs(LogQuery(min_severity="WARNING"))
    assert [e.message for e in warnings_up] == ["page 3 failed", "Slow page 2"]
    assert [e.message for e in platform.logs(LogQuery(text="SLOW"))] == ["Slow page 2"]
    assert len(platform.logs(LogQuery(limit=2))) == 2


def test_a_traceback_after_a_json_line_belongs_to_that_entry(make_platform) -> None:
    platform = make_platform()
    append_lines(
        platform,
        "stray output before any entry",
        json_line("ERROR", "engine crashed"),
        "Traceback (most recent call last):",
        '  File "x.py", line 1',
        "RuntimeError: boom",
    )
    newest, stray = platform.logs(LogQuery())[:2]
    assert newest.severity == "ERROR"
    assert newest.message.splitlines() == [
        "engine crashed",
        "Traceback (most recent call last):",
        '  File "x.py", line 1',
        "RuntimeError: boom",
    ]
    assert (stray.severity, stray.message) == ("DEFAULT", "stray output before any entry")


def test_logs_since_keeps_only_newer_entries(make_platform) -> None:
    platform = make_platform()
    cut = datetime.now(UTC)
    append_lines(
        platform,
        json_line("INFO", "old", cut - timedelta(minutes=1)),
        json_line("INFO", "new", cut + timedelta(seconds=1)),
    )
    assert [e.message for e in platform.logs(LogQuery(since=cut))] == ["new"]


def test_tail_picks_up_new_lines_once_each(make_platform) -> None:
    platform = make_platform()
    append_lines(platform, json_line("INFO", "before the tail"))
    tail = platform.tail(LogQuery(min_severity="INFO"))
    assert tail.drain() == []
    platform.scale(min_instances=1)
    assert wait_until(lambda: platform.status().state is ServiceState.READY)
    first = tail.drain()
    assert first and all(e.message != "before the tail" for e in first)
    assert [e.timestamp for e in first] == sorted(e.timestamp for e in first)  # oldest first
    append_lines(platform, json_line("WARNING", "one more"))
    assert [e.message for e in tail.drain()] == ["one more"]
    tail.close()
    append_lines(platform, json_line("WARNING", "after close"))
    assert tail.drain() == []


def test_tail_holds_back_a_half_written_line(make_platform) -> None:
    platform = make_platform()
    tail = platform.tail(LogQuery())
    line = json_line("INFO", "written in two goes")
    with (platform.data_dir / LOG_NAME).open("a") as log:
        log.write(line[:20])
    assert tail.drain() == []
    with (platform.data_dir / LOG_NAME).open("a") as log:
        log.write(line[20:] + "\n")
    assert [e.message for e in tail.drain()] == ["written in two goes"]


def test_a_large_log_is_rotated_when_the_server_starts(make_platform) -> None:
    platform = make_platform(log_max_bytes=1000)
    append_lines(platform, *[json_line("INFO", f"filler {i}") for i in range(50)])
    platform.scale(min_instances=1)
    assert (platform.data_dir / (LOG_NAME + ".1")).stat().st_size > 1000
    assert (platform.data_dir / LOG_NAME).stat().st_size < 1000
    # Recent entries still include the rotated file's lines.
    assert any(e.message == "filler 49" for e in platform.logs(LogQuery(limit=1000)))


# --- metrics ----------------------------------------------------------------------------------


def test_tail_since_replays_recent_whole_lines_after_that_time(make_platform) -> None:
    platform = make_platform()
    cut = datetime.now(UTC)
    # Far more than the tail looks back, so it starts in the middle of the file.
    filler = "x" * 300
    append_lines(
        platform, *[json_line("INFO", filler, cut - timedelta(minutes=1)) for _ in range(2000)]
    )
    append_lines(platform, json_line("INFO", "just after the cut", cut + timedelta(seconds=1)))
    tail = platform.tail(LogQuery(since=cut))
    assert [e.message for e in tail.drain()] == ["just after the cut"]
