"""The Quality page's corrections section: the figures of reviewed pages, and the queue's
settings editable by an operator only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.review import ReviewSettings
from console.service import Operations
from tests.console.review.conftest import Seed, seed_job
from tests.console.ui.views.console_ops import as_viewer, installed_operations, page


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with installed_operations(tmp_path / "console", worker=False, default_floor=0) as found:
        yield found


def test_the_quality_page_shows_the_reviewed_pages_figures(operations: Operations) -> None:
    job = seed_job(operations.store, Seed("teh cat", confidence=0.3), Seed("fine"))
    operations.correct_page(job, 1, "the cat")
    operations.approve_page(job, 2)
    at = page("quality").run()
    assert not at.exception
    [figures] = [d.value for d in at.dataframe if "pages reviewed" in d.value.columns]
    assert figures["pages reviewed"].tolist() == [2]
    assert figures["share changed"].tolist() == [0.5]
    [words] = [d.value for d in at.dataframe if "model wrote" in d.value.columns]
    assert words.values.tolist() == [["teh", "the", 1]]


def test_an_operator_sets_the_threshold_from_the_quality_page(operations: Operations) -> None:
    at = page("quality").run()
    at.number_input(key="qr_threshold").set_value(0.75)
    at.button(key="qr_save").click().run()
    assert operations.review_settings() == ReviewSettings(0.75, ReviewSettings().sample_rate)


def test_a_viewer_cannot_change_the_review_settings(
    operations: Operations, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = as_viewer(page("quality"), monkeypatch).run()
    assert at.number_input(key="qr_threshold").disabled
    assert not [b for b in at.button if b.key == "qr_save"]
