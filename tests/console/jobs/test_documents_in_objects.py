"""A job's documents live in the object store: the database keeps their metadata only, a job
too large is refused whole, retention removes the bytes too, and documents stored in rows
before the object store stay readable."""

from __future__ import annotations

import io
import os
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from console._objects import FolderObjects
from console.jobs import JobStatus, JobStore, JobTooLarge, NewDocument
from console.jobs._tables import documents_table
from console.settings import DEFAULT_MAX_JOB_MB
from tests.console.jobs.conftest import make_pdf, submit

MB = 1 << 20


def _object_files(jobs: JobStore) -> list[Path]:
    root = jobs.store.objects.root  # type: ignore[attr-defined]
    return [path for path in root.rglob("*") if path.is_file()]


def test_the_database_keeps_no_document_bytes(jobs: JobStore) -> None:
    pdf = make_pdf(2)
    job_id = submit(jobs, ("a.pdf", pdf))
    [(data, key, size)] = jobs.store.read(
        sa.select(documents_table.c.data, documents_table.c.object_key, documents_table.c.size)
    )
    assert (data, size) == (b"", len(pdf))
    assert key and jobs.store.objects.exists(key)
    assert jobs.document_data(jobs.documents(job_id)[0].id) == pdf


def test_an_upload_is_streamed_from_its_file(jobs: JobStore, tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf(1))
    with path.open("rb") as upload:
        job_id = jobs.create_job([NewDocument("scan.pdf", upload)], actor="qa", service_url="")
    assert jobs.document_data(jobs.documents(job_id)[0].id) == path.read_bytes()


def test_a_job_past_its_size_cap_is_refused_whole(
    jobs: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIGHTONOCR_MAX_JOB_MB", "1")
    documents = [NewDocument(f"{n}.pdf", io.BytesIO(b"%PDF" + b"0" * (MB // 2))) for n in range(3)]
    with pytest.raises(JobTooLarge, match="more than the 1 MB a job may hold"):
        jobs.create_job(documents, actor="qa", service_url="")
    assert jobs.jobs() == []
    assert _object_files(jobs) == []  # the first two, already stored, were removed


def test_retention_deletes_a_jobs_objects_with_its_rows(jobs: JobStore) -> None:
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    jobs.request_cancel(job_id)
    assert jobs.job(job_id).status is JobStatus.CANCELLED
    assert len(_object_files(jobs)) == 1
    assert jobs.prune(now=datetime.now(UTC) + timedelta(days=365)) == 1
    assert _object_files(jobs) == []


def test_a_document_stored_in_its_row_before_the_object_store_is_still_read(
    jobs: JobStore,
) -> None:
    pdf = make_pdf(1)
    job_id = submit(jobs, ("new.pdf", make_pdf(1)))
    document_id = jobs.documents(job_id)[0].id
    with jobs.store.transaction() as connection:  # as migration 0003 left an older row
        connection.execute(
            documents_table.update()
            .where(documents_table.c.id == document_id)
            .values(data=pdf, object_key=None)
        )
    assert jobs.document_data(document_id) == pdf


def test_streamlits_upload_limit_fits_within_a_jobs_cap() -> None:
    config = Path(__file__).resolve().parents[3] / ".streamlit" / "config.toml"
    per_file_mb = tomllib.loads(config.read_text())["server"]["maxUploadSize"]
    assert 0 < per_file_mb <= DEFAULT_MAX_JOB_MB


def test_objects_no_job_refers_to_are_swept_once_they_are_an_hour_old(jobs: JobStore) -> None:
    """What a submit killed outright leaves: a half-written upload and whole uploads whose job
    rows were never written. A job's own documents and an upload in progress stay."""
    objects = jobs.store.objects
    assert isinstance(objects, FolderObjects)
    job_id = submit(jobs, ("kept.pdf", make_pdf(1)))
    [(kept,)] = jobs.store.read(
        sa.select(documents_table.c.object_key).where(documents_table.c.job_id == job_id)
    )
    left = objects.new_key()
    objects.put(left, io.BytesIO(b"%PDF- uploaded, then the submit was killed"))
    half = objects.root / "documents" / ".incoming-killed"
    half.write_bytes(b"%PDF- half of it")
    recent = objects.new_key()
    objects.put(recent, io.BytesIO(b"%PDF- being uploaded now"))
    two_hours_ago = time.time() - 7200
    for key in (kept, left):
        os.utime(objects.root / key, (two_hours_ago, two_hours_ago))
    os.utime(half, (two_hours_ago, two_hours_ago))
    assert jobs.sweep_orphans() == 2
    assert objects.exists(kept) and objects.exists(recent)
    assert not objects.exists(left) and not half.exists()
