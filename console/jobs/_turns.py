"""Which documents of a job a runner reads, in turns of `OPEN_DOCUMENTS` open at once.

One runner per job (SQLite): every readable document, in order. Runners sharing the job
(PostgreSQL, `_shared_ledger.py`): documents claimed a turn at a time, and let go once their
pages are sent, until none is left that no live runner holds. A run that stops mid-turn lets
go of its documents in `release` (the ledger frees every document it holds in the job).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from console.jobs._ledger import JobLedger
from console.jobs._models import DocumentState, JobDocument
from console.jobs._opening import OPEN_DOCUMENTS
from console.jobs._shared_ledger import SharedLedger
from console.jobs._store import JobStore

_UNREADABLE = (DocumentState.FAILED, DocumentState.NEEDS_PASSWORD)


async def document_turns(
    jobs: JobStore,
    ledger: JobLedger,
    in_store: Callable[..., Awaitable[Any]],
    job_id: int,
    owner: str,
) -> AsyncIterator[list[JobDocument]]:
    """Yield the documents to read next; the caller reads them before asking again."""
    if not isinstance(ledger, SharedLedger):
        entries = [e for e in await in_store(jobs.documents, job_id) if e.state not in _UNREADABLE]
        for start in range(0, len(entries), OPEN_DOCUMENTS):
            yield entries[start : start + OPEN_DOCUMENTS]
        return
    while ids := await in_store(ledger.take_documents, job_id, owner, OPEN_DOCUMENTS):
        chosen = set(ids)
        entries = await in_store(jobs.documents, job_id)
        yield [e for e in entries if e.id in chosen and e.state not in _UNREADABLE]
        await in_store(ledger.let_go, ids, owner)
