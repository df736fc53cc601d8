"""Safe rendering of OCR output, which is untrusted text.

The model writes markdown and sometimes HTML (tables). A scanned page can contain anything,
including text that looks like `<script>` or `<lazy>`; so the markdown is turned into HTML here
(markdown-it), any tag-like text that is not an allowed tag is turned back into visible text,
every tag and attribute outside a small allow-list is removed (nh3), and only that result is
handed to Streamlit with `unsafe_allow_html=True`.

Dangerous elements (`<script>`, `<style>`...) are removed with their content, and the reader
is told so: a crafted scan must not hide text from QA. One that is never closed would take
everything after it along (an HTML parser reads to the end of the document), so its tag is
shown as text instead, with a notice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Tables and basic formatting: what OCR of a document needs, nothing that runs or loads.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "del",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}
# No javascript:, data: or vbscript: links; relative links are dropped too (they would
# resolve against the console's own origin).
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
# Removed together with everything inside them.
REMOVED_WITH_CONTENT: frozenset[str] = frozenset({"script", "style", "iframe", "object", "embed"})

# Tags that reach nh3 as tags: kept ones, and dangerous ones so that nh3 drops their content.
_TAGS_PASSED_ON = ALLOWED_TAGS | REMOVED_WITH_CONTENT
# A `<` that opens (or closes) one of those tags; any other `<` in raw HTML is text.
_PASSED_ON_TAG = re.compile(
    r"<(?=/?(?:" + "|".join(sorted(_TAGS_PASSED_ON)) + r")(?:[\s/>]|$))", re.IGNORECASE
)


def _unknown_tags_as_text(html: str) -> str:
    """Raw HTML with every `<` that does not start a passed-on tag written as `&lt;`.

    nh3 drops a tag it does not allow, so OCR of "the <lazy> dog" would read "the  dog".
    Scans quote markup and write placeholders in angle brackets; a reader must see them as
    printed. Dangerous tags are still passed on, for nh3 to remove with their content.
    """
    parts = html.split("<")
    out = [parts[0]]
    for part in parts[1:]:
        out.append(("<" if _PASSED_ON_TAG.match("<" + part) else "&lt;") + part)
    return "".join(out)


def _render_raw_html(
    self: object, tokens: Sequence[Token], idx: int, options: object, env: object
) -> str:
    # Only raw HTML goes through here: code spans and blocks are already escaped text.
    return _unknown_tags_as_text(tokens[idx].content)


# `breaks`: a single line break in OCR output is a real one (addresses, forms, poems), not
# a soft wrap to join into one run-on paragraph.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True}).enable(
    "table"
)
_markdown.add_render_rule("html_inline", _render_raw_html)
_markdown.add_render_rule("html_block", _render_raw_html)


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(REMOVED_WITH_CONTENT),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


# Passed-on tags whose content goes with them; `<embed>` is void, it has no content to take.
_SWALLOWING = sorted(REMOVED_WITH_CONTENT - {"embed"})
_SWALLOWING_OPEN = re.compile(r"<(" + "|".join(_SWALLOWING) + r")\b[^>]*>", re.IGNORECASE)


def _unclosed_as_text(html: str) -> tuple[str, list[str], list[str]]:
    """`html` with each never-closed swallowing tag written as text; and which tags were
    left unclosed and which elements the sanitiser will remove with their content."""
    out: list[str] = []
    unclosed: list[str] = []
    removed: list[str] = []
    position = 0
    while opening := _SWALLOWING_OPEN.search(html, position):
        tag = opening.group(1).lower()
        # As an HTML parser ends raw text: at `</tag` followed by a space, `/` or `>`.
        closing = re.compile(rf"</{tag}(?=[\s/>])", re.IGNORECASE).search(html, opening.end())
        if closing is None:
            out.append(
                html[position : opening.start()]
                + "&lt;"
                + html[opening.start() + 1 : opening.end()]
            )
            unclosed.append(tag)
            position = opening.end()
        else:
            out.append(html[position : closing.end()])
            removed.append(tag)
            position = closing.end()
    out.append(html[position:])
    return "".join(out), unclosed, removed


def _notice(unclosed: list[str], removed: list[str]) -> str:
    """A line above the output telling the reader what the sanitiser did to it."""
    parts = []
    if unclosed:
        tags = ", ".join(f"&lt;{tag}&gt;" for tag in dict.fromkeys(unclosed))
        parts.append(
            f"an unclosed {tags} tag would have hidden the text after it: shown as written"
        )
    if removed:
        tags = ", ".join(f"&lt;{tag}&gt;" for tag in dict.fromkeys(removed))
        its = "its" if len(removed) == 1 else "their"
        parts.append(f"{count_noun(len(removed), 'element')} ({tags}) removed with {its} content")
    if not parts:
        return ""
    return '<p class="ocr-notice"><em>Note: ' + "; ".join(parts) + ".</em></p>"


def sanitize_html(html: str) -> str:
    """Keep only allow-listed tags and attributes; links only to absolute http(s)/mailto."""
    return _cleaner.clean(html)


def markdown_to_safe_html(text: str) -> str:
    """OCR markdown (with any embedded HTML) as sanitised HTML, on ONE line.

    Streamlit's markdown renderer would re-read blank lines inside the HTML as markdown
    (turning text inside a `<pre>` into links or code blocks); encoding newlines as `&#10;`
    keeps the whole output one raw-HTML block, and renders identically.
    """
    rendered, unclosed, removed = _unclosed_as_text(_markdown.render(text))
    clean = _notice(unclosed, removed) + sanitize_html(rendered)
    return '<div class="ocr-output">' + clean.replace("\n", "&#10;") + "</div>"


# Characters that start markdown (or Streamlit's `:color[...]`/`:emoji:` syntax) anywhere in a
# line. `.`, `-` and `+` only matter at the start of a line, which a name never is here, and
# are left alone so labels keep a readable accessible name ("Password for scan-1.pdf").
_MARKDOWN_ACTIVE = frozenset("\\`*[]()<>#|~$!:{}")


def escape_markdown(text: str) -> str:
    """User-supplied text (a file name, a server's message) shown in markdown as exactly that."""
    escaped = []
    for i, ch in enumerate(text):
        # An underscore between letters or digits never emphasises (CommonMark); keep it plain.
        intraword = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        if ch in _MARKDOWN_ACTIVE or (ch == "_" and not intraword):
            escaped.append("\\" + ch)
        else:
            escaped.append(ch)
    return "".join(escaped)


def count_noun(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 page", "2 pages": counts in the console read as sentences, not "1 pages"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


# Characters a terminal acts on rather than shows: C0/C1 controls (ESC starts a colour or a
# cursor move, CR and LF start a line), format characters (RLO turns text around) and the
# Unicode line and paragraph separators.
_TERMINAL_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def terminal_safe(text: str) -> str:
    """`text` for a terminal line: every control or format character as its escape
    (`\\x1b`, `\\n`, `\\u202e`), so a file name cannot paint a fake line or recolour the
    screen (issue 36). Printable text, accents and CJK included, is kept as it is."""
    if all(unicodedata.category(ch) not in _TERMINAL_UNSAFE for ch in text):
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in _TERMINAL_UNSAFE
        else ch
        for ch in text
    )
