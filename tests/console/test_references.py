"""Reference texts as people upload them: encodings, page breaks, names that match or not."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from console._references import (
    BadReference,
    coverage_note,
    decode,
    is_reference,
    match_by_stem,
    read_reference,
    split_pages,
)

TEXT = "Café déjà vu: 12 €"


def test_utf8_is_read_as_is_without_a_note() -> None:
    assert decode(TEXT.encode(), "a.txt") == (TEXT, "utf-8", None)


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_a_byte_order_mark_says_the_encoding(bom: bytes, codec: str) -> None:
    text, encoding, note = decode(bom + TEXT.encode(codec), "notepad.txt")
    assert (text, encoding, note) == (TEXT, codec, None)


def test_windows_1252_is_read_with_a_note_saying_so() -> None:
    text, encoding, note = decode(TEXT.encode("cp1252"), "old.txt")
    assert (text, encoding) == (TEXT, "cp1252")
    assert note is not None and "old.txt is not UTF-8" in note and "Windows-1252" in note


def test_utf16_without_a_byte_order_mark_is_refused_clearly() -> None:
    with pytest.raises(BadReference, match=r"NUL bytes.*save it as UTF-8"):
        decode(TEXT.encode("utf-16-le"), "bare.txt")


def test_bytes_that_are_no_text_encoding_are_refused() -> None:
    with pytest.raises(BadReference, match=r"neither UTF-8, UTF-16 .* nor Windows-1252"):
        decode(b"abc \x81\x8d\x8f", "binary.txt")


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(BadReference, match=r"empty.txt is empty: there is nothing to score"):
        read_reference(b" \n\r\n ", "empty.txt")


def test_windows_line_ends_become_newlines() -> None:
    assert decode(b"a\r\nb\rc", "crlf.txt")[0] == "a\nb\nc"


def test_form_feeds_split_pages_and_a_trailing_one_adds_none() -> None:
    assert split_pages("one\fsecond page\n\f") == ("one", "second page")


def test_page_marker_lines_split_pages() -> None:
    text = "--- page 1 ---\nfirst\n--- Page 2 ---\nsecond\n"
    assert split_pages(text) == ("first", "second")


def test_a_text_without_breaks_is_one_page() -> None:
    assert split_pages("just --- this\n- page -") == ("just --- this\n- page -",)


def test_the_corpus_truth_reads_as_one_page(corpus: Path) -> None:
    reference = read_reference((corpus / "scans" / "eurotext.txt").read_bytes(), "eurotext.txt")
    assert (reference.encoding, reference.note, len(reference.pages)) == ("utf-8", None, 1)


def test_references_match_scans_by_stem_and_the_rest_are_named() -> None:
    matching = match_by_stem(
        ["invoice.pdf", "Letter.TIF", "other.png"],
        ["invoice.txt", "letter.md", "invoice.md", "stray.txt"],
    )
    assert matching.pairs == {0: 0, 1: 1}
    [second, stray] = matching.notes
    assert "invoice.md is a second reference for invoice.pdf" in second
    assert stray.startswith("stray.txt matches no scan of this job")


def test_only_txt_and_md_are_references() -> None:
    assert [is_reference(n) for n in ["a.TXT", "a.md", "a.pdf", "txt"]] == [
        True,
        True,
        False,
        False,
    ]


def test_a_reference_with_other_page_counts_than_its_document_is_explained() -> None:
    assert coverage_note(3, 3) is None
    assert "reference pages after 2 are not used" in (coverage_note(3, 2) or "")
    assert "pages after 1 have no reference" in (coverage_note(1, 4) or "")
