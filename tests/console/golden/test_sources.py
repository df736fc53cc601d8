"""Folders and zips become documents paired with expected text; what does not pair is said."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pytest

from console.golden import GoldenSetError, UnsafeArchive, load_folder, load_zip
from tests.console.golden.conftest import EXAMPLES, make_zip, write_files

PNG = (EXAMPLES / "phototest.tif").read_bytes()  # any bytes: pairing does not decode images


def test_the_shipped_example_pairs_every_document_with_its_text() -> None:
    loaded = load_folder(EXAMPLES)
    assert [d.filename for d in loaded.documents] == [
        "eurotext.tif",
        "minimal-document.pdf",
        "phototest.tif",
    ]
    assert loaded.problems == []
    assert loaded.documents[2].expected_text.startswith("This is a lot of 12 point text")


def test_unmatched_documents_and_texts_are_each_named(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "set",
        {
            "a.png": PNG,
            "a.txt": b"alpha",
            "lonely.pdf": b"%PDF-",
            "orphan.md": b"# text",
            "notes.docx": b"x",
        },
    )
    loaded = load_folder(folder)
    assert [d.filename for d in loaded.documents] == ["a.png"]
    problems = "\n".join(loaded.problems)
    assert "lonely.pdf: no expected text beside it" in problems
    assert "orphan.md: no document with that name beside it" in problems
    assert "notes.docx: not a document or a text" in problems


def test_bmp_and_gif_scans_pair_like_the_workbench_reads_them(tmp_path: Path) -> None:
    files = {"fax.bmp": b"BM", "fax.txt": b"one", "scan.gif": b"GIF89a", "scan.txt": b"two"}
    loaded = load_folder(write_files(tmp_path / "set", files))
    assert sorted(d.filename for d in loaded.documents) == ["fax.bmp", "scan.gif"]
    assert loaded.problems == []


def test_an_empty_expected_text_leaves_its_document_out_with_a_reason(tmp_path: Path) -> None:
    loaded = load_folder(write_files(tmp_path / "set", {"a.png": PNG, "a.txt": b" \n\f\n"}))
    assert loaded.documents == []
    assert loaded.problems == ["a.txt is empty: nothing to score a.png against, left out"]


def test_a_text_in_another_encoding_is_refused_by_name(tmp_path: Path) -> None:
    latin1 = "Der Fuchs springt über den Hund".encode("latin-1")
    loaded = load_folder(write_files(tmp_path / "set", {"a.png": PNG, "a.txt": latin1}))
    assert loaded.documents == []
    (problem,) = loaded.problems
    assert "a.txt is not UTF-8 text (byte 0xfc at offset 18)" in problem
    assert "save it as UTF-8" in problem


def test_utf16_with_a_byte_order_mark_and_utf8_with_one_are_read(tmp_path: Path) -> None:
    files = {
        "a.png": PNG,
        "a.txt": codecs.BOM_UTF16_LE + "über".encode("utf-16-le"),
        "b.png": PNG,
        "b.txt": codecs.BOM_UTF8 + "naïve".encode(),
    }
    loaded = load_folder(write_files(tmp_path / "set", files))
    assert [d.expected_text for d in loaded.documents] == ["über", "naïve"]


def test_pages_of_the_expected_text_split_on_form_feeds(tmp_path: Path) -> None:
    loaded = load_folder(write_files(tmp_path / "s", {"a.pdf": b"%PDF", "a.txt": b"one\ftwo"}))
    assert loaded.documents[0].expected_pages == ["one", "two"]


def test_a_folder_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GoldenSetError, match="is not a folder"):
        load_folder(tmp_path / "missing")


def test_a_zip_of_one_folder_pairs_like_the_folder_and_skips_mac_metadata() -> None:
    data = make_zip({"set/a.png": PNG, "set/a.txt": b"alpha", "__MACOSX/set/._a.png": b"x"})
    loaded = load_zip(data)
    assert [(d.filename, d.expected_text) for d in loaded.documents] == [("a.png", "alpha")]
    assert loaded.problems == []


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd.txt", "a/../../b.txt", "C:/x.txt"])
def test_a_zip_naming_a_file_outside_itself_is_refused(name: str) -> None:
    with pytest.raises(UnsafeArchive, match="outside itself"):
        load_zip(make_zip({"a.png": PNG, name: b"x"}))


def test_a_zip_with_too_many_entries_is_refused_before_reading() -> None:
    data = make_zip({f"{n}.txt": b"x" for n in range(30)})
    with pytest.raises(UnsafeArchive, match="30 files; a golden set takes at most 20"):
        load_zip(data, max_entries=20)


def test_a_zip_bomb_stops_at_the_size_bound() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.png", PNG)
        archive.writestr("a.txt", b"\0" * (64 * 1024 * 1024))  # 64 MB of zeros, ~64 KB zipped
    assert len(buffer.getvalue()) < 1024 * 1024
    with pytest.raises(UnsafeArchive, match="unpacks to more than 8 MB"):
        load_zip(buffer.getvalue(), max_bytes=8 * 1024 * 1024)


def test_an_upload_that_is_not_a_zip_is_a_clear_error() -> None:
    with pytest.raises(GoldenSetError, match="not a readable zip"):
        load_zip(b"PK\x03\x04 but not really")


def test_utf16_without_a_byte_order_mark_is_refused_not_read_as_nul_characters(
    tmp_path: Path,
) -> None:
    loaded = load_folder(
        write_files(tmp_path / "s", {"a.png": PNG, "a.txt": "hi".encode("utf-16-le")})
    )
    assert loaded.documents == []
    assert "a.txt holds NUL characters (UTF-16 without a byte-order mark?)" in loaded.problems[0]


def test_a_text_of_markup_only_counts_as_empty(tmp_path: Path) -> None:
    loaded = load_folder(write_files(tmp_path / "s", {"a.png": PNG, "a.txt": b"| --- |\n# \n"}))
    assert loaded.documents == [] and "a.txt is empty" in loaded.problems[0]
