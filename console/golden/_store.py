"""Golden sets, their runs and scores in the console's store (one short transaction each)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from console._store import Store, from_ts
from console.golden._models import (
    DocumentScore,
    GoldenDocument,
    GoldenRun,
    GoldenSet,
    GoldenSetError,
)
from console.golden._tables import (
    golden_documents_table,
    golden_runs_table,
    golden_scores_table,
    golden_sets_table,
)
from console.jobs._rows import now_ts

MAX_NAME = 80


class GoldenStore:
    """The golden tables of one `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(
        self, name: str, documents: Sequence[GoldenDocument], *, actor: str, source: str
    ) -> GoldenSet:
        """A set is registered once: a name in use is refused rather than overwritten (to
        change a set, `update` it: its runs record the contents they read)."""
        name = name.strip()
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise GoldenSetError(
                f"a golden set needs a printable name of 1 to {MAX_NAME} characters"
            )
        if self.find(name) is not None:
            raise GoldenSetError(f"a golden set named {name!r} is already registered")
        return self._write(name, documents, actor=actor, source=source, replacing=None)

    def update(
        self, name: str, documents: Sequence[GoldenDocument], *, actor: str, source: str
    ) -> GoldenSet:
        """Replace a set's documents and texts, keeping its runs: a later run records the
        new contents (`set_contents`), so `history` shows the change and no run is compared
        with a run of other contents."""
        return self._write(name, documents, actor=actor, source=source, replacing=self.get(name))

    def remove(self, name: str) -> int:
        """Delete a set with its runs and scores and its documents' bytes; returns how many
        runs went with it (their jobs stay, as jobs, until their retention)."""
        found = self.get(name)
        keys = self._object_keys(found.id)
        r = golden_runs_table
        with self.store.transaction() as connection:
            runs = connection.execute(sa.select(sa.func.count()).where(r.c.set_id == found.id))
            count = int(runs.scalar_one())
            sc, ids = golden_scores_table, sa.select(r.c.id).where(r.c.set_id == found.id)
            connection.execute(sc.delete().where(sc.c.run_id.in_(ids)))
            connection.execute(r.delete().where(r.c.set_id == found.id))
            d, s = golden_documents_table, golden_sets_table
            connection.execute(d.delete().where(d.c.set_id == found.id))
            connection.execute(s.delete().where(s.c.id == found.id))
        for key in keys:
            self.store.objects.delete(key)
        return count

    def _object_keys(self, set_id: int) -> list[str]:
        d = golden_documents_table
        rows = self.store.read(sa.select(d.c.object_key).where(d.c.set_id == set_id))
        return [row.object_key for row in rows if row.object_key]

    def _write(
        self,
        name: str,
        documents: Sequence[GoldenDocument],
        *,
        actor: str,
        source: str,
        replacing: GoldenSet | None,
    ) -> GoldenSet:
        if not documents:
            raise GoldenSetError(f"golden set {name!r} has no document paired with a text")
        s, d = golden_sets_table, golden_documents_table
        objects = self.store.objects
        old_keys = self._object_keys(replacing.id) if replacing else []
        keys: list[str] = []
        try:
            for doc in documents:  # bytes to the object store, facts to the database
                keys.append(objects.new_key("golden"))
                objects.put(keys[-1], io.BytesIO(doc.data))
            with self.store.transaction() as connection:
                if replacing is None:
                    set_id = connection.execute(
                        s.insert().values(
                            name=name, created_at=now_ts(), actor=actor, source=source
                        )
                    ).inserted_primary_key[0]
                else:
                    set_id = replacing.id
                    connection.execute(
                        s.update().where(s.c.id == set_id).values(actor=actor, source=source)
                    )
                    connection.execute(d.delete().where(d.c.set_id == set_id))
                connection.execute(
                    d.insert(),
                    [
                        {
                            "set_id": set_id,
                            "position": n,
                            "filename": doc.filename,
                            "data": b"",
                            "object_key": key,
                            "expected_text": doc.expected_text,
                            "text_filename": doc.text_filename,
                        }
                        for n, (doc, key) in enumerate(zip(documents, keys, strict=True))
                    ],
                )
        except BaseException:
            for key in keys:
                objects.delete(key)
            raise
        for key in old_keys:
            objects.delete(key)
        found = self.find(name)
        assert found is not None
        return found

    def contents_digest(self, set_id: int) -> str:
        """12 hex digits over the set's documents and texts: two runs read the same set
        when theirs are equal."""
        digest = hashlib.sha256()
        for document in self.documents(set_id):
            for part in (document.filename, document.expected_text):
                digest.update(part.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(document.data).digest())
        return digest.hexdigest()[:12]

    def sets(self) -> list[GoldenSet]:
        s, d = golden_sets_table, golden_documents_table
        count = sa.select(sa.func.count()).where(d.c.set_id == s.c.id).scalar_subquery().label("n")
        rows = self.store.read(sa.select(s, count).order_by(s.c.name))
        return [
            GoldenSet(r.id, r.name, from_ts(r.created_at), r.actor, r.source, r.n) for r in rows
        ]

    def find(self, name: str) -> GoldenSet | None:
        return next((s for s in self.sets() if s.name == name), None)

    def get(self, name: str) -> GoldenSet:
        found = self.find(name)
        if found is None:
            known = ", ".join(s.name for s in self.sets()) or "none yet"
            raise GoldenSetError(f"no golden set named {name!r} (registered: {known})")
        return found

    def documents(self, set_id: int) -> list[GoldenDocument]:
        d = golden_documents_table
        rows = self.store.read(
            sa.select(d.c.filename, d.c.data, d.c.object_key, d.c.expected_text, d.c.text_filename)
            .where(d.c.set_id == set_id)
            .order_by(d.c.position)
        )
        return [
            GoldenDocument(
                r.filename,
                self.store.objects.read(r.object_key) if r.object_key else bytes(r.data),
                r.expected_text,
                r.text_filename,
            )
            for r in rows
        ]

    # --- runs ----------------------------------------------------------------------------------

    def add_run(
        self,
        golden: GoldenSet,
        *,
        job_id: int,
        service_url: str,
        revision: str | None,
        actor: str,
        margin: float,
        settings: dict[str, Any] | None = None,
    ) -> int:
        with self.store.transaction() as connection:
            run_id = connection.execute(
                golden_runs_table.insert().values(
                    set_id=golden.id,
                    job_id=job_id,
                    service_url=service_url,
                    revision=revision,
                    actor=actor,
                    started_at=now_ts(),
                    margin=margin,
                    settings=json.dumps(settings or {}),
                )
            ).inserted_primary_key[0]
        return int(run_id)

    def finish_run(
        self,
        run_id: int,
        scores: Sequence[DocumentScore],
        *,
        revision: str | None,
        error: str | None,
        settings: dict[str, Any] | None = None,
    ) -> bool:
        """Record a run's scores once: two pages scoring the same run at the same moment
        write it once (the second finds it finished and returns False). `settings`: the
        run's, now with what was observed (the page size sent, the revision)."""
        r = golden_runs_table
        values: dict[str, Any] = {"finished_at": now_ts(), "revision": revision, "error": error}
        if settings is not None:
            values["settings"] = json.dumps(settings)
        with self.store.transaction() as connection:
            claimed = connection.execute(
                r.update().where(r.c.id == run_id, r.c.finished_at.is_(None)).values(**values)
            ).rowcount
            if claimed and scores:
                connection.execute(
                    golden_scores_table.insert(),
                    [
                        {
                            "run_id": run_id,
                            "position": n,
                            "filename": s.filename,
                            "cer": s.cer,
                            "wer": s.wer,
                            "pages": s.pages,
                            "pages_failed": s.pages_failed,
                            "error": s.error,
                            "previous_cer": s.previous_cer,
                            "regression": s.regression,
                            "order_free_cer": s.order_free_cer,
                            "word_precision": s.word_precision,
                            "word_recall": s.word_recall,
                        }
                        for n, s in enumerate(scores)
                    ],
                )
        return bool(claimed)

    def runs(self, name: str | None = None, *, limit: int = 200) -> list[GoldenRun]:
        """Newest first, with their scores."""
        r, s, sc = golden_runs_table, golden_sets_table, golden_scores_table
        query = sa.select(r, s.c.name.label("set_name")).join(s, s.c.id == r.c.set_id)
        if name is not None:
            query = query.where(s.c.name == name)
        rows = self.store.read(query.order_by(r.c.started_at.desc(), r.c.id.desc()).limit(limit))
        ids = [row.id for row in rows]
        scores: dict[int, list[DocumentScore]] = {i: [] for i in ids}
        if ids:
            for row in self.store.read(
                sa.select(sc).where(sc.c.run_id.in_(ids)).order_by(sc.c.run_id, sc.c.position)
            ):
                scores[row.run_id].append(
                    DocumentScore(
                        row.filename,
                        row.cer,
                        row.wer,
                        row.pages,
                        row.pages_failed,
                        row.error,
                        row.previous_cer,
                        row.regression,
                        row.order_free_cer,
                        row.word_precision,
                        row.word_recall,
                    )
                )
        return [
            GoldenRun(
                id=row.id,
                set_name=row.set_name,
                job_id=row.job_id,
                service_url=row.service_url,
                revision=row.revision,
                actor=row.actor,
                started_at=from_ts(row.started_at),
                margin=row.margin,
                finished_at=from_ts(row.finished_at) if row.finished_at else None,
                scores=scores[row.id],
                error=row.error,
                settings=json.loads(row.settings) if row.settings else {},
            )
            for row in rows
        ]

    def run(self, run_id: int) -> GoldenRun | None:
        return next((run for run in self.runs() if run.id == run_id), None)

    def previous_scored(
        self, name: str, before_run: int, contents: str | None = None
    ) -> GoldenRun | None:
        """The last complete run of the set before `before_run`: what a regression is
        against (an incomplete run measured too little to be a baseline, and a run of other
        `contents`, the set's digest before an update, measured other documents)."""
        return next(
            (
                run
                for run in self.runs(name)
                if run.id < before_run
                and run.scored
                and run.scores
                and not run.incomplete
                and (contents is None or run.settings.get("set_contents", contents) == contents)
            ),
            None,
        )
