"""Untrusted documents are parsed and rendered in a box: worker processes with hard limits.

A PDF is a program: a 2 KB file can make pdfium decode a 40000 x 40000 soft mask (6 GB), and
a 230 KB content stream of nine million rectangles keeps it busy for minutes. No header check
catches every such file, so the limits are enforced by the kernel instead of guessed:

- memory: each worker's address space may grow by `memory_mb` over what it had at start
  (RLIMIT_AS), so an allocation past it fails inside that worker only;
- CPU time: each task may use `cpu_seconds` of CPU (RLIMIT_CPU raised to "used + budget" at
  the start of every task; SIGXCPU ends the worker past it);
- wall time: a task still running after `wall_seconds` has its worker killed (pebble).

A worker that breaches a limit dies alone: pebble replaces it and every other task goes on,
so a hostile document never holds the documents beside it, and pdfium's thread-unsafety is
contained per process instead of serialised by one process-wide lock. The breach comes back
as `ResourceLimitExceeded` naming the limit. Workers start with `spawn`, never `fork`: the
console and the backend run threads, and a forked copy of a thread's lock can deadlock.

A spawned process normally runs the parent's `__main__` again (so functions defined there can
be unpickled). The workers need only ocr_core, and the parent's main may be a Streamlit page
or a backend script with no `if __name__ == "__main__":` guard, which would then run in every
worker. So the workers are spawned without it (see `_preparation_data`).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import concurrent.futures.process
import math
import multiprocessing
import multiprocessing.process
import multiprocessing.spawn
import os
import resource
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pebble

from ._exceptions import PageRenderError, ResourceLimitExceeded
from ._lanes import Lanes

T = TypeVar("T")

# A worker beyond `SandboxLimits.workers` for documents that have barely used one (see
# _lanes.py): hostile pages holding every other worker cannot hold up an ordinary file.
RESERVE_WORKERS = 1

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Per-task limits; the defaults hold every real scan in the corpus with room to spare."""

    memory_mb: int = 1024
    cpu_seconds: float = 30.0
    wall_seconds: float = 30.0
    # Two workers, and a reserve one for light documents (RESERVE_WORKERS).
    workers: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SandboxLimits:
        """The LIGHTONOCR_RENDER_* variables (`ocr_core/_config.py` reads them)."""
        from ._config import sandbox_limits_from_env

        return sandbox_limits_from_env(env)

    def __post_init__(self) -> None:
        for name in ("memory_mb", "cpu_seconds", "wall_seconds", "workers"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")


def _virtual_memory_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * _PAGE_SIZE


def _init_worker(memory_mb: int) -> None:
    """Runs once in each new worker: cap its address space and switch off core dumps."""
    # SIGXCPU's default action dumps core; a hostile file should not fill the disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = _virtual_memory_bytes() + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_with_cpu_budget(cpu_seconds: float, function: Callable[..., T], *args: Any) -> T:
    """RLIMIT_CPU counts the whole process's life, so each task moves the line forward."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + cpu_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return function(*args)


_WORKER_NAME = "lightonocr-sandbox-worker"
_stdlib_preparation_data = multiprocessing.spawn.get_preparation_data


def _preparation_data(name: str) -> dict[str, Any]:
    """What a spawned child is told to set up, less the parent's main for our workers."""
    data: dict[str, Any] = _stdlib_preparation_data(name)
    if name == _WORKER_NAME:
        data.pop("init_main_from_name", None)
        data.pop("init_main_from_path", None)
    return data


# Installed once for the process; it changes nothing for processes that are not our workers.
multiprocessing.spawn.get_preparation_data = _preparation_data


class _WorkerContext:
    """The spawn context, naming its processes so `_preparation_data` knows them."""

    def __init__(self) -> None:
        self._spawn = multiprocessing.get_context("spawn")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spawn, name)

    def Process(self, *args: Any, **kwargs: Any) -> multiprocessing.process.BaseProcess:
        kwargs["name"] = _WORKER_NAME
        return self._spawn.Process(*args, **kwargs)


