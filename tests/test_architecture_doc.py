"""docs/ARCHITECTURE.md held to the tree: a doc that names a module that moved, or misses a
package, is found here rather than by a newcomer who follows it to nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PRODUCT = ("ocr_core", "console", "deploy", "gpu_image", "console_image")
PREFIXES = (*PRODUCT, "tests")
QUESTIONS_HEADING = "## A newcomer's twelve questions"

# `console/jobs/_ledger.py` or `console/jobs/`: a path from the repository's root.
_PATH = re.compile(r"(?<![\w/.])(?:" + "|".join(PREFIXES) + r")(?:/\w+)*/(?:\w+\.py\b|(?![\w.]))")
# `_ledger.py` or `jobs/_pages.py`: a module named by its file name alone.
_MODULE = re.compile(r"(?<![\w.])(\w+\.py)\b")


def _doc() -> str:
    return DOC.read_text()


def named_paths(text: str) -> set[str]:
    return {match.group(0) for match in _PATH.finditer(text)}


def missing_paths(text: str) -> list[str]:
    return sorted(path for path in named_paths(text) if not (ROOT / path).exists())


def _product_file_names() -> set[str]:
    return {path.name for package in PRODUCT for path in (ROOT / package).rglob("*.py")}


def missing_modules(text: str) -> list[str]:
    """Module file names (outside the full paths, which `missing_paths` checks exactly) that
    no product package holds."""
    bare = _PATH.sub(" ", text)
    return sorted(set(_MODULE.findall(bare)) - _product_file_names())


def package_directories() -> list[str]:
    return sorted(
        f"{init.parent.relative_to(ROOT).as_posix()}/"
        for package in PRODUCT
        for init in (ROOT / package).rglob("__init__.py")
    )


def unnamed_packages(text: str) -> list[str]:
    named = named_paths(text)
    return [package for package in package_directories() if package not in named]


def question_rows(text: str) -> list[list[str]]:
    """The cells of each body row of the table under the twelve questions' heading."""
    _, found, rest = text.partition(QUESTIONS_HEADING)
    if not found:
        return []
    rows = []
    for line in rest.strip().splitlines():
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append(cells)
    return [row for row in rows[1:] if not set("".join(row)) <= set("-: ")]


def bad_answers(rows: list[list[str]]) -> list[str]:
    """Rows whose file column does not name exactly one existing file."""
    bad = []
    for row in rows:
        files = [path for path in named_paths(row[1]) if path.endswith(".py")]
        if len(files) != 1 or not (ROOT / files[0]).is_file():
            bad.append(" | ".join(row[:2]))
    return bad


def test_every_path_the_doc_names_exists() -> None:
    assert named_paths(_doc()), "the doc names no path at all: the pattern is wrong"
    assert missing_paths(_doc()) == []


def test_every_module_the_doc_names_exists_in_the_product() -> None:
    assert missing_modules(_doc()) == []


def test_every_package_directory_is_named_by_its_full_path() -> None:
    assert "console/jobs/" in package_directories()
    assert unnamed_packages(_doc()) == []


def test_the_twelve_questions_are_answered_with_one_existing_file_each() -> None:
    rows = question_rows(_doc())
    assert len(rows) == 12
    assert bad_answers(rows) == []


@pytest.mark.parametrize(
    ("check", "drifted"),
    [
        (missing_paths, "see `console/jobs/_cli.py` and `deploy/_canary/`"),
        (missing_modules, "the canary is in _canary_cli.py"),
        (lambda text: unnamed_packages(text)[:1], "only `ocr_core/` here"),
        (
            lambda text: bad_answers(question_rows(text)),
            f"{QUESTIONS_HEADING}\n\n| Q | File |\n| - | - |\n"
            "| retries | `ocr_core/_retries.py` |\n",
        ),
    ],
    ids=["path", "module", "package", "answer"],
)
def test_the_checks_see_a_drifted_doc(check: Callable[[str], list[str]], drifted: str) -> None:
    assert check(drifted) != []
