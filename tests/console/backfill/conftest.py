"""What the backfill's tests share: one task of a frozen backfill run in this process."""

from __future__ import annotations

import asyncio

from console.backfill import Manifest, location
from console.backfill._task import Task
from ocr_core import ClientSettings, OCRClient


def run_one_task(manifest: Manifest, base_url: str, *, attempt: int = 0) -> None:
    """The backfill as one task (0 of 1) against the OCR server at `base_url`."""

    async def main() -> None:
        settings = ClientSettings(base_url=base_url, auth="none", max_attempts=1)
        async with OCRClient(settings=settings) as client:
            source, dest = location(manifest.source), location(manifest.dest)
            task = Task(manifest, source, dest, client, index=0, count=1, attempt=attempt)
            await task.run()

    asyncio.run(main())
