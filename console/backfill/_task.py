"""One backfill task: the documents of its shards, each read by the OCR service and its
outputs written beside the input's name under DEST, once.

A task is what Cloud Run Jobs runs (`CLOUD_RUN_TASK_INDEX` of `CLOUD_RUN_TASK_COUNT`, with
`CLOUD_RUN_TASK_ATTEMPT` on a retry) and what `--local-tasks N` starts as N processes. It
skips a document whose `.json` exists (the last output written: a retried task, or a re-run
of the backfill, does only what is left), writes every output with `write_once`, and records
a document that failed, or whose pages failed, under `_backfill/<id>/failures/` with the
typed reason. Its counts go to `_backfill/<id>/tasks/task-<i>.json` as it works.

SIGTERM (Cloud Run stopping the task), SIGTSTP (its maintenance signal) and the backfill's
cancel marker (`_control.py`, read before each document) stop it taking documents; those in
flight get a short grace, then are abandoned (nothing of them is written); it exits 1 so that
the retry resumes where it stopped (0 when cancelled: there is nothing to resume). A retry's
manifest (`retry_of`) reads its documents again and replaces their outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import posixpath
import signal
import time
from dataclasses import asdict, dataclass, field

from console import _exports
from console.backfill._locations import AlreadyWritten, Listed, Location
from console.backfill._manifest import Manifest, cancel_requested, failure_name, output_name
from ocr_core import DocumentResult, OCRClient, OCRError

STOP_SIGNALS = (signal.SIGTERM, signal.SIGTSTP)
CANCELLED = "cancelled"  # why a task stopped when its backfill was cancelled (`_control`)
GRACE_S = 5.0
PROGRESS_EVERY_S = 5.0
RECENT_WRITES = 24  # two minutes of progress writes
DOCUMENTS_AT_ONCE = 4
RENDERERS = {"md": _exports.to_markdown, "txt": _exports.to_text, "json": _exports.to_json}


@dataclass
class TaskProgress:
    index: int
    count: int
    attempt: int
    documents: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    pages_failed: int = 0
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    finished: bool = False
    stopped: str | None = None
    # [time, pages] at the task's last writes (RECENT_WRITES of them): its pace now.
    recent: list[list[float]] = field(default_factory=list)


def task_position(env: dict[str, str] | None = None) -> tuple[int, int, int]:
    """(index, count, attempt) as Cloud Run Jobs sets them; a lone task is 0 of 1."""
    env = dict(os.environ) if env is None else env
    return (
        int(env.get("CLOUD_RUN_TASK_INDEX", "0")),
        int(env.get("CLOUD_RUN_TASK_COUNT", "1")),
        int(env.get("CLOUD_RUN_TASK_ATTEMPT", "0")),
    )


def _failure(entry: Listed, error: Exception | None, result: DocumentResult | None) -> bytes:
    record: dict[str, object] = {"document": entry.name, "generation": entry.generation}
    if error is not None:
        record["error"] = {"type": type(error).__name__, "message": str(error)}
    if result is not None:
        record["failed_pages"] = [
            {"page": p.index + 1, "type": type(p.error).__name__, "message": str(p.error)}
            for p in result.pages
            if p.error is not None
        ]
    return (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode()


class Task:
    def __init__(
        self,
        manifest: Manifest,
        source: Location,
        dest: Location,
        client: OCRClient,
        *,
        index: int,
        count: int,
        attempt: int = 0,
    ) -> None:
        self.manifest = manifest
        self.source = source
        self.dest = dest
        self.client = client
        self.mine = list(manifest.for_task(index, count))
        self.progress = TaskProgress(index, count, attempt, len(self.mine))
        self.stopping = asyncio.Event()
        self._written_at = 0.0

    def stop(self, why: str) -> None:
        self.progress.stopped = why
        self.stopping.set()

    async def run(self) -> bool:
        """True when every document of the task was done, skipped or recorded as failed."""
        slots = asyncio.Semaphore(DOCUMENTS_AT_ONCE)
        pending: set[asyncio.Task[None]] = set()
        for entry in self.mine:
            await slots.acquire()
            if not self.stopping.is_set() and await asyncio.to_thread(
                cancel_requested, self.dest, self.manifest.backfill_id
            ):
                self.stop(CANCELLED)
            if self.stopping.is_set():
                slots.release()
                break
            job = asyncio.create_task(self._document(entry))
            pending.add(job)
            job.add_done_callback(lambda done: (pending.discard(done), slots.release()))
        await self._drain(pending)
        self.progress.finished = not self.stopping.is_set()
        self._write_progress(force=True)
        return self.progress.finished

    async def _drain(self, pending: set[asyncio.Task[None]]) -> None:
        """Until the documents in flight are done; once stopping, a grace, then abandon."""
        stop_wait = asyncio.create_task(self.stopping.wait())
        try:
            while pending and not self.stopping.is_set():
                await asyncio.wait([*pending, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            if pending:
                _done, late = await asyncio.wait(set(pending), timeout=GRACE_S)
                for job in late:
                    job.cancel()  # abandoned: nothing of it was written
                await asyncio.gather(*late, return_exceptions=True)
        finally:
            stop_wait.cancel()

    async def _document(self, entry: Listed) -> None:
        done_marker = output_name(entry.name, "json")
        retrying = self.manifest.retry_of is not None  # its outputs are to be replaced
        if not retrying and await asyncio.to_thread(self.dest.exists, done_marker):
            self.progress.skipped += 1
            self._write_progress()
            return
        filename = posixpath.basename(entry.name)
        try:
            data = await asyncio.to_thread(self.source.read, entry.name, entry.generation)
            result = await self.client.ocr_document(data, filename=filename)
        except (OCRError, OSError) as error:  # a bad document, or one gone or changed
            await asyncio.to_thread(
                self.dest.write,
                failure_name(self.manifest, entry.name),
                _failure(entry, error, None),
            )
            self.progress.failed += 1
            self._write_progress()
            return
        await asyncio.to_thread(self._write_outputs, entry, result)

    def _write_outputs(self, entry: Listed, result: DocumentResult) -> None:
        write = self.dest.write if self.manifest.retry_of else self.dest.write_once
        for fmt in self.manifest.formats:  # json last: its presence says "done"
            rendered = RENDERERS[fmt](result)
            try:
                write(output_name(entry.name, fmt), rendered.encode())
            except AlreadyWritten:
                if fmt == "json":  # another attempt finished it: its outputs stand
                    self.progress.skipped += 1
                    self._write_progress()
                    return
                # An attempt killed after this file and before the json: the file stands
                # (the same document read), and the json that says "done" is still owed.
        failed_pages = sum(1 for p in result.pages if not p.ok)
        if failed_pages:
            self.dest.write(failure_name(self.manifest, entry.name), _failure(entry, None, result))
        self.progress.done += 1
        self.progress.pages += result.page_count
        self.progress.pages_failed += failed_pages
        self._write_progress()

    def _write_progress(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._written_at < PROGRESS_EVERY_S:
            return
        self._written_at = now
        self.progress.updated_at = now
        self.progress.recent = [*self.progress.recent, [now, self.progress.pages]][-RECENT_WRITES:]
        name = f"{self.manifest.folder}/tasks/task-{self.progress.index}.json"
        with contextlib.suppress(OSError):
            self.dest.write(name, json.dumps(asdict(self.progress)).encode())


async def run_task(task: Task) -> int:
    """Run with the stop signals handled; the process's exit code."""
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, task.stop, signal.Signals(signum).name)
    try:
        finished = await task.run()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return 0 if finished or task.progress.stopped == CANCELLED else 1
