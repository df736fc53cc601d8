"""A/B: the same documents on two endpoints, as a pair of jobs, read back page by page.

The left side is the current service; the right side is any other OCR endpoint that speaks
the same protocol: a tagged Cloud Run revision URL, a second service, a local server. Each
side is an ordinary job whose `service_url` names its endpoint (the runner keeps a client
per URL), so a comparison survives reloads and restarts like any job. The pair is one row in
`comparisons`; when its documents came from a golden set, each side can also be scored
against the set's expected text.

The other URL is checked before any job is made: http(s) only, a host the console may send
pages to (`LIGHTONOCR_COMPARE_HOSTS`: Cloud Run and loopback unless set), no credentials in
it, and something answering `/health` there (401/403 count as answering: an IAM-only Cloud
Run service refuses an anonymous probe but the runner sends ID tokens). The allow-list is
there because the console sends the documents, with an ID token minted for that URL, from
inside the deployment's network: an operator's typo must not reach a metadata server or an
internal host.
"""

from __future__ import annotations

import fnmatch
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa

from console._render import sanitize_html
from console._store import METADATA, Store, from_ts
from console.golden import GoldenStore
from console.jobs import JobStore, NewDocument, StoredPage
from console.jobs._rows import now_ts
from console.settings import COMPARE_HOSTS, ConsoleSettings
from ocr_core import OCRError, quality

comparisons_table = sa.Table(
    "comparisons",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    # Not foreign keys: jobs are pruned after their retention, the row then says so.
    sa.Column("left_job_id", sa.Integer, nullable=False),
    sa.Column("right_job_id", sa.Integer, nullable=False),
    sa.Column("left_url", sa.Text, nullable=False),
    sa.Column("right_url", sa.Text, nullable=False),
    sa.Column("golden_set", sa.Text),
)

PROBE_TIMEOUT_S = 5.0
# Hosts (shell patterns) the Compare page may send pages to unless LIGHTONOCR_COMPARE_HOSTS
# (comma-separated) says otherwise: Cloud Run services and tagged revisions, and loopback.
DEFAULT_COMPARE_HOSTS = COMPARE_HOSTS.default


