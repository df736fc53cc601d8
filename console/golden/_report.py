"""What the Quality page draws: registration from an upload, pending runs scored, and the
runs as tables and a chart (one line per document, CER by run and revision)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pandas as pd

from console.golden._models import GoldenRun, GoldenSet, GoldenSetError
from console.golden._runs import finish_run
from console.golden._sources import load_zip
from console.golden._store import GoldenStore
from console.jobs import JobStore


def register_upload(
    golden: GoldenStore, name: str, filename: str, data: bytes, *, actor: str
) -> tuple[GoldenSet, list[str]]:
    """Register an uploaded zip; returns the set and a sentence per file left out."""
    if not filename.lower().endswith(".zip"):
        raise GoldenSetError(f"{filename} is not a .zip of documents and their texts")
    loaded = load_zip(data)
    registered = golden.register(name, loaded.documents, actor=actor, source=f"upload {filename}")
    return registered, loaded.problems


def update_upload(
    golden: GoldenStore, name: str, filename: str, data: bytes, *, actor: str
) -> tuple[GoldenSet, list[str]]:
    """Replace a set's contents with an uploaded zip; returns the set and what was left out."""
    if not filename.lower().endswith(".zip"):
        raise GoldenSetError(f"{filename} is not a .zip of documents and their texts")
    loaded = load_zip(data)
    updated = golden.update(name, loaded.documents, actor=actor, source=f"upload {filename}")
    return updated, loaded.problems


def score_finished(golden: GoldenStore, jobs: JobStore, name: str) -> list[GoldenRun]:
    """Score every run of the set whose job has ended; returns the runs, newest first."""
    for run in golden.runs(name):
        if not run.scored:
            finish_run(golden, jobs, run.id)
    return golden.runs(name)


def run_label(run: GoldenRun) -> str:
    return f"#{run.id} {run.revision or 'revision ?'}"


def _state(run: GoldenRun) -> str:
    if not run.scored:
        return "running"
    return "incomplete" if run.incomplete else "complete"


def settings_changes(runs: Sequence[GoldenRun]) -> dict[int, list[str]]:
    """Each run's changes from the run before it (`runs` newest first, as the store gives
    them): what shaped its text differently. The oldest run has none to compare with."""
    ordered = sorted(runs, key=lambda run: run.id)
    return {later.id: later.changes_from(earlier) for earlier, later in pairwise(ordered)}


RUN_COLUMNS = [
    "run",
    "started",
    "revision",
    "service",
    "by",
    "state",
    "pages read",
    "mean CER",
    "regressions",
    "changed since the run before",
    "error",
]


def runs_frame(runs: Sequence[GoldenRun]) -> pd.DataFrame:
    """One row per run: when, which revision, mean CER, how many regressions, and what
    shaped its text differently from the run before."""
    changes = settings_changes(runs)
    return pd.DataFrame(
        [
            {
                "run": run.id,
                "started": run.started_at,
                "revision": run.revision or "",
                "service": run.service_url,
                "by": run.actor,
                "state": _state(run),
                "pages read": "{} / {}".format(*run.pages_read) if run.scored else "",
                "mean CER": run.mean_cer,
                "regressions": len(run.regressions),
                "changed since the run before": "; ".join(changes.get(run.id, [])),
                "error": run.error or "",
            }
            for run in runs
        ],
        columns=RUN_COLUMNS,
    )


SCORE_COLUMNS = [
    "run",
    "revision",
    "document",
    "CER",
    "WER",
    "order-free CER",
    "word precision",
    "word recall",
    "note",
    "previous CER",
    "regression",
    "pages failed",
    "error",
]


def scores_frame(runs: Sequence[GoldenRun]) -> pd.DataFrame:
    """One row per document per scored run, regressions flagged, and "mostly reading order"
    where the CER is mostly the order the words were read in."""
    return pd.DataFrame(
        [
            {
                "run": run.id,
                "revision": run.revision or "",
                "document": score.filename,
                "CER": score.cer,
                "WER": score.wer,
                "order-free CER": score.order_free_cer,
                "word precision": score.word_precision,
                "word recall": score.word_recall,
                "note": "mostly reading order" if score.mostly_reading_order else "",
                "previous CER": score.previous_cer,
                "regression": "REGRESSION" if score.regression else "",
                "pages failed": score.pages_failed,
                "error": score.error or "",
            }
            for run in runs
            for score in run.scores
        ],
        columns=SCORE_COLUMNS,
    )


def chart_frame(runs: Sequence[GoldenRun]) -> pd.DataFrame:
    """CER by run (oldest first, labelled with the revision), one column per document."""
    rows = [
        {"run": run_label(run), "document": score.filename, "CER": score.cer}
        for run in sorted(runs, key=lambda r: r.id)
        if run.scored
        for score in run.scores
        if score.cer is not None
    ]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    order = list(dict.fromkeys(frame["run"]))
    table = frame.pivot_table(index="run", columns="document", values="CER", aggfunc="first")
    return table.reindex(order)
