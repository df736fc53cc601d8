"""What the canary gate refuses before anything is contacted (issue 36, item 2).

A gate that could be opened by its input is no gate: an unset `$SET` (`--canary ""`), a margin
of nan, inf, 5 or -1 (the judge's `cer > before + margin` is never true for those), a set that
does not exist or has never been measured, or no image to name the candidate by would each
turn a quality-gated rollout into a plain one, or into nonsense. Each is refused here, with
what to do, before Cloud Run is asked anything (the CLI's `--dry-run` too). A missing image
is refused by deploy's `candidate_tag`.
"""

from __future__ import annotations

import math

from console.golden._models import GoldenDocument, GoldenSetError
from console.golden._store import GoldenStore
from deploy import InvalidSpec


class CanaryRefused(InvalidSpec):
    """The gate cannot judge with this input; nothing was contacted."""


def check_margin(margin: float) -> float:
    """An absolute CER rise in [0, 1): nan and inf compare false, 1 or more passes anything."""
    if not (math.isfinite(margin) and 0 <= margin < 1):
        raise CanaryRefused(
            f"--margin {margin} cannot gate anything: it is the CER rise allowed per document, "
            "a number from 0 up to (not including) 1, such as 0.02."
        )
    return margin


def check_set_name(name: str) -> str:
    if not name.strip():
        raise CanaryRefused(
            "--canary names no golden set (an unset variable?): a canary without a set would "
            "be an ungated apply. Name a registered set (python -m console.golden list)."
        )
    return name.strip()


def check_gate_input(golden: GoldenStore, name: str, margin: float) -> list[GoldenDocument]:
    """The set's documents, once the set exists, has documents and a complete measured run
    (the baseline is then the newest such run of the serving revision); else CanaryRefused."""
    name = check_set_name(name)
    check_margin(margin)
    try:
        found = golden.get(name)
    except GoldenSetError as error:
        raise CanaryRefused(f"{error}; a canary is gated by a registered set.") from None
    documents = golden.documents(found.id)
    if not documents:
        raise CanaryRefused(f"golden set {name!r} has no documents: nothing to judge with.")
    if not any(run.scored and not run.incomplete for run in golden.runs(name)):
        raise CanaryRefused(
            f"golden set {name!r} has no complete run to compare with: run "
            f"`python -m console.golden run {name}` against the serving revision first."
        )
    return documents


__all__ = ["CanaryRefused", "check_gate_input", "check_margin", "check_set_name"]
