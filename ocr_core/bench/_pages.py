"""Synthetic pages whose right reading is known: a form, a table of contents, a letter.

Drawn with the font that ships inside Pillow (`ImageFont.load_default(size=...)`), so the
bench and the tests need no system fonts. Each page comes with its ground truth in reading
order: a form and a table of contents are read row by row, label then value.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

# A4 at 150 dpi, text at about 11 pt.
PAGE_SIZE = (1240, 1754)
FONT_PX = 30
ROW_PITCH = 64

FORM_ROWS = (
    ("Name:", "Margaret Jane Holloway"),
    ("Date of birth:", "14 March 1984"),
    ("Address:", "27 Mill Lane, Bristol"),
    ("Loan amount:", "12,500 pounds"),
    ("Term:", "36 months"),
    ("Employer:", "Harbour Freight Limited"),
    ("Annual income:", "41,200 pounds"),
    ("Signed on:", "2 June 2025"),
)
CONTENTS_ROWS = (
    ("1", "Introduction", "3"),
    ("2", "Terms of the loan", "7"),
    ("3", "Repayment schedule", "12"),
    ("4", "Interest and charges", "18"),
    ("5", "Early repayment", "23"),
    ("6", "Insurance", "29"),
    ("7", "Complaints", "34"),
    ("8", "Contact details", "41"),
)
LETTER_LINES = (
    "Dear Mr Whitfield,",
    "Thank you for your letter of the fourth of May about your account.",
    "We have checked the payments you made in April and found no error.",
    "The balance shown on your statement is therefore correct.",
    "If you would like to discuss this, please call our office.",
    "Yours sincerely,",
    "Ann Carter, Customer Services",
)


@dataclass(frozen=True, slots=True)
class SyntheticPage:
    """A drawn page and its text in reading order, one line per row."""

    name: str
    image: Image.Image
    truth: str


def _font(size: int = FONT_PX) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def form_page() -> SyntheticPage:
    """Labels in one column, values in another far to the right: rows must stay rows."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    font = _font()
    draw.text((120, 140), "Loan application", fill=0, font=_font(44))
    for row, (label, value) in enumerate(FORM_ROWS):
        y = 280 + row * ROW_PITCH
        draw.text((120, y), label, fill=0, font=font)
        draw.text((620, y), value, fill=0, font=font)
    truth = "\n".join(["Loan application", *(f"{a} {b}" for a, b in FORM_ROWS)])
    return SyntheticPage("form", image, truth)


def contents_page() -> SyntheticPage:
    """Section numbers, titles and right-aligned page numbers: three columns, read as rows."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    font = _font()
    draw.text((120, 140), "Contents", fill=0, font=_font(44))
    for row, (number, title, page) in enumerate(CONTENTS_ROWS):
        y = 280 + row * ROW_PITCH
        draw.text((120, y), number, fill=0, font=font)
        draw.text((200, y), title, fill=0, font=font)
        draw.text((1100, y), page, fill=0, font=font, anchor="ra")
    truth = "\n".join(["Contents", *(" ".join(row) for row in CONTENTS_ROWS)])
    return SyntheticPage("contents", image, truth)


def letter_page() -> SyntheticPage:
    """A short letter: every line must come back."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    font = _font()
    y = 200
    for row, text in enumerate(LETTER_LINES):
        y += ROW_PITCH + (40 if row in (1, 5) else 0)  # blank lines after the salutation, body
        draw.text((120, y), text, fill=0, font=font)
    return SyntheticPage("letter", image, "\n".join(LETTER_LINES))


def turned(page: SyntheticPage, degrees: int) -> SyntheticPage:
    """The page scanned turned `degrees` clockwise (90, 180 or 270)."""
    image = page.image.rotate(-degrees, expand=True, fillcolor=255)
    return SyntheticPage(f"{page.name}@{degrees}", image, page.truth)


def synthetic_pages() -> list[SyntheticPage]:
    letter = letter_page()
    return [
        form_page(),
        contents_page(),
        letter,
        *(turned(letter, degrees) for degrees in (90, 180, 270)),
    ]
