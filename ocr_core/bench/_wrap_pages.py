"""Synthetic pages whose columns wrap around a picture set between them (issue 34 item 2).

A magazine or report often sets a photograph across the gutter of a two-column page: both
columns narrow around it, its caption sits under or beside it, and above and below it the
columns run at their full width again. An XY-cut finds no gutter running the whole height
of such a page (the caption crosses it), and read band by band it takes the left column
down to the picture, the right column, then the left column's foot.

Convention of the truths: each column is read top to bottom; a picture's caption is read
between the column on its left and the column on its right (as the magazine page reads the
caption of a picture over its second and third columns before the second column).
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from ._pages import DENSE_WORDS, PAGE_SIZE, SyntheticPage, _font

WRAP_FONT_PX = 20
WRAP_PITCH = 27
WRAP_MARGIN = 90
WRAP_COLUMN = 515
WRAP_GUTTER = 40
# Space between a picture (or its caption) and the lines that run beside it.
WRAP_STANDOFF = 20


def _prose(pick: random.Random, width: float) -> str:
    font = _font(WRAP_FONT_PX)
    line = pick.choice(DENSE_WORDS).capitalize()
    while font.getlength(f"{line} {(word := pick.choice(DENSE_WORDS))}") <= width:
        line = f"{line} {word}"
    return line


def _wrapped_column(
    draw: ImageDraw.ImageDraw,
    pick: random.Random,
    x: int,
    y0: int,
    y1: int,
    hole: tuple[int, int, int, int],
) -> list[str]:
    """One column of prose from y0 to y1 whose lines stop short of (or start past) the
    hole (x0, y0, x1, y1) a picture and its caption leave in it; its lines."""
    hx0, hy0, hx1, hy1 = hole
    right = x + WRAP_COLUMN
    lines = []
    for y in range(y0, y1 - WRAP_PITCH + 1, WRAP_PITCH):
        start, end = x, right
        if y + WRAP_PITCH > hy0 - WRAP_STANDOFF and y < hy1 + WRAP_STANDOFF:
            if hx0 > x:  # the hole is on this column's right
                end = min(end, hx0 - WRAP_STANDOFF)
            if hx1 < right:  # the hole is on this column's left
                start = max(start, hx1 + WRAP_STANDOFF)
        line = _prose(pick, end - start)
        draw.text((start, y), line, fill=0, font=_font(WRAP_FONT_PX))
        lines.append(line)
    return lines


def _photograph(draw: ImageDraw.ImageDraw, pick: random.Random, box: tuple[int, ...]) -> None:
    """Shaded bands and speckles, as a photograph looks to a text detector."""
    x0, y0, x1, y1 = box
    for y in range(y0, y1, 7):
        draw.rectangle((x0, y, x1, min(y + 7, y1)), fill=80 + (y * 11) % 130)
    for _ in range(2000):
        draw.point((pick.randrange(x0, x1), pick.randrange(y0, y1)), fill=pick.randrange(0, 255))


def wrap_page() -> SyntheticPage:
    """Two columns, a photograph set across the gutter mid-page with a two-line caption
    under it; both columns narrow around picture and caption and run full width above and
    below. Read: head, title, the left column, the caption, the right column, page number."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    pick = random.Random(34)
    draw.text((WRAP_MARGIN, 50), "THE QUARTERLY", fill=0, font=_font(20))
    draw.text((1150, 50), "Spring 2027", fill=0, font=_font(20), anchor="ra")
    title = "Small lenders find their feet"
    draw.text((620, 110), title, fill=0, font=_font(48), anchor="ma")
    picture = (420, 640, 830, 960)
    _photograph(draw, pick, picture)
    caption = ("Figure 3. The savings hall of the", "old mutual society, now a library.")
    for row, text in enumerate(caption):
        draw.text((picture[0], 972 + row * 24), text, fill=0, font=_font(18))
    hole = (picture[0], picture[1], picture[2], 972 + 24 * len(caption))
    second = WRAP_MARGIN + WRAP_COLUMN + WRAP_GUTTER
    left = _wrapped_column(draw, pick, WRAP_MARGIN, 220, 1640, hole)
    right = _wrapped_column(draw, pick, second, 220, 1640, hole)
    draw.text((620, 1680), "12", fill=0, font=_font(20), anchor="ma")
    lines = ["THE QUARTERLY Spring 2027", title, *left, *caption, *right, "12"]
    return SyntheticPage("wrap", image, "\n".join(lines))


def inset_page() -> SyntheticPage:
    """Two columns, a photograph across the gutter at the top of the body with its caption
    beside it (in the right column, above that column's narrowed lines); the left column
    narrows beside the picture and widens under it. Read: title, the left column, the
    caption, the right column, the page number."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    pick = random.Random(43)
    title = "A year of the credit unions"
    draw.text((620, 60), title, fill=0, font=_font(48), anchor="ma")
    picture = (340, 180, 780, 560)
    _photograph(draw, pick, picture)
    second = WRAP_MARGIN + WRAP_COLUMN + WRAP_GUTTER
    caption = ("Figure 4. Members queue to", "open accounts on the first", "morning.")
    for row, text in enumerate(caption):
        draw.text((picture[2] + WRAP_STANDOFF, 180 + row * 24), text, fill=0, font=_font(18))
    left = _wrapped_column(draw, pick, WRAP_MARGIN, 180, 1640, picture)
    right = _wrapped_column(draw, pick, second, 270, 1640, picture)
    draw.text((620, 1680), "13", fill=0, font=_font(20), anchor="ma")
    lines = [title, *left, *caption, *right, "13"]
    return SyntheticPage("inset", image, "\n".join(lines))


def wrap_pages() -> list[SyntheticPage]:
    return [wrap_page(), inset_page()]
