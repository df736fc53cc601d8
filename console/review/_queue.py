"""Which pages wait for a person, why, and in which order.

The queue is worked out from the page results on each read rather than kept as rows: a page
enters when the model doubted it (confidence under the threshold, doubtful words, a re-run
for a runaway or empty answer), when its located words show the text reading the page out of
its layout's order (`ocr_core.check_order`, kept with the words), when a person sent it, or
when it falls in the sample of confident pages (a fixed share chosen by a hash of the page,
so the same pages stay sampled between reads). It leaves when a truth version newer than its
reading (and than the request that sent it) is kept. Golden-set jobs are not reviewed: their
truth is the set.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from console._store import Store, from_ts
from console.jobs._tables import documents_table, jobs_table, pages_table, words_table
from console.review._models import (
    DOUBTFUL_WORDS,
    LOW_CONFIDENCE,
    READING_ORDER,
    RERUN,
    SAMPLED,
    SENT,
    PageRef,
    QueueEntry,
    ReviewSettings,
)
from console.review._tables import requests_table, truths_table

# How much each reason adds to a page's risk (the queue is ordered by it, riskiest first).
_WEIGHTS = {
    SENT: 3.0,
    RERUN: 2.0,
    READING_ORDER: 1.0,
    LOW_CONFIDENCE: 1.0,
    DOUBTFUL_WORDS: 0.5,
    SAMPLED: 0.0,
}


def sampled(document_id: int, page_index: int, rate: float) -> bool:
    """Whether the page is in the sample of `rate`: the same answer on every read."""
    return zlib.crc32(f"{document_id}:{page_index}".encode()) % 10_000 < rate * 10_000


def reasons_for(
    confidence: float | None,
    doubtful: int,
    rerun_reason: str | None,
    sent: bool,
    in_sample: bool,
    settings: ReviewSettings,
    *,
    order_doubt: str | None = None,
) -> tuple[str, ...]:
    """Why a page belongs in the queue (empty: it does not). `order_doubt` is what locating
    the page's words found against its reading order (`page_words.order_doubt`)."""
    reasons = []
    if sent:
        reasons.append(SENT)
    if rerun_reason:
        reasons.append(RERUN)
    if order_doubt:
        reasons.append(READING_ORDER)
    if confidence is not None and confidence < settings.threshold:
        reasons.append(LOW_CONFIDENCE)
    if doubtful:
        reasons.append(DOUBTFUL_WORDS)
    if not reasons and in_sample:
        reasons.append(SAMPLED)
    return tuple(reasons)


def risk_of(reasons: Iterable[str], confidence: float | None, doubtful: int) -> float:
    """Higher is riskier: the reasons' weights, the confidence's shortfall, the doubtful words."""
    shortfall = 1.0 - confidence if confidence is not None else 0.5
    return sum(_WEIGHTS[r] for r in reasons) + shortfall + min(doubtful, 10) * 0.05


@dataclass(frozen=True, slots=True)
class QueueFilter:
    job_id: int | None = None
    document_type: str | None = None
    revision: str | None = None


def doubtful_count(low_confidence: str | None) -> int:
    return len(json.loads(low_confidence)) if low_confidence else 0


def job_page_refs(store: Store, job_ids: Iterable[int]) -> dict[tuple[int, int], PageRef]:
    """Every page of the jobs by (document, page), numbered from 1 across each job's
    documents in order, as the workbench shows them."""
    d = documents_table
    ids = list(job_ids)
    if not ids:
        return {}
    rows = store.read(
        sa.select(d.c.job_id, d.c.id, d.c.filename, d.c.page_count)
        .where(d.c.job_id.in_(ids))
        .order_by(d.c.job_id, d.c.position)
    )
    refs: dict[tuple[int, int], PageRef] = {}
    offsets: dict[int, int] = {}
    for job_id, document_id, filename, page_count in rows:
        offset = offsets.get(job_id, 0)
        for index in range(page_count or 0):
            refs[(document_id, index)] = PageRef(
                job_id, offset + index + 1, document_id, index, filename
            )
        offsets[job_id] = offset + (page_count or 0)
    return refs


