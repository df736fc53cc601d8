"""Golden-set and comparison actions of the one door: register, run, compare.

A run or a comparison is one or two queued jobs; the worker reads their pages and the
Quality and Compare pages score them as they finish.
"""

from __future__ import annotations

from collections.abc import Sequence

from console._compare import Comparison, Comparisons, check_endpoint
from console._identity import Identity
from console.golden import (
    DEFAULT_MARGIN,
    GoldenSet,
    GoldenStore,
    LoadedSet,
    register_upload,
    start_run,
    text_settings,
    update_upload,
)
from console.jobs import JobStore, NewDocument
from console.service._door import Door


class QualityActions(Door):
    """What QA and operators start from the Quality and Compare pages (and the CLIs)."""

    jobs: JobStore

    def register_golden_set(
        self, name: str, filename: str, data: bytes, *, identity: Identity | None = None
    ) -> tuple[GoldenSet, list[str]]:
        """Register an uploaded zip of documents and their texts; returns the set and a
        sentence per file left out."""
        return self.act(
            identity,
            "register golden set",
            name,
            lambda actor: register_upload(
                GoldenStore(self.store), name, filename, data, actor=actor
            ),
            lambda found: f"{found[0].documents} documents, {len(found[1])} left out",
        )

    def register_loaded_set(
        self, name: str, loaded: LoadedSet, *, source: str, identity: Identity | None = None
    ) -> GoldenSet:
        """Register a set read from a folder or zip (`load_folder`, `load_zip`)."""
        return self.act(
            identity,
            "register golden set",
            name,
            lambda actor: GoldenStore(self.store).register(
                name, loaded.documents, actor=actor, source=source
            ),
            lambda found: f"{found.documents} documents, {len(loaded.problems)} left out",
        )

    def update_golden_set(
        self,
        name: str,
        *,
        loaded: LoadedSet | None = None,
        source: str = "",
        upload: tuple[str, bytes] | None = None,
        identity: Identity | None = None,
    ) -> tuple[GoldenSet, list[str]]:
        """Replace a set's documents and texts with `loaded` (read from a folder or zip) or
        an uploaded zip (`upload`: its name and bytes), keeping its runs; returns the set and
        a sentence per file left out."""
        golden = GoldenStore(self.store)

        def update(actor: str) -> tuple[GoldenSet, list[str]]:
            if upload is not None:
                return update_upload(golden, name, *upload, actor=actor)
            assert loaded is not None, "a loaded set or an upload"
            found = golden.update(name, loaded.documents, actor=actor, source=source)
            return found, loaded.problems

        return self.act(
            identity,
            "update golden set",
            name,
            update,
            lambda found: f"{found[0].documents} documents, {len(found[1])} left out",
        )

    def remove_golden_set(self, name: str, *, identity: Identity | None = None) -> int:
        """Delete a set with its runs and scores; returns how many runs went with it."""
        return self.act(
            identity,
            "remove golden set",
            name,
            lambda _actor: GoldenStore(self.store).remove(name),
            lambda runs: f"removed with {runs} runs",
        )

    def run_golden_set(
        self,
        name: str,
        *,
        margin: float = DEFAULT_MARGIN,
        revision: str | None = None,
        identity: Identity | None = None,
    ) -> int:
        """Queue the set's documents as a job on this service; returns the run's id."""
        return self.act(
            identity,
            "run golden set",
            name,
            lambda actor: start_run(
                GoldenStore(self.store),
                self.jobs,
                name,
                service_url=self.platform.service_url,
                revision=revision,
                actor=actor,
                margin=margin,
                settings=text_settings(self.platform.client_settings()),
            ),
            lambda run_id: f"run #{run_id} queued",
        )

    def start_comparison(
        self,
        other_url: str,
        *,
        documents: Sequence[NewDocument] = (),
        golden_set: str | None = None,
        revision: str | None = None,
        identity: Identity | None = None,
    ) -> Comparison:
        """The same documents (uploaded, or a golden set's) on this service and `other_url`
        (checked against the allowed hosts before any request)."""
        left_url = self.platform.service_url

        def start(actor: str) -> Comparison:
            right = check_endpoint(other_url)
            comparisons = Comparisons(self.store)
            if golden_set:
                return comparisons.start_golden(
                    GoldenStore(self.store),
                    golden_set,
                    left_url=left_url,
                    left_revision=revision,
                    right_url=right,
                    actor=actor,
                )
            return comparisons.start(
                documents,
                left_url=left_url,
                left_revision=revision,
                right_url=right,
                actor=actor,
            )

        return self.act(
            identity,
            "start comparison",
            other_url[:200],
            start,
            lambda found: f"comparison #{found.id}",
        )
