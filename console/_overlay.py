"""The page's located words drawn over its scan: what the workbench's overlay shows.

Built here as one self-contained HTML document (an SVG over the page image, the page's
words as text below it, a few lines of script), so the page file only hands it to
Streamlit. Clicking a word on the scan or in the text marks it in both; typing in "Find"
marks every word like it; doubtful words (the model's low-confidence spans) and words
that differ from the reference are coloured; each block of the text is outlined and
numbered in the order the text reads it, so a reviewer sees where a high reading-order
CER comes from. The scan zooms ("+", "-", "Fit", or Ctrl + the wheel) inside a box that
scrolls and pans by dragging; a click that ends a drag marks nothing (issue 35, item 6).

Words are untrusted (a scan can say anything): every one goes through `html.escape`, and
no word reaches an attribute other than as escaped text. The script is fixed.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ocr_core import ConfidenceSpan, PageWords
from ocr_core._locate import align
from ocr_core.quality import DiffSpan

# Height of the component beyond the scan itself: the bar above and the words below.
CHROME_PX = 260
# The scan's box: at most this tall; zoomed in, it scrolls (and pans by dragging) inside it.
VIEW_MAX_PX = 900
# The zoom steps of "+" and "-" (1 = the page fits the frame's width).
ZOOMS = (1, 1.5, 2, 3, 4, 6)


@dataclass(frozen=True, slots=True)
class Marks:
    """Word indices (into `PageWords.words`) to colour."""

    doubtful: frozenset[int] = frozenset()
    differs: frozenset[int] = frozenset()


def word_offsets(text: str, words: PageWords) -> list[int | None]:
    """Where each located word starts in the page's text (they are read from it in order,
    markdown stripped, so each is found after the one before); None if it is not found."""
    offsets: list[int | None] = []
    cursor = 0
    for word in words.words:
        found = text.find(word.text, cursor)
        offsets.append(None if found < 0 else found)
        if found >= 0:
            cursor = found + len(word.text)
    return offsets


def doubtful_word_indices(
    text: str, spans: Sequence[ConfidenceSpan], words: PageWords
) -> frozenset[int]:
    """The words a low-confidence span of the model's answer falls on."""
    marked = set()
    for i, (start, word) in enumerate(zip(word_offsets(text, words), words.words, strict=True)):
        if start is None:
            continue
        end = start + len(word.text)
        if any(span.start < end and start < span.end for span in spans):
            marked.add(i)
    return frozenset(marked)


def differing_word_indices(diff: Iterable[DiffSpan], words: PageWords) -> frozenset[int]:
    """The words of the text that the reference does not have (changed or added)."""
    hypothesis: list[str] = []
    wrong: list[bool] = []
    for span in diff:
        hypothesis += span.hypothesis
        wrong += [span.tag != "equal"] * len(span.hypothesis)
    matched = align([w.text for w in words.words], hypothesis, passes=1)
    return frozenset(i for i, j in enumerate(matched) if j is not None and wrong[j])


def overlay_html(image_jpeg: bytes, words: PageWords, marks: Marks = Marks()) -> str:
    """The overlay as a standalone HTML document (for `st.components.v1.html`)."""
    width, height = words.width, words.height
    image = base64.b64encode(image_jpeg).decode("ascii")
    rects, spans = [], []
    line = None
    for i, word in enumerate(words.words):
        kind = _kind(i, marks)
        label = html.escape(word.text)
        if word.box is not None:
            x0, y0, x1, y1 = word.box
            rects.append(
                f'<rect class="w {kind}" data-i="{i}" x="{x0:.1f}" y="{y0:.1f}" '
                f'width="{max(x1 - x0, 1):.1f}" height="{max(y1 - y0, 1):.1f}">'
                f"<title>{label}</title></rect>"
            )
        if line is not None and word.line != line:
            spans.append("<br>")
        line = word.line
        missing = "" if word.box is not None else " missing"
        spans.append(f'<span class="t {kind}{missing}" data-i="{i}">{label}</span> ')
    order = []
    numbers: dict[int, int] = {}
    for block, (x0, y0, x1, y1) in words.blocks():
        # A block's pieces (a paragraph going on in the next column) share its number.
        number = numbers.setdefault(block, len(numbers) + 1)
        radius = max(max(width, height) / 55, 12)
        order.append(
            f'<rect class="block" x="{x0 - 3:.1f}" y="{y0 - 3:.1f}" width="{x1 - x0 + 6:.1f}" '
            f'height="{y1 - y0 + 6:.1f}"/><circle class="n" cx="{x0 - 3:.1f}" cy="{y0 - 3:.1f}" '
            f'r="{radius:.1f}"/><text class="n" x="{x0 - 3:.1f}" y="{y0 - 3:.1f}" '
            f'font-size="{radius * 1.2:.1f}">{number}</text>'
        )
    located = sum(w.box is not None for w in words.words)
    summary = f"{located} of {len(words.words)} words located · {len(numbers)} blocks"
    return _PAGE.format(
        width=width,
        height=height,
        image=image,
        rects="".join(rects),
        order="".join(order),
        words="".join(spans),
        summary=html.escape(summary),
        view_px=VIEW_MAX_PX,
        zooms=json.dumps(ZOOMS),
    )


