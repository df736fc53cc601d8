"""Synthetic pages whose right reading is known: a form, a table of contents, a letter, and a
dense three-column page of small type (a magazine page: the engine's slowest kind).

Drawn with the font that ships inside Pillow (`ImageFont.load_default(size=...)`), so the
bench and the tests need no system fonts. Each page comes with its ground truth in reading
order: a form and a table of contents are read row by row, label then value.
"""

from __future__ import annotations

import random
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
# A magazine page as the client sends it to the CPU engine (longest side 2000 px): three
# columns of 19 px type on a 25 px pitch, about 210 lines and 1,300 words.
DENSE_SIZE = (1414, 2000)
DENSE_FONT_PX = 19
DENSE_PITCH = 25
DENSE_MARGIN = 90
DENSE_GUTTER = 40
DENSE_WORDS = [
    "the",
    "bank",
    "loan",
    "rate",
    "was",
    "set",
    "at",
    "two",
    "per",
    "cent",
    "above",
    "base",
    "for",
    "the",
    "term",
    "of",
    "the",
    "agreement",
    "and",
    "every",
    "payment",
    "falls",
    "due",
    "on",
    "the",
    "first",
    "working",
    "day",
    "of",
    "each",
    "month",
    "while",
    "the",
    "account",
    "remains",
    "open",
    "customers",
    "who",
    "repay",
    "early",
    "may",
    "owe",
    "a",
    "charge",
    "equal",
    "to",
    "one",
    "month",
    "of",
    "interest",
    "our",
    "office",
    "reviews",
    "each",
    "application",
    "within",
    "five",
    "days",
    "and",
    "writes",
    "to",
    "the",
    "applicant",
    "with",
    "a",
    "decision",
    "a",
    "copy",
    "of",
    "the",
    "signed",
    "form",
    "should",
    "be",
    "kept",
    "with",
    "your",
    "records",
    "statements",
    "are",
    "sent",
    "every",
    "quarter",
    "and",
    "show",
    "the",
    "balance",
    "the",
    "interest",
    "charged",
    "and",
    "any",
    "fees",
    "applied",
]


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


