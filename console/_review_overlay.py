"""The page to correct: its scan with its words drawn over it, wired to the page's editor;
and the editor's keys.

One self-contained HTML document for `st.components.v1.html`. Streamlit serves it in a
same-origin iframe (`allow-same-origin allow-scripts`), so its fixed script can reach the
editor beside it (the Streamlit text area labelled `EDITOR_LABEL`): clicking a word on the
scan selects that word in the editor, so typing replaces it; "Next doubtful word" (or
Alt+N in the editor) walks the model's doubtful words the same way. A word is found in the
editor's current text nearest to where it was, so edits earlier on the page do not send
the cursor astray.

The keys (Alt+A approve, Alt+S save, Alt+J next page, Alt+N next doubtful word, typed in
the editor) are a script of their own, drawn whenever the editor is, with or without a scan
to draw words on: Streamlit takes a text area's value only on blur, so a button's own
shortcut typed in the editor would act on the text as it was before the typing.

Words are untrusted (a scan can say anything): every one goes through `html.escape`, and
reaches the script only as escaped text of an element; offsets are integers. The scripts
are fixed.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from console._overlay import VIEW_MAX_PX, word_offsets
from ocr_core import PageWords

EDITOR_LABEL = "Page text"
CHROME_PX = 60


def review_overlay_html(
    image_jpeg: bytes, words: PageWords, text: str, doubtful: Sequence[int] = ()
) -> str:
    """The scan and its words; a click selects the word in the editor holding `text`."""
    offsets = word_offsets(text, words)
    marked = set(doubtful)
    rects = []
    for i, (word, start) in enumerate(zip(words.words, offsets, strict=True)):
        if word.box is None:
            continue
        x0, y0, x1, y1 = word.box
        kind = "w doubtful" if i in marked else "w"
        rects.append(
            f'<rect class="{kind}" data-i="{i}" data-at="{-1 if start is None else start}" '
            f'x="{x0:.1f}" y="{y0:.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{max(y1 - y0, 1):.1f}"><title>{html.escape(word.text)}</title></rect>'
        )
    image = base64.b64encode(image_jpeg).decode("ascii")
    return _PAGE.format(
        width=words.width,
        height=words.height,
        image=image,
        rects="".join(rects),
        view_px=VIEW_MAX_PX,
        label=html.escape(EDITOR_LABEL, quote=True),
        doubtful=len(marked),
    )


def review_overlay_height(words: PageWords, column_px: int = 620) -> int:
    return min(int(column_px * words.height / max(words.width, 1)), VIEW_MAX_PX) + CHROME_PX


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; font: 14px "Source Sans Pro", sans-serif; color: #31333f; }}
.bar {{ display: flex; gap: .75em; align-items: center; padding: 4px 0; }}
.view {{ overflow: auto; max-height: {view_px}px; border: 1px solid rgba(49,51,63,.25); }}
svg {{ width: 100%; height: auto; display: block; }}
rect.w {{ fill: rgba(28,131,225,.10); stroke: rgba(28,131,225,.55); stroke-width: 1;
  cursor: text; }}
rect.doubtful {{ fill: rgba(255,164,33,.30); stroke: #ff8c00; stroke-width: 3; }}
rect.picked {{ fill: rgba(128,61,245,.35); stroke: #803df5; stroke-width: 3; }}
.key {{ padding: 0 .4em; border-radius: 3px; text-decoration: underline wavy #ff8c00; }}
</style></head><body>
<div class="bar">
 <button id="next" title="Select the next doubtful word in the editor (Alt+N there)">
 Next doubtful word</button>
 <span class="key">{doubtful} doubtful</span>
 <span id="picked" aria-live="polite">Click a word to put the cursor on it.</span>
</div>
<div class="view"><svg id="scan" viewBox="0 0 {width} {height}" preserveAspectRatio="none"
 role="img" aria-label="the page with its words: click one to edit it">
<image href="data:image/jpeg;base64,{image}" x="0" y="0" width="{width}" height="{height}"
 preserveAspectRatio="none"/>{rects}</svg></div>
<script>
const LABEL = "{label}";
const editor = () => window.parent.document.querySelector(
  'textarea[aria-label="' + LABEL + '"]');
function nearest(value, word, at) {{
  let best = -1, pos = value.indexOf(word);
  while (pos >= 0) {{
    if (best < 0 || Math.abs(pos - at) < Math.abs(best - at)) best = pos;
    pos = value.indexOf(word, pos + 1);
  }}
  return best;
}}
function pick(rect) {{
  document.querySelectorAll('.picked').forEach(e => e.classList.remove('picked'));
  rect.classList.add('picked');
  const word = rect.querySelector('title').textContent;
  const ta = editor();
  const shown = document.getElementById('picked');
  if (!ta) {{ shown.textContent = '«' + word + '» (no editor: viewing only)'; return; }}
  const at = nearest(ta.value, word, Number(rect.getAttribute('data-at')));
  if (at < 0) {{ shown.textContent = '«' + word + '» is no longer in the text'; return; }}
  ta.focus();
  ta.setSelectionRange(at, at + word.length);
  const line = ta.value.slice(0, at).split('\\n').length;
  ta.scrollTop = Math.max(0, (line - 3) * 20);
  shown.textContent = '«' + word + '» selected in the editor: type to replace it';
}}
const rects = Array.from(document.querySelectorAll('rect.w'));
rects.forEach(r => r.addEventListener('click', () => pick(r)));
const doubtful = rects.filter(r => r.classList.contains('doubtful'));
let next = 0;
function nextDoubtful() {{
  if (!doubtful.length) return;
  pick(doubtful[next % doubtful.length]);
  next += 1;
}}
document.getElementById('next').addEventListener('click', nextDoubtful);
// Alt+N in the editor (the keys script, review_keys_html) walks this frame's doubtful words.
window.parent.document.reviewNext = nextDoubtful;  // a redrawn frame replaces it
</script></body></html>"""


