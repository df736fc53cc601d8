"""The job runner: one per console process, a thread with its own asyncio loop.

Jobs run here, not in a Streamlit script run, so navigating, reloading, closing the tab or
opening a second one neither stops nor restarts them. Each finished page is written to the
store at once, so a runner that dies loses only the pages in flight, and the next one (this
console restarted, or `python -m console.jobs run`) sends exactly those again.

Fair lanes: at most `MAX_RUNNING_JOBS` run at once (the rest wait their turn, and cancel at
once); each has its own window of pages rendered ahead, so a job whose pages are slow to
render holds only its own; a job's documents take turns page by page; and the sandbox gives
each document its fair share of the render workers (ocr_core/_lanes.py), quarantining one
that keeps breaching the limits. All jobs' requests share the client's slots.

Cancelling a job (the Cancel button or `python -m console.jobs cancel`, both through the
store, polled here) cancels its asyncio tasks: queued pages are dropped, renders leave their
lane, httpx closes the requests in flight so the server frees their slots. Passwords of
encrypted PDFs are kept in memory only. Clients: `_clients.py`; words: `_locating.py`."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from console._store import Store, StoreError
from console.jobs._clients import Clients, revision_or_none
from console.jobs._crashes import fail_pages_that_stopped_workers
from console.jobs._in_flight import PageInFlight, write_in_flight
from console.jobs._ledger import new_owner
from console.jobs._locating import PageLocator
from console.jobs._models import Job, JobDocument, JobStatus
from console.jobs._opening import DocumentOpener
from console.jobs._pages import read_page, round_robin
from console.jobs._passwords import give_password
from console.jobs._rows import now_ts
from console.jobs._shared_ledger import ledger_for
from console.jobs._store import JobStore
from console.jobs._turns import document_turns
from console.jobs._words import WordsStore
from ocr_core import Document, OCRClient, Sampling
from ocr_core._pages import pages_ahead

logger = logging.getLogger(__name__)

POLL_S = 0.5
# Jobs run at once; more wait queued (each running job holds its documents open and its
# window of rendered pages, so this bounds the runner's memory).
MAX_RUNNING_JOBS = 8
T = TypeVar("T")


@dataclass
class _Run:
    task: asyncio.Task[None]
    # Why the run is being cancelled: the user asked, or this runner is stopping.
    stopping: bool = False
    documents: list[Document] = field(default_factory=list)
    # Pages of this job rendered ahead of the client's slots (set when the job starts).
    window: asyncio.Semaphore | None = None


class JobRunner:
    """Claims jobs from the store and runs them until done, cancelled or the runner stops.

    `client_factory` builds the one OCRClient (called on the runner's loop); `revision`
    names what serves the pages (Cloud Run revision, local pid), asked once per run;
    `ready` says whether the service takes pages now (no job is claimed while it does not).
    """

    def __init__(
        self,
        store: Store,
        client_factory: Callable[[], OCRClient],
        *,
        revision: Callable[[], str | None] | None = None,
        poll_s: float = POLL_S,
        owner: str | None = None,
        ready: Callable[[], bool] | None = None,
        only: set[int] | None = None,
    ) -> None:
        self.jobs = JobStore(store)
        self.ledger = ledger_for(store, only=only)  # shared jobs on PostgreSQL
        self.owner = owner or new_owner()
        self._client_factory = client_factory
        self._revision = revision or (lambda: None)
        self._poll_s = poll_s
        self._ready = ready or (lambda: True)
        self._runs: dict[int, _Run] = {}
        # Pages sent and not answered yet, per job, and what was last written of them.
        self._in_flight: dict[int, dict[tuple[int, int], PageInFlight]] = {}
        self._written: dict[int, list[PageInFlight]] = {}
        # Why a job (or, under key 0, the runner) could not write to the store.
        self.problems: dict[int, str] = {}
        # Runs that ended while the store was away: released again once it answers, or the
        # job would stay "running" under this live runner and never be claimed again.
        self._unreleased: dict[int, tuple[JobStatus, str | None]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="ocr-job-runner", daemon=True)
        self._started = threading.Event()
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._store_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job-store")
        self.locator = PageLocator(WordsStore(store), self._in_store)
        self._opener = DocumentOpener(self.jobs, self.ledger, self._in_store)

    def __repr__(self) -> str:
        return f"JobRunner(owner={self.owner!r}, running={sorted(self._runs)})"

    # --- the outside (any thread) --------------------------------------------------------------

    def start(self) -> JobRunner:
        self._thread.start()
        self._started.wait(timeout=30)
        # A console stopped with Ctrl-C or SIGTERM hands its jobs back to the queue.
        atexit.register(self.stop, 5.0)
        return self

    def wake(self) -> None:
        """Look at the store now (a job was created, cancelled or retried)."""
        if self._wake is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    def take(self, job_id: int) -> None:
        """Claim this job, even when limited to `only` (JobLedger's), and look now."""
        self.ledger.allow(job_id)
        self.wake()

    def give_password(self, document_id: int, password: str) -> None:
        give_password(self.jobs.store, document_id, password)
        self.jobs.reopen_document(document_id)
        self.wake()

    def running(self) -> list[int]:
        return sorted(self._runs)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work; jobs in progress go back to the queue for the next runner."""
        self._stopping = True
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        atexit.unregister(self.stop)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- the loop ------------------------------------------------------------------------------

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()
            self._store_threads.shutdown(wait=False)

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        try:
            self._client = self._client_factory()
        except Exception as error:  # say why in the page instead of leaving jobs queued silently
            self.problems[0] = f"job runner cannot start: {type(error).__name__}: {error}"
            self._started.set()
            raise
        self._clients = Clients(self._client)
        # Words follow the text at their own pace, for jobs running or done (`_locating.py`).
        reopen = functools.partial(self._opener.reopen, client_for=self._clients.for_service)
        self._locating = asyncio.create_task(self.locator.run(reopen, self._runs.__contains__))
        self._started.set()
        try:
            while not self._stopping:
                await self._look()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)
                self._wake.clear()
        except RuntimeError:  # the interpreter is exiting: no more worker threads
            logger.info("job runner stopping with the interpreter")
        finally:
            await self._hand_back()
            await self._clients.aclose()
            self.locator.close()  # may wait for a page being located: after the hand-back

    async def _hand_back(self) -> None:
        """Jobs back to the queue first, before anything slow: Cloud Run kills an instance
        about 10 s after SIGTERM, and a job left `running` waits 15 s for its heartbeat to go
        stale before another runner may take it."""
        self._locating.cancel()  # a page being located is located again by the next runner
        for run in self._runs.values():
            run.stopping = True
            run.task.cancel()
        rest = asyncio.all_tasks() - {asyncio.current_task()}  # also jobs still releasing
        await asyncio.gather(*rest, return_exceptions=True)
        # Directly, not in a worker thread: at interpreter exit there are none left.
        with contextlib.suppress(StoreError):
            handed = self.ledger.release_all(self.owner)
            logger.info("jobs handed back", extra={"owner": self.owner, "left": handed})

    async def _look(self) -> None:
        """Heartbeat, cancel what was asked to stop, claim what waits."""
        try:
            for job_id, (status, error) in list(self._unreleased.items()):
                await self._in_store(self.ledger.release, job_id, self.owner, status, error)
                del self._unreleased[job_id]
            for job_id in await self._in_store(self.ledger.heartbeat, self.owner, list(self._runs)):
                if job_id in self._runs:
                    self._runs[job_id].task.cancel()
            held = await self._in_store(self.ledger.held, self.owner)
            for job_id, run in list(self._runs.items()):
                if job_id not in held:  # another runner took it while this one was silent
                    run.stopping = True
                    run.task.cancel()
            waiting = await self._in_store(self.ledger.claimable, self.owner)
            if waiting and not await asyncio.to_thread(self._ready):
                waiting = []  # the service is loading: its jobs wait for it, not fail on it
            for job_id, previous in waiting:
                if job_id in self._runs:
                    continue
                if len(self._runs) >= MAX_RUNNING_JOBS:
                    break
                if await self._in_store(self.ledger.claim, job_id, self.owner, previous):
                    logger.info("job claimed", extra={"job": job_id, "from": previous or ""})
                    if previous is not None:  # its runner died: what was it reading?
                        await self._in_store(fail_pages_that_stopped_workers, self.ledger, job_id)
                    task = asyncio.create_task(self._run_job(job_id), name=f"job-{job_id}")
                    self._runs[job_id] = _Run(task)
            await self._write_in_flight()
            self.problems.pop(0, None)
        except StoreError as error:
            self.problems[0] = str(error)
        except RuntimeError:  # the interpreter is exiting (no threads left): `_main` ends
            raise
        except Exception as error:  # the runner must outlive any one bad look at the store
            logger.warning("job runner: %s", error, exc_info=True)
            self.problems[0] = f"job runner: {type(error).__name__}: {error}"

    async def _write_in_flight(self) -> None:
        """Each running job's pages in flight, to the store when they changed."""
        for job_id in list(self._runs):
            pages = sorted(self._in_flight.get(job_id, {}).values(), key=lambda p: p.since)
            if pages != self._written.get(job_id, []):
                await self._in_store(write_in_flight, self.jobs.store, job_id, pages)
                self._written[job_id] = pages

    async def _run_job(self, job_id: int) -> None:
        run = self._runs[job_id]
        status, error = JobStatus.QUEUED, None
        try:
            status = await self._passes(job_id, run)
        except asyncio.CancelledError:
            status = JobStatus.QUEUED if run.stopping else JobStatus.CANCELLED
        except StoreError as failure:
            error = f"stopped: {failure}; resume the job once the store is writable"
            self.problems[job_id] = error
            status = JobStatus.FAILED
        except Exception as failure:  # a fault of ours: the job ends saying so, never hangs
            logger.exception("job %d stopped by an unexpected error", job_id)
            error, status = f"stopped: {type(failure).__name__}: {failure}", JobStatus.FAILED
        finally:
            for document in run.documents:
                document.close()  # a file removed: quick, and never queued behind page work
            self._runs.pop(job_id, None)
            self._in_flight.pop(job_id, None)
            if self._written.pop(job_id, None):
                with contextlib.suppress(StoreError, RuntimeError):
                    await self._in_store(write_in_flight, self.jobs.store, job_id, [])
        try:
            await self._in_store(self.ledger.release, job_id, self.owner, status, error)
            logger.info("job released", extra={"job": job_id, "status": status.value})
        except StoreError as failure:
            self.problems[job_id] = str(failure)
            self._unreleased[job_id] = (status, error)
        except RuntimeError:  # interpreter exit: `_main` hands the job back directly
            pass

    async def _passes(self, job_id: int, run: _Run) -> JobStatus:
        revision = await asyncio.to_thread(revision_or_none, self._revision)
        job = await self._in_store(self.jobs.job, job_id)
        assert job is not None
        if self._clients.for_service(job.service_url) is not self._client:
            revision = job.revision  # what the platform runs is not what serves this job
        try:
            # More passes only when pages were marked for retry while one ran.
            while await self._run_pass(job, revision, run):
                pass
        except* Exception as group:  # the first, out of the task groups it sits in
            first: BaseException = group
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from None
        return await self._in_store(self.jobs.outcome, job_id)

    async def _in_store(self, call: Callable[..., T], *args: Any) -> T:
        """Store calls run on their own threads, never queued behind page rendering, so a
        heartbeat or a cancel is seen at once however busy the pages keep the CPU."""
        return await self._loop.run_in_executor(self._store_threads, call, *args)

    async def _run_pass(self, job: Job, revision: str | None, run: _Run) -> int:
        """Send every page of the job that has no result (or is marked for retry); their
        words, if asked, are the locator's, after (`_locating.py`). Documents are opened
        OPEN_DOCUMENTS at a time (each open one is a copy on the temporary disk, in memory on
        Cloud Run) and take turns page by page; each is closed once its pages are done."""
        sent = 0
        turns = document_turns(self.jobs, self.ledger, self._in_store, job.id, self.owner)
        async for group in turns:
            try:
                sent += await self._run_group(job, revision, run, group)
            finally:
                for document in run.documents:
                    document.close()
                run.documents.clear()
        return sent

    async def _run_group(
        self, job: Job, revision: str | None, run: _Run, entries: list[JobDocument]
    ) -> int:
        client = self._clients.for_service(job.service_url)
        queues = []
        for entry in entries:
            document = await self._opener.open(entry, client)
            if document is None:
                continue
            run.documents.append(document)
            todo = await self._in_store(self.ledger.pages_to_send, entry.id, document.page_count)
            chosen = await self._in_store(self.ledger.sampling_to_send, entry.id)
            queues.append([(entry.id, document, index, chosen.get(index)) for index in todo])
        if run.window is None:  # enough to keep the slots busy with this job alone (opening
            slots = client.capacity  # a document has learnt the server's stated capacity)
            run.window = asyncio.Semaphore(pages_ahead(slots))
        return await self._pages(job, revision, run.window, queues)

    async def _pages(self, job: Job, revision: str | None, window: Any, queues: list[Any]) -> int:
        pages = list(round_robin(queues))
        async with asyncio.TaskGroup() as group:
            for document_id, document, index, sampling in pages:
                await window.acquire()
                group.create_task(
                    self._page(job, document_id, document, index, revision, sampling, window)
                )
        return len(pages)

    async def _page(
        self,
        job: Job,
        document_id: int,
        document: Document,
        index: int,
        revision: str | None,
        sampling: Sampling | None,
        window: asyncio.Semaphore,
    ) -> None:
        flying = self._in_flight.setdefault(job.id, {})
        flying[(document_id, index)] = PageInFlight(document_id, index, time.time(), 0)

        def on_attempt(attempt: int, why: str | None) -> None:
            first = flying.get((document_id, index))
            since = first.since if first is not None else time.time()
            flying[(document_id, index)] = PageInFlight(document_id, index, since, attempt, why)

        try:
            started = now_ts()
            result = await read_page(
                self._clients.for_service(job.service_url),
                document,
                index,
                use_text_layer=job.use_text_layer,
                sampling=sampling,
                on_attempt=on_attempt,
            )
            save = functools.partial(
                self.ledger.save_page,
                job.id,
                document_id,
                result,
                request_id=result.request_id,
                revision=revision,
                started_at=started,
                sampling=sampling,
            )
            await self._in_store(save)
            if job.locate_words:
                self.locator.wake()
        finally:
            flying.pop((document_id, index), None)
            window.release()
