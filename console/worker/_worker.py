"""The worker: job runner, keep-warm reconciler, samplers, cold-start re-reads and job
retention (hourly), as one unit that starts and stops together.

Several workers may run against one PostgreSQL store (several console instances): the job
ledger's claims and the keep-warm compare-and-delete keep every page sent once and every
revert applied once. A worker that is stopped (SIGTERM, Ctrl-C) hands its jobs back to the
queue; one that is killed leaves them to the next worker once its heartbeat goes stale.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime

from console._recurring import RecurringProblem
from console.jobs import JobRunner
from console.runtime import Runtime
from console.service._keep_warm import KeepWarmTimer
from console.service._workers import WorkerBeat, remove_beat, snapshot_fields, write_beat

logger = logging.getLogger("console.worker")

_NEVER = datetime.min.replace(tzinfo=UTC)  # not looked yet
_EPOCH = datetime.fromtimestamp(0, UTC)  # looked: no warm-up at all
BEAT_S = 2.0
KEEP_WARM_S = 2.0
REREAD_S = 60.0
# Finished jobs past their retention (and their documents' objects) are deleted this often,
# first at start: a console that runs for weeks must not keep a month-old job until restart.
RETENTION_S = 3600.0


class Worker:
    """The background duties of one console (`runtime`: its store, platform and door)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        poll_s: float = 0.5,
        keep_warm_s: float = KEEP_WARM_S,
        beat_s: float = BEAT_S,
        reread_s: float = REREAD_S,
        retention_s: float = RETENTION_S,
    ) -> None:
        self.runtime = runtime
        self.operations = runtime.operations
        self._poll_s = poll_s
        self._keep_warm_s = keep_warm_s
        self._beat_s = beat_s
        self._reread_s = reread_s
        self._retention_s = retention_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_loop, name="worker-beat", daemon=True)
        self._canaries = threading.Thread(target=self._canary_loop, name="canaries", daemon=True)
        self.runner: JobRunner | None = None
        self._timer: KeepWarmTimer | None = None
        self._started_at = time.time()
        self._last_warm_up = _NEVER

    @property
    def owner(self) -> str:
        assert self.runner is not None, "start() first"
        return self.runner.owner

    def start(self) -> Worker:
        operations = self.operations
        self.runner = self.runtime.runner(poll_s=self._poll_s).start()
        self._timer = KeepWarmTimer(
            self._apply_due_keep_warm,
            interval_s=self._keep_warm_s,
            wake=operations.keep_warm.scheduled,
        ).start()
        operations.start_vllm_sampler()
        self._write_beat()
        self._thread.start()
        if operations.platform.name == "cloudrun":  # the only platform with revisions to gate
            self._canaries.start()
        logger.info("worker started", extra={"owner": self.owner, "platform": self._platform()})
        return self

    def _platform(self) -> str:
        return f"{self.operations.platform.name} {self.operations.platform.service_url}"

    def _apply_due_keep_warm(self) -> None:
        result = self.operations.apply_due_keep_warm()
        if result is not None:
            logger.info("keep-warm revert", extra={"ok": result.ok, "detail": result.message})

    def _write_beat(self) -> None:
        assert self.runner is not None
        beat = WorkerBeat(
            owner=self.runner.owner,
            pid=os.getpid(),
            host=os.uname().nodename,
            beat_at=time.time(),
            started_at=self._started_at,
            problems={str(k): v for k, v in self.runner.problems.items()},
            breaker=snapshot_fields(self.operations.breaker.snapshot()),
        )
        write_beat(self.operations.store, beat)

    def _close_breaker_after_warm_up(self) -> None:
        """A warm-up (made in the UI's process) that found the service ready closes this
        worker's breaker too, so "Retry failed pages" works right after it."""
        history = self.operations.warm_up_history(limit=1)
        if history and history[0].ready and history[0].at > self._last_warm_up:
            if self._last_warm_up != _NEVER:
                self.operations.breaker.reset()
                logger.info("breaker closed by a warm-up", extra={"at": str(history[0].at)})
            self._last_warm_up = history[0].at
        elif self._last_warm_up == _NEVER:
            self._last_warm_up = history[0].at if history else _EPOCH

    def _apply_retention(self) -> None:
        assert self.runner is not None
        try:
            removed = self.runner.jobs.tidy()
        except Exception as error:  # the store is away: next time
            logger.warning("retention not applied", extra={"error": str(error)})
        else:
            if any(removed.values()):
                logger.info("retention applied", extra={"removed": removed})

    def _beat_loop(self) -> None:
        next_reread = time.monotonic() + self._reread_s
        beat = RecurringProblem(logger, "writing the worker's beat")
        next_retention = time.monotonic()
        while not self._stop.wait(self._beat_s):
            if time.monotonic() >= next_retention:
                next_retention = time.monotonic() + self._retention_s
                self._apply_retention()
            try:
                self._close_breaker_after_warm_up()
                self._write_beat()
            except Exception as error:  # the store is away: the runner says so too
                beat.failed(error)
            else:
                beat.succeeded()
            if time.monotonic() >= next_reread:
                next_reread = time.monotonic() + self._reread_s
                try:
                    added = self.operations.reread_cold_starts()
                except Exception as error:
                    logger.warning("cold-start marks not re-read", extra={"error": str(error)})
                else:
                    if added:
                        logger.info("cold-start marks re-read", extra={"added": added})

    def _canary_loop(self) -> None:
        """Canaries asked for on the Service page, one at a time, with this worker's runner
        reading their golden runs (a canary runs for minutes: never on the beat's thread)."""
        from console.service._canary_action import run_requested_canary

        while not self._stop.wait(self._beat_s):
            try:
                assert self.runner is not None
                done = run_requested_canary(self.operations, self.runner, self.runner.owner)
            except Exception as error:  # the store is away: next time
                logger.warning("canary requests not read", extra={"error": str(error)})
            else:
                if done is not None:
                    logger.info("canary", extra={"request": done.id, "detail": done.detail})

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop every duty; held jobs go back to the queue, the beat is removed."""
        self._stop.set()
        if self._timer is not None:
            self._timer.stop()
        if self.runner is not None:
            self.runner.stop(timeout_s)
            try:
                remove_beat(self.operations.store, self.runner.owner)
            except Exception as error:
                logger.warning("worker beat not removed", extra={"error": str(error)})
        for thread in (self._thread, self._canaries):
            if thread.is_alive():
                thread.join(timeout_s)
        logger.info("worker stopped", extra={"owner": self.runner.owner if self.runner else ""})
