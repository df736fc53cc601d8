"""One backfill task in process, against the simulated local server: an attempt killed
between a document's files is finished by the next attempt, never skipped as done."""

from __future__ import annotations

from pathlib import Path

from console.backfill import backfill_status, freeze, location
from console.backfill._manifest import output_name
from tests.console.backfill.conftest import run_one_task
from tests.console.jobs.conftest import make_pdf
from tests.fakes.local_server import LocalServer


def test_a_document_whose_markdown_a_killed_attempt_wrote_is_finished_by_the_next(
    tmp_path: Path, simulated_server: LocalServer
) -> None:
    source, dest = tmp_path / "scans", tmp_path / "out"
    source.mkdir()
    (source / "loan.pdf").write_bytes(make_pdf(1))
    manifest = freeze(location(str(source)), location(str(dest), create=True))
    # The attempt before was killed after writing the markdown, before the json.
    location(str(dest)).write_once(output_name("loan.pdf", "md"), b"page one, as read before")

    run_one_task(manifest, simulated_server.base_url, attempt=1)

    assert (dest / "loan.pdf.json").is_file()
    assert (dest / "loan.pdf.md").read_text() == "page one, as read before"  # never overwritten
    status = backfill_status(location(str(dest)), manifest.backfill_id)
    assert (status.done, status.left) == (1, 0)