def queue(store: Store, settings: ReviewSettings, where: QueueFilter) -> list[QueueEntry]:
    """The pages waiting for a person, riskiest first (then the longest waiting)."""
    p, j, t, r, w = pages_table, jobs_table, truths_table, requests_table, words_table
    query = (
        sa.select(
            p.c.job_id,
            p.c.document_id,
            p.c.page_index,
            p.c.confidence,
            p.c.low_confidence,
            p.c.rerun_reason,
            p.c.revision,
            p.c.finished_at,
            j.c.name,
            w.c.order_doubt,
        )
        .join(j, j.c.id == p.c.job_id)
        .outerjoin(w, sa.and_(w.c.document_id == p.c.document_id, w.c.page_index == p.c.page_index))
        .where(p.c.error.is_(None), sa.not_(p.c.retry), j.c.purpose.is_(None))
    )
    if where.job_id is not None:
        query = query.where(p.c.job_id == where.job_id)
    if where.revision is not None:
        query = query.where(p.c.revision == where.revision)
    pages = store.read(query)
    job_ids = {row.job_id for row in pages}
    if not job_ids:
        return []
    newest_truth = {
        (doc, index): at
        for doc, index, at in store.read(
            sa.select(t.c.document_id, t.c.page_index, sa.func.max(t.c.created_at))
            .where(t.c.job_id.in_(job_ids))
            .group_by(t.c.document_id, t.c.page_index)
        )
    }
    requested = {
        (doc, index): at
        for doc, index, at in store.read(
            sa.select(r.c.document_id, r.c.page_index, r.c.created_at).where(
                r.c.job_id.in_(job_ids)
            )
        )
    }
    refs = job_page_refs(store, job_ids)
    entries = []
    for row in pages:
        key = (row.document_id, row.page_index)
        ref = refs.get(key)
        if ref is None:
            continue
        truth_at = newest_truth.get(key)
        sent_at = requested.get(key)
        sent = sent_at is not None and (truth_at is None or sent_at > truth_at)
        if truth_at is not None and truth_at >= row.finished_at and not sent:
            continue
        doubtful = doubtful_count(row.low_confidence)
        reasons = reasons_for(
            row.confidence,
            doubtful,
            row.rerun_reason,
            sent,
            sampled(*key, settings.sample_rate),
            settings,
            order_doubt=row.order_doubt,
        )
        if not reasons:
            continue
        entry = QueueEntry(
            page=ref,
            job_name=row.name,
            revision=row.revision,
            confidence=row.confidence,
            doubtful=doubtful,
            reasons=reasons,
            risk=risk_of(reasons, row.confidence, doubtful),
            waiting_since=from_ts(max(row.finished_at, sent_at or 0.0)),
        )
        if where.document_type and entry.document_type != where.document_type.lower():
            continue
        entries.append(entry)
    entries.sort(key=lambda e: (-e.risk, e.waiting_since, e.page.job_id, e.page.number))
    return entries


@dataclass(frozen=True, slots=True)
class QueueSummary:
    waiting: int
    oldest: datetime | None

    def longest_wait(self, now: datetime) -> str:
        """The longest wait as a person reads it ("12 min", "3.5 h", "2.0 days"; "-" when
        nothing waits): the Review page and `python -m console.review list` both say it."""
        if self.oldest is None:  # nothing waits
            return "-"
        seconds = (now - self.oldest).total_seconds()
        if seconds < 3600:
            return f"{seconds / 60:.0f} min"
        if seconds < 86400:
            return f"{seconds / 3600:.1f} h"
        return f"{seconds / 86400:.1f} days"


def summary(entries: list[QueueEntry]) -> QueueSummary:
    """How many pages wait and since when the longest has."""
    oldest = min((e.waiting_since for e in entries), default=None)
    return QueueSummary(len(entries), oldest)
