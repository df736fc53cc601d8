"""The Review page on its own (AppTest, real store): the queue, correcting a page, the
refusal of a save over a newer version, restoring, and a viewer's read-only view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console._identity import Identity, Role
from console.jobs import JobStore
from console.review._models import SENT
from console.service import Operations
from tests.console.jobs.conftest import make_pdf, submit
from tests.console.review.conftest import Seed, seed_job
from tests.console.ui.views.console_ops import as_viewer, installed_operations, page

ANA = Identity("ana@bank.example", Role.OPERATOR, "iap")


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path / "console", worker=False, default_floor=0) as found:
        yield found


@pytest.fixture
def job(operations: Operations) -> int:
    return seed_job(
        operations.store, Seed("teh quick fox", confidence=0.4, doubtful=("teh",)), Seed("fine")
    )


def _editor(at: AppTest) -> object:
    [editor] = [t for t in at.text_area if t.label == "Page text"]
    return editor


def test_the_queue_shows_the_doubted_page_and_its_text_to_correct(
    operations: Operations, job: int
) -> None:
    at = page("review").run()
    assert not at.exception
    assert at.metric[0].value == "1"
    assert _editor(at).value == "teh quick fox"  # type: ignore[attr-defined]


def test_an_operator_saves_a_correction_as_a_new_version(operations: Operations, job: int) -> None:
    at = page("review").run()
    _editor(at).input("the quick fox")  # type: ignore[attr-defined]
    at.button(key="rv_save").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved as version 1 (corrected)."]
    [truth] = operations.page_for_review(job, 1).versions
    assert (truth.text, truth.actor) == ("the quick fox", "qa-tester")
    assert operations.audit_log(1)[0].action == "correct page"


def test_a_save_over_a_newer_version_is_refused_and_shows_both(
    operations: Operations, job: int
) -> None:
    at = page("review").run()
    operations.correct_page(job, 1, "the quick fox", identity=ANA)  # someone else, meanwhile
    _editor(at).input("teh quick box")  # type: ignore[attr-defined]
    at.button(key="rv_save").click().run()
    assert any("was saved by ana@bank.example" in e.value for e in at.error)
    shown = [c.value for c in at.code]
    assert "the quick fox" in shown and "teh quick box" in shown
    assert [v.text for v in operations.page_for_review(job, 1).versions] == ["the quick fox"]


def test_an_earlier_version_is_restored_from_the_page(operations: Operations, job: int) -> None:
    operations.correct_page(job, 1, "first", identity=ANA)
    operations.correct_page(job, 1, "second", identity=ANA)
    at = page("review").run()
    at.number_input(key="rv_open_job").set_value(job)
    at.number_input(key="rv_open_page").set_value(1)
    at.button(key="rv_open").click().run()
    at.selectbox(key="rv_version").set_value(1).run()
    at.button(key="rv_restore").click().run()
    assert not at.exception
    page_now = operations.page_for_review(job, 1)
    assert (page_now.version, page_now.text) == (3, "first")


def test_a_viewer_sees_the_text_but_no_edit_control(
    operations: Operations, job: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = as_viewer(page("review"), monkeypatch).run()
    assert not at.exception
    assert _editor(at).disabled  # type: ignore[attr-defined]
    keys = {b.key for b in at.button}
    assert not keys & {"rv_save", "rv_approve", "rv_restore", "rv_send"}


def test_the_send_form_says_why_a_job_not_opened_yet_cannot_be_sent(
    operations: Operations,
) -> None:
    later = submit(JobStore(operations.store), ("later.pdf", make_pdf(1)))
    at = page("review").run()

    at.number_input(key="rv_send_job").set_value(later)
    at.button(key="rv_send").click().run()

    assert not at.exception and not at.success
    [said] = [e.value for e in at.error]
    assert "its document is not opened yet, so not all its pages are known" in said
    assert operations.review_queue() == []


def test_next_page_opens_the_next_page_waiting_in_the_queues_order(
    operations: Operations,
) -> None:
    seed_job(
        operations.store,
        Seed("first doubt", confidence=0.3),
        Seed("second doubt", confidence=0.5),
    )
    at = page("review").run()
    assert _editor(at).value == "first doubt"  # type: ignore[attr-defined]

    at.button(key="rv_next").click().run()

    assert not at.exception
    assert _editor(at).value == "second doubt"  # type: ignore[attr-defined]
    assert at.selectbox(key="rv_pick").value.endswith("page 2 · scan.pdf")


def test_the_send_form_sends_the_pages_asked_for_to_review(operations: Operations) -> None:
    job = seed_job(operations.store, Seed("fine"), Seed("also fine"))
    seed_job(operations.store, Seed("another job's doubt", confidence=0.2))
    at = page("review").run()
    assert at.metric[0].value == "1"

    at.number_input(key="rv_send_job").set_value(job)
    at.text_input(key="rv_send_pages").input("2")
    at.button(key="rv_send").click().run()

    assert not at.exception
    assert [s.value for s in at.success] == [f"1 page of job {job} sent to review."]
    sent = [e for e in operations.review_queue() if e.page.job_id == job]
    assert [(e.page.number, e.reasons) for e in sent] == [(2, (SENT,))]
    assert operations.audit_log(1)[0].action == "send to review"


def test_a_page_sent_from_the_form_opens_to_correct(operations: Operations) -> None:
    seed_job(operations.store, Seed("another job's doubt", confidence=0.2))
    job = seed_job(operations.store, Seed("fine"), Seed("also fine"))
    at = page("review").run()
    assert _editor(at).value == "another job's doubt"  # type: ignore[attr-defined]

    at.number_input(key="rv_send_job").set_value(job)
    at.text_input(key="rv_send_pages").input("2")
    at.button(key="rv_send").click().run()

    assert _editor(at).value == "also fine"  # type: ignore[attr-defined]


def test_the_send_form_refuses_pages_that_are_not_numbers(operations: Operations) -> None:
    job = seed_job(operations.store, Seed("fine"))
    at = page("review").run()

    at.number_input(key="rv_send_job").set_value(job)
    at.text_input(key="rv_send_pages").input("one")
    at.button(key="rv_send").click().run()

    assert [e.value for e in at.error] == ["Pages are numbers separated by commas or spaces."]
    assert operations.review_queue() == []
