"""OCR text against its reference, and the model's doubtful words, as safe HTML.

Everything shown comes from untrusted text (the model's output, an uploaded reference): each
word is HTML-escaped, wrapped in tags from the sanitiser's allow-list, and the result passes
through `console._render`'s sanitiser once more. Colours come from CSS keyed to the
containers the workbench draws them in (`DIFF_KEY`, `TEXT_KEY`), since the sanitiser keeps
no class or style attributes:

- diff: `<del>` a reference word the OCR lost, `<u>` a word the OCR added, `<s>old</s>`
  then `<b>new</b>` a word it read as another;
- page text: `<u>` a word the model was unsure of (a token under 0.5 probability).
"""

from __future__ import annotations

import html

from console._render import markdown_to_safe_html, sanitize_html
from ocr_core import ConfidenceSpan
from ocr_core.quality import DiffSpan

DIFF_KEY = "wb_diff"
TEXT_KEY = "wb_page_text"
CSS = f"""<style>
.st-key-{DIFF_KEY} {{line-height: 1.9;}}
.st-key-{DIFF_KEY} del {{background: #ffd7d5; color: #82071e;}}
.st-key-{DIFF_KEY} u {{background: #ccffd8; color: #055d20; text-decoration: none;}}
.st-key-{DIFF_KEY} s {{background: #fff1c2; color: #7d4e00;}}
.st-key-{DIFF_KEY} b {{background: #fff1c2; color: #7d4e00; font-weight: 600;}}
.st-key-{TEXT_KEY} u {{text-decoration: underline wavy #d97706; background: #fff7e0;}}
</style>"""
LEGEND = (
    "<del>lost</del> reference words the OCR missed · <u>added</u> words only the OCR has · "
    "<s>read</s> <b>as</b> words read as others"
)
# Private-use characters mark doubtful words through markdown rendering; any in the text
# itself are dropped first, so only ours become tags.
_OPEN, _CLOSE = "\ue000", "\ue001"


def diff_html(spans: list[DiffSpan]) -> str:
    """The word diff (reference -> OCR) as one line of sanitised HTML."""
    parts = []
    for span in spans:
        reference = html.escape(" ".join(span.reference))
        hypothesis = html.escape(" ".join(span.hypothesis))
        if span.tag == "equal":
            parts.append(reference)
        elif span.tag == "delete":
            parts.append(f"<del>{reference}</del>")
        elif span.tag == "insert":
            parts.append(f"<u>{hypothesis}</u>")
        else:
            parts.append(f"<s>{reference}</s> <b>{hypothesis}</b>")
    return "<p>" + sanitize_html(" ".join(parts)) + "</p>"


def _plain(text: str) -> str:
    return text.replace(_OPEN, "").replace(_CLOSE, "")


def doubtful_html(text: str, spans: tuple[ConfidenceSpan, ...]) -> str:
    """The page's markdown rendered safely with its doubtful words underlined in place.

    Spans that do not match the text at their offsets are left out (never misplaced)."""
    out, position = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < position or text[span.start : span.end] != span.text or not span.text:
            continue
        out += [_plain(text[position : span.start]), _OPEN, _plain(span.text), _CLOSE]
        position = span.end
    out.append(_plain(text[position:]))
    rendered = markdown_to_safe_html("".join(out)).replace(_OPEN, "<u>").replace(_CLOSE, "</u>")
    # Parsed and cleaned again: a doubtful word across markup ends up well nested.
    return "<div>" + sanitize_html(rendered).replace("\n", "&#10;") + "</div>"
