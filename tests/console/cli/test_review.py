"""`python -m console.review` on a console's data folder: list, show, approve, correct (and
its refusal over a newer version), send and export, the writes through the audited door."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.cli.review import main
from console.jobs import JobStore
from tests.console.jobs.conftest import make_pdf, submit
from tests.console.review.conftest import Seed, seed_job


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, int]]:
    """A data folder with a job of a doubted and a confident page; the CLI's actor is qa."""
    data = tmp_path / "data"
    monkeypatch.setenv("LIGHTONOCR_DATA_DIR", str(data))
    monkeypatch.setenv("LIGHTONOCR_ACTOR", "qa")
    monkeypatch.delenv("LIGHTONOCR_DATABASE_URL", raising=False)
    store = Store.in_dir(data)
    job = seed_job(store, Seed("teh page", confidence=0.4), Seed("fine page"))
    yield store, job
    store.close()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_list_json_is_one_object_per_waiting_page(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["list", "--json"]) == 0
    [line] = _lines(capsys)
    assert json.loads(line)["job"] == job and json.loads(line)["page"] == 1


def test_correct_keeps_the_file_s_text_and_show_names_who_saved_it(
    folder: tuple[Store, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, job = folder
    fixed = tmp_path / "fixed.txt"
    fixed.write_text("the page", encoding="utf-8")
    assert main(["correct", str(job), "1", "--text", str(fixed)]) == 0
    capsys.readouterr()
    assert main(["show", str(job), "1", "--json"]) == 0
    [line] = _lines(capsys)
    shown = json.loads(line)
    assert [(v["version"], v["actor"], v["text"]) for v in shown["versions"]] == [
        (1, "qa", "the page")
    ]
    assert store.audit(1)[0].action == "correct page"


def test_correct_over_a_newer_version_is_refused_with_the_difference(
    folder: tuple[Store, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["approve", str(job), "1"]) == 0
    mine = tmp_path / "mine.txt"
    mine.write_text("the page", encoding="utf-8")
    assert main(["correct", str(job), "1", "--text", str(mine), "--base", "0"]) == 1
    err = capsys.readouterr().err
    assert "version 1 was saved by qa" in err
    assert "-teh page" in err and "+the page" in err


def test_list_counts_the_pages_waiting_and_the_longest_wait_in_words(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["list"]) == 0
    lines = _lines(capsys)
    assert lines[0] == "1 page waiting, the longest for 0 min"
    assert lines[1].startswith(f"  job {job} page 1  ")


def test_send_says_how_many_pages_it_sent(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["send", str(job), "2"]) == 0
    assert _lines(capsys) == [f"job {job}: 1 page sent to review"]


def test_send_of_a_job_not_opened_yet_says_why_and_exits_1(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    store, _job = folder
    later = submit(JobStore(store), ("later.pdf", make_pdf(1)))
    assert main(["send", str(later)]) == 1
    assert f"job #{later}: its document is not opened yet" in capsys.readouterr().err


def test_send_puts_a_confident_page_in_the_queue(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["send", str(job), "2"]) == 0
    capsys.readouterr()
    main(["list", "--json"])
    assert sorted(json.loads(line)["page"] for line in _lines(capsys)) == [1, 2]


def test_a_page_the_job_does_not_have_is_an_error(
    folder: tuple[Store, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, job = folder
    assert main(["approve", str(job), "9"]) == 1
    assert "has no page 9" in capsys.readouterr().err


def test_export_writes_each_reviewed_page_s_scan_and_truth(
    folder: tuple[Store, int], tmp_path: Path
) -> None:
    _store, job = folder
    assert main(["approve", str(job), "2"]) == 0
    out = tmp_path / "dataset"
    assert main(["export", "--out", str(out)]) == 0
    texts = sorted(out.glob("*.txt"))
    assert [t.read_text(encoding="utf-8") for t in texts] == ["fine page"]
    assert len(list(out.glob("*.png")) + list(out.glob("*.jpg"))) == 1
