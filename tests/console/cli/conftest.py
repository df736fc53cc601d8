"""The CLIs' tests use the jobs' and golden sets' fixtures: the CLIs drive both."""

from tests.console.golden.conftest import golden
from tests.console.jobs.conftest import jobs, runners, server

__all__ = ["golden", "jobs", "runners", "server"]
