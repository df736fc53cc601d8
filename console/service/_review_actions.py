"""Review actions of the one door: approve, correct, restore, send to review, the queue's
settings, and a golden set made of reviewed pages.

Who may: operators. A page's truth replaces the model's text in every export and becomes
the expected text of golden sets that gate canaries, so changing it weighs as much as the
operator actions already do; a separate reviewer role would be one more list to keep in
step with IAP for no new protection today (a viewer is refused here and audited, like any
other action). Reading the queue and a page's versions is open to viewers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console._identity import Identity
from console.golden import GoldenSet, GoldenStore
from console.jobs import JobStore
from console.review import (
    PageRef,
    QueueEntry,
    QueueFilter,
    ReviewSettings,
    ReviewStore,
    Truth,
)
from console.review._golden import golden_documents, reviewed_pages
from console.review._quality import CorrectionFigures, correction_figures, most_corrected_words
from console.service._door import Door
from ocr_core.quality import cer, normalise


@dataclass(frozen=True, slots=True)
class PageForReview:
    """What a page to correct shows: the model's text, its truths, the current text."""

    page: PageRef
    model_text: str
    revision: str | None
    confidence: float | None
    reasons: tuple[str, ...]
    versions: list[Truth]

    @property
    def version(self) -> int:
        """The version an edit starts from (0: none yet)."""
        return self.versions[-1].version if self.versions else 0

    @property
    def text(self) -> str:
        return self.versions[-1].text if self.versions else self.model_text

    @property
    def model_cer(self) -> float | None:
        """The CER of the model's text against the page's truth (None: no truth, or an
        empty one)."""
        if not self.versions or not normalise(self.text):
            return None
        return cer(self.model_text, self.text)


class ReviewActions(Door):
    """What reviewers do from the Review page and `python -m console.review`."""

    jobs: JobStore

    @property
    def review(self) -> ReviewStore:
        return ReviewStore(self.store)

    def review_queue(self, where: QueueFilter | None = None) -> list[QueueEntry]:
        return self.review.queue(where)

    def correction_quality(
        self,
    ) -> tuple[list[CorrectionFigures], list[tuple[str, str, int]]]:
        """The figures per revision and week, and the words most often corrected."""
        truths = self.review.reviewed()
        return correction_figures(truths), most_corrected_words(truths)

    def review_settings(self) -> ReviewSettings:
        return self.review.settings()

    def set_review_settings(
        self, settings: ReviewSettings, *, identity: Identity | None = None
    ) -> None:
        self.act(
            identity,
            "set review settings",
            f"threshold {settings.threshold:.2f}, sample {settings.sample_rate:.0%}",
            lambda _actor: self.review.set_settings(settings),
        )

    def page_for_review(self, job_id: int, number: int) -> PageForReview:
        review = self.review
        ref = review.page(job_id, number)
        text, revision, confidence, reasons = review.model_page(ref)
        return PageForReview(ref, text, revision, confidence, reasons, review.versions(ref))

    def review_presence(self, job_id: int, number: int, who: str) -> list[str]:
        """Mark `who` on the page; the others on it (not an action: nothing is audited)."""
        review = self.review
        return review.here(review.page(job_id, number), who)

    def approve_page(
        self,
        job_id: int,
        number: int,
        *,
        base_version: int | None = None,
        identity: Identity | None = None,
    ) -> Truth:
        review = self.review
        return self.act(
            identity,
            "approve page",
            f"job #{job_id} page {number}",
            lambda actor: review.approve(
                review.page(job_id, number), actor, base_version=base_version
            ),
            lambda truth: f"version {truth.version}",
        )

    def correct_page(
        self,
        job_id: int,
        number: int,
        text: str,
        *,
        base_version: int | None = None,
        identity: Identity | None = None,
    ) -> Truth:
        review = self.review
        return self.act(
            identity,
            "correct page",
            f"job #{job_id} page {number}",
            lambda actor: review.correct(
                review.page(job_id, number), text, actor, base_version=base_version
            ),
            lambda truth: f"version {truth.version}, {len(truth.text)} characters",
        )

    def restore_page(
        self,
        job_id: int,
        number: int,
        version: int,
        *,
        base_version: int | None = None,
        identity: Identity | None = None,
    ) -> Truth:
        review = self.review
        return self.act(
            identity,
            "restore page",
            f"job #{job_id} page {number}",
            lambda actor: review.restore(
                review.page(job_id, number), version, actor, base_version=base_version
            ),
            lambda truth: f"version {version} restored as version {truth.version}",
        )

    def send_to_review(
        self, job_id: int, numbers: Iterable[int] | None = None, *, identity: Identity | None = None
    ) -> int:
        """Send pages of a job (every page with `numbers` None) to review."""
        chosen = None if numbers is None else sorted(set(numbers))
        target = f"job #{job_id}" + (
            "" if chosen is None else f" pages {', '.join(map(str, chosen))}"
        )
        return self.act(
            identity,
            "send to review",
            target,
            lambda actor: self.review.send(job_id, chosen, actor),
            lambda count: f"{count} pages sent",
        )

    def golden_from_reviewed(
        self,
        name: str,
        job_ids: Iterable[int] | None = None,
        *,
        identity: Identity | None = None,
    ) -> GoldenSet:
        """Register a golden set of the reviewed pages (of `job_ids`, else all): each page's
        scan with its truth as the expected text."""
        chosen = None if job_ids is None else sorted(set(job_ids))
        source = "reviewed pages" + (
            "" if chosen is None else f" of jobs {', '.join(f'#{j}' for j in chosen)}"
        )

        def register(actor: str) -> GoldenSet:
            documents = golden_documents(reviewed_pages(self.review, self.jobs, chosen))
            return GoldenStore(self.store).register(name, documents, actor=actor, source=source)

        return self.act(
            identity,
            "golden set from reviewed",
            name,
            register,
            lambda found: f"{found.documents} pages",
        )
