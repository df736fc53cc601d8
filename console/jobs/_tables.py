"""The job tables, on the store's one MetaData (SQLAlchemy Core, no dialect of their own).

A page result's key is (document, page): the row is written once when the page finishes,
and a retry replaces that row in place, so no page ever has two results.
"""

from __future__ import annotations

import sqlalchemy as sa

from console._store import METADATA

jobs_table = sa.Table(
    "jobs",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("service_url", sa.Text, nullable=False),
    sa.Column("revision", sa.Text),
    sa.Column("use_text_layer", sa.Boolean, nullable=False, default=False),
    sa.Column("run_seconds", sa.Float, nullable=False, default=0.0),
    # Set while a runner works on the job: which runner, since when, last sign of life.
    sa.Column("owner", sa.Text),
    sa.Column("run_started_at", sa.Float),
    sa.Column("heartbeat_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    # Whether the worker locates the words of each page read (page_words).
    sa.Column("locate_words", sa.Boolean, nullable=False, default=False),
    # What the job is for when not a person's upload: "golden set" (the jobs list marks it).
    sa.Column("purpose", sa.Text),
    sa.Index("jobs_by_status", "status"),
)

documents_table = sa.Table(
    "job_documents",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    # The bytes of documents stored before the object store (migration 0003); new ones have
    # only their `object_key` (console/_objects.py) and b"" here.
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("object_key", sa.Text),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("page_count", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    # On PostgreSQL, the runner working on the document now and its last sign of life
    # (several runners share a job a document at a time: `_shared_ledger.py`).
    sa.Column("holder", sa.Text),
    sa.Column("held_at", sa.Float),
    sa.Index("documents_by_job", "job_id", "position"),
)

pages_table = sa.Table(
    "page_results",
    METADATA,
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("page_index", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("error_type", sa.String(64)),
    sa.Column("truncated", sa.Boolean, nullable=False),
    sa.Column("latency_s", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("finish_reason", sa.String(32)),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("has_text_layer", sa.Boolean),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("request_id", sa.Text),
    # The model's confidence (geometric mean token probability), its doubtful words as JSON
    # [{start, end, text, probability}], and why the page was asked for twice.
    sa.Column("confidence", sa.Float),
    sa.Column("low_confidence", sa.Text),
    sa.Column("rerun_reason", sa.String(16)),
    # Sampling a person chose for this result ({temperature, repetition_penalty, max_tokens},
    # JSON; NULL: the client's settings), and the one asked for with a pending retry.
    sa.Column("sampling", sa.Text),
    sa.Column("retry_sampling", sa.Text),
    sa.Column("revision", sa.Text),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=False),
    sa.Column("retry", sa.Boolean, nullable=False, default=False),
    sa.Index("pages_by_job", "job_id"),
)

# Where each word of a page's text sits on its image (`ocr_core.PageWords` as JSON), or why
# that could not be found; a page read again loses its row (its text changed).
words_table = sa.Table(
    "page_words",
    METADATA,
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("page_index", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("words", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("located_at", sa.Float, nullable=False),
    # Why the text seems to read the page in another order than its layout (None: it does
    # not), from `ocr_core.check_order` while the engine's lines are at hand: a review reason.
    sa.Column("order_doubt", sa.Text),
    sa.Index("words_by_job", "job_id"),
)

# Ground truth for scoring a page (console._references reads and splits it): one row per
# page, or page_index WHOLE_DOCUMENT for a reference without page breaks.
references_table = sa.Table(
    "page_references",
    METADATA,
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("job_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("page_index", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # Where it came from ("phototest.txt", "pasted by ana") and what to tell the reader.
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("references_by_job", "job_id"),
)
