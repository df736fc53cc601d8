"""Opening a job's documents for the runner: its bytes from the object store, the password
handed through the store (then kept in memory only), and the outcome written to the
document's row, so a document that cannot be opened fails alone with its reason.

The runner opens OPEN_DOCUMENTS of a job at a time: an open document is a copy of its bytes
on the temporary disk (in memory on Cloud Run, whose /tmp is RAM), so a job of 20 large
files must not hold 20 copies at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from console.jobs._ledger import JobLedger
from console.jobs._models import DocumentState, JobDocument
from console.jobs._pages import describe_error, open_document
from console.jobs._passwords import take_password
from console.jobs._store import JobStore
from ocr_core import Document, EncryptedDocument, OCRClient

OPEN_DOCUMENTS = 4
T = TypeVar("T")


class DocumentOpener:
    def __init__(
        self,
        jobs: JobStore,
        ledger: JobLedger,
        in_store: Callable[..., Awaitable[Any]],
    ) -> None:
        self._jobs = jobs
        self._ledger = ledger
        self._in_store = in_store
        self._passwords: dict[int, str] = {}

    async def open(self, entry: JobDocument, client: OCRClient) -> Document | None:
        """The document, or None after writing why it cannot be opened (it fails alone)."""
        data = await self._in_store(self._jobs.document_data, entry.id)
        given = await self._in_store(take_password, self._jobs.store, entry.id)
        if given is not None:
            self._passwords[entry.id] = given
        password = self._passwords.get(entry.id)
        try:
            document = await open_document(client, data, entry.filename, password)
        except EncryptedDocument as error:
            why = (
                "is password-protected and the password given is wrong"
                if password
                else describe_error(error)
            )
            await self._in_store(
                self._ledger.set_document, entry.id, DocumentState.NEEDS_PASSWORD, 0, why
            )
            return None
        except Exception as error:  # bad input ends as the document's message, never a raise
            await self._in_store(
                self._ledger.set_document, entry.id, DocumentState.FAILED, 0, describe_error(error)
            )
            return None
        if entry.state is not DocumentState.OPENED or entry.page_count != document.page_count:
            await self._in_store(
                self._ledger.set_document, entry.id, DocumentState.OPENED, document.page_count
            )
        return document

    async def reopen(
        self, job_id: int, document_id: int, *, client_for: Callable[[str], OCRClient]
    ) -> Document:
        """A document already read, opened again at the size its job's service read it
        (`client_for(service_url)`): the word locator's copy, once the runner closed its own.
        Raises the typed error of a document that cannot be, and writes nothing."""
        job = await self._in_store(self._jobs.job, job_id)
        documents = await self._in_store(self._jobs.documents, job_id)
        (entry,) = [d for d in documents if d.id == document_id]
        assert job is not None
        data = await self._in_store(self._jobs.document_data, entry.id)
        password = self._passwords.get(entry.id)
        return await open_document(client_for(job.service_url), data, entry.filename, password)
