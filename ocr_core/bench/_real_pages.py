"""Real public scans of magazines and reports, with their ground truth, for the benches.

The multi-column pages of the public Scribe.js OCR benchmark (github.com/scribeocr/
ocr-benchmark: research reports, a government report and a newspaper style page with a
photograph among its columns, 1168 to 3300 px) are scans no one tuned the engine on. They
are not shipped here (that repository states no licence): fetch it and pass its folder
(`--real DIR`). Each page is `img/NAME.png|jpg` beside `ground_truth/NAME.truth.hocr`,
whose lines, in the file's order, are the truth: the benchmark's authors corrected them by
hand, in reading order.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from ._quality import Case

REAL_GROUP = "real multi-column scans"
REAL_PREFIX = "multicol_"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
_LINE_CLASSES = frozenset({"ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"})


class RealPagesError(ValueError):
    """The folder is not a checkout of the benchmark, or a truth file cannot be read."""


def hocr_text(data: bytes) -> str:
    """The text of an hOCR file: its words, a line per hOCR line, in the file's order."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise RealPagesError(f"not an hOCR file: {error}") from None
    lines = []
    for element in root.iter():
        kind = (element.get("class") or "").split()
        if kind and kind[0] in _LINE_CLASSES:
            words = (
                "".join(word.itertext())
                for word in element.iter()
                if (word.get("class") or "").startswith("ocrx_word")
            )
            line = " ".join(" ".join(words).split())
            if line:
                lines.append(line)
    return "\n".join(lines)


def _as_png(path: Path) -> bytes:
    """The scan as a PNG without alpha (the benchmark's PNGs are RGBA; tesseract and the
    client's preparation both read RGB)."""
    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "PNG")
        return buffer.getvalue()


def real_cases(folder: Path, prefix: str = REAL_PREFIX) -> list[Case]:
    """One case per page of `folder` whose name starts with `prefix` and has a truth."""
    truths = folder / "ground_truth"
    if not truths.is_dir() or not (folder / "img").is_dir():
        raise RealPagesError(f"{folder} has no img/ and ground_truth/: not the benchmark")
    cases = []
    for truth in sorted(truths.glob(f"{prefix}*.truth.hocr")):
        name = truth.name.removesuffix(".truth.hocr")
        scans = [
            p for p in sorted((folder / "img").glob(f"{name}.*")) if p.suffix in IMAGE_SUFFIXES
        ]
        if scans:
            text = hocr_text(truth.read_bytes())
            cases.append(Case(f"{name}.png", REAL_GROUP, _as_png(scans[0]), text))
    return cases
