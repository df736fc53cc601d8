"""The Metrics page while the console is away: its local server stops with it, and the
instance chart says 0 from then on, not the last level bridged to the next start (issue 35,
item 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.platforms import MetricKey
from tests.console.local_platform import local_platforms
from tests.waits import wait_until


def test_a_console_stopping_with_its_server_leaves_zero_instances_on_the_chart(
    tmp_path: Path,
) -> None:
    with local_platforms(tmp_path) as make:
        platform = make(default_floor=1, sample_interval_s=0.2, background=True)
        store, since = platform.store, datetime.now(UTC) - timedelta(minutes=1)

        def instances() -> list[float]:
            return [
                s.value for s in store.samples("local", since) if s.key == MetricKey.INSTANCE_COUNT
            ]

        assert wait_until(lambda: 1.0 in instances())
        platform.close()
        assert instances()[-1] == 0.0
