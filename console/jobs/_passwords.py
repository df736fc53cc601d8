"""Passwords of encrypted PDFs, handed from the page (or CLI) to the worker's runner.

The console and its worker are separate processes (on a team deployment, perhaps separate
instances), so a password crosses through the store: written under its document's key and
taken (read and deleted) by the runner when it next opens the document. A deleted row is not
gone from a database's files (SQLite's write-ahead log, PostgreSQL's dead tuples and WAL),
so the password is stored encrypted (Fernet, from `cryptography`) with a key that is never in
the database: LIGHTONOCR_SECRET_KEY (a Fernet key; set the same one on every console of a
team deployment, e.g. from Secret Manager), else a key file made once in the data folder
(0600). A password the runner cannot decrypt (another key) counts as not given: the page asks
for it again. It never reaches a log or an audit row.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from console._store import Store, data_dir_from_env
from console.settings import SECRET_KEY, ConsoleSettings

SECRET_KEY_ENV = SECRET_KEY.name
KEY_FILE = "secret.key"
_KEY = "document.password:{document_id}"


def _key_file(folder: Path) -> bytes:
    path = folder / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:  # exclusive: two processes making it at once keep the first one's
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
    return key


def _fernet(store: Store) -> Fernet:
    key = (ConsoleSettings.from_env().secret_key or "").encode()
    if not key:
        key = _key_file(store.path.parent if store.path is not None else data_dir_from_env())
    return Fernet(key)


def give_password(store: Store, document_id: int, password: str) -> None:
    token = _fernet(store).encrypt(password.encode()).decode()
    store.set_setting(_KEY.format(document_id=document_id), {"fernet": token})


def take_password(store: Store, document_id: int) -> str | None:
    """The password given for `document_id` since the last take, removed from the store."""
    key = _KEY.format(document_id=document_id)
    stored = store.get_setting(key)
    if stored is None:
        return None
    store.delete_setting(key)
    token = stored.get("fernet") if isinstance(stored, dict) else None
    if not isinstance(token, str):
        return None  # written by an older console in plain text: ask again
    try:
        return _fernet(store).decrypt(token.encode()).decode()
    except InvalidToken:  # given under another key (another console's): ask again
        return None