def dense_page() -> SyntheticPage:
    """Three columns of small justified-looking prose, read column by column.

    The words are drawn from a fixed vocabulary with a fixed seed, so the page and its
    ground truth are the same on every run.
    """
    image = Image.new("L", DENSE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    font = _font(DENSE_FONT_PX)
    pick = random.Random(24)
    width = (DENSE_SIZE[0] - 2 * DENSE_MARGIN - 2 * DENSE_GUTTER) // 3
    lines: list[str] = []
    for column in range(3):
        x = DENSE_MARGIN + column * (width + DENSE_GUTTER)
        y = DENSE_MARGIN
        while y + DENSE_PITCH <= DENSE_SIZE[1] - DENSE_MARGIN:
            line = pick.choice(DENSE_WORDS).capitalize()
            while True:
                word = pick.choice(DENSE_WORDS)
                if font.getlength(f"{line} {word}") > width:
                    break
                line = f"{line} {word}"
            draw.text((x, y), line, fill=0, font=font)
            lines.append(line)
            y += DENSE_PITCH
    return SyntheticPage("dense", image, "\n".join(lines))


MAGAZINE_COLUMN = 329
MAGAZINE_GUTTER = 36
MAGAZINE_PITCH = 27


def _column(draw: ImageDraw.ImageDraw, pick: random.Random, x: int, y0: int, y1: int) -> list[str]:
    """Prose from DENSE_WORDS filling one column from y0 to y1; its lines."""
    font = _font(20)
    lines = []
    for y in range(y0, y1 - MAGAZINE_PITCH + 1, MAGAZINE_PITCH):
        line = pick.choice(DENSE_WORDS).capitalize()
        while font.getlength(f"{line} {(word := pick.choice(DENSE_WORDS))}") <= MAGAZINE_COLUMN:
            line = f"{line} {word}"
        draw.text((x, y), line, fill=0, font=font)
        lines.append(line)
    return lines


def magazine_page() -> SyntheticPage:
    """A magazine page: a running head, a title and a standfirst across the page, three
    columns of prose, a picture across the second and third columns with its caption under
    it, and a page number. Read as an XY-cut reads it: head, title, standfirst, the first
    column, then the caption and the second and third columns, then the page number."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    pick = random.Random(7)
    draw.text((90, 50), "LOAN NEWS", fill=0, font=_font(20))
    draw.text((1150, 50), "December 2026", fill=0, font=_font(20), anchor="ra")
    title = "Rates hold steady as lenders wait"
    draw.text((620, 110), title, fill=0, font=_font(52), anchor="ma")
    standfirst = (
        "Borrowers with variable loans saw no change this quarter,",
        "while fixed offers crept higher across the market.",
    )
    for row, text in enumerate(standfirst):
        draw.text((90, 200 + row * 36), text, fill=0, font=_font(26))
    second = 90 + MAGAZINE_COLUMN + MAGAZINE_GUTTER
    third = second + MAGAZINE_COLUMN + MAGAZINE_GUTTER
    # The picture: shaded bands and speckles, as a photograph looks to a text detector.
    for y in range(300, 700, 8):
        draw.rectangle((second, y, 1150, y + 8), fill=90 + (y * 7) % 120)
    for _ in range(1500):
        x, y = pick.randrange(second, 1150), pick.randrange(300, 700)
        draw.point((x, y), fill=pick.randrange(0, 255))
    caption = "Figure 1. The new branch office in Bristol opened its doors in November."
    draw.text((second, 715), caption, fill=0, font=_font(18))
    lines = ["LOAN NEWS December 2026", title, *standfirst]
    lines += _column(draw, pick, 90, 300, 1640)
    lines.append(caption)
    lines += _column(draw, pick, second, 770, 1640)
    lines += _column(draw, pick, third, 770, 1640)
    draw.text((620, 1680), "7", fill=0, font=_font(20), anchor="ma")
    lines.append("7")
    return SyntheticPage("magazine", image, "\n".join(lines))


def feature_page() -> SyntheticPage:
    """A second magazine page, made after the layout was tuned on the first: a masthead, a
    title, a picture across the first two columns at the top of the body with its caption,
    the third column running beside the picture from the top, and a page number well below.
    Convention: a picture's caption is read where the columns under it start (before the
    first of them), the columns left to right, the page number last."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    pick = random.Random(13)
    draw.text((90, 40), "THE LENDER", fill=0, font=_font(20))
    title = "Why fixed rates are back"
    draw.text((620, 100), title, fill=0, font=_font(52), anchor="ma")
    second = 90 + MAGAZINE_COLUMN + MAGAZINE_GUTTER
    third = second + MAGAZINE_COLUMN + MAGAZINE_GUTTER
    for y in range(200, 560, 6):  # the picture: finer bands, denser speckles
        draw.rectangle((90, y, second + MAGAZINE_COLUMN, y + 6), fill=70 + (y * 13) % 140)
    for _ in range(2500):
        x, y = pick.randrange(90, second + MAGAZINE_COLUMN), pick.randrange(200, 560)
        draw.point((x, y), fill=pick.randrange(0, 255))
    caption = "Figure 2. Fixed and variable offers since 2020, by month."
    draw.text((90, 572), caption, fill=0, font=_font(18))
    lines = ["THE LENDER", title, caption]
    lines += _column(draw, pick, 90, 620, 1620)
    lines += _column(draw, pick, second, 620, 1620)
    lines += _column(draw, pick, third, 200, 1620)
    draw.text((620, 1680), "- 3 -", fill=0, font=_font(20), anchor="ma")
    lines.append("- 3 -")
    return SyntheticPage("feature", image, "\n".join(lines))


def turned(page: SyntheticPage, degrees: int) -> SyntheticPage:
    """The page scanned turned `degrees` clockwise (90, 180 or 270)."""
    image = page.image.rotate(-degrees, expand=True, fillcolor=255)
    return SyntheticPage(f"{page.name}@{degrees}", image, page.truth)


def skewed(page: SyntheticPage, degrees: float) -> SyntheticPage:
    """The page scanned a little off square: turned `degrees` counter-clockwise."""
    image = page.image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return SyntheticPage(f"{page.name}~{degrees:g}", image, page.truth)


def synthetic_pages() -> list[SyntheticPage]:
    letter, dense, magazine = letter_page(), dense_page(), magazine_page()
    return [
        form_page(),
        contents_page(),
        letter,
        *(turned(letter, degrees) for degrees in (90, 180, 270)),
        dense,
        magazine,
        feature_page(),
        skewed(magazine, 1.5),
        skewed(dense, -1.5),
    ]