class Sandbox:
    """A pool of limited worker processes; started on first use, shared, and thread-safe.

    Tasks wait in fair lanes (`_lanes.py`), one per opened document, so no document holds
    the workers for long and a document that keeps breaching the limits is quarantined."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        # The ordinary workers and the reserve are separate pools, so workers dying and
        # restarting under hostile pages never hold up the reserve's.
        self._pools: dict[bool, pebble.ProcessPool] = {}
        self._lock = threading.Lock()
        self.lanes = Lanes(
            self.limits.workers, self._dispatch, self._translate, reserve=RESERVE_WORKERS
        )

    def _ensure_pool(self, reserve: bool) -> pebble.ProcessPool:
        with self._lock:
            pool = self._pools.get(reserve)
            if pool is None or not pool.active:
                pool = self._pools[reserve] = pebble.ProcessPool(
                    max_workers=RESERVE_WORKERS if reserve else self.limits.workers,
                    initializer=_init_worker,
                    initargs=(self.limits.memory_mb,),
                    context=_WorkerContext(),
                )
            return pool

    def _dispatch(self, task: tuple[Any, ...], reserve: bool) -> concurrent.futures.Future[Any]:
        function, *args = task
        return self._ensure_pool(reserve).schedule(
            _run_with_cpu_budget,
            args=(self.limits.cpu_seconds, function, *args),
            timeout=self.limits.wall_seconds,
        )

    def submit(
        self, function: Callable[..., T], *args: Any, lane: str | None = None
    ) -> concurrent.futures.Future[T]:
        """Queue `function(*args)` (a module-level function) in `lane` for a worker (None:
        a lane of its own, as for an unrelated task)."""
        return self.lanes.submit(lane, (function, *args))

    def result(self, future: concurrent.futures.Future[T]) -> T:
        """The task's value, or `ResourceLimitExceeded` when its worker breached a limit."""
        try:
            return future.result()
        except BaseException as exc:
            raise self._translate(exc) from exc

    def run(self, function: Callable[..., T], *args: Any, lane: str | None = None) -> T:
        return self.result(self.submit(function, *args, lane=lane))

    async def arun(self, function: Callable[..., T], *args: Any, lane: str | None = None) -> T:
        """`run` without holding a thread while the task waits for its turn."""
        future = self.submit(function, *args, lane=lane)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()  # out of its lane, or its worker ended if it was running
            raise
        except BaseException as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: BaseException) -> BaseException:
        limits = self.limits
        if isinstance(exc, concurrent.futures.TimeoutError):
            return ResourceLimitExceeded(
                f"rendering took longer than the {limits.wall_seconds:g} s allowed for a page",
                limit="time",
            )
        if isinstance(exc, MemoryError):
            return _memory_exceeded(limits)
        if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
            return PageRenderError(
                f"the document sandbox's worker processes could not start ({exc})"
            )
        if isinstance(exc, pebble.ProcessExpired):
            if exc.exitcode == -signal.SIGXCPU:
                return ResourceLimitExceeded(
                    f"rendering used more than the {limits.cpu_seconds:g} s of CPU time "
                    "allowed for a page",
                    limit="cpu",
                )
            # pdfium aborts (or faults) when an allocation fails under the address-space cap.
            return _memory_exceeded(limits, exitcode=exc.exitcode)
        return exc

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join(timeout=5)


def _memory_exceeded(limits: SandboxLimits, exitcode: int | None = None) -> ResourceLimitExceeded:
    detail = f"; the renderer ended with code {exitcode}" if exitcode is not None else ""
    return ResourceLimitExceeded(
        f"rendering needed more than the {limits.memory_mb} MB of memory allowed for a page"
        f"{detail}",
        limit="memory",
    )


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """The process-wide sandbox (documents opened without their own share its workers)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox(SandboxLimits.from_env())
            atexit.register(_shared.close)
        return _shared


__all__ = ["Sandbox", "SandboxLimits", "shared_sandbox"]
