"""Does the service's text read the page in the order the page's layout does?

A model can read a two-column page across (a line of the left column, then the line beside
it on the right, and so on): every word is right and the text is nonsense. No confidence
score sees it, since each token was likely. Locating the words gives a second, independent
reader: the embedded engine's lines in its own reading order (columns found from the page's
gutters, `server/_layout`). Each located word of the service's text falls on one of those
lines; walking the text, each move to a line the engine reads *earlier* is a step back. Two
readers that agree hardly step back (a header or a caption placed elsewhere costs one or
two: 1 in 72 moves on the corpus's two-column page read in its columns); the same page
read across its columns steps back 14 times in 60 moves. Such a page goes to a person, who
decides which order is right: the flag is a doubt, not a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from ._locate import PageWords

# A page is doubtful from this many steps back, and only if they are this share of its moves.
MIN_STEPS_BACK = 4
MIN_SHARE_BACK = 0.15


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """How the service's text walks over the engine's lines."""

    moves: int  # from one engine line to another, in the text's order
    steps_back: int  # of them, to a line the engine reads earlier

    @property
    def doubtful(self) -> bool:
        return self.steps_back >= MIN_STEPS_BACK and self.steps_back > MIN_SHARE_BACK * self.moves

    def reason(self) -> str | None:
        """What a reviewer is told, or None when the two readers agree well enough."""
        if not self.doubtful:
            return None
        return (
            f"the text goes back up the page's reading order {self.steps_back} times in "
            f"{self.moves} moves between lines (columns read across?)"
        )


def check_order(page: PageWords) -> OrderCheck:
    """The text's moves between the engine's lines (`page.lines`, in the engine's reading
    order), each word placed on the line whose box holds its centre."""
    visited: list[int] = []
    for word in page.words:
        if word.box is None:
            continue
        x = (word.box[0] + word.box[2]) / 2
        y = (word.box[1] + word.box[3]) / 2
        line = next(
            (
                n
                for n, found in enumerate(page.lines)
                if found.box[0] <= x <= found.box[2] and found.box[1] <= y <= found.box[3]
            ),
            None,
        )
        if line is not None and (not visited or visited[-1] != line):
            visited.append(line)
    moves = max(len(visited) - 1, 0)
    return OrderCheck(moves, sum(1 for a, b in pairwise(visited) if b < a))
