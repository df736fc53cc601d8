"""Golden sets: documents with their expected text, scored per service revision.

Register a folder or zip once (`register`/`load_folder`/`load_zip`), run it as a job on the
current service (`start_run`, then `finish_run` once the job is done), and read the history
(`GoldenStore.runs`). A document whose CER rose by more than the margin against the previous
run is a regression; `python -m console.golden run NAME` exits non-zero on one.
"""

from console.golden._models import (
    DEFAULT_MARGIN,
    DocumentScore,
    GoldenDocument,
    GoldenRun,
    GoldenSet,
    GoldenSetError,
    LoadedSet,
    UnsafeArchive,
)
from console.golden._report import (
    chart_frame,
    register_upload,
    run_label,
    runs_frame,
    score_finished,
    scores_frame,
    settings_changes,
    update_upload,
)
from console.golden._runs import (
    GOLDEN_PURPOSE,
    finish_run,
    start_run,
    text_settings,
    wait_for_run,
)
from console.golden._scoring import flag_regressions, score_job
from console.golden._sources import MAX_ENTRIES, MAX_TOTAL_BYTES, load_folder, load_zip
from console.golden._store import GoldenStore

__all__ = [
    "DEFAULT_MARGIN",
    "GOLDEN_PURPOSE",
    "MAX_ENTRIES",
    "MAX_TOTAL_BYTES",
    "DocumentScore",
    "GoldenDocument",
    "GoldenRun",
    "GoldenSet",
    "GoldenSetError",
    "GoldenStore",
    "LoadedSet",
    "UnsafeArchive",
    "chart_frame",
    "finish_run",
    "flag_regressions",
    "load_folder",
    "load_zip",
    "register_upload",
    "run_label",
    "runs_frame",
    "score_finished",
    "score_job",
    "scores_frame",
    "settings_changes",
    "start_run",
    "text_settings",
    "update_upload",
    "wait_for_run",
]
