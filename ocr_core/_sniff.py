"""What a file is, from its first bytes: the type we read, or a phrase for what it is instead.

The type is decided by the content's magic bytes, never by the file name, because uploads
arrive misnamed ("scan.pdf" that is a JPEG, "document" with no extension). Unsupported
content is named ("a Word document (DOCX)", "an HTML page") with advice on what to send.
"""

from __future__ import annotations

import io
import json
import zipfile

from ._exceptions import UnsupportedDocument

SUPPORTED_KINDS = ("pdf", "png", "jpeg", "tiff", "webp", "bmp", "gif")
_WHAT_WE_READ = "a PDF, or a PNG, JPEG, TIFF, WebP, BMP or GIF image"


def detect_kind(data: bytes, *, filename: str | None = None) -> str:
    """One of SUPPORTED_KINDS, by magic bytes; else UnsupportedDocument naming the content."""
    head = data[:64]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if _looks_like_bmp(head):
        return "bmp"
    detected = describe_content(data)
    subject = f"{filename!r} is" if filename else "this file is"
    advice = next((tip for word, tip in _ADVICE if word in detected), "")
    raise UnsupportedDocument(
        f"{subject} {detected}, not a type we read; send {_WHAT_WE_READ}{advice}",
        detected=detected,
    )


# What to do with the unsupported things people most often upload, keyed by a word of the name.
_ADVICE = (
    ("document", " (export or print it to PDF first)"),
    ("workbook", " (export or print it to PDF first)"),
    ("presentation", " (export or print it to PDF first)"),
    ("e-book", " (export or print it to PDF first)"),
    ("PostScript", " (convert it to PDF first)"),
    ("EPS", " (convert it to PDF first)"),
    ("photo", " (save it as JPEG first)"),
    ("archive", " (unpack it and send the files inside)"),
)


def _looks_like_bmp(head: bytes) -> bool:
    # "BM" alone also starts plain text; the DIB header size right after it is distinctive.
    return (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in (12, 16, 40, 52, 56, 64, 108, 124)
    )


_BINARY_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "a legacy Microsoft Office document (DOC/XLS/PPT)"),
    (b"{\\rtf", 0, "an RTF document"),
    (b"%!PS", 0, "a PostScript file"),
    (b"\xc5\xd0\xd3\xc6", 0, "an EPS file"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"\xfd7zXZ\x00", 0, "an XZ archive"),
    (b"BZh", 0, "a bzip2 archive"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 image"),
    (b"\xff\x0a", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image"),
    (b"AT&TFORM", 0, "a DjVu document"),
    (b"8BPS", 0, "a Photoshop (PSD) image"),
    (b"\x00\x00\x01\x00", 0, "an ICO icon"),
    (b"\x7fELF", 0, "a program (ELF executable)"),
    (b"MZ", 0, "a Windows program"),
    (b"OggS", 0, "an Ogg audio/video file"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"fLaC", 0, "a FLAC audio file"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
)

_FTYP_BRANDS = {
    b"heic": "a HEIC photo",
    b"heix": "a HEIC photo",
    b"hevc": "a HEIC photo",
    b"mif1": "a HEIF photo",
    b"msf1": "a HEIF photo",
    b"avif": "an AVIF image",
    b"avis": "an AVIF image",
}


def describe_content(data: bytes) -> str:
    """A short human phrase for what unsupported bytes are ("a ZIP archive", "plain text")."""
    for signature, offset, name in _BINARY_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return name
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _describe_zip(data)
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12], "a video (MP4/QuickTime)")
    if data[:4] == b"RIFF":
        return {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}.get(
            data[8:12], "a RIFF media file"
        )
    text = _as_text(data[:8192])
    if text is None:
        return "unrecognised binary data"
    return _describe_text(text, data)


def _describe_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            mimetype = (
                archive.read("mimetype").decode("ascii", "replace") if ("mimetype" in names) else ""
            )
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return "a ZIP archive"
    if any(n.startswith("word/") for n in names):
        return "a Word document (DOCX)"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (XLSX)"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation (PPTX)"
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        return "an OpenDocument document (ODF)"
    if mimetype == "application/epub+zip":
        return "an EPUB e-book"
    if any("FixedDocumentSequence" in n for n in names):
        return "an XPS document"
    return "a ZIP archive"


def _as_text(head: bytes) -> str | None:
    """The sample as text when it reads as text: UTF-8/16, or a mostly printable 8-bit charset."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore")
    text = _utf8_prefix(head)
    if text is None:
        if b"\x00" in head:
            return None
        text = head.decode("latin-1")
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t\f")
    return text if text and printable / len(text) > 0.95 else None


def _utf8_prefix(head: bytes) -> str | None:
    # The sample may end inside a multi-byte character: drop up to 3 bytes before giving up.
    for cut in range(min(4, len(head))):
        try:
            return head[: len(head) - cut].decode("utf-8", "strict")
        except UnicodeDecodeError:
            continue
    return None


def _describe_text(text: str, data: bytes) -> str:
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:2048]:
        return "an HTML page"
    if lowered.startswith("<svg") or (lowered.startswith("<?xml") and "<svg" in lowered):
        return "an SVG image"
    if lowered.startswith("<?xml"):
        return "an XML file"
    if lowered.startswith(("{", "[")):
        try:
            json.loads(data)
        except ValueError:
            pass
        else:
            return "a JSON file"
    return "plain text"


__all__ = ["SUPPORTED_KINDS", "describe_content", "detect_kind"]
