#!/usr/bin/env python3
"""Set up and run the project from a fresh machine that has only Python 3.11+ and pip.

    python3 dev.py console   # venv + packages, then the console (worker, UI, local OCR server)
    python3 dev.py test      # venv, packages, chromium + postgresql + tesseract; ruff, mypy, tests
    python3 dev.py test-lowest  # a second venv at the declared LOWER BOUNDS, unit tests

Only the standard library is used here, because nothing else exists yet when this runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed-from"
CHROMIUM = Path("/usr/bin/chromium")


def _run(*cmd: str | os.PathLike[str], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def ensure_venv() -> None:
    """Create the venv and install the project; skip the install while pyproject is unchanged."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must explain, not crash, on old Pythons
        sys.exit(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        _run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    STAMP.write_text(wanted)


def _apt_install(*packages: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(*sudo, "apt-get", "update", "-qq", env=env)
    _run(*sudo, "apt-get", "install", "-y", "-qq", *packages, env=env)


def ensure_debian_packages() -> None:
    """Browser tests drive Debian's chromium (Playwright's own browser download cannot work
    here); the store's PostgreSQL tests start Debian's postgresql server in a temp dir; the
    peer bench's test runs Debian's tesseract, the tool the embedded engine is measured
    against (without it that test would be skipped on every run)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append("chromium")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing.append("postgresql")
    if not Path("/usr/bin/tesseract").exists():
        missing += ["tesseract-ocr", "tesseract-ocr-eng"]
    if missing:
        _apt_install(*missing)


def console(args: list[str]) -> int:
    """The console as one unit (`python -m console`): the worker, the Streamlit UI on
    http://127.0.0.1:8501 and, on the local platform, the local OCR server; Ctrl-C stops all
    three. Streamlit options pass through (e.g. `--server.port 8600`)."""
    ensure_venv()
    cmd = [str(PYTHON), "-m", "console", *args]
    print("+", " ".join(cmd), flush=True)
    process = subprocess.Popen(cmd, cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # the console got the same Ctrl-C: let it stop everything
            continue


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    """Time a stage; with DEV_STAGE_TIMES set (as .ci/run sets it), append "name seconds" to
    that file, whether the stage passed or not."""
    started = time.monotonic()
    try:
        yield
    finally:
        if times := os.environ.get("DEV_STAGE_TIMES"):
            with open(times, "a") as out:
                out.write(f"{name}\t{time.monotonic() - started:.0f}\n")


def test(args: list[str]) -> int:
    with _stage("set-up"):
        ensure_venv()
        ensure_debian_packages()
    ruff = str(BIN / "ruff")
    # mypy reads its files and strictness from pyproject's [tool.mypy] (ocr_core, strict).
    checks = ([ruff, "check", "."], [ruff, "format", "--check", "."], [str(BIN / "mypy")])
    with _stage("checks"):
        for check in checks:
            print("+", " ".join(check), flush=True)
            if subprocess.call(check, cwd=ROOT):
                return 1
    cmd = [str(PYTHON), "-m", "pytest", *_parallel(args), *args]
    print("+", " ".join(cmd), flush=True)
    with _stage("tests"):
        return subprocess.call(cmd, cwd=ROOT)


# pytest-xdist: two workers. Much of the suite's time is waiting (OCR servers and consoles
# starting, pages read in child processes, a browser rendering), so two workers keep the
# 2-core CI machine busy; a third would oversubscribe it, since every worker also runs its
# own servers and consoles beside it. `loadfile`: a module's tests run in one worker, so a
# module's server or console (module-scoped fixtures) starts once. (`loadgroup` would group
# by marks, but pytest-xdist 3.8 cannot rename items under pytest 9.2, so it splits groups.)
# `-n 0` or `-p no:xdist` runs serially.
XDIST_ARGS = ("-n", "2", "--dist", "loadfile")


def _parallel(args: list[str]) -> tuple[str, ...]:
    """XDIST_ARGS unless the caller chose the workers or the distribution, or turned xdist off."""
    chosen = any(
        arg in ("-n", "--numprocesses", "--dist", "no:xdist")
        or arg.startswith(("--numprocesses=", "--dist=", "-n"))
        for arg in args
    )
    return () if chosen else XDIST_ARGS


def _requirements(*extras: str) -> list[str]:
    """pyproject's requirements (base, plus `extras`), with the self-references expanded."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional, name = project["optional-dependencies"], project["name"]
    found: list[str] = list(project["dependencies"])
    todo = list(extras)
    while todo:
        for requirement in optional[todo.pop()]:
            if requirement.startswith(f"{name}["):
                todo.extend(requirement[len(name) + 1 : -1].split(","))
            elif requirement not in found:
                found.append(requirement)
    return found


# Floors that hold for the library but not beside the tests' own floors: installed as `>=`
# and resolved to the lowest version the other floors allow, with the reason.
RAISED_BY_OTHERS = {
    # streamlit (floor 1.63) requires these newer versions.
    "uvicorn": "streamlit 1.63 requires uvicorn>=0.30",
    "starlette": "streamlit 1.63 requires starlette>=0.46",
    # streamlit 1.63 requires protobuf>=5.26.1, which these floors refuse (<5): beside the
    # console they resolve to 3.11.1 and 2.22.1. Their own floors are proven without the
    # console: the base venv installs the cloud extra at its floors and builds both deploy
    # requests (see `test_lowest`).
    "google-cloud-logging": "3.10 requires protobuf<5; streamlit 1.63 requires >=5.26.1",
    "google-cloud-monitoring": "2.21 requires protobuf<5; streamlit 1.63 requires >=5.26.1",
}
# A digest-pinned reference for the dry-runs (deploy refuses a mutable tag).
FLOOR_CHECK_IMAGE = "us-docker.pkg.dev/floor-check/ocr/lightonocr@sha256:" + "0" * 64


# What test-lowest runs: the tests the floors can break, not a second copy of the suite.
# - tests/ocr_core: the client (httpx, tenacity, google-auth; against the fault server, which
#   is starlette and uvicorn at their floors), documents (pypdfium2, pillow, pebble: the
#   sandbox and the hostile files), the standalone import, and the local server's protocol
#   (pydantic, prometheus-client) with the simulated engine; the client reads real scans
#   with the real rapidocr engine (test_client_local), so the engine's floors load and read.
# - tests/deploy: the Cloud Run requests built from the real proto classes.
# - tests/console: the store (SQLAlchemy, Alembic, psycopg on a real PostgreSQL), the
#   AppTest pages (streamlit), the platforms (the cloud clients), jobs and golden sets.
# Left out: the browser tests (tests/e2e: Debian's chromium is no pinned dependency), the
# images' files (tests/gpu_image, tests/console_image: Dockerfiles, build and entrypoint
# scripts) and the engine's reading quality (tests/ocr_core/server/test_ocr.py: CER bounds
# and reading order of real pages, the engine's own work; an older onnxruntime build may
# shift a character, which says nothing about a floor).
# For the same reason, the check that an upside-down page read with its first detection
# turned reads exactly as one detected again: older onnxruntime builds place a paragraph
# break differently between the two (seen at the floors), which is the engine's rounding.
LOWEST_TESTS = ("tests/ocr_core", "tests/deploy", "tests/console")
# Also left out: the tests that start whole consoles and task processes one after another
# (the supervisor, one console per folder, backfills, a full disk in a mount namespace):
# they test our processes' orchestration, at minutes each; the floors of what they run
# (streamlit, the store, the clients) are proven by the AppTests and the store's tests.
LOWEST_LEFT_OUT = (
    "tests/ocr_core/server/test_ocr.py",
    "tests/console/test_supervisor.py",
    "tests/console/test_one_console_per_folder.py",
    "tests/console/backfill",
    "tests/console/jobs/test_disk_full.py",
)
LOWEST_DESELECTED = (
    "tests/ocr_core/server/test_engine_speed.py::"
    "test_an_upside_down_page_read_with_its_first_detection_turned_reads_as_detected_again",
)


def test_lowest(args: list[str]) -> int:
    """Prove pyproject's lower bounds: install every requirement at exactly its floor
    (`name>=X` becomes `name==X`; what they pull in resolves normally, newest first) and run
    the tests the floors can break (LOWEST_TESTS, above); first, install ocr_core ALONE the
    same way (what the loan backend installs) and import it. A floor that is too low, that is
    no release, or a dependency missing from the base list fails here, not on someone else's
    machine. (uv's `--resolution lowest-direct` alone was not enough: it reached a floor only
    when the newest transitive versions allowed it, e.g. google-cloud-logging 3.11 instead
    of 3.10.)"""
    with _stage("lowest set-up"):
        _lowest_venvs()
    python = ROOT / ".venv-lowest" / ("Scripts" if os.name == "nt" else "bin") / "python"
    ignored = [f"--ignore={path}" for path in LOWEST_LEFT_OUT]
    ignored += [f"--deselect={node}" for node in LOWEST_DESELECTED]
    cmd = [str(python), "-m", "pytest", *_parallel(args), *ignored, *args]
    if not any(arg.startswith("tests") for arg in args):  # paths given: the caller's choice
        cmd.extend(LOWEST_TESTS)
    print("+", " ".join(cmd), flush=True)
    with _stage("lowest tests"):
        return subprocess.call(cmd, cwd=ROOT)


def _lowest_venvs() -> None:
    """.venv-lowest/base (ocr_core alone, then the cloud extra, at their floors: checked by
    an import and both deploy dry-runs) and .venv-lowest (the dev extra at its floors)."""
    bindir = "Scripts" if os.name == "nt" else "bin"
    full, base = ROOT / ".venv-lowest", ROOT / ".venv-lowest" / "base"
    python, base_python = full / bindir / "python", base / bindir / "python"
    if not python.exists():
        _run(sys.executable, "-m", "venv", full)
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "uv")
    if not base_python.exists():
        _run(sys.executable, "-m", "venv", base)
    uv = python.parent / "uv"
    lowest = ("pip", "install", "--quiet", "--python")

    def floors(*extras: str) -> list[str]:
        highest: dict[str, tuple[int, ...]] = {}  # a package named twice: its higher floor
        for requirement in _requirements(*extras):
            name, version = requirement.split(">=")
            number = tuple(int(part) for part in version.split("."))
            highest[name] = max(highest.get(name, number), number)
        return [
            f"{name}{'>=' if name in RAISED_BY_OTHERS else '=='}{'.'.join(map(str, v))}"
            for name, v in highest.items()
        ]

    _run(uv, *lowest, base_python, "-e", str(ROOT), *floors())
    _run(
        base_python, "-c",
        "import sys, ocr_core; from ocr_core import OCRClient, SyncOCRClient; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'grpc')); "
        "assert not bad, bad; print('ocr_core imports with its base dependencies alone')",
    )  # fmt: skip
    # The cloud clients at their own floors (no console beside them): both deploy requests
    # are built from the real proto classes, so a field a floor does not know fails here.
    _run(uv, *lowest, base_python, "-e", f"{ROOT}[cloud]", *floors("cloud"))
    checks = (
        ("apply", "--dry-run", "--project", "floor-check", "--image", FLOOR_CHECK_IMAGE),
        (
            "console", "apply", "--dry-run", "--project", "floor-check",
            "--project-number", "123456789", "--image", FLOOR_CHECK_IMAGE,
            "--service-url", "https://lightonocr-123456789.us-central1.run.app",
            "--database-url-secret", "console-database-url", "--operator", "ops@example.com",
            "--bucket", "floor-check-documents",
        ),
    )  # fmt: skip
    for check in checks:
        _run(base_python, "-m", "deploy", *check, cwd=ROOT, stdout=subprocess.DEVNULL)
    print("deploy builds its requests with the cloud extra at its floors", flush=True)
    # Floors another floor raises resolve to the lowest version that fits (lowest-direct).
    _run(uv, *lowest, python, "--resolution", "lowest-direct", "-e", f"{ROOT}[dev]", *floors("dev"))
    with open(full / "freeze.txt", "w") as freeze:  # what was tested, for the record
        _run(uv, "pip", "freeze", "--python", python, stdout=freeze)


def main() -> int:
    commands = {"console": console, "test": test, "test-lowest": test_lowest}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