def review_keys_html() -> str:
    """A script (in a frame of no height) that hands the editor's text to Streamlit before a
    shortcut typed in it presses its button.

    It listens on the page's document, not on the editor: Streamlit may draw the editor
    again as a new element (a redraw that moves it), and a listener on the old one would let
    Alt+S reach Streamlit's own shortcut, which saves the text without what was just typed.
    Each drawing of the frame replaces the listener of the one before it.
    """
    return _KEYS.format(label=html.escape(EDITOR_LABEL, quote=True))


_KEYS = """<!doctype html><html><body><script>
const LABEL = "{label}";
const doc = window.parent.document;
const BUTTONS = {{a: 'rv_approve', s: 'rv_save', j: 'rv_next'}};
// The letter typed with Alt: the layout's (AZERTY's A is where QWERTY has Q), or the key's
// place when Alt makes another character of it (Option+S types "ß" on a Mac).
function letter(ev) {{
  if (/^[a-z]$/i.test(ev.key)) return ev.key.toLowerCase();
  return /^Key[A-Z]$/.test(ev.code) ? ev.code.slice(3).toLowerCase() : '';
}}
function onKey(ev) {{
  const ta = ev.target;
  if (!ev.altKey || !ta || ta.tagName !== 'TEXTAREA') return;
  if (ta.getAttribute('aria-label') !== LABEL) return;
  const key = letter(ev);
  if (key === 'n') {{
    ev.preventDefault();
    try {{ doc.reviewNext(); }} catch (e) {{}}  // no scan drawn (or its frame is gone)
    return;
  }}
  const button = BUTTONS[key];
  if (!button) return;
  ev.preventDefault();
  ev.stopImmediatePropagation();
  ta.blur();  // Streamlit takes the text area's value now, then the button is pressed
  const found = doc.querySelector('.st-key-' + button + ' button');
  if (found) setTimeout(() => found.click(), 0);
}}
if (doc.reviewKeys) doc.removeEventListener('keydown', doc.reviewKeys, true);
doc.reviewKeys = onKey;
doc.addEventListener('keydown', onKey, true);
</script></body></html>"""
