"""A job's documents as searchable PDF, hOCR and ALTO: each page's own image with its words.

Each page is kept as the archive keeps it (`ocr_core.archive_page`: the scan's own pixels and
size on paper, made in the document sandbox), with the words the worker located on it. A
page whose words were not located still carries its text (without positions the writers
place its words where they can, so searching still finds them); a failed page is its image
alone. A document that cannot be opened again (a password the console does not keep) is
left out and the index says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from console._exports import ExtraFiles
from console.jobs._models import DocumentState
from console.jobs._results import document_result
from console.jobs._store import JobStore
from ocr_core import (
    DocumentResult,
    ExportPage,
    LocatedWord,
    OCRError,
    PageResult,
    PageWords,
    alto,
    archive_page,
    hocr,
    searchable_pdf,
)
from ocr_core._locate import text_lines

# Format name -> the file's extension and what it is, for the CLI and the zip.
WORD_FORMATS: dict[str, tuple[str, str]] = {
    "pdf": (".pdf", "searchable PDF: each page's image with an invisible text layer"),
    "hocr": (".hocr", "hOCR (XHTML): each word's box on its page"),
    "alto": (".alto.xml", "ALTO v4 XML: each word's box on its page"),
}


def page_words(page: PageResult, located: PageWords | None) -> PageWords:
    """The words to write for a page: as located, else its text without positions."""
    if located is not None:
        return located
    if not page.ok or not page.text.strip():
        return PageWords(1, 1, (), ())
    words = tuple(
        LocatedWord(word, None, line, block)
        for line, (block, line_words) in enumerate(text_lines(page.text))
        for word in line_words
    )
    return PageWords(1, 1, words, ())


def document_word_files(
    data: bytes,
    result: DocumentResult,
    located: Mapping[int, PageWords],
    formats: Sequence[str],
) -> ExtraFiles:
    """The document's files in `formats` (keys of WORD_FORMATS)."""
    try:
        pages = [
            ExportPage(
                image=kept.image,
                width_pt=kept.width_pt,
                height_pt=kept.height_pt,
                # In the scan's own pixels, as hOCR and ALTO describe the image they go with.
                words=page_words(page, located.get(page.index)).scaled(
                    kept.width_px, kept.height_px
                ),
            )
            for page in result.pages
            for kept in (archive_page(data, page.index),)
        ]
    except OCRError as error:
        return ExtraFiles({}, f"no searchable PDF, hOCR or ALTO: {error}")
    title = result.filename or "document"
    writers = {"pdf": searchable_pdf, "hocr": hocr, "alto": alto}
    return ExtraFiles({WORD_FORMATS[f][0]: writers[f](pages, title=title) for f in formats})


def job_word_files(
    jobs: JobStore, job_id: int, formats: Sequence[str], document_id: int | None = None
) -> list[ExtraFiles]:
    """`document_word_files` for each opened document of the job (or the one asked), in
    upload order (the order of `job_results`)."""
    pages = jobs.pages(job_id, document_id)
    stored = jobs.words.job(job_id)
    files = []
    for document in jobs.documents(job_id):
        if document.state is not DocumentState.OPENED or document_id not in (None, document.id):
            continue
        located = {
            index: words.words
            for (owner, index), words in stored.items()
            if owner == document.id and words.words is not None
        }
        result = document_result(document, pages)
        data = jobs.document_data(document.id)
        files.append(document_word_files(data, result, located, formats))
    return files


def word_file(jobs: JobStore, job_id: int, document_id: int, fmt: str) -> bytes:
    """One document's file in `fmt`; if it cannot be made, a text that says why (what a
    download button can hand over when the file is built on the click)."""
    (found,) = job_word_files(jobs, job_id, [fmt], document_id) or [ExtraFiles()]
    content = found.files.get(WORD_FORMATS[fmt][0])
    return content if content is not None else (found.error or "not available").encode()
