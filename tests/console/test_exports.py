"""Exports account for every page: text where it was read, a reason where it was not."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from console._exports import (
    PAGE_SEPARATOR,
    ExtraFiles,
    batch_files,
    batch_zip,
    export_stem,
    to_json,
    to_markdown,
    to_text,
)
from ocr_core import DocumentResult, PageResult, ServiceUnavailable


def _document(filename: str = "loan.pdf") -> DocumentResult:
    return DocumentResult(
        filename=filename,
        wall_time_s=2.5,
        pages=[
            PageResult(
                index=0,
                text="# Loan\n\n| a | b |",
                latency_s=1.25,
                attempts=1,
                prompt_tokens=900,
                completion_tokens=40,
                finish_reason="stop",
                has_text_layer=False,
                width=1190,
                height=1540,
            ),
            PageResult(
                index=1,
                error=ServiceUnavailable("503 from the service", status_code=503, page_index=1),
                attempts=3,
            ),
            PageResult(index=2, text="end", truncated=True, finish_reason="length", attempts=2),
        ],
    )


def test_json_carries_per_page_metadata() -> None:
    data = json.loads(to_json(_document()))
    assert data["filename"] == "loan.pdf"
    assert data["page_count"] == 3
    first, failed, truncated = data["pages"]
    assert first["page"] == 1
    assert first["latency_s"] == 1.25
    assert (first["prompt_tokens"], first["completion_tokens"]) == (900, 40)
    assert first["has_text_layer"] is False
    assert (first["width"], first["height"]) == (1190, 1540)
    assert failed["ok"] is False
    assert failed["error_type"] == "ServiceUnavailable"
    assert "503" in failed["error"]
    assert failed["attempts"] == 3
    assert truncated["truncated"] is True


def test_markdown_marks_every_page_and_says_why_a_page_failed() -> None:
    markdown = to_markdown(_document())
    assert "<!-- page 1 -->\n\n# Loan" in markdown
    assert "<!-- page 2 failed: page 2: 503 from the service -->" in markdown
    assert "<!-- page 3 (truncated) -->\n\nend" in markdown


def test_text_separates_pages_with_form_feeds_and_keeps_failed_pages_in_place() -> None:
    pages = to_text(_document()).rstrip("\n").split(PAGE_SEPARATOR)
    assert pages[0].startswith("# Loan")
    assert pages[1] == "[page 2 failed: page 2: 503 from the service]"
    assert pages[2] == "end"


def test_batch_zip_holds_three_formats_per_document_and_an_index() -> None:
    archive = zipfile.ZipFile(io.BytesIO(batch_zip([_document("a.pdf"), _document("b.tif")])))
    assert sorted(archive.namelist()) == sorted(
        ["a.md", "a.txt", "a.json", "b.md", "b.txt", "b.json", "batch.json"]
    )
    assert json.loads(archive.read("b.json"))["filename"] == "b.tif"
    index = json.loads(archive.read("batch.json"))["documents"]
    assert index[0]["failed_pages"] == [2]


def test_batch_zip_gives_same_named_uploads_distinct_members() -> None:
    archive = zipfile.ZipFile(io.BytesIO(batch_zip([_document("scan.pdf"), _document("scan.pdf")])))
    assert {"scan.json", "scan-2.json"} <= set(archive.namelist())


def test_batch_zip_lists_files_that_could_not_be_read() -> None:
    archive = zipfile.ZipFile(io.BytesIO(batch_zip([], {"notes.pdf": "is not a PDF"})))
    index = json.loads(archive.read("batch.json"))["documents"]
    assert index == [{"filename": "notes.pdf", "error": "is not a PDF"}]


def test_export_names_never_carry_folders() -> None:
    assert export_stem("../../etc/passwd.pdf") == "passwd"
    assert export_stem("C:\\scans\\page.tif") == "page"
    assert export_stem("..") == "document"
    assert export_stem(None) == "document"


def test_batch_files_are_the_zip_s_members_one_for_one() -> None:
    results = [
        DocumentResult(pages=[PageResult(index=0, text="one")], filename="scan.pdf"),
        DocumentResult(pages=[PageResult(index=0, text="two")], filename="scan.pdf"),
    ]
    files = batch_files(results, {"bad.pdf": "is empty"})
    assert sorted(files) == sorted(
        ["scan.md", "scan.txt", "scan.json", "scan-2.md", "scan-2.txt", "scan-2.json", "batch.json"]
    )
    with zipfile.ZipFile(io.BytesIO(batch_zip(results, {"bad.pdf": "is empty"}))) as archive:
        assert {name: archive.read(name).decode() for name in archive.namelist()} == files


def _text_layer_document() -> DocumentResult:
    """Two digital pages whose text layers carry form feeds, a backspace and a NUL."""
    pages = [
        PageResult(index=0, text="page one\x0cstill one\x08", source="text_layer"),
        PageResult(index=1, text="page\x00 two\x0c", source="text_layer"),
    ]
    return DocumentResult(filename="layer.pdf", pages=pages)


def test_text_layer_controls_never_split_a_page_in_the_text_export() -> None:
    text = to_text(_text_layer_document())
    assert text.count(PAGE_SEPARATOR) == 1  # two pages, one separator
    assert text.split(PAGE_SEPARATOR)[0] == "page one\nstill one"
    assert "\x08" not in text and "\x00" not in text


def test_text_layer_controls_are_cleaned_in_markdown_json_and_the_zip() -> None:
    document = _text_layer_document()
    for exported in (to_markdown(document), to_json(document)):
        assert not any(c in exported for c in "\x0c\x08\x00"), exported
    assert json.loads(to_json(document))["pages"][1]["text"] == "page two\n"
    with zipfile.ZipFile(io.BytesIO(batch_zip([document], {}))) as archive:
        assert archive.read("layer.txt").decode().count(PAGE_SEPARATOR) == 1


@pytest.mark.parametrize(
    ("uploaded", "stem"),
    [
        ("invoice\u202efdp.exe.pdf", "invoice fdp.exe"),  # a right-to-left override
        ("line\r\nbreak.pdf", "line break"),
        ("nul\x00byte.pdf", "nul byte"),
        ('a<b>:c"d|e?f*g.pdf', "a b c d e f g"),
    ],
)
def test_export_names_lose_control_bidi_and_reserved_characters(uploaded: str, stem: str) -> None:
    assert export_stem(uploaded) == stem


def test_a_long_name_is_cut_to_fit_any_file_system_with_room_for_a_suffix() -> None:
    stem = export_stem("é" * 300 + ".pdf")
    assert len(f"{stem}-9999.alto.xml".encode()) <= 255


def test_every_file_of_a_document_with_a_300_character_name_can_be_written(
    tmp_path: Path,
) -> None:
    """The ALTO file, the longest extension, crashed the export with 'File name too long'."""
    document = _document("x" * 300 + ".pdf")
    extra = [ExtraFiles({".pdf": b"%PDF", ".hocr": "<html/>", ".alto.xml": "<alto/>"})]
    files = batch_files([document, _document("x" * 300 + ".tif")], {}, [*extra, ExtraFiles()])
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    assert "batch.json" in files


def test_a_document_named_batch_does_not_overwrite_the_index() -> None:
    files = batch_files([_document("batch.pdf")], {})
    index = json.loads(files["batch.json"])
    assert index["documents"][0]["files"] == ["batch-2.md", "batch-2.txt", "batch-2.json"]
    assert json.loads(files["batch-2.json"])["filename"] == "batch.pdf"


def test_three_uploads_named_alike_are_three_distinct_zip_members() -> None:
    documents = [_document(name) for name in ("a.pdf", "a.tif", "A.png")]
    with zipfile.ZipFile(io.BytesIO(batch_zip(documents, {}))) as archive:
        names = [n for n in archive.namelist() if n.endswith(".txt")]
    assert sorted(names) == ["A-3.txt", "a-2.txt", "a.txt"]  # case-insensitive file systems too
