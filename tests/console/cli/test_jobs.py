"""`python -m console.jobs` for scripts: list, show, cancel, export, on the console's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from console._store import Store
from console.jobs import JobRunner, JobStatus, JobStore, NewDocument
from console.jobs._ledger import JobLedger
from console.jobs._models import DocumentState
from console.jobs._words import WordsStore
from ocr_core import PageResult, PageWords
from tests.console.jobs.conftest import make_pdf, submit, wait_until
from tests.fakes.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[3]


def _cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.jobs", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LIGHTONOCR_DATA_DIR": str(data_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _done_job(jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer) -> int:
    job_id = submit(jobs, ("scan.pdf", make_pdf(3)), ("scan.pdf", b"junk"), url=server.base_url)
    runner = runners(server.base_url)
    assert wait_until(lambda: not jobs.job(job_id).active)
    runner.stop()  # later jobs of the test stay queued
    return job_id


def test_list_json_is_one_object_per_job_newest_first(
    tmp_path: Path, jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    done = _done_job(jobs, runners, server)
    queued = submit(jobs, ("later.pdf", make_pdf(1)))
    listed = _cli(tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in records] == [queued, done]
    assert records[1]["status"] == "done"
    assert (records[1]["pages_total"], records[1]["pages_done"], records[1]["pages_failed"]) == (
        3,
        3,
        0,
    )
    assert records[1]["documents"] == 2
    assert records[0]["status"] == "queued" and records[0]["created_at"]


def test_show_json_has_every_page_result(
    tmp_path: Path, jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = _done_job(jobs, runners, server)
    shown = _cli(tmp_path, "show", str(job_id), "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    good, bad = record["documents"]
    assert [p["page"] for p in good["pages"]] == [1, 2, 3]
    assert all(p["ok"] and p["latency_s"] > 0 and p["attempts"] == 1 for p in good["pages"])
    assert bad["state"] == "failed" and "not a file type" in bad["error"]


def test_cancel_stops_a_queued_job(tmp_path: Path, jobs: JobStore) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    cancelled = _cli(tmp_path, "cancel", str(job_id))
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled" in cancelled.stdout
    assert jobs.job(job_id).status is JobStatus.CANCELLED


def test_export_writes_the_download_files(
    tmp_path: Path, jobs: JobStore, runners: Callable[..., JobRunner], server: LocalServer
) -> None:
    job_id = _done_job(jobs, runners, server)
    out = tmp_path / "out"
    exported = _cli(tmp_path, "export", str(job_id), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "batch.json",
        "scan.json",
        "scan.md",
        "scan.txt",
    ]
    assert (out / "scan.md").read_text().count("simulated page") == 3
    index = json.loads((out / "batch.json").read_text())
    assert index["documents"][1]["error"].startswith("is not a file type")


def test_an_unknown_job_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    shown = _cli(tmp_path, "show", "999")
    assert shown.returncode != 0
    assert "no job 999" in shown.stderr


def test_an_id_beyond_any_store_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    shown = _cli(tmp_path, "show", "99999999999999999999")
    assert shown.returncode == 1
    assert shown.stderr.strip() == "error: no job 99999999999999999999"


def test_a_listing_piped_into_a_reader_that_stops_early_ends_quietly(
    tmp_path: Path, jobs: JobStore
) -> None:
    for n in range(400):  # more than a pipe's buffer of lines
        submit(jobs, (f"scan-{n}.pdf", b"%PDF"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LIGHTONOCR_DATA_DIR": str(tmp_path)}
    listing = subprocess.Popen(
        [sys.executable, "-m", "console.jobs", "list", "--limit", "400"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout is not None and listing.stdout.readline()  # `| head -1`
    listing.stdout.close()
    _, err = listing.communicate(timeout=120)
    assert listing.returncode == 0 and b"Traceback" not in err


def _truncated_pdf(corpus: Path) -> bytes:
    """A real PDF cut short, as a download that stopped half way leaves it."""
    data = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    return data[: len(data) // 2]


def test_a_job_with_a_corrupt_document_is_done_with_failures_in_list_and_show(
    tmp_path: Path,
    corpus: Path,
    jobs: JobStore,
    runners: Callable[..., JobRunner],
    server: LocalServer,
) -> None:
    job_id = submit(
        jobs, ("good.pdf", make_pdf(2)), ("cut.pdf", _truncated_pdf(corpus)), url=server.base_url
    )
    runner = runners(server.base_url)
    assert wait_until(lambda: not jobs.job(job_id).active)
    runner.stop()
    job = jobs.job(job_id)
    assert (job.status, job.outcome, job.documents_failed) == (
        JobStatus.DONE,
        "done with failures",
        1,
    )
    listed = _cli(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert "done with failures" in listed.stdout
    shown = _cli(tmp_path, "show", str(job_id))
    assert shown.returncode == 0, shown.stderr
    first, failures, why = shown.stdout.splitlines()[:3]
    assert "done with failures" in first
    assert failures.strip() == "failures: 0 pages, 1 documents not read"
    assert why.strip().startswith("cut.pdf: ") and "damaged or truncated" in why
    record = json.loads(_cli(tmp_path, "show", str(job_id), "--json").stdout)
    assert (record["status"], record["outcome"]) == ("done", "done with failures")


def test_list_and_show_escape_control_characters_in_file_names(
    tmp_path: Path, jobs: JobStore
) -> None:
    painted = "scan\x1b[2K\r\x1b[32m  7  done  fake\u202efdp.exe\nline.pdf"
    job_id = submit(jobs, (painted, make_pdf(1)))
    for args in (("list",), ("show", str(job_id))):
        shown = _cli(tmp_path, *args)
        assert shown.returncode == 0, shown.stderr
        assert not any(ch in shown.stdout for ch in ("\x1b", "\r", "\u202e"))
        assert "scan\\x1b[2K\\r\\x1b[32m" in shown.stdout and "\\u202e" in shown.stdout
        # One line per job in the list, and the name stays on its own line in show.
        assert "line.pdf" not in shown.stdout.replace("\\nline.pdf", "")


def test_an_iap_console_audits_a_shell_as_its_os_user_not_as_the_actor_it_claims(
    tmp_path: Path, jobs: JobStore, store: Store
) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    claimed = {
        "LIGHTONOCR_IDENTITY": "iap",
        "LIGHTONOCR_IAP_AUDIENCE": "/projects/1/locations/europe-west1/services/console",
        "LIGHTONOCR_ACTOR": "ceo@example.com",
    }
    cancelled = _cli(tmp_path, "cancel", str(job_id), env=claimed)
    assert cancelled.returncode == 0, cancelled.stderr
    (row,) = [r for r in store.audit() if r.action == "cancel job"]
    assert row.actor.startswith("os:") and row.actor.endswith(" via CLI")
    assert "ceo@example.com" not in row.actor


def test_list_from_an_empty_directory_refuses_and_creates_nothing(tmp_path: Path) -> None:
    home, here = tmp_path / "home", tmp_path / "elsewhere"
    here.mkdir()
    listed = subprocess.run(
        [sys.executable, "-m", "console.jobs", "list"],
        cwd=here,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 1
    assert "no running console found" in listed.stderr and "nothing was created" in listed.stderr
    assert list(here.iterdir()) == [] and not home.exists()


def test_verbose_says_which_store_and_why(tmp_path: Path, store: Store) -> None:
    listed = _cli(tmp_path, "--verbose", "list")
    assert listed.returncode == 0, listed.stderr
    said = f"store: {tmp_path / 'console.sqlite3'} (LIGHTONOCR_DATA_DIR is set)"
    assert listed.stderr.splitlines()[0] == said
    helped = _cli(tmp_path, "--help")
    assert helped.returncode == 0 and said in helped.stdout


def test_a_word_export_of_a_job_still_locating_says_how_far_while_its_text_exports(
    tmp_path: Path, jobs: JobStore, store: Store
) -> None:
    job_id = jobs.create_job(
        [NewDocument("scan.pdf", make_pdf(2))], actor="qa", service_url="", locate_words=True
    )
    (document,) = jobs.documents(job_id)
    ledger = JobLedger(store)
    assert ledger.claim(job_id, "runner-a", None)
    ledger.set_document(document.id, DocumentState.OPENED, 2)
    for index in range(2):
        page = PageResult(index=index, text="read text", latency_s=0.1, attempts=1)
        ledger.save_page(job_id, document.id, page, request_id=None, revision=None, started_at=0)
    WordsStore(store).save(job_id, document.id, 0, PageWords(1, 1, (), ()))
    ledger.release(job_id, "runner-a", JobStatus.DONE)  # the text is done, one page located
    out = tmp_path / "out"
    refused = _cli(tmp_path, "export", str(job_id), "--out", str(out), "--format", "md,pdf")
    assert refused.returncode != 0
    assert "locating words, 1 of 2 pages" in refused.stderr
    assert not out.exists()
    text = _cli(tmp_path, "export", str(job_id), "--out", str(out), "--format", "md,txt")
    assert text.returncode == 0, text.stderr
    assert (out / "scan.md").read_text().count("read text") == 2
