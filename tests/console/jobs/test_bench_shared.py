"""The shared-job bench with two worker processes on a real PostgreSQL (small numbers)."""

from __future__ import annotations

from console.jobs import bench_shared
from tests.fakes.postgres import PostgresServer


def test_two_worker_processes_read_each_page_of_one_job_once(postgres: PostgresServer) -> None:
    url = postgres.create_database("bench_shared_processes")
    figures = bench_shared.run(url, pages=24, documents=12, workers=2, service_time_s=0.05, slots=4)
    assert figures["total"] == figures["distinct"] == figures["answers"] == 24
    assert set(figures) - {"total", "distinct", "answers"} <= {"worker-1", "worker-2"}
