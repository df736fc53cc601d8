"""A page's text as the store keeps it: valid for any database, and bounded on the way in
and on the way out (a row written before the bound is read back cut, never whole)."""

from __future__ import annotations

import sqlalchemy as sa

from console._store import Store
from console.jobs import JobStore
from console.jobs._ledger import JobLedger
from console.jobs._rows import MAX_PAGE_TEXT_CHARS, page_row
from console.jobs._tables import pages_table
from console.jobs._words import WordsStore
from ocr_core import AnswerTooLarge, PageResult, ServiceUnavailable, answer_text_limit
from tests.console.jobs.conftest import make_pdf, submit
from tests.fakes.postgres import PostgresServer


def _job(store: Store) -> tuple[int, int]:
    jobs = JobStore(store)
    job_id = submit(jobs, ("a.pdf", make_pdf(1)))
    (document,) = jobs.documents(job_id)
    return job_id, document.id


def _save(store: Store, job_id: int, document_id: int, result: PageResult) -> None:
    JobLedger(store).save_page(
        job_id, document_id, result, request_id="r", revision=None, started_at=0
    )


def test_text_that_is_not_valid_unicode_is_stored_with_replacement_characters(
    store: Store,
) -> None:
    # What a PDF's text layer may carry: a lone surrogate (no UTF-8 writer takes one) and a
    # NUL (PostgreSQL refuses it in text).
    job_id, document_id = _job(store)
    _save(store, job_id, document_id, PageResult(index=0, text="a\ud800b\x00c"))
    (page,) = JobStore(store).pages(job_id)
    assert page.result.ok
    assert page.result.text == "a\ufffdb\ufffdc"


def test_text_with_a_nul_is_stored_on_postgresql(postgres: PostgresServer) -> None:
    store = Store(url=postgres.create_database("page_text_nul"))
    try:
        job_id, document_id = _job(store)
        _save(store, job_id, document_id, PageResult(index=0, text="a\x00b\ud800"))
        (page,) = JobStore(store).pages(job_id)
        assert page.result.text == "a\ufffdb\ufffd"
    finally:
        store.close()


def test_an_error_message_that_is_not_valid_unicode_is_stored_repaired(store: Store) -> None:
    job_id, document_id = _job(store)
    error = ServiceUnavailable("engine \udfff gone", page_index=0)
    _save(store, job_id, document_id, PageResult(index=0, error=error))
    (page,) = JobStore(store).pages(job_id)
    assert isinstance(page.result.error, ServiceUnavailable)
    assert page.result.error.message == "engine \ufffd gone"


def test_text_past_the_bound_is_stored_cut_and_failed_as_too_large(store: Store) -> None:
    assert answer_text_limit(4096) == MAX_PAGE_TEXT_CHARS  # what the card's tokens can hold
    job_id, document_id = _job(store)
    _save(store, job_id, document_id, PageResult(index=0, text="x" * (3 * MAX_PAGE_TEXT_CHARS)))
    (page,) = JobStore(store).pages(job_id)
    assert len(page.result.text) == MAX_PAGE_TEXT_CHARS
    assert isinstance(page.result.error, AnswerTooLarge)
    assert "the console keeps the first 1,048,576" in str(page.result.error)
    assert JobStore(store).job(job_id).pages_failed == 1


def test_a_row_written_unbounded_before_is_read_back_bounded(store: Store) -> None:
    job_id, document_id = _job(store)
    row = page_row(PageResult(index=0, text="short"), "r", None, 0.0)
    huge = "y" * (MAX_PAGE_TEXT_CHARS + 5)  # as a console before the bound stored it
    with store.transaction() as connection:
        connection.execute(
            pages_table.insert().values(
                document_id=document_id, page_index=0, job_id=job_id, **{**row, "text": huge}
            )
        )
    (page,) = JobStore(store).pages(job_id)
    assert len(page.result.text) == MAX_PAGE_TEXT_CHARS
    assert isinstance(page.result.error, AnswerTooLarge)
    # Offered to the locator cut on reading (one character past the bound): it writes the
    # page's row saying why, never locating a text past the bound (jobs/_locating.py).
    [(index, offered)] = WordsStore(store).pages_to_locate(document_id)
    assert (index, len(offered)) == (0, MAX_PAGE_TEXT_CHARS + 1)
    lengths = store.read(sa.select(sa.func.length(pages_table.c.text)))
    assert lengths[0][0] == MAX_PAGE_TEXT_CHARS + 5  # read cut, not rewritten
