"""An encrypted PDF's password crosses from the page to the worker through the store, and
never lies there in plain text: not in the database file, not in its write-ahead log."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from console._store import Store
from console.jobs._passwords import SECRET_KEY_ENV, give_password, take_password

PASSWORD = "open-sesame-7c1f2e9a"


def _files_holding(folder: Path, text: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.is_file() and text.encode() in p.read_bytes()]


def test_a_password_is_taken_once(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    give_password(store, 7, PASSWORD)
    assert take_password(store, 7) == PASSWORD
    assert take_password(store, 7) is None


def test_no_file_of_the_store_holds_the_password_in_plain_text(tmp_path: Path) -> None:
    store = Store.in_dir(tmp_path)
    give_password(store, 7, PASSWORD)
    assert _files_holding(tmp_path, PASSWORD) == []  # the WAL included, while it waits
    assert take_password(store, 7) == PASSWORD
    assert _files_holding(tmp_path, PASSWORD) == []


def test_the_key_file_is_private_to_its_user(tmp_path: Path) -> None:
    give_password(Store.in_dir(tmp_path), 1, PASSWORD)
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_a_password_given_under_another_key_is_asked_for_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.in_dir(tmp_path)
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    give_password(store, 3, PASSWORD)
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    assert take_password(store, 3) is None
    assert take_password(store, 3) is None  # and the unreadable one is gone
