"""The console image's entrypoint: Streamlit on $PORT for the host names it is served as."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from console._store import Store
from console.service import live_workers
from console_image.entrypoint import MissingHosts, command
from tests.waits import wait_until

HOSTS = "lightonocr-console-123456.europe-west1.run.app,ocr.bank.example"


def _option(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == name]


def test_the_console_unit_listens_on_every_interface_at_cloud_runs_port() -> None:
    argv = command({"PORT": "9090", "LIGHTONOCR_CONSOLE_HOSTS": HOSTS})
    assert argv[1:3] == ["-m", "console"]  # the worker and Streamlit, supervised together
    assert _option(argv, "--server.address") == ["0.0.0.0"]
    assert _option(argv, "--server.port") == ["9090"]


def test_only_the_served_host_names_are_allowed() -> None:
    argv = command({"LIGHTONOCR_CONSOLE_HOSTS": HOSTS})
    assert sorted(_option(argv, "--server.allowedHosts")) == sorted(HOSTS.split(","))


def test_without_host_names_the_container_stops_saying_why() -> None:
    with pytest.raises(MissingHosts, match="LIGHTONOCR_CONSOLE_HOSTS is empty"):
        command({"PORT": "8080"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_entrypoint_starts_a_console_that_answers_its_health_check(tmp_path: Path) -> None:
    """The real module run as the image runs it (on loopback here, 0.0.0.0 in the image)."""
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PORT": str(port),
        "LIGHTONOCR_CONSOLE_HOSTS": HOSTS,
        "LIGHTONOCR_CONSOLE_ADDRESS": "127.0.0.1",
        "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"),
        # The image serves the Cloud Run service; here the worker's local server is simulated.
        "LIGHTONOCR_LOCAL_ENGINE": "simulated",
        "LIGHTONOCR_LOCAL_PORT": str(_free_port()),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    log = (tmp_path / "console.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "console_image.entrypoint"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        answer = ""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer == "ok", (tmp_path / "console.log").read_text()
        # The worker runs beside the UI (its beat is in the store).
        store = Store.in_dir(tmp_path / "data")
        assert wait_until(lambda: len(live_workers(store)) == 1, timeout_s=60)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