def overlay_height(words: PageWords, column_px: int = 560) -> int:
    """The component's height for a scan shown `column_px` wide (its box at most
    VIEW_MAX_PX tall: a taller page scrolls in it)."""
    return min(int(column_px * words.height / max(words.width, 1)), VIEW_MAX_PX) + CHROME_PX


def _kind(index: int, marks: Marks) -> str:
    """The word's classes: doubtful and differs can both hold (a doubtful word misread)."""
    kinds = [
        kind
        for kind, indices in (("doubtful", marks.doubtful), ("differs", marks.differs))
        if index in indices
    ]
    return " ".join(kinds) or "plain"


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; font: 14px "Source Sans Pro", sans-serif; color: #31333f; }}
.bar {{ display: flex; gap: .75em; align-items: center; flex-wrap: wrap; padding: 4px 0; }}
.bar input[type=search] {{ font: inherit; padding: 2px 6px; width: 12em; }}
.bar label {{ white-space: nowrap; }}
.key {{ padding: 0 .4em; border-radius: 3px; }}
.view {{ overflow: auto; max-height: {view_px}px; border: 1px solid rgba(49,51,63,.25);
  cursor: grab; }}
.view.dragging {{ cursor: grabbing; user-select: none; }}
svg {{ width: 100%; height: auto; display: block; }}
.zoom button {{ font: inherit; min-width: 2em; }}
rect.w {{ fill: rgba(28,131,225,.10); stroke: rgba(28,131,225,.55); stroke-width: 1; }}
rect.doubtful {{ fill: rgba(255,164,33,.30); stroke: #ff8c00; stroke-width: 3; }}
.key.doubtful, span.doubtful {{ text-decoration: underline wavy #ff8c00; }}
rect.differs {{ fill: rgba(255,75,75,.25); stroke: #ff2b2b; }}
rect.doubtful.differs {{ stroke: #ff8c00; stroke-width: 3; }}
.key.differs, span.differs {{ background: rgba(255,75,75,.25); }}
rect.found, span.found {{ fill: rgba(0,200,83,.30); stroke: #00a152;
  background: rgba(0,200,83,.30); }}
rect.picked {{ fill: rgba(128,61,245,.35); stroke: #803df5; stroke-width: 3; }}
span.picked {{ background: rgba(128,61,245,.35); outline: 2px solid #803df5; }}
rect.block {{ fill: none; stroke: #803df5; stroke-dasharray: 6 4; stroke-width: 1.5; }}
circle.n {{ fill: #803df5; }} text.n {{ fill: white; text-anchor: middle;
  dominant-baseline: central; font-weight: bold; }}
.hide-words rect.w, .hide-order .block, .hide-order .n {{ display: none; }}
.words {{ max-height: 180px; overflow: auto; margin-top: 6px; line-height: 1.7; }}
span.t {{ cursor: pointer; border-radius: 3px; }} span.missing {{ color: #999; }}
rect.w {{ cursor: pointer; }}
</style></head><body>
<div class="bar">
 <input id="find" type="search" placeholder="Find a word" aria-label="Find a word">
 <label><input id="show-words" type="checkbox" checked> words</label>
 <label><input id="show-order" type="checkbox" checked> reading order</label>
 <span class="key doubtful">doubtful</span><span class="key differs">not in reference</span>
 <span class="zoom"><button id="zoom-out" title="Zoom out" aria-label="Zoom out">−</button>
 <span id="zoom" aria-live="polite">100%</span>
 <button id="zoom-in" title="Zoom in (or Ctrl + wheel)" aria-label="Zoom in">+</button>
 <button id="zoom-fit" title="The whole page width">Fit</button></span>
 <span id="picked" aria-live="polite"></span>
 <span style="color:#808495">{summary}</span>
</div>
<div class="view" id="view">
<svg id="scan" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img"
 aria-label="the page with its located words">
<image href="data:image/jpeg;base64,{image}" x="0" y="0" width="{width}" height="{height}"
 preserveAspectRatio="none"/>
<g id="order">{order}</g><g id="boxes">{rects}</g></svg></div>
<div class="words" id="words" aria-label="the page's words">{words}</div>
<script>
const all = i => document.querySelectorAll('[data-i="' + i + '"]');
const svg = document.getElementById('scan');
function pick(i) {{
  document.querySelectorAll('.picked').forEach(e => e.classList.remove('picked'));
  all(i).forEach(e => e.classList.add('picked'));
  const span = document.querySelector('span[data-i="' + i + '"]');
  const box = document.querySelector('rect[data-i="' + i + '"]');
  document.getElementById('picked').textContent = span ? '«' + span.textContent +
    (box ? '» on the page' : '» is not found on the page') : '';
  if (box) box.scrollIntoView({{block: 'nearest'}});
  if (span) span.scrollIntoView({{block: 'nearest'}});
}}
const view = document.getElementById('view');
let drag = null, dragged = false;
document.querySelectorAll('[data-i]').forEach(e =>
  e.addEventListener('click', () => {{ if (!dragged) pick(e.getAttribute('data-i')); }}));
const zooms = {zooms};
let zoom = 1;
function zoomTo(next, cx, cy) {{
  const r = view.getBoundingClientRect();
  const x = cx === undefined ? r.width / 2 : cx - r.left;
  const y = cy === undefined ? r.height / 2 : cy - r.top;
  const fx = (view.scrollLeft + x) / view.scrollWidth;
  const fy = (view.scrollTop + y) / view.scrollHeight;
  zoom = next;
  svg.style.width = (zoom * 100) + '%';
  view.scrollLeft = fx * view.scrollWidth - x;
  view.scrollTop = fy * view.scrollHeight - y;
  document.getElementById('zoom').textContent = Math.round(zoom * 100) + '%';
}}
const step = d => zooms[Math.max(0, Math.min(zooms.length - 1,
  zooms.findIndex(z => z >= zoom) + d))];
document.getElementById('zoom-in').addEventListener('click', () => zoomTo(step(1)));
document.getElementById('zoom-out').addEventListener('click', () => zoomTo(step(-1)));
document.getElementById('zoom-fit').addEventListener('click', () => zoomTo(1));
view.addEventListener('wheel', ev => {{
  if (!ev.ctrlKey) return;
  ev.preventDefault();
  zoomTo(step(ev.deltaY < 0 ? 1 : -1), ev.clientX, ev.clientY);
}}, {{passive: false}});
view.addEventListener('pointerdown', ev => {{
  drag = {{x: ev.clientX, y: ev.clientY, left: view.scrollLeft, top: view.scrollTop}};
  dragged = false;
}});
view.addEventListener('pointermove', ev => {{
  if (!drag) return;
  const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
  if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
  dragged = true;
  view.classList.add('dragging');
  view.scrollLeft = drag.left - dx;
  view.scrollTop = drag.top - dy;
}});
const endDrag = () => {{ drag = null; view.classList.remove('dragging');
  setTimeout(() => {{ dragged = false; }}, 0); }};
view.addEventListener('pointerup', endDrag);
view.addEventListener('pointerleave', endDrag);
const edge = /^[^\\p{{L}}\\p{{N}}]+|[^\\p{{L}}\\p{{N}}]+$/gu;
const fold = s => s.normalize('NFKC').toLowerCase().replace(edge, '');
document.getElementById('find').addEventListener('input', ev => {{
  const want = fold(ev.target.value);
  document.querySelectorAll('span.t').forEach(s => {{
    const hit = want !== '' && fold(s.textContent).startsWith(want);
    all(s.getAttribute('data-i')).forEach(e => e.classList.toggle('found', hit));
  }});
}});
document.getElementById('show-words').addEventListener('change', ev =>
  svg.classList.toggle('hide-words', !ev.target.checked));
document.getElementById('show-order').addEventListener('change', ev =>
  svg.classList.toggle('hide-order', !ev.target.checked));
</script></body></html>"""