def compare_hosts(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The host patterns the other endpoint may name (LIGHTONOCR_COMPARE_HOSTS)."""
    return ConsoleSettings.from_env(env).compare_hosts or DEFAULT_COMPARE_HOSTS


class EndpointError(OCRError):
    """The other endpoint's URL is not one we can send pages to; the message says why."""


@dataclass(frozen=True, slots=True)
class Comparison:
    id: int
    created_at: datetime
    actor: str
    left_job_id: int
    right_job_id: int
    left_url: str
    right_url: str
    golden_set: str | None

    @property
    def label(self) -> str:
        return f"#{self.id}: {self.left_url} vs {self.right_url}"


@dataclass(frozen=True, slots=True)
class Side:
    """One endpoint's reading of one page (None fields: not read yet)."""

    text: str | None
    error: str | None
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cer: float | None = None

    @property
    def done(self) -> bool:
        return self.text is not None or self.error is not None


@dataclass(frozen=True, slots=True)
class PagePair:
    document: str
    page: int  # 0-based
    left: Side
    right: Side
    expected: str | None

    def diff_html(self) -> str:
        return diff_html(self.left.text or "", self.right.text or "")


def check_endpoint(
    url: str,
    *,
    allowed_hosts: Sequence[str] | None = None,
    timeout_s: float = PROBE_TIMEOUT_S,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """The URL, normalised, once something OCR-shaped answers there; else EndpointError.

    `allowed_hosts`: shell patterns the host must match (None: `compare_hosts()`).
    """
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise EndpointError(f"the other endpoint must be an http:// or https:// URL, not {url!r}")
    if parts.username or parts.password:
        raise EndpointError("put no credentials in the URL; the console sends its own")
    if not parts.hostname:
        raise EndpointError(f"{url!r} names no host")
    patterns = compare_hosts() if allowed_hosts is None else allowed_hosts
    if not any(fnmatch.fnmatchcase(parts.hostname, p) for p in patterns):
        raise EndpointError(
            f"{parts.hostname} is not a host this console compares against "
            f"({', '.join(patterns)}; set LIGHTONOCR_COMPARE_HOSTS to add one)"
        )
    if parts.query or parts.fragment:
        raise EndpointError(f"{url!r}: give the service's base URL, without ? or #")
    try:
        with httpx.Client(timeout=timeout_s, transport=transport) as client:
            status = client.get(f"{url}/health").status_code
    except httpx.HTTPError as error:
        raise EndpointError(f"cannot reach {url}: {type(error).__name__}: {error}") from None
    if status not in (200, 401, 403):
        raise EndpointError(f"{url}/health answered {status}: not a ready OCR service")
    return url


class Comparisons:
    """The `comparisons` rows of one store, and the two jobs behind each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs = JobStore(store)

    def start(
        self,
        documents: Sequence[NewDocument],
        *,
        left_url: str,
        left_revision: str | None,
        right_url: str,
        actor: str,
        golden_set: str | None = None,
    ) -> Comparison:
        """Two queued jobs of the same documents, one per endpoint (the right URL checked
        by the caller with `check_endpoint`)."""
        if left_url.rstrip("/") == right_url.rstrip("/"):
            raise EndpointError("the other endpoint is the current service: nothing to compare")
        left = self.jobs.create_job(
            documents, actor=actor, service_url=left_url, revision=left_revision
        )
        right = self.jobs.create_job(documents, actor=actor, service_url=right_url)
        with self.store.transaction() as connection:
            row_id = connection.execute(
                comparisons_table.insert().values(
                    created_at=now_ts(),
                    actor=actor,
                    left_job_id=left,
                    right_job_id=right,
                    left_url=left_url,
                    right_url=right_url,
                    golden_set=golden_set,
                )
            ).inserted_primary_key[0]
        found = self.get(int(row_id))
        assert found is not None
        return found

    def start_golden(
        self,
        golden: GoldenStore,
        name: str,
        *,
        left_url: str,
        left_revision: str | None,
        right_url: str,
        actor: str,
    ) -> Comparison:
        documents = golden.documents(golden.get(name).id)
        return self.start(
            [NewDocument(d.filename, d.data) for d in documents],
            left_url=left_url,
            left_revision=left_revision,
            right_url=right_url,
            actor=actor,
            golden_set=name,
        )

    def recent(self, limit: int = 50) -> list[Comparison]:
        c = comparisons_table
        rows = self.store.read(sa.select(c).order_by(c.c.id.desc()).limit(limit))
        return [
            Comparison(
                r.id,
                from_ts(r.created_at),
                r.actor,
                r.left_job_id,
                r.right_job_id,
                r.left_url,
                r.right_url,
                r.golden_set,
            )
            for r in rows
        ]

    def get(self, comparison_id: int) -> Comparison | None:
        c = comparisons_table
        rows = self.store.read(sa.select(c).where(c.c.id == comparison_id))
        return next(
            (
                Comparison(
                    r.id,
                    from_ts(r.created_at),
                    r.actor,
                    r.left_job_id,
                    r.right_job_id,
                    r.left_url,
                    r.right_url,
                    r.golden_set,
                )
                for r in rows
            ),
            None,
        )

    def finished(self, comparison: Comparison) -> bool:
        jobs = [self.jobs.job(comparison.left_job_id), self.jobs.job(comparison.right_job_id)]
        return all(job is not None and not job.active for job in jobs)

    def problems(self, comparison: Comparison) -> list[str]:
        """A sentence per document a side could not open (it has no pages to show)."""
        found = []
        for side, job_id in (("left", comparison.left_job_id), ("right", comparison.right_job_id)):
            for document in self.jobs.documents(job_id):
                if document.error:
                    found.append(f"{side}: {document.filename}: {document.error}")
        return found

    def pages(self, comparison: Comparison, golden: GoldenStore | None = None) -> list[PagePair]:
        """Every page of every document, in order, with both sides as far as they got."""
        expected: dict[str, list[str]] = {}
        if golden is not None and comparison.golden_set and golden.find(comparison.golden_set):
            for known in golden.documents(golden.get(comparison.golden_set).id):
                expected[known.filename] = known.expected_pages
        left = _by_page(self.jobs, comparison.left_job_id)
        right = _by_page(self.jobs, comparison.right_job_id)
        pairs = []
        for document in self.jobs.documents(comparison.left_job_id):
            other = next(
                (
                    d
                    for d in self.jobs.documents(comparison.right_job_id)
                    if d.position == document.position
                ),
                None,
            )
            count = max(document.page_count, other.page_count if other else 0)
            truth = expected.get(document.filename)
            for index in range(count):
                page_truth = truth[index] if truth is not None and index < len(truth) else None
                pairs.append(
                    PagePair(
                        document.filename,
                        index,
                        _side(left.get((document.position, index)), page_truth),
                        _side(right.get((document.position, index)), page_truth),
                        page_truth,
                    )
                )
        return pairs


@dataclass(frozen=True, slots=True)
class SideSummary:
    """How one side of a comparison went: a side that could not read every page is
    incomplete, and its score (mean CER) covers the pages it read, which it says."""

    name: str  # "left" or "right"
    pages: int
    read: int
    failed: int
    mean_cer: float | None
    scored: int

    @property
    def complete(self) -> bool:
        return self.read == self.pages

    def sentence(self) -> str:
        text = f"{self.name}: read {self.read} of {self.pages} pages"
        if self.failed:
            text += f", {self.failed} failed"
        if self.mean_cer is not None:
            text += f"; mean CER {self.mean_cer:.3f} over the {self.scored} read pages with truth"
        return text + "."


def summarise(pairs: Sequence[PagePair], problems: Sequence[str] = ()) -> list[SideSummary]:
    """Each side's pages read and failed and its score over the read pages; a document a side
    could not open counts as one failed page of that side (its pages are unknown)."""
    summaries = []
    for name in ("left", "right"):
        sides = [pair.left if name == "left" else pair.right for pair in pairs]
        unopened = sum(problem.startswith(f"{name}: ") for problem in problems)
        scores = [side.cer for side in sides if side.cer is not None]
        failed = sum(side.error is not None for side in sides) + unopened
        summaries.append(
            SideSummary(
                name,
                len(sides) + unopened,
                sum(side.text is not None for side in sides),
                failed,
                sum(scores) / len(scores) if scores else None,
                len(scores),
            )
        )
    return summaries


def _by_page(jobs: JobStore, job_id: int) -> dict[tuple[int, int], StoredPage]:
    positions = {d.id: d.position for d in jobs.documents(job_id)}
    return {(positions[p.document_id], p.index): p for p in jobs.pages(job_id)}


def _side(page: StoredPage | None, expected: str | None) -> Side:
    if page is None:
        return Side(None, None, None, None, None)
    result = page.result
    if not result.ok:
        return Side(None, str(result.error), result.latency_s, None, None)
    score = None
    if expected is not None and quality.normalise(expected):
        score = quality.cer(result.text, expected)
    return Side(
        result.text, None, result.latency_s, result.prompt_tokens, result.completion_tokens, score
    )


def diff_html(left: str, right: str) -> str:
    """The word diff from the left text to the right one as safe HTML on one line: words
    only the left has are struck through, words only the right has are underlined. Every
    word is escaped, then the result goes through the console's one sanitiser."""
    parts: list[str] = []
    for span in quality.word_diff(right, left):
        if span.tag == "equal":
            parts.append(html.escape(" ".join(span.reference)))
            continue
        if span.reference:
            parts.append(f"<del>{html.escape(' '.join(span.reference))}</del>")
        if span.hypothesis:
            parts.append(f"<u>{html.escape(' '.join(span.hypothesis))}</u>")
    return "<div>" + sanitize_html(" ".join(parts)) + "</div>"
