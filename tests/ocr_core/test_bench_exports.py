"""The exports bench writes real pages: each page its archived image with its own words."""

from __future__ import annotations

import pytest

from ocr_core.bench.exports import SOURCES, corpus_pages, main
from ocr_core.bench.locate import CORPUS

pytestmark = pytest.mark.skipif(
    not all((CORPUS / name).exists() for name, _ in SOURCES), reason="corpus"
)


def test_the_bench_pages_carry_their_archived_image_and_every_word_boxed() -> None:
    pages = corpus_pages(7)
    assert len(pages) == 7 and pages[6] is pages[0]  # the six distinct pages, cycled
    for page in pages:
        assert page.image.startswith(b"\xff\xd8")  # the archive's JPEG, as it is kept
        assert page.words.words and all(w.box is not None for w in page.words.words)


def test_the_bench_prints_each_formats_time_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--pages", "2", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 pages,")
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["searchable PDF", "hOCR", "ALTO"]
