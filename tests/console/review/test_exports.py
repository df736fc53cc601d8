"""A reviewed page's truth flows on: the job's exports use it and say who reviewed it, and
its words are located again on it."""

from __future__ import annotations

import json

import pypdfium2 as pdfium

from console import _exports
from console._store import Store
from console.jobs import JobStore
from console.jobs._results import job_results
from console.jobs._word_files import job_word_files
from console.jobs._words import WordsStore
from console.review import ReviewStore
from ocr_core import PageWords
from tests.console.review.conftest import Seed, seed_job


def _corrected_job(store: Store) -> int:
    job = seed_job(store, Seed("the quick brwn fox", doubtful=("brwn",)), Seed("jumps over"))
    review = ReviewStore(store)
    review.correct(review.page(job, 1), "the quick brown fox", "ana@bank.example")
    review.approve(review.page(job, 2), "bo@bank.example")
    return job


def test_the_text_exports_use_the_corrected_text(store: Store) -> None:
    job = _corrected_job(store)
    [result], _ = job_results(JobStore(store), job)
    assert _exports.to_text(result).split("\f")[0] == "the quick brown fox"
    assert "brwn" not in _exports.to_markdown(result)


def test_the_json_says_which_pages_were_corrected_and_by_whom(store: Store) -> None:
    job = _corrected_job(store)
    [result], _ = job_results(JobStore(store), job)
    pages = json.loads(_exports.to_json(result))["pages"]
    assert [(p["reviewed_by"], p["corrected"]) for p in pages] == [
        ("ana@bank.example", True),
        ("bo@bank.example", False),
    ]
    assert pages[0]["low_confidence"] == []  # the model's doubts were about its own text


def test_the_searchable_pdf_carries_the_corrected_text(store: Store) -> None:
    job = _corrected_job(store)
    [files] = job_word_files(JobStore(store), job, ["pdf"])
    text = pdfium.PdfDocument(files.files[".pdf"])[0].get_textpage().get_text_bounded()
    assert "brown" in text and "brwn" not in text


def test_a_corrected_page_loses_its_words_and_is_located_again_on_its_truth(
    store: Store,
) -> None:
    job = seed_job(store, Seed("teh cat"), Seed("a dog"))
    words = WordsStore(store)
    [document] = JobStore(store).documents(job)
    for index in (0, 1):
        words.save(job, document.id, index, PageWords(1, 1, (), ()))
    review = ReviewStore(store)
    review.correct(review.page(job, 1), "the cat", "ana")
    review.approve(review.page(job, 2), "ana")  # unchanged text: its words still hold
    assert words.pages_to_locate(document.id) == [(0, "the cat")]
