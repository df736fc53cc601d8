"""Golden sets are registered once by name and read back as they were given."""

from __future__ import annotations

import pytest

from console._store import Store
from console.golden import GoldenDocument, GoldenSetError, GoldenStore

DOC = GoldenDocument("a.png", b"\x89PNG", "alpha\fbeta", "a.txt")


def test_a_registered_set_reads_back_with_its_documents(golden: GoldenStore) -> None:
    registered = golden.register("forms", [DOC], actor="ana", source="/data/forms")
    assert (registered.name, registered.documents, registered.actor) == ("forms", 1, "ana")
    assert golden.documents(registered.id) == [DOC]
    assert [s.name for s in golden.sets()] == ["forms"]


def test_a_name_is_registered_once(golden: GoldenStore) -> None:
    golden.register("forms", [DOC], actor="ana", source="x")
    with pytest.raises(GoldenSetError, match="'forms' is already registered"):
        golden.register("forms", [DOC], actor="bob", source="y")


def test_a_set_without_documents_is_refused(golden: GoldenStore) -> None:
    with pytest.raises(GoldenSetError, match="no document paired with a text"):
        golden.register("empty", [], actor="ana", source="x")


def test_an_unknown_set_names_the_registered_ones(golden: GoldenStore) -> None:
    golden.register("forms", [DOC], actor="ana", source="x")
    with pytest.raises(GoldenSetError, match=r"no golden set named 'nope' \(registered: forms\)"):
        golden.get("nope")


def test_sets_survive_reopening_the_store(store: Store, golden: GoldenStore) -> None:
    golden.register("forms", [DOC], actor="ana", source="x")
    assert store.path is not None
    reopened = Store(store.path)
    try:
        assert [s.name for s in GoldenStore(reopened).sets()] == ["forms"]
    finally:
        reopened.close()


def test_a_run_is_scored_once_when_two_pages_score_it_together(golden: GoldenStore) -> None:
    from console.golden import DocumentScore

    found = golden.register("forms", [DOC], actor="ana", source="x")
    run_id = golden.add_run(
        found, job_id=1, service_url="http://s", revision=None, actor="ana", margin=0.02
    )
    score = DocumentScore("a.png", 0.1, 0.2, 2, 0)
    assert golden.finish_run(run_id, [score], revision="r", error=None)
    assert not golden.finish_run(run_id, [score], revision="r", error=None)
    assert golden.run(run_id).scores == [score]  # type: ignore[union-attr]
