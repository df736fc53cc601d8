"""Downloads: what QA takes away from the workbench to compare with the page.

Every page appears in every format, failed pages included (as a marker that says why), so
an export never silently drops a page.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from ocr_core import DocumentResult, PageResult, clean_text

# pdftotext's convention: a form feed between pages, so tools can split the text again.
PAGE_SEPARATOR = "\f"


# Bytes a file name may take on the usual file systems (ext4, APFS, NTFS: 255), less room
# for a duplicate's "-9999" and the longest extension a document's files take (".alto.xml"),
# so every "stem-N.ext" of an export fits.
LONGEST_EXTENSION = ".alto.xml"
_STEM_BYTES = 255 - len("-9999") - len(LONGEST_EXTENSION)
# The batch's own index: a document named "batch.pdf" must not overwrite it.
INDEX_NAME = "batch.json"
# Control and format characters (NUL, CR/LF, bidi overrides such as U+202E, zero-width) and
# characters Windows refuses: in a name they hide its real extension or break the zip.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>:"|?*]')


def export_stem(filename: str | None) -> str:
    """A download name from an uploaded file's name: no folders, no extension, no control,
    bidi or reserved characters, and short enough for any file system."""
    name = PurePath((filename or "document").replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    stem = " ".join(_UNSAFE.sub(" ", stem).split()).strip(" .")
    while len(stem.encode()) > _STEM_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") or "document"


def to_markdown(result: DocumentResult) -> str:
    """The document as markdown, each page under an HTML comment naming it."""
    blocks = []
    for page in result.pages:
        number = page.index + 1
        if page.ok:
            marker = f"<!-- page {number}{' (truncated)' if page.truncated else ''} -->"
            blocks.append(f"{marker}\n\n{_text(page)}".rstrip())
        else:
            blocks.append(f"<!-- page {number} failed: {_one_line(str(page.error))} -->")
    return "\n\n".join(blocks) + "\n"


def to_text(result: DocumentResult) -> str:
    """Plain text, pages separated by a form feed; a failed page leaves a bracketed note."""
    pages = [
        _text(page) if page.ok else f"[page {page.index + 1} failed: {_one_line(str(page.error))}]"
        for page in result.pages
    ]
    return PAGE_SEPARATOR.join(pages) + "\n"


def to_json(result: DocumentResult) -> str:
    """The document with per-page metadata (latency, tokens, attempts, truncation, source)."""
    record = result.to_dict()
    for page in record["pages"]:
        if isinstance(page.get("text"), str):
            page["text"] = clean_text(page["text"])
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def _text(page: PageResult) -> str:
    """A page's text for a file: a form feed (or any control) in a text layer must not
    split the page, since the form feed is the page separator."""
    return clean_text(page.text or "")


@dataclass(frozen=True, slots=True)
class ExtraFiles:
    """More files of one document (by extension: ".pdf", ".hocr"), or why it has none."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    error: str | None = None


TEXT_FORMATS: dict[str, Callable[[DocumentResult], str]] = {
    ".md": to_markdown,
    ".txt": to_text,
    ".json": to_json,
}


def batch_files(
    results: Sequence[DocumentResult],
    failures: Mapping[str, str] | None = None,
    extra: Sequence[ExtraFiles] | None = None,
    text_formats: Sequence[str] = tuple(TEXT_FORMATS),
) -> dict[str, str | bytes]:
    """All documents of a batch: .md, .txt and .json per document (`text_formats` of them),
    `extra[i]`'s files for `results[i]`, and a `batch.json` index.

    `failures` maps the name of each file that could not be read at all to why; they are
    listed in the index so the batch accounts for every upload. Two uploads with the same
    name get distinct files (`scan.md`, `scan-2.md`).
    """
    files: dict[str, str | bytes] = {}
    used: set[str] = {INDEX_NAME.rsplit(".", 1)[0]}
    index: list[dict[str, object]] = []
    for n, result in enumerate(results):
        stem = _unique(export_stem(result.filename), used)
        written = []
        for extension in text_formats:
            files[f"{stem}{extension}"] = TEXT_FORMATS[extension](result)
            written.append(f"{stem}{extension}")
        more = extra[n] if extra is not None else ExtraFiles()
        for extension, content in more.files.items():
            if len(extension) > len(LONGEST_EXTENSION):
                raise ValueError(f"{extension!r} is longer than the names are cut for")
            files[f"{stem}{extension}"] = content
            written.append(f"{stem}{extension}")
        entry: dict[str, object] = {
            "filename": result.filename,
            "files": written,
            "page_count": result.page_count,
            "failed_pages": [p.index + 1 for p in result.pages if not p.ok],
        }
        if more.error:
            entry["files_missing"] = more.error
        index.append(entry)
    for filename, reason in (failures or {}).items():
        index.append({"filename": filename, "error": reason})
    files[INDEX_NAME] = json.dumps({"documents": index}, indent=2) + "\n"
    return files


def batch_zip(
    results: Sequence[DocumentResult],
    failures: Mapping[str, str] | None = None,
    extra: Sequence[ExtraFiles] | None = None,
) -> bytes:
    """`batch_files` in one zip, as the workbench's "whole batch" download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in batch_files(results, failures, extra).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _unique(stem: str, used: set[str]) -> str:
    candidate, n = stem, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate.lower())
    return candidate


def _one_line(text: str) -> str:
    # Keeps a markdown comment closed and a text marker on its line whatever the error says.
    return " ".join(text.split()).replace("--", "- -")
