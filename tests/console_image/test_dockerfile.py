"""The console image's Dockerfile: CPU only, never root, our entrypoint, a context that has
what it copies. No Docker engine here, so the file is parsed (dockerfile-parse) and every
COPY source is checked against the repository and the image's ignore file."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "console_image"


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    parser = DockerfileParser(path=str(IMAGE / "Dockerfile"))
    return [
        (i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"
    ]


def _ignored(path: str) -> bool:
    """Docker's rule: the last pattern that matches decides; `!` lets a path back in."""
    ignored = False
    for line in (IMAGE / "Dockerfile.dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if pattern.startswith("**/"):
            matched = any(part == pattern[3:] for part in Path(path).parts)
        else:
            matched = fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")
        if matched:
            ignored = not negate
    return ignored


def test_the_image_is_cpu_only_python(instructions: list[tuple[str, str]]) -> None:
    [base] = [v for k, v in instructions if k == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base)
    text = (IMAGE / "Dockerfile").read_text().lower()
    assert "nvidia" not in text and "cuda" not in text and "vllm" not in text


def test_the_console_runs_as_an_unprivileged_user(instructions: list[tuple[str, str]]) -> None:
    kinds = [k for k, _ in instructions]
    users = [v for k, v in instructions if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")


def test_the_entrypoint_is_the_console_image_module(instructions: list[tuple[str, str]]) -> None:
    [entrypoint] = [v for k, v in instructions if k == "ENTRYPOINT"]
    assert entrypoint == '["python", "-m", "console_image.entrypoint"]'


def test_the_postgres_and_console_extras_are_installed(instructions: list[tuple[str, str]]) -> None:
    runs = " ".join(v for k, v in instructions if k == "RUN")
    assert '".[console,postgres]"' in runs


def test_every_copied_file_exists_and_is_in_the_build_context(
    instructions: list[tuple[str, str]],
) -> None:
    sources = [
        source
        for kind, value in instructions
        if kind == "COPY"
        for source in value.split()[:-1]
        if not source.startswith("--")
    ]
    assert "console" in sources and "ocr_core" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source), f"{source} is left out of the build context"


def test_the_build_context_leaves_out_tests_and_local_data() -> None:
    for path in ("tests/console/test_app.py", ".venv/bin/python", ".lightonocr/console.sqlite3"):
        assert _ignored(path)
    assert _ignored("console/__pycache__/app.cpython-311.pyc")
    assert not _ignored("console/migrations/script.py.mako")
