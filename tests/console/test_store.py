"""The console's SQLite store: what it keeps survives reopening, from any thread."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console._store import (
    DB_NAME,
    AuditRecord,
    Sample,
    Store,
    WarmUpRecord,
    data_dir_from_env,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_samples_survive_reopening_the_same_folder(tmp_path: Path) -> None:
    first = Store.in_dir(tmp_path)
    first.add_samples("local", [Sample("memory_utilization", "rss", NOW, 0.5)])
    first.close()

    again = Store.in_dir(tmp_path)
    assert again.samples("local", NOW - timedelta(hours=1)) == [
        Sample("memory_utilization", "rss", NOW, 0.5)
    ]
    assert (tmp_path / DB_NAME).is_file()


def test_samples_are_per_platform_and_from_the_window_start(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.add_samples(
        "local",
        [
            Sample("request_count", "requests", NOW - timedelta(hours=2), 1.0),
            Sample("request_count", "requests", NOW, 2.0),
        ],
    )
    store.add_samples("cloudrun", [Sample("request_count", "requests", NOW, 9.0)])
    window = store.samples("local", NOW - timedelta(hours=1))
    assert [sample.value for sample in window] == [2.0]


def test_prune_drops_samples_older_than_the_retention(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3", retention=timedelta(days=8))
    store.add_samples(
        "local",
        [
            Sample("instance_count", "running", NOW - timedelta(days=9), 1.0),
            Sample("instance_count", "running", NOW - timedelta(days=1), 1.0),
        ],
    )
    assert store.prune(NOW) == 1
    assert len(store.samples("local", NOW - timedelta(days=30))) == 1


def test_audit_log_is_newest_first_and_keeps_the_outcome(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.add_audit(AuditRecord(NOW, "ana", "local", "scale", "floor 1", True, "started"))
    later = NOW + timedelta(seconds=1)
    store.add_audit(AuditRecord(later, "bo", "local", "restore", "-", False, "nothing"))
    records = store.audit(limit=10)
    assert [(r.actor, r.action, r.ok) for r in records] == [
        ("bo", "restore", False),
        ("ana", "scale", True),
    ]
    assert records[0].at == later


def test_warm_up_history_filters_by_platform_and_time(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    store.add_warm_up(WarmUpRecord(NOW - timedelta(days=2), "local", True, 3.0, 4, None))
    store.add_warm_up(WarmUpRecord(NOW, "local", False, 9.0, 10, "timed out"))
    store.add_warm_up(WarmUpRecord(NOW, "cloudrun", True, 40.0, 5, None))
    recent = store.warm_ups(platform="local", since=NOW - timedelta(days=1))
    assert recent == [WarmUpRecord(NOW, "local", False, 9.0, 10, "timed out")]
    assert len(store.warm_ups()) == 3


def test_settings_round_trip_json_values_and_can_be_deleted(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    assert store.get_setting("floor", 1) == 1
    store.set_setting("floor", {"min": 0, "max": None})
    store.set_setting("floor", {"min": 2, "max": 3})
    assert store.get_setting("floor") == {"min": 2, "max": 3}
    store.delete_setting("floor")
    assert store.get_setting("floor") is None


def test_concurrent_writers_from_many_threads_lose_nothing(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)

    def write(worker: int) -> None:
        for i in range(50):
            store.add_samples("local", [Sample("request_count", str(worker), NOW, float(i))])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.samples("local", NOW)) == 8 * 50


def test_data_dir_comes_from_the_environment_with_a_local_default() -> None:
    assert data_dir_from_env({"LIGHTONOCR_DATA_DIR": "/srv/ocr"}) == Path("/srv/ocr")
    assert data_dir_from_env({}) == Path(".lightonocr")


def test_a_store_from_an_older_console_gains_new_optional_columns(tmp_path: Path) -> None:
    """A warm-up field added later (nullable) reaches stores created before it existed."""
    with sqlite3.connect(tmp_path / DB_NAME) as old:
        old.execute(
            "CREATE TABLE warm_ups (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "
            "platform TEXT NOT NULL, ready INTEGER NOT NULL, seconds REAL NOT NULL, "
            "attempts INTEGER NOT NULL)"
        )
    store = Store.in_dir(tmp_path)
    store.add_warm_up(WarmUpRecord(NOW, "local", False, 9.0, 10, "timed out"))
    assert store.warm_ups() == [WarmUpRecord(NOW, "local", False, 9.0, 10, "timed out")]


def test_a_store_can_be_any_sqlalchemy_url(tmp_path: Path) -> None:
    store = Store(url=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    store.set_setting("floor", 1)
    assert Store(url=f"sqlite:///{tmp_path / 'elsewhere.db'}").get_setting("floor") == 1
    assert store.where == f"sqlite:///{tmp_path / 'elsewhere.db'}"
