"""Golden documents' bytes live in the object store, as jobs' documents do; a document
registered in its row before (migration 0004) stays readable."""

from __future__ import annotations

import sqlalchemy as sa

from console._store import Store
from console.golden import GoldenDocument, GoldenStore
from console.golden._tables import golden_documents_table, golden_sets_table

DOC = GoldenDocument("a.png", b"\x89PNG scan bytes", "alpha", "a.txt")


def test_a_registered_document_keeps_its_bytes_out_of_the_database(
    store: Store, golden: GoldenStore
) -> None:
    registered = golden.register("forms", [DOC], actor="ana", source="x")
    [(data, key)] = store.read(
        sa.select(golden_documents_table.c.data, golden_documents_table.c.object_key)
    )
    assert data == b""
    assert store.objects.read(key) == DOC.data
    assert golden.documents(registered.id) == [DOC]


def test_a_document_stored_in_its_row_before_the_object_store_stays_readable(
    store: Store, golden: GoldenStore
) -> None:
    with store.transaction() as connection:
        set_id = connection.execute(
            golden_sets_table.insert().values(name="old", created_at=0.0, actor="ana", source="x")
        ).inserted_primary_key[0]
        connection.execute(
            golden_documents_table.insert().values(
                set_id=set_id,
                position=0,
                filename=DOC.filename,
                data=DOC.data,
                object_key=None,
                expected_text=DOC.expected_text,
                text_filename=DOC.text_filename,
            )
        )
    assert golden.documents(set_id) == [DOC]
