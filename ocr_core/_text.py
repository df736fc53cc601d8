"""Text as a reader and a file expect it: no control characters but line breaks and tabs.

PDF text layers carry what their producers wrote: form feeds and vertical tabs between
blocks, backspaces, NULs, C1 codes, and pdfium's U+FFFE where a word was hyphenated at a
line end. In an export, a stray form feed splits a page in two for every tool that splits on
it (pdftotext's page separator), so only the exporter may write one.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and Unicode's non-characters, but not \t and \n.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\uffff]")
_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def clean_text(text: str) -> str:
    """`text` with line breaks as `\\n`, pdfium's line-end hyphen (U+FFFE) as `-`, and every
    other control character dropped."""
    text = _BREAKS.sub("\n", text).replace("\ufffe", "-")
    return _CONTROLS.sub("", text)


__all__ = ["clean_text"]
