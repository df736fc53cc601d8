"""`python -m console.worker`: the console's background duties, until SIGTERM or Ctrl-C.

The store, the platform and the actor come from the environment, as for the console
(LIGHTONOCR_DATA_DIR / LIGHTONOCR_DATABASE_URL, LIGHTONOCR_SERVICE_URL, ...). On the local
platform the worker starts the local OCR server (or takes over one a previous console left)
and stops it when it stops.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
import threading
from types import FrameType

# First, before the slow imports: a Ctrl-C that comes while they load must stop the worker
# cleanly, not print a KeyboardInterrupt traceback from the middle of numpy.
_stop = threading.Event()
_signal: list[str] = []


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _signal.append(signal.Signals(signum).name)
    _stop.set()


signal.signal(signal.SIGTERM, _on_signal)
# Under `python -m console` the supervisor stops the worker with SIGTERM and started it with
# SIGINT ignored: kept ignored, that disposition passes to the sandbox's spawned workers,
# which a terminal's Ctrl-C would otherwise interrupt mid-import (a traceback in the log).
if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
    signal.signal(signal.SIGINT, _on_signal)
# A signal mask passes through exec: started from a thread that blocks SIGTERM, the worker
# would never hear Cloud Run's (or the supervisor's) stop.
_blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
# `kill -USR1 PID` prints every thread's stack to the log: what a stuck worker is doing.
faulthandler.register(signal.SIGUSR1, all_threads=True)
# The main thread waits in slices: a signal the kernel hands to another thread (one of
# onnxruntime's or pebble's) runs its Python handler only when the main thread next runs
# Python code, which a wait without a timeout may never do.
STOP_POLL_S = 0.5

import argparse  # noqa: E402
import logging  # noqa: E402

from console._data_lock import (  # noqa: E402
    ConsoleAlreadyRunning,
    DataFolderLock,
)
from console._running import announce, withdraw  # noqa: E402
from console._store import StoreError  # noqa: E402
from console.runtime import build_runtime  # noqa: E402
from console.settings import ConsoleSettings  # noqa: E402
from console.worker._logging import log_json_lines  # noqa: E402
from console.worker._worker import Worker  # noqa: E402

logger = logging.getLogger("console.worker")


def _hold_data_folder() -> DataFolderLock | None:
    """A worker started alone holds the data folder as a console does (under `python -m
    console` the console holds it): two workers on one folder would fight over its local
    OCR server. Raises ConsoleAlreadyRunning."""
    settings = ConsoleSettings.from_env()
    if settings.console_pid is not None:
        return None
    lock = DataFolderLock(settings.data_folder)
    lock.acquire(url="", service_url=settings.base_url or "")
    return lock


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """No options: `--help` prints what the worker is (exit 0), anything else is refused
    with the usage (exit 2), before a worker starts."""
    parser = argparse.ArgumentParser(
        prog="python -m console.worker",
        description="The console's background duties (jobs, keep-warm, samplers, retention, "
        "canaries) until SIGTERM or Ctrl-C; configured by the LIGHTONOCR_* environment.",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    _parse(argv)
    log_json_lines()
    if signal.SIGTERM in _blocked:
        logger.warning("started with SIGTERM blocked: unblocked")
    if _stop.is_set():  # stopped before it started
        logger.info("stopped before starting", extra={"signal": _signal[0]})
        return 0
    try:
        lock = _hold_data_folder()
    except ConsoleAlreadyRunning as refused:
        logger.error("not started", extra={"error": str(refused)})
        return 2
    try:
        return _serve()
    finally:
        if lock is not None:
            lock.release()


def _serve() -> int:
    try:
        runtime = build_runtime()
    except StoreError as error:
        logger.error("the store cannot be opened", extra={"error": str(error)})
        return 1
    operations = runtime.operations
    worker = Worker(runtime).start()
    try:
        # Where this console's store and service are, for the CLIs run from any shell.
        record = announce(operations.platform.service_url)
    except OSError as error:  # a read-only home: the CLIs then need the variables
        logger.warning("console not announced", extra={"error": str(error)})
        record = None
    try:
        while not _stop.wait(STOP_POLL_S):
            pass
        logger.info("stopping", extra={"signal": _signal[0] if _signal else ""})
    finally:
        if record is not None:
            withdraw(record)
        worker.stop()
        operations.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
