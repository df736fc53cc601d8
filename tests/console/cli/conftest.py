"""The CLIs' tests use the jobs', golden sets' and Cloud Run's fixtures: the CLIs drive
them all (the canary command deploys to the fake Run server)."""

from tests.console.golden.conftest import golden
from tests.console.jobs.conftest import jobs, runners, server
from tests.deploy.conftest import deployer, fake_run, run_env, target

__all__ = ["deployer", "fake_run", "golden", "jobs", "run_env", "runners", "server", "target"]
