"""Safe rendering of OCR output, which is untrusted text.

The model writes markdown and sometimes HTML (tables). A scanned page can contain anything,
including text that looks like `<script>`; so the markdown is turned into HTML here
(markdown-it), every tag and attribute outside a small allow-list is removed (nh3), and only
that result is handed to Streamlit with `unsafe_allow_html=True`.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

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

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(REMOVED_WITH_CONTENT),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Keep only allow-listed tags and attributes; links only to absolute http(s)/mailto."""
    return _cleaner.clean(html)


def markdown_to_safe_html(text: str) -> str:
    """OCR markdown (with any embedded HTML) as sanitised HTML, on ONE line.

    Streamlit's markdown renderer would re-read blank lines inside the HTML as markdown
    (turning text inside a `<pre>` into links or code blocks); encoding newlines as `&#10;`
    keeps the whole output one raw-HTML block, and renders identically.
    """
    clean = sanitize_html(_markdown.render(text))
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
