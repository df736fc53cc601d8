"""The local warm-up's steps: wait for /health, then one real OCR round trip on a small page.

/health says 200 once the server listens; only an answered OCR request shows the engine is
loaded. The probe page is small and sent at its own size, so that on a CPU engine the
measured cold start is the server's start plus one quick answer, not a full page's OCR.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from console.platforms._local_logs import exit_reason
from console.platforms._local_process import ServerProcess
from ocr_core import HEALTH_PATH, ClientSettings, DocumentSettings, OCRError, SyncOCRClient

PROBE_SIDE = 320
HEALTH_POLL_S = 0.1


def wait_for_health(
    health: Callable[[], int | None],
    server: ServerProcess | None,
    log_path: Path,
    deadline: float,
    timeout_s: float,
) -> tuple[int, str | None]:
    """Poll /health until 200: (checks made, None), or (checks, why not) when the server
    exited or the monotonic `deadline` passed."""
    attempts = 0
    while True:
        attempts += 1
        if health() == 200:
            return attempts, None
        if server is not None and not server.alive:
            why = exit_reason(log_path, server.started_at)
            return attempts, f"the OCR server exited with code {server.exit_code()}" + (
                f": {why}" if why else ""
            )
        if time.monotonic() >= deadline:
            return attempts, f"not ready after {timeout_s:g} s ({HEALTH_PATH} never said 200)"
        time.sleep(HEALTH_POLL_S)


def probe_image() -> bytes:
    """A small generated page with a few words: enough for a real OCR round trip."""
    image = Image.new("RGB", (PROBE_SIDE, 80), "white")
    ImageDraw.Draw(image).text((16, 32), "Warm up 1 2 3", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def probe_ocr(
    settings: ClientSettings, timeout_s: float, marks: dict[str, datetime] | None = None
) -> str | None:
    """None when the server lists the model and OCRs the probe page, else why not.

    `marks` receives when each happened ("model_listed", "answered"), for the cold-start
    timeline.
    """
    marks = {} if marks is None else marks
    settings = settings.with_overrides(
        max_attempts=1,
        timeout_s=timeout_s,
        documents=DocumentSettings(longest_side=PROBE_SIDE),
    )
    with SyncOCRClient(settings=settings) as client:
        ready = client.warm_up(timeout=timeout_s)
        if not ready.ready:
            return str(ready.error or "not ready")
        marks["model_listed"] = datetime.now(UTC)
        try:
            client.extract_text(probe_image(), filename="warm-up.png")
        except OCRError as error:
            return f"the OCR request failed: {error}"
        marks["answered"] = datetime.now(UTC)
    return None
