"""The page an engine reads once at start, before the server says it is ready."""

from __future__ import annotations

from PIL import Image

# The size a client sends an A4 page at (longest side 2000 px), so the first user's page
# pays no first-run costs.
PRIMING_PAGE_SIZE = (1414, 2000)
PRIMING_LINES = ("Priming the engine before the first page.", "Page 1 of 1, 24 May 2025")


def priming_page() -> Image.Image:
    """A page of the size clients send with a few lines of text, so every model runs."""
    from PIL import ImageDraw, ImageFont

    page = Image.new("RGB", PRIMING_PAGE_SIZE, "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=34)
    for row, line in enumerate(PRIMING_LINES):
        draw.text((160, 200 + 60 * row), line, fill="black", font=font)
    return page
