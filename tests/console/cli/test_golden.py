"""`python -m console.golden` as a deploy gate: a run on the real rapidocr engine, then one
on the simulated engine (which reads nothing of the page), exits non-zero and names the
document that got worse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from console.cli.golden import EXIT_INCOMPLETE
from tests.console.golden.conftest import ROOT, make_zip, phototest_set, write_files
from tests.fakes.fault_server import FaultServer
from tests.fakes.local_server import LocalServer


def _cli(data_dir: Path, *args: str, service_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LIGHTONOCR_DATA_DIR": str(data_dir),
        "LIGHTONOCR_ACTOR": "ci",
    }
    if service_url:
        env["LIGHTONOCR_SERVICE_URL"] = service_url
    return subprocess.run(
        [sys.executable, "-m", "console.golden", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_run_on_a_worse_engine_exits_non_zero_naming_the_document(
    tmp_path: Path, local_server: LocalServer, simulated_server: LocalServer
) -> None:
    # The session's servers (tests/conftest.py): rapidocr, then the simulated engine.
    data = tmp_path / "data"
    registered = _cli(data, "register", "photo", str(phototest_set(tmp_path / "set")))
    assert registered.returncode == 0, registered.stderr
    good = _cli(data, "run", "photo", "--json", service_url=local_server.base_url)
    assert good.returncode == 0, good.stderr
    first = json.loads(good.stdout)
    assert first["documents"][0]["cer"] < 0.1  # rapidocr reads this scan well
    assert first["regressions"] == []
    bad = _cli(data, "run", "photo", "--json", service_url=simulated_server.base_url)
    assert bad.returncode == 2, bad.stderr
    second = json.loads(bad.stdout)
    assert second["regressions"] == ["phototest.tif"]
    (document,) = second["documents"]
    assert document["regression"] and document["previous_cer"] == first["documents"][0]["cer"]
    # The local platform's name for a server it did not start; Cloud Run gives the revision.
    assert first["revision"] == second["revision"] == "external"
    history = _cli(data, "history", "photo", "--json")
    assert [json.loads(line)["run"] for line in history.stdout.splitlines()] == [
        second["run"],
        first["run"],
    ]


def test_register_warns_of_unmatched_files_and_list_shows_the_set(tmp_path: Path) -> None:
    folder = phototest_set(tmp_path / "set")
    write_files(
        folder,
        {"stray.pdf": b"%PDF-1.4", "latin.txt": "é".encode("latin-1"), "latin.png": b"\x89PNG"},
    )
    registered = _cli(tmp_path / "data", "register", "photo", str(folder))
    assert registered.returncode == 0, registered.stderr
    assert "registered 'photo': 1 documents" in registered.stdout
    assert "warning: stray.pdf: no expected text beside it" in registered.stderr
    assert "warning: latin.txt is not UTF-8 text" in registered.stderr
    listed = _cli(tmp_path / "data", "list", "--json")
    assert json.loads(listed.stdout)["documents"] == 1


def test_register_from_a_zip_refuses_path_traversal_without_a_traceback(tmp_path: Path) -> None:
    archive = tmp_path / "set.zip"
    archive.write_bytes(make_zip({"a.png": b"\x89PNG", "../a.txt": b"x"}))
    refused = _cli(tmp_path / "data", "register", "evil", str(archive))
    assert refused.returncode == 1
    assert "outside itself" in refused.stderr and "Traceback" not in refused.stderr


def test_running_an_unknown_set_is_a_clear_error(tmp_path: Path) -> None:
    missing = _cli(tmp_path / "data", "run", "nope")
    assert missing.returncode == 1
    assert "no golden set named 'nope'" in missing.stderr and "Traceback" not in missing.stderr


def test_seed_registers_the_shipped_example_once(tmp_path: Path) -> None:
    assert _cli(tmp_path / "data", "seed").returncode == 0
    again = _cli(tmp_path / "data", "seed")
    assert again.returncode == 0 and "already registered" in again.stdout
    listed = _cli(tmp_path / "data", "list").stdout
    assert "corpus-sample" in listed and "3 documents" in listed


def test_a_run_that_reads_nothing_is_incomplete_and_no_baseline(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """Against a service that refuses every request: exit 3 (not 0, not the regression
    code 2), the run says why, and the next good run is not compared with it."""
    data = tmp_path / "data"
    assert _cli(data, "register", "photo", str(phototest_set(tmp_path / "set"))).returncode == 0
    with FaultServer() as refusing:
        refusing.faults.accept_tokens = {"nobody-has-this"}  # every request: 401
        failed = _cli(data, "run", "photo", "--json", service_url=refusing.base_url)
    assert failed.returncode == EXIT_INCOMPLETE, failed.stderr
    run = json.loads(failed.stdout)
    assert run["complete"] is False and run["regressions"] == []
    assert run["problems"] and run["documents"][0]["cer"] is None
    good = _cli(data, "run", "photo", "--json", service_url=local_server.base_url)
    assert good.returncode == 0, good.stderr
    second = json.loads(good.stdout)
    assert second["complete"] is True and second["pages_read"] == second["pages"] == 1
    assert second["documents"][0]["previous_cer"] is None  # the failed run is no baseline
    shown = _cli(data, "history", "photo")
    assert "INCOMPLETE" in shown.stdout and "complete: 1 of 1 pages read" in shown.stdout
