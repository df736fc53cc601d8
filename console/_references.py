"""Ground truth for the workbench: reference texts read from uploads or pasted, split into pages.

A reference is a `.txt` or `.md` file uploaded beside its scan, matched by file name stem
(`invoice-7.txt` belongs to `invoice-7.pdf`; case is ignored when no exact stem matches).
Its pages are separated by a form feed (`\\f`, what pdftotext and tesseract write between
pages) or by a line of its own such as `--- page 2 ---` (three or more dashes each side, the
number optional and only for people: markers separate pages in order). A file with neither
is one text: the reference of a one-page document, or of the whole document when it has more.

Files come from people's editors, so the encoding is found, not assumed: a byte-order mark
(UTF-8, UTF-16 or UTF-32), else UTF-8, else Windows-1252 (said so, since accented letters
may then be wrong); anything else, and anything with NUL bytes, is refused with a message.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from console._render import count_noun
from ocr_core import OCRError

REFERENCE_TYPES: tuple[str, ...] = ("txt", "md")
# A page's truth is a few kilobytes; a whole book of it is still far under this.
MAX_REFERENCE_BYTES = 5_000_000
PAGE_MARKER = re.compile(r"^[ \t]*-{3,}[ \t]*page(?:[ \t]+\d+)?[ \t]*-{3,}[ \t]*$", re.I | re.M)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class BadReference(OCRError):
    """A reference text that cannot be used; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ReferenceText:
    """A decoded reference: its pages (one when it has no page breaks) and how it was read."""

    origin: str
    pages: tuple[str, ...]
    encoding: str
    # Said to the user beside the scores, e.g. that the file was not UTF-8.
    note: str | None = None

    @property
    def split(self) -> bool:
        return len(self.pages) > 1


def is_reference(filename: str) -> bool:
    return PurePath(filename).suffix.lower().lstrip(".") in REFERENCE_TYPES


def decode(data: bytes, filename: str) -> tuple[str, str, str | None]:
    """(text, encoding, note); BadReference when the bytes are not text we can read."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise BadReference(
            f"{filename} is {len(data) / 1e6:.1f} MB: a reference text is at most "
            f"{MAX_REFERENCE_BYTES / 1e6:.0f} MB"
        )
    note = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise BadReference(
                    f"{filename} starts with a {encoding.upper()} byte-order mark but is not "
                    f"{encoding.upper()} text: save it again as UTF-8"
                ) from None
            break
    else:
        if b"\x00" in data:
            raise BadReference(
                f"{filename} is not a text file (it holds NUL bytes; UTF-16 without a "
                "byte-order mark looks like this too): save it as UTF-8 text"
            )
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                raise BadReference(
                    f"{filename} is neither UTF-8, UTF-16 (with a byte-order mark) nor "
                    "Windows-1252 text: save it again as UTF-8"
                ) from None
            note = f"{filename} is not UTF-8: read as Windows-1252 (check accented letters)"
    if "\x00" in text:
        raise BadReference(f"{filename} is not a text file (it holds NUL characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding, note


def split_pages(text: str) -> tuple[str, ...]:
    """The reference's pages: split on form feeds, else on page-marker lines, else one."""
    if "\f" in text:
        pages = text.split("\f")
        if len(pages) > 1 and not pages[-1].strip():
            pages.pop()  # pdftotext ends every page, the last one too, with a form feed
    elif PAGE_MARKER.search(text):
        pages = PAGE_MARKER.split(text)
        if not pages[0].strip():
            pages.pop(0)  # the text starts with the first page's marker
    else:
        pages = [text]
    return tuple(page.strip("\n") for page in pages)


def read_reference(data: bytes, filename: str) -> ReferenceText:
    """An uploaded reference file, decoded and split; BadReference if unusable or empty."""
    text, encoding, note = decode(data, filename)
    if not text.strip():
        raise BadReference(f"{filename} is empty: there is nothing to score against")
    return ReferenceText(filename, split_pages(text), encoding, note)


@dataclass(frozen=True, slots=True)
class Matching:
    """Which reference file goes with which scan (by their positions in the upload)."""

    pairs: dict[int, int] = field(default_factory=dict)  # scan position -> reference position
    notes: list[str] = field(default_factory=list)


def match_by_stem(scans: Sequence[str], references: Sequence[str]) -> Matching:
    """Pair each reference with the scans of its file name stem (exact, else ignoring case).

    A reference that matches no scan, or a second reference for one scan, is left out and
    named in the notes, so nothing is attached by guesswork.
    """
    matching = Matching()
    for position, name in enumerate(references):
        stem = PurePath(name).stem
        exact = [i for i, scan in enumerate(scans) if PurePath(scan).stem == stem]
        found = exact or [
            i for i, scan in enumerate(scans) if PurePath(scan).stem.casefold() == stem.casefold()
        ]
        if not found:
            matching.notes.append(
                f"{name} matches no scan of this job (a reference is matched by file name: "
                f"{stem}.pdf, {stem}.tif…): it was not attached"
            )
            continue
        for scan in found:
            if scan in matching.pairs:
                first = references[matching.pairs[scan]]
                matching.notes.append(
                    f"{name} is a second reference for {scans[scan]} ({first} was attached): "
                    "it was not attached"
                )
            else:
                matching.pairs[scan] = position
    return matching


def coverage_note(reference_pages: int, page_count: int) -> str | None:
    """What a split reference and its document disagree on, in words, or None."""
    if reference_pages == page_count:
        return None
    return (
        f"the reference has {count_noun(reference_pages, 'page')} and the document "
        f"{count_noun(page_count, 'page')}: "
        + (
            f"reference pages after {page_count} are not used"
            if reference_pages > page_count
            else f"pages after {reference_pages} have no reference"
        )
    )
