"""Quality from corrections: what people's truths say about the model and the threshold.

Per revision (the one that read the page) and per ISO week (of the page's newest truth):
pages reviewed, the share whose text people changed, the CER of the model's text against
the truth (edits summed over the pages, per truth character, so a long page weighs what it
holds), and how well the model's doubt predicted a change: of the changed pages, how many
it had flagged (caught) and how many it had not (missed); of the flagged pages, how many
needed nothing. A page counts once, as its newest truth says. The words most often
corrected are counted over every changed page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from console.review._models import DOUBT_REASONS, Truth
from ocr_core.quality import normalise, word_diff


@dataclass(frozen=True, slots=True)
class CorrectionFigures:
    revision: str
    week: str  # ISO year and week: "2026-W49"
    reviewed: int
    changed: int
    cer: float | None  # None: no truth characters
    flagged: int
    caught: int  # changed and flagged
    missed: int  # changed, not flagged
    needless: int  # flagged, not changed

    @property
    def share_changed(self) -> float:
        return self.changed / self.reviewed if self.reviewed else 0.0

    @property
    def share_caught(self) -> float | None:
        """Of the changed pages, the share the model's doubt had sent (None: none changed)."""
        return self.caught / self.changed if self.changed else None

    @property
    def share_needless(self) -> float | None:
        """Of the flagged pages, the share that needed nothing (None: none flagged)."""
        return self.needless / self.flagged if self.flagged else None

    def to_row(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "week": self.week,
            "pages reviewed": self.reviewed,
            "share changed": self.share_changed,
            "CER (model vs truth)": self.cer,
            "changed pages caught": self.share_caught,
            "changed pages missed": self.missed,
            "flagged pages that needed nothing": self.share_needless,
        }


def _week(truth: Truth) -> str:
    year, week, _day = truth.at.isocalendar()
    return f"{year}-W{week:02d}"


def correction_figures(truths: Iterable[Truth]) -> list[CorrectionFigures]:
    """One row per (revision, week), newest week first; `truths` the pages' newest truths."""
    groups: dict[tuple[str, str], list[Truth]] = {}
    for truth in truths:
        groups.setdefault((truth.revision or "(unknown)", _week(truth)), []).append(truth)
    rows = []
    for (revision, week), pages in groups.items():
        changed = [t for t in pages if t.changed]
        flagged = [t for t in pages if DOUBT_REASONS & set(t.reasons)]
        edits = sum(Levenshtein.distance(normalise(t.text), normalise(t.model_text)) for t in pages)
        chars = sum(len(normalise(t.text)) for t in pages)
        rows.append(
            CorrectionFigures(
                revision=revision,
                week=week,
                reviewed=len(pages),
                changed=len(changed),
                cer=edits / chars if chars else None,
                flagged=len(flagged),
                caught=sum(1 for t in changed if t in flagged),
                missed=sum(1 for t in changed if t not in flagged),
                needless=sum(1 for t in flagged if not t.changed),
            )
        )
    rows.sort(key=lambda r: (r.week, r.revision), reverse=True)
    return rows


def most_corrected_words(truths: Iterable[Truth], limit: int = 10) -> list[tuple[str, str, int]]:
    """(what the model wrote, what people made it, how often), most often first (then in
    alphabetical order); a word the
    model missed has "" on the left, one people removed "" on the right."""
    counts: Counter[tuple[str, str]] = Counter()
    for truth in truths:
        if not truth.changed:
            continue
        for span in word_diff(truth.model_text, truth.text):
            if span.tag != "equal":
                counts[(" ".join(span.hypothesis), " ".join(span.reference))] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(model, fixed, n) for (model, fixed), n in ranked[:limit]]
