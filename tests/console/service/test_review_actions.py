"""Review through the door: a refused save is audited with why, restore works, and a golden
set made of reviewed pages holds their scans and truths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console._identity import Identity, Role
from console.golden import GoldenStore
from console.review import StaleVersion
from console.service import Operations
from tests.console.local_platform import local_platforms
from tests.console.review.conftest import Seed, seed_job

ANA = Identity("ana@bank.example", Role.OPERATOR, "iap")
BO = Identity("bo@bank.example", Role.OPERATOR, "iap")


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    with local_platforms(tmp_path) as make:
        platform = make()
        yield Operations(platform, platform.store, actor="local-user")


def test_a_save_over_a_newer_version_is_refused_audited_and_shows_both(
    operations: Operations,
) -> None:
    job = seed_job(operations.store, Seed("one two three"))
    page = operations.page_for_review(job, 1)
    operations.correct_page(job, 1, "one 2 three", base_version=page.version, identity=ANA)
    with pytest.raises(StaleVersion) as refused:
        operations.correct_page(job, 1, "one two 3", base_version=page.version, identity=BO)
    assert refused.value.newest.text == "one 2 three" and refused.value.mine == "one two 3"
    last = operations.audit_log(1)[0]
    assert (last.actor, last.action, last.ok) == (BO.name, "correct page", False)
    assert "was saved by ana@bank.example" in last.detail


def test_restoring_an_earlier_version_through_the_door_makes_it_current(
    operations: Operations,
) -> None:
    job = seed_job(operations.store, Seed("model text"))
    operations.correct_page(job, 1, "first fix", identity=ANA)
    operations.correct_page(job, 1, "second fix", identity=BO)
    operations.restore_page(job, 1, 1, identity=ANA)
    page = operations.page_for_review(job, 1)
    assert (page.version, page.text) == (3, "first fix")
    assert [v.actor for v in page.versions] == [ANA.name, BO.name, ANA.name]


def test_the_page_says_the_cer_of_the_model_s_text_against_its_truth(
    operations: Operations,
) -> None:
    job = seed_job(operations.store, Seed("teh cat"))
    assert operations.page_for_review(job, 1).model_cer is None  # no truth yet
    operations.correct_page(job, 1, "the cat", identity=ANA)
    # "teh" -> "the": two substitutions over the truth's 7 characters.
    assert operations.page_for_review(job, 1).model_cer == pytest.approx(2 / 7)


def test_a_golden_set_of_reviewed_pages_holds_each_scan_and_its_truth(
    operations: Operations,
) -> None:
    job = seed_job(operations.store, Seed("page one"), Seed("page two"), Seed("unreviewed"))
    operations.correct_page(job, 1, "page 1", identity=ANA)
    operations.approve_page(job, 2, identity=ANA)
    made = operations.golden_from_reviewed("traffic", [job], identity=ANA)
    assert (made.documents, made.source) == (2, f"reviewed pages of jobs #{job}")
    documents = GoldenStore(operations.store).documents(made.id)
    assert [d.expected_text for d in documents] == ["page 1", "page two"]
    assert all(d.data.startswith((b"\x89PNG", b"\xff\xd8")) for d in documents)
