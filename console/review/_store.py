"""Review in the console's store: the queue's settings, page truths and their versions,
pages sent to review, and who is on a page.

Every method is one short transaction on the shared `Store`. A save names the version it
started from; when a newer one is there (or lands in the same instant: the unique version
key), it is refused with the difference, never written over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from console._store import Store, from_ts, to_ts
from console.jobs._models import DocumentState
from console.jobs._rows import MAX_PAGE_TEXT_CHARS, bounded_text, storable
from console.jobs._tables import documents_table, pages_table, words_table
from console.review._models import (
    APPROVED,
    CORRECTED,
    RESTORED,
    SAMPLE_RATE_SETTING,
    THRESHOLD_SETTING,
    PageRef,
    QueueEntry,
    ReviewError,
    ReviewSettings,
    StaleVersion,
    Truth,
)
from console.review._queue import (
    QueueFilter,
    doubtful_count,
    job_page_refs,
    queue,
    reasons_for,
    sampled,
)
from console.review._tables import presence_table, requests_table, truths_table

# Someone not seen on a page for this long has left it (their page stopped refreshing).
PRESENCE_WINDOW = timedelta(minutes=2)


class ReviewStore:
    """The review tables of one `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- settings and the queue ------------------------------------------------------------------

    def settings(self) -> ReviewSettings:
        default = ReviewSettings()
        return ReviewSettings(
            threshold=float(self.store.get_setting(THRESHOLD_SETTING, default.threshold)),
            sample_rate=float(self.store.get_setting(SAMPLE_RATE_SETTING, default.sample_rate)),
        )

    def set_settings(self, settings: ReviewSettings) -> None:
        self.store.set_setting(THRESHOLD_SETTING, settings.threshold)
        self.store.set_setting(SAMPLE_RATE_SETTING, settings.sample_rate)

    def queue(self, where: QueueFilter | None = None) -> list[QueueEntry]:
        return queue(self.store, self.settings(), where or QueueFilter())

    def page(self, job_id: int, number: int) -> PageRef:
        """The job's page `number` (from 1 across its documents), or ReviewError."""
        for ref in job_page_refs(self.store, [job_id]).values():
            if ref.number == number:
                return ref
        raise ReviewError(f"job #{job_id} has no page {number}")

    def pages(self, job_id: int) -> list[PageRef]:
        return sorted(job_page_refs(self.store, [job_id]).values(), key=lambda r: r.number)

    def send(self, job_id: int, numbers: Iterable[int] | None, actor: str) -> int:
        """Send pages of a job (all of them with `numbers` None) to review; returns how many.

        A document's pages are known once it is opened: a whole job with documents not
        opened yet is refused, since sending it would leave their pages out without a word."""
        states = self.store.read(
            sa.select(documents_table.c.state).where(documents_table.c.job_id == job_id)
        )
        if not states:
            raise ReviewError(f"no job #{job_id}")
        pending = sum(1 for (state,) in states if state == DocumentState.PENDING)
        not_opened = (
            "its document is not opened yet"
            if len(states) == 1
            else f"{pending} of its {len(states)} documents are not opened yet"
        )
        refs = self.pages(job_id)
        if numbers is None and pending:
            raise ReviewError(
                f"job #{job_id}: {not_opened}, so not all its pages are known: send it "
                "again once it is opened, or send the pages known by number"
            )
        if numbers is not None:
            wanted = set(numbers)
            refs = [ref for ref in refs if ref.number in wanted]
            if missing := wanted - {ref.number for ref in refs}:
                yet = f" ({not_opened})" if pending else ""
                raise ReviewError(f"job #{job_id} has no page {min(missing)}{yet}")
        r = requests_table
        now = datetime.now(UTC).timestamp()
        with self.store.transaction() as connection:
            for ref in refs:
                key = (r.c.document_id == ref.document_id, r.c.page_index == ref.page_index)
                connection.execute(r.delete().where(*key))
                connection.execute(
                    r.insert().values(
                        document_id=ref.document_id,
                        page_index=ref.page_index,
                        job_id=job_id,
                        actor=actor,
                        created_at=now,
                    )
                )
        return len(refs)

    # --- truths ----------------------------------------------------------------------------------

    def versions(self, ref: PageRef) -> list[Truth]:
        """The page's truth versions, oldest first."""
        t = truths_table
        rows = self.store.read(
            sa.select(t)
            .where(t.c.document_id == ref.document_id, t.c.page_index == ref.page_index)
            .order_by(t.c.version)
        )
        return [_truth(row) for row in rows]

    def newest(self, ref: PageRef) -> Truth | None:
        found = self.versions(ref)
        return found[-1] if found else None

    def model_page(self, ref: PageRef) -> tuple[str, str | None, float | None, tuple[str, ...]]:
        """(the model's text, the revision that read it, its confidence, why it was queued)."""
        p = pages_table
        rows = self.store.read(
            sa.select(
                bounded_text(p.c.text),
                p.c.revision,
                p.c.confidence,
                p.c.low_confidence,
                p.c.rerun_reason,
                p.c.error,
            ).where(p.c.document_id == ref.document_id, p.c.page_index == ref.page_index)
        )
        if not rows:
            raise ReviewError(f"page {ref.number} of job #{ref.job_id} has not been read yet")
        row = rows[0]
        text, revision, confidence = row.text, row.revision, row.confidence
        if row.error is not None:
            raise ReviewError(f"page {ref.number} of job #{ref.job_id} failed: nothing to review")
        settings = self.settings()
        sent = bool(
            self.store.read(
                sa.select(requests_table.c.actor).where(
                    requests_table.c.document_id == ref.document_id,
                    requests_table.c.page_index == ref.page_index,
                )
            )
        )
        w = words_table
        located = self.store.read(
            sa.select(w.c.order_doubt).where(
                w.c.document_id == ref.document_id, w.c.page_index == ref.page_index
            )
        )
        reasons = reasons_for(
            confidence,
            doubtful_count(row.low_confidence),
            row.rerun_reason,
            sent,
            sampled(ref.document_id, ref.page_index, settings.sample_rate),
            settings,
            order_doubt=located[0].order_doubt if located else None,
        )
        return str(text), revision, confidence, reasons

    def approve(self, ref: PageRef, actor: str, *, base_version: int | None = None) -> Truth:
        """Keep the page's current text (its newest truth, else the model's) as its truth."""
        newest = self.newest(ref)
        model_text = self.model_page(ref)[0]
        text = newest.text if newest is not None else model_text
        return self._add(ref, text, APPROVED, actor, base_version)

    def correct(
        self, ref: PageRef, text: str, actor: str, *, base_version: int | None = None
    ) -> Truth:
        """Keep `text` as the page's truth, on top of `base_version` (None: the newest)."""
        return self._add(ref, text, CORRECTED, actor, base_version)

    def restore(
        self, ref: PageRef, version: int, actor: str, *, base_version: int | None = None
    ) -> Truth:
        """A new version with the text of an earlier one."""
        earlier = {truth.version: truth for truth in self.versions(ref)}
        if version not in earlier:
            raise ReviewError(f"page {ref.number} of job #{ref.job_id} has no version {version}")
        return self._add(ref, earlier[version].text, RESTORED, actor, base_version)

    def _add(
        self, ref: PageRef, text: str, kind: str, actor: str, base_version: int | None
    ) -> Truth:
        text = storable(text)
        if len(text) > MAX_PAGE_TEXT_CHARS:
            raise ReviewError(
                f"a page's text is at most {MAX_PAGE_TEXT_CHARS:,} characters, not {len(text):,}"
            )
        model_text, revision, confidence, reasons = self.model_page(ref)
        newest = self.newest(ref)
        current = newest.version if newest is not None else 0
        if base_version is not None and base_version != current:
            assert newest is not None  # a base of 0 with no newest version is current
            raise StaleVersion(base_version, newest, text)
        row = {
            "job_id": ref.job_id,
            "document_id": ref.document_id,
            "page_index": ref.page_index,
            "version": current + 1,
            "text": text,
            "kind": kind,
            "actor": actor,
            "created_at": to_ts(datetime.now(UTC)),
            "revision": revision,
            "model_text": model_text,
            "confidence": confidence,
            "reasons": json.dumps(reasons),
        }
        try:
            with self.store.transaction() as connection:
                connection.execute(truths_table.insert().values(**row))
                if text != (newest.text if newest is not None else model_text):
                    # Words located on the old text are not this text's: the worker
                    # locates the page again on its truth (WordsStore.pages_to_locate).
                    w = words_table
                    connection.execute(
                        w.delete().where(
                            w.c.document_id == ref.document_id, w.c.page_index == ref.page_index
                        )
                    )
        except sa.exc.IntegrityError:
            newest = self.newest(ref)
            assert newest is not None
            raise StaleVersion(current, newest, text) from None
        found = self.newest(ref)
        assert found is not None
        return found

    def reviewed(self, job_ids: Iterable[int] | None = None) -> list[Truth]:
        """The newest truth of every reviewed page (of `job_ids`, else all), oldest first."""
        t = truths_table
        newest = sa.select(
            t.c.document_id, t.c.page_index, sa.func.max(t.c.version).label("version")
        ).group_by(t.c.document_id, t.c.page_index)
        if job_ids is not None:
            newest = newest.where(t.c.job_id.in_(list(job_ids)))
        latest = newest.subquery()
        rows = self.store.read(
            sa.select(t)
            .join(
                latest,
                sa.and_(
                    latest.c.document_id == t.c.document_id,
                    latest.c.page_index == t.c.page_index,
                    latest.c.version == t.c.version,
                ),
            )
            .order_by(t.c.created_at, t.c.id)
        )
        return [_truth(row) for row in rows]

    def all_versions(self) -> list[Truth]:
        """Every version of every page, oldest first (the quality figures' input)."""
        t = truths_table
        return [_truth(row) for row in self.store.read(sa.select(t).order_by(t.c.id))]

    # --- presence --------------------------------------------------------------------------------

    def here(self, ref: PageRef, actor: str, now: datetime | None = None) -> list[str]:
        """Mark `actor` on the page; returns the others on it within the window."""
        p = presence_table
        at = to_ts(now or datetime.now(UTC))
        key = (p.c.document_id == ref.document_id, p.c.page_index == ref.page_index)
        with self.store.transaction() as connection:
            connection.execute(p.delete().where(*key, p.c.actor == actor))
            connection.execute(
                p.insert().values(
                    document_id=ref.document_id,
                    page_index=ref.page_index,
                    actor=actor,
                    seen_at=at,
                )
            )
        rows = self.store.read(
            sa.select(p.c.actor).where(
                *key, p.c.actor != actor, p.c.seen_at >= at - PRESENCE_WINDOW.total_seconds()
            )
        )
        return sorted(row[0] for row in rows)

    def leave(self, ref: PageRef, actor: str) -> None:
        p = presence_table
        with self.store.transaction() as connection:
            connection.execute(
                p.delete().where(
                    p.c.document_id == ref.document_id,
                    p.c.page_index == ref.page_index,
                    p.c.actor == actor,
                )
            )


def _truth(row: sa.Row[tuple[object, ...]]) -> Truth:
    m = row._mapping
    return Truth(
        job_id=int(m["job_id"]),
        document_id=int(m["document_id"]),
        page_index=int(m["page_index"]),
        version=int(m["version"]),
        text=str(m["text"]),
        kind=str(m["kind"]),
        actor=str(m["actor"]),
        at=from_ts(float(m["created_at"])),
        revision=m["revision"],
        model_text=str(m["model_text"]),
        confidence=m["confidence"],
        reasons=tuple(json.loads(str(m["reasons"]))),
    )
