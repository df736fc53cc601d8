"""`python -m console.worker`: the console's background duties, until SIGTERM or Ctrl-C.

The store, the platform and the actor come from the environment, as for the console
(LIGHTONOCR_DATA_DIR / LIGHTONOCR_DATABASE_URL, LIGHTONOCR_SERVICE_URL, ...). On the local
platform the worker starts the local OCR server (or takes over one a previous console left,
and says so) and stops it when it stops.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from console._store import StoreError
from console.service import build_operations
from console.worker._logging import log_json_lines
from console.worker._worker import Worker

logger = logging.getLogger("console.worker")


def main() -> int:
    log_json_lines()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        operations = build_operations()
    except StoreError as error:
        logger.error("the store cannot be opened", extra={"error": str(error)})
        return 1
    worker = Worker(operations).start()
    try:
        stop.wait()
    finally:
        worker.stop()
        operations.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
