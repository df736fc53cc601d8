"""Pages a runner has sent and not yet heard back from: what "waiting" hides.

A page can wait minutes in a busy server's queue, or be on its third attempt after two
timeouts; a progress bar that only counts finished pages says nothing of either. The runner
keeps the pages in flight per job and writes them to the store when they change (the worker
and the UI are separate processes); the workbench shows how long the oldest has waited and
which are being retried, and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from console._store import Store

_KEY = "job.in_flight:{job_id}"


@dataclass(frozen=True, slots=True)
class PageInFlight:
    document_id: int
    index: int
    since: float  # time.time() when its first request was sent
    attempt: int  # 0: not sent yet (being rendered, or waiting for a slot)
    why: str | None = None  # why the attempt before this one failed

    @property
    def retrying(self) -> bool:
        return self.attempt > 1


def write_in_flight(store: Store, job_id: int, pages: list[PageInFlight]) -> None:
    if pages:
        store.set_setting(_KEY.format(job_id=job_id), [asdict(page) for page in pages])
    else:
        store.delete_setting(_KEY.format(job_id=job_id))


def in_flight(store: Store, job_id: int) -> list[PageInFlight]:
    """The job's pages in flight as its runner last wrote them (oldest first)."""
    rows = store.get_setting(_KEY.format(job_id=job_id)) or []
    return sorted((PageInFlight(**row) for row in rows), key=lambda page: page.since)


__all__ = ["PageInFlight", "in_flight", "write_in_flight"]
