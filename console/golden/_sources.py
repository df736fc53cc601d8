"""A folder or an uploaded zip -> documents paired with their expected text.

A document `name.pdf` (or .png, .tif, .tiff, .jpg, .jpeg, .webp) pairs with `name.txt` or
`name.md` in the same folder; one text per document, pages split on form feeds (\\f).
Everything that does not pair is reported in a sentence, never silently dropped: a document
without a text, a text without a document, an empty text, a text that is not UTF-8.

A zip comes from a browser, so it is checked before anything is extracted: at most
`MAX_ENTRIES` entries, `MAX_TOTAL_BYTES` uncompressed in all (counted as read, not trusted
from the headers), and names that stay inside the archive (no absolute paths, no `..`).
Nothing is written to disk: entries are read into memory within those bounds.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from console.golden._models import GoldenDocument, GoldenSetError, LoadedSet, UnsafeArchive
from ocr_core import quality

DOCUMENT_SUFFIXES = frozenset(
    {".pdf", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}
)
TEXT_SUFFIXES = (".txt", ".md")
MAX_ENTRIES = 1000
MAX_TOTAL_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024


def decode_text(data: bytes, filename: str) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM; anything else is refused by name,
    because guessing a code page would score against the wrong characters."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GoldenSetError(
            f"{filename} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}): save it as UTF-8 and register again"
        ) from None
    if "\0" in text:  # valid UTF-8, but UTF-16 without its byte-order mark reads like this
        raise GoldenSetError(
            f"{filename} holds NUL characters (UTF-16 without a byte-order mark?): save it as "
            "UTF-8 and register again"
        )
    return text


def pair_files(files: Iterable[tuple[str, bytes]]) -> LoadedSet:
    """Pair documents with texts by folder and stem; report what does not pair."""
    documents: dict[str, tuple[str, bytes]] = {}
    texts: dict[str, tuple[str, bytes]] = {}
    problems: list[str] = []
    for name, data in sorted(files):
        path = PurePosixPath(name)
        if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
            continue
        key = str(path.with_suffix("")).casefold()
        suffix = path.suffix.lower()
        if suffix in DOCUMENT_SUFFIXES:
            if key in documents:
                problems.append(f"{name}: a second document for {documents[key][0]}'s text")
                continue
            documents[key] = (name, data)
        elif suffix in TEXT_SUFFIXES:
            if key in texts:
                problems.append(f"{name}: a second text for {texts[key][0]}; keep one")
                continue
            texts[key] = (name, data)
        else:
            problems.append(f"{name}: not a document or a text, left out")
    paired: list[GoldenDocument] = []
    for key, (name, data) in sorted(documents.items()):
        if key not in texts:
            problems.append(f"{name}: no expected text beside it (add {key}.txt), left out")
            continue
        text_name, raw = texts.pop(key)
        try:
            text = decode_text(raw, text_name)
        except GoldenSetError as error:
            problems.append(f"{error}; {name} left out")
            continue
        if not quality.normalise(text):  # nothing left to score against, markup aside
            problems.append(f"{text_name} is empty: nothing to score {name} against, left out")
            continue
        paired.append(GoldenDocument(name, data, text, text_name))
    for text_name, _ in texts.values():
        problems.append(f"{text_name}: no document with that name beside it, left out")
    return LoadedSet(paired, problems)


def load_folder(folder: Path) -> LoadedSet:
    folder = Path(folder)
    if not folder.is_dir():
        raise GoldenSetError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if len(files) > MAX_ENTRIES:
        raise GoldenSetError(f"{folder} holds {len(files)} files; a golden set takes {MAX_ENTRIES}")
    return pair_files((p.relative_to(folder).as_posix(), p.read_bytes()) for p in files)


def _safe_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchive(f"the zip names a file outside itself ({name!r}); refused")
    return str(path)


def load_zip(
    data: bytes, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_TOTAL_BYTES
) -> LoadedSet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as error:
        raise GoldenSetError(f"the upload is not a readable zip: {error}") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > max_entries:
            raise UnsafeArchive(
                f"the zip has {len(entries)} files; a golden set takes at most {max_entries}"
            )
        files: list[tuple[str, bytes]] = []
        total = 0
        for info in entries:
            name = _safe_name(info.filename)
            buffer = bytearray()
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise UnsafeArchive(
                                f"the zip unpacks to more than {max_bytes // (1024 * 1024)} MB; "
                                "refused"
                            )
                        buffer += chunk
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
                raise GoldenSetError(f"{name} in the zip cannot be read: {error}") from None
            files.append((name, bytes(buffer)))
    return pair_files(_without_common_folder(files))


def _without_common_folder(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A zip made of one folder (as "compress folder" makes it) names documents without it."""
    kept = [(n, d) for n, d in files if not n.startswith("__MACOSX/")]
    tops = {PurePosixPath(n).parts[0] for n, _ in kept if len(PurePosixPath(n).parts) > 1}
    if len(tops) != 1 or any(len(PurePosixPath(n).parts) == 1 for n, _ in kept):
        return files
    return [(str(PurePosixPath(*PurePosixPath(n).parts[1:])), d) for n, d in kept]
