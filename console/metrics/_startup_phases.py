"""Why a cold start was slow: its phases, read from the service's own log lines.

A warm-up measures one number (request sent -> first OCR answer). The service's log says
where that time went. These are the marks, matched on the messages vLLM 0.11.2 and our local
server actually print (vLLM's format is `LEVEL MM-DD HH:MM:SS [file.py:line] message`; on
Cloud Run the entry's own timestamp is used, never the text's), plus Cloud Run's system line
for a new instance and the warm-up's own probes:

| mark              | where it comes from                                                   |
| ----------------- | --------------------------------------------------------------------- |
| sent              | the warm-up's first request                                           |
| instance          | Cloud Run "Starting new instance" (else the instance's first line)    |
| process           | vLLM "vLLM API server version" / uvicorn "Started server process"     |
| weights_start     | vLLM "Starting to load model"                                         |
| weights_loaded    | vLLM "Model loading took"                                             |
| graphs_captured   | vLLM "Graph capturing finished"                                       |
| engine_ready      | vLLM "init engine (profile, create kv cache, warmup model) took" /    |
|                   | local "engine ready in"                                               |
| listening         | vLLM "Starting vLLM API server" / uvicorn "Uvicorn running on"        |
| model_listed      | the warm-up saw /v1/models list the model                             |
| answered          | the warm-up's first OCR answer                                        |

A phase runs from one mark found to the next mark found, so a log that lacks a line (another
vLLM, a local engine with no CUDA graphs) gives fewer, longer phases, never a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

MARKS: tuple[str, ...] = (
    "sent",
    "instance",
    "process",
    "weights_start",
    "weights_loaded",
    "graphs_captured",
    "engine_ready",
    "listening",
    "model_listed",
    "answered",
)

# What the time between a mark and the one before it is called.
PHASE_NAMES: dict[str, str] = {
    "instance": "instance scheduled",
    "process": "container start",
    "weights_start": "engine setup",
    "weights_loaded": "weights loaded",
    "graphs_captured": "compile + CUDA graphs",
    "engine_ready": "KV cache + warm-up",
    "listening": "API server start",
    "model_listed": "first health check",
    "answered": "first OCR answer",
}

_LINE_MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("instance", re.compile(r"Starting new instance")),
    ("process", re.compile(r"vLLM API server version|Started server process")),
    ("weights_start", re.compile(r"Starting to load model")),
    ("weights_loaded", re.compile(r"Model loading took")),
    ("graphs_captured", re.compile(r"Graph capturing finished")),
    ("engine_ready", re.compile(r"init engine \(profile, create kv cache|engine ready in")),
    ("listening", re.compile(r"Starting vLLM API server \d+ on|Uvicorn running on")),
)


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def marks_from_log(
    entries: Iterable[tuple[datetime, str]], *, since: datetime, until: datetime
) -> dict[str, datetime]:
    """The first time each mark's line appears in [since, until] (a new instance's lines)."""
    found: dict[str, datetime] = {}
    first_line: datetime | None = None
    for timestamp, message in sorted(entries, key=lambda entry: entry[0]):
        if not since <= timestamp <= until:
            continue
        first_line = first_line or timestamp
        for mark, pattern in _LINE_MARKS:
            if mark not in found and pattern.search(message):
                found[mark] = timestamp
    if "instance" not in found and first_line is not None:
        found["instance"] = first_line
    return found


def phases(marks: dict[str, datetime]) -> list[Phase]:
    """Consecutive phases between the marks found, in the order the service goes through them.

    A mark earlier than the one before it (clock skew between the instance and the console)
    is dropped rather than drawn as a negative bar.
    """
    ordered: list[tuple[str, datetime]] = []
    for mark in MARKS:
        when = marks.get(mark)
        if when is not None and (not ordered or when >= ordered[-1][1]):
            ordered.append((mark, when))
    return [
        Phase(PHASE_NAMES[mark], start, end)
        for (_previous, start), (mark, end) in pairwise(ordered)
    ]


def phase_table(history: Sequence[list[Phase]]) -> list[dict[str, float]]:
    """Seconds per phase name for each warm-up, for a stacked chart over the last N."""
    return [{phase.name: phase.seconds for phase in warm_up} for warm_up in history]


__all__ = ["MARKS", "PHASE_NAMES", "Phase", "marks_from_log", "phase_table", "phases"]
