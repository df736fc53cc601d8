"""Job actions of the one door: start, cancel, resume, retry or re-run a page, unlock,
references and retention.

Each writes a request to the store and returns; the worker's job runner (`python -m
console.worker`) sees it on its next look (twice a second). Nothing here sends a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from console._identity import Identity
from console._references import BadReference, ReferenceText, match_by_stem, read_reference
from console._render import count_noun
from console.jobs import JobStatus, JobStore, NewDocument, ReferenceStore
from console.jobs._passwords import give_password
from console.service._door import Door
from ocr_core import Sampling


class JobActions(Door):
    """The job requests an operator may make (a viewer is refused and audited)."""

    jobs: JobStore

    def start_job(
        self,
        documents: Sequence[NewDocument],
        *,
        identity: Identity | None = None,
        name: str | None = None,
        revision: str | None = None,
        use_text_layer: bool = False,
        locate_words: bool = False,
    ) -> int:
        """A queued job of `documents` on this console's service; returns its id. With
        `locate_words` the worker also places each page's words on its image (the
        overlay, the searchable PDF, hOCR and ALTO)."""
        service_url = self.platform.service_url
        files = count_noun(len(documents), "document")
        return self.act(
            identity,
            "start job",
            f"{files} on {service_url}",
            lambda actor: self.jobs.create_job(
                documents,
                actor=actor,
                service_url=service_url,
                revision=revision,
                use_text_layer=use_text_layer,
                name=name,
                locate_words=locate_words,
            ),
            lambda job_id: f"job #{job_id} queued",
        )

    def cancel_job(self, job_id: int, *, identity: Identity | None = None) -> JobStatus | None:
        """Ask for the job to stop (at once when no worker holds it); returns its status."""
        return self.act(
            identity,
            "cancel job",
            f"job #{job_id}",
            lambda _: self.jobs.request_cancel(job_id),
            lambda status: "no such job" if status is None else f"job is {status.value}",
        )

    def resume_job(self, job_id: int, *, identity: Identity | None = None) -> None:
        """Send a cancelled or interrupted job's missing and failed pages again."""
        self.act(identity, "resume job", f"job #{job_id}", lambda _: self.jobs.resume(job_id))

    def retry_page(
        self,
        job_id: int,
        document_id: int,
        index: int,
        *,
        sampling: Sampling | None = None,
        identity: Identity | None = None,
    ) -> int:
        """Read one page again, as it was or with chosen sampling; returns pages marked."""
        how = "as before" if sampling is None else f"with {sampling.to_dict()}"
        return self.act(
            identity,
            "retry page",
            f"job #{job_id}, document {document_id}, page {index + 1}",
            lambda _: self.jobs.retry_pages(job_id, [(document_id, index)], sampling=sampling),
            lambda marked: f"{marked} page marked to read again {how}",
        )

    def unlock_document(
        self, document_id: int, password: str, *, identity: Identity | None = None
    ) -> None:
        """Hand an encrypted PDF's password to the worker and try the document again."""

        def unlock(_: str) -> None:
            give_password(self.store, document_id, password)
            self.jobs.reopen_document(document_id)

        self.act(identity, "unlock document", f"document {document_id}", unlock)

    def attach_references(
        self,
        job_id: int,
        references: Iterable[NewDocument],
        *,
        identity: Identity | None = None,
    ) -> list[str]:
        """Attach reference texts to the job's scans of the same file-name stem.

        Returns what to tell the user: files matching no scan, unreadable or empty ones (none
        of them attached), and files read in another encoding than UTF-8 (attached)."""
        uploads = list(references)
        if not uploads:
            return []

        def attach(_: str) -> list[str]:
            documents = self.jobs.documents(job_id)
            names = [u.filename for u in uploads]
            matching = match_by_stem([d.filename for d in documents], names)
            notes = list(matching.notes)
            store = ReferenceStore(self.store)
            read: dict[int, ReferenceText | None] = {}
            for scan, position in sorted(matching.pairs.items()):
                if position not in read:
                    upload = uploads[position]
                    try:
                        read[position] = found = read_reference(upload.data, upload.filename)
                        if found.note:
                            notes.append(found.note)
                    except BadReference as error:
                        read[position] = None
                        notes.append(f"{error.message}: it was not attached")
                reference = read[position]
                if reference is not None:
                    store.attach(
                        job_id,
                        documents[scan].id,
                        reference.pages,
                        origin=reference.origin,
                        note=reference.note,
                    )
            return notes

        return self.act(
            identity,
            "attach reference",
            f"job #{job_id}",
            attach,
            lambda notes: f"{len(uploads)} file(s) given; {len(notes)} note(s)",
        )

    def set_page_reference(
        self,
        job_id: int,
        document_id: int,
        index: int,
        text: str | None,
        *,
        identity: Identity | None = None,
    ) -> None:
        """Set (or with None, remove) the ground truth of one page."""
        references = ReferenceStore(self.store)

        def write(actor: str) -> None:
            if text is None:
                references.remove_page(document_id, index)
            else:
                references.set_page(job_id, document_id, index, text, f"pasted by {actor}")

        target = f"job #{job_id}, document {document_id}, page {index + 1}"
        self.act(identity, "attach reference", target, write)

    def attach_document_reference(
        self,
        job_id: int,
        document_id: int,
        reference: ReferenceText,
        *,
        identity: Identity | None = None,
    ) -> None:
        """Attach one read reference file to one document of the job."""
        self.act(
            identity,
            "attach reference",
            f"job #{job_id}, document {document_id}",
            lambda _: ReferenceStore(self.store).attach(
                job_id, document_id, reference.pages, origin=reference.origin, note=reference.note
            ),
        )

    def set_retention(self, days: int, *, identity: Identity | None = None) -> None:
        """Keep finished jobs this many days (the worker prunes older ones)."""
        self.act(
            identity, "set retention", f"{days} days", lambda _: self.jobs.set_retention_days(days)
        )
