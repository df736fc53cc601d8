"""Passwords of encrypted PDFs, handed from the page (or CLI) to the worker's runner.

The console and its worker are separate processes, so a password cannot pass in memory. It
is written to the store under its document's key and taken (read and deleted) by the runner
when it next opens the document: it stays in the store only until then, beside the document
it unlocks, and never reaches a log or an audit row.
"""

from __future__ import annotations

from console._store import Store

_KEY = "document.password:{document_id}"


def give_password(store: Store, document_id: int, password: str) -> None:
    store.set_setting(_KEY.format(document_id=document_id), password)


def take_password(store: Store, document_id: int) -> str | None:
    """The password given for `document_id` since the last take, removed from the store."""
    key = _KEY.format(document_id=document_id)
    password = store.get_setting(key)
    if password is not None:
        store.delete_setting(key)
    return str(password) if password is not None else None
