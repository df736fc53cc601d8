"""Every LIGHTONOCR_* variable the console reads, in one table (`VARIABLES`: name, field, type,
default, meaning), read here and nowhere else: `ConsoleSettings.from_env(env)` is the one
reader, and the README's table of console variables is tested against it
(tests/test_settings_table.py). `python -m console.settings` lists them and what this shell
sets (secrets only as "set"); `--markdown` prints the README's table.

The client's variables (`LIGHTONOCR_SERVICE_URL`, `LIGHTONOCR_MODEL`, ...) are `ocr_core`'s
and the Cloud Run target's (`LIGHTONOCR_REGION`, `LIGHTONOCR_SERVICE`) are `deploy`'s: each
is documented once, where it is declared. This module imports no other console module, so
every one of them can import it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr_core._config import MODEL, SERVICE_URL
from ocr_core._variables import SettingsError, Variable, entries, listing, markdown_table

__all__ = ["ConsoleSettings", "SettingsError"]

DEFAULT_DATA_DIR = Path(".lightonocr")
DEFAULT_CONSOLE_PORT = 8501
DEFAULT_LOCAL_PORT = 8000
DEFAULT_LOCAL_ENGINE = "rapidocr"
DEFAULT_MAX_JOB_MB = 1024
DEFAULT_LOW_DISK_MB = 64
DEFAULT_OBJECT_CACHE_MB = 256
# Cloud Run services and tagged revisions, and loopback.
DEFAULT_COMPARE_HOSTS = ("*.run.app", "127.0.0.1", "localhost", "::1")
IAP_PUBLIC_KEYS_URL = "https://www.gstatic.com/iap/verify/public_key"


def _hosts(text: str) -> tuple[str, ...]:
    return tuple(name.strip().casefold() for name in text.split(",") if name.strip())


DATA_DIR: Variable[Path | None] = Variable(
    "LIGHTONOCR_DATA_DIR",
    "data_dir",
    Path,
    None,
    "the console's SQLite store, its documents' folder (without a bucket) and the local "
    "server's log",
    shown=f"`{DEFAULT_DATA_DIR}` in the current directory",
)
DATABASE_URL: Variable[str | None] = Variable(
    "LIGHTONOCR_DATABASE_URL",
    "database_url",
    str,
    None,
    "a SQLAlchemy URL (PostgreSQL for a team: every worker on it shares the jobs)",
    shown="none: SQLite in the data folder",
    secret=True,
)
BUCKET: Variable[str | None] = Variable(
    "LIGHTONOCR_BUCKET",
    "bucket",
    str,
    None,
    "a GCS bucket for uploaded documents' bytes (the team deployment's `--bucket`)",
    shown="none: `objects/` in the data folder",
)
SECRET_KEY: Variable[str | None] = Variable(
    "LIGHTONOCR_SECRET_KEY",
    "secret_key",
    str,
    None,
    "the Fernet key encrypted PDFs' passwords cross the store with; the same on every console "
    "of a shared database",
    shown="none: a key file in the data folder",
    secret=True,
)
IDENTITY = Variable(
    "LIGHTONOCR_IDENTITY",
    "identity",
    str.lower,
    "local",
    "who is acting: `local` (the person at the keyboard), `iap` or `oidc`",
)
IAP_AUDIENCE: Variable[str | None] = Variable(
    "LIGHTONOCR_IAP_AUDIENCE",
    "iap_audience",
    str,
    None,
    "the audience IAP signs for (`/projects/NUMBER/locations/REGION/services/NAME`); "
    "required with `iap`",
)
IAP_KEYS_URL = Variable(
    "LIGHTONOCR_IAP_KEYS_URL",
    "iap_keys_url",
    str,
    IAP_PUBLIC_KEYS_URL,
    "where IAP's public keys are fetched from",
)
OPERATORS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_OPERATORS",
    "operators",
    entries,
    (),
    "comma-separated e-mails or `@domain` entries who may operate the console "
    "(`deploy console apply --operator`)",
)
VIEWERS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_VIEWERS",
    "viewers",
    entries,
    (),
    "comma-separated e-mails or `@domain` entries who may read the console "
    "(`deploy console apply --viewer`)",
)
ACTOR: Variable[str | None] = Variable(
    "LIGHTONOCR_ACTOR",
    "actor",
    str,
    None,
    "the name the local console and the CLIs write to the audit log",
    shown="none: the OS user",
)
CONSOLE_PORT = Variable(
    "LIGHTONOCR_CONSOLE_PORT",
    "console_port",
    int,
    DEFAULT_CONSOLE_PORT,
    "the console's port on 127.0.0.1 (`python -m console`)",
)
CONSOLE_HOSTS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_CONSOLE_HOSTS",
    "console_hosts",
    _hosts,
    (),
    "host names (comma-separated) allowed on top of loopback: a proxy in front of the console",
)
LOCAL_PORT: Variable[int | None] = Variable(
    "LIGHTONOCR_LOCAL_PORT",
    "local_port",
    int,
    None,
    "the local OCR server's port on 127.0.0.1",
    shown=f"`{DEFAULT_LOCAL_PORT}`",
)
LOCAL_ENGINE = Variable(
    "LIGHTONOCR_LOCAL_ENGINE",
    "local_engine",
    str,
    DEFAULT_LOCAL_ENGINE,
    "the local server's engine: `rapidocr`, or `simulated` (fast, for tests)",
)
MAX_IN_FLIGHT: Variable[int | None] = Variable(
    "LIGHTONOCR_MAX_IN_FLIGHT",
    "max_in_flight",
    int,
    None,
    "the console on Cloud Run keeps `LIGHTONOCR_CONCURRENCY` requests in flight per instance "
    "the service may run (its ceiling), so a big job brings up every L4 it may have; this "
    "caps the total",
)
MAX_JOB_MB = Variable(
    "LIGHTONOCR_MAX_JOB_MB",
    "max_job_mb",
    float,
    float(DEFAULT_MAX_JOB_MB),
    "what one job's uploaded files may add up to",
)
LOW_DISK_MB = Variable(
    "LIGHTONOCR_LOW_DISK_MB",
    "low_disk_mb",
    float,
    float(DEFAULT_LOW_DISK_MB),
    'free space below which a write is refused as "disk full"',
)
OBJECT_CACHE_MB = Variable(
    "LIGHTONOCR_OBJECT_CACHE_MB",
    "object_cache_mb",
    int,
    DEFAULT_OBJECT_CACHE_MB,
    "local copies of a bucket's documents kept for paging through them",
)
COMPARE_HOSTS: Variable[tuple[str, ...]] = Variable(
    "LIGHTONOCR_COMPARE_HOSTS",
    "compare_hosts",
    entries,
    DEFAULT_COMPARE_HOSTS,
    "host patterns (comma-separated, shell style) an A/B comparison may send pages to",
)
RATE_GPU_S = Variable(
    "LIGHTONOCR_RATE_GPU_S",
    "rate_gpu_s",
    float,
    0.0001867,
    "USD per GPU-second (an L4 without zonal redundancy) for the cost estimate",
)
RATE_VCPU_S = Variable("LIGHTONOCR_RATE_VCPU_S", "rate_vcpu_s", float, 0.000018, "per vCPU-second")
RATE_GIB_S = Variable(
    "LIGHTONOCR_RATE_GIB_S", "rate_gib_s", float, 0.000002, "per GiB-second of memory"
)
CURRENCY = Variable("LIGHTONOCR_CURRENCY", "currency", str, "USD", "the rates' currency")
CONSOLE_PID: Variable[int | None] = Variable(
    "LIGHTONOCR_CONSOLE_PID",
    "console_pid",
    int,
    None,
    "set by `python -m console` for its worker and UI: the console holding the data folder",
    shown="none (set by the console)",
)

# Every variable the console reads: its own, then the client's it reads itself.
VARIABLES: tuple[Variable[Any], ...] = (
    DATA_DIR,
    DATABASE_URL,
    BUCKET,
    SECRET_KEY,
    IDENTITY,
    IAP_AUDIENCE,
    IAP_KEYS_URL,
    OPERATORS,
    VIEWERS,
    ACTOR,
    CONSOLE_PORT,
    CONSOLE_HOSTS,
    LOCAL_PORT,
    LOCAL_ENGINE,
    MAX_IN_FLIGHT,
    MAX_JOB_MB,
    LOW_DISK_MB,
    OBJECT_CACHE_MB,
    COMPARE_HOSTS,
    RATE_GPU_S,
    RATE_VCPU_S,
    RATE_GIB_S,
    CURRENCY,
    CONSOLE_PID,
    SERVICE_URL,
    MODEL,
)
# What chooses the console's OCR service and its object store: copied from the running
# console to the shell (none of them is a secret; LIGHTONOCR_TOKEN never is copied). The
# Cloud Run ones are `deploy`'s (deploy/settings.py).
SERVICE_VARIABLES = (
    SERVICE_URL.name,
    LOCAL_PORT.name,
    LOCAL_ENGINE.name,
    MODEL.name,
    "LIGHTONOCR_SERVICE",
    "LIGHTONOCR_REGION",
    "LIGHTONOCR_PROJECT_NUMBER",
    "LIGHTONOCR_RUN_ENDPOINT",
    "LIGHTONOCR_LOGGING_ENDPOINT",
    "LIGHTONOCR_AUTH",
    BUCKET.name,
)


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """What the console takes from the environment; built only by `from_env` (the defaults
    live in the table above). `repr` never shows the database URL or the secret key."""

    # None: not set (`data_folder` is then DEFAULT_DATA_DIR).
    data_dir: Path | None
    database_url: str | None
    bucket: str | None
    secret_key: str | None
    identity: str
    iap_audience: str | None
    iap_keys_url: str
    operators: tuple[str, ...]
    viewers: tuple[str, ...]
    actor: str | None
    console_port: int
    console_hosts: tuple[str, ...]
    local_port: int | None
    local_engine: str
    max_in_flight: int | None
    max_job_mb: float
    low_disk_mb: float
    object_cache_mb: int
    compare_hosts: tuple[str, ...]
    rate_gpu_s: float
    rate_vcpu_s: float
    rate_gib_s: float
    currency: str
    console_pid: int | None
    # The client's: LIGHTONOCR_SERVICE_URL as given (None: the local server) and the model.
    base_url: str | None
    model: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        """Raises SettingsError naming a variable whose value is not of its kind."""
        env = os.environ if env is None else env
        return cls(**{v.field: v.read(env) for v in VARIABLES})

    @property
    def data_folder(self) -> Path:
        return DEFAULT_DATA_DIR if self.data_dir is None else self.data_dir

    def __repr__(self) -> str:
        hidden = {DATABASE_URL.field, SECRET_KEY.field}
        shown = (
            f"{v.field}={'<set>' if v.field in hidden else repr(getattr(self, v.field))}"
            for v in VARIABLES
            if getattr(self, v.field) is not None
        )
        return f"ConsoleSettings({', '.join(shown)})"


def main(argv: list[str] | None = None) -> int:
    """`python -m console.settings`: each variable, its default and what this shell sets;
    `--markdown`: the README's table."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--markdown"]:
        print(markdown_table(VARIABLES))
    else:
        print(listing(VARIABLES, os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
