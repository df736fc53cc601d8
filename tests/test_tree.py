"""Rules of the tree that a reviewer would otherwise have to check by reading every file."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr_core", "console", "deploy", "gpu_image", "console_image")
MAX_LINES = 400


def _python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_ui_floor_imports_streamlit() -> None:
    ui = ROOT / "console" / "ui"
    outside = [
        str(path.relative_to(ROOT))
        for path in _python_files(*PACKAGES)
        if "streamlit" in _imports(path) and ui not in path.parents
    ]
    assert outside == []


def test_the_ui_floor_holds_the_streamlit_files() -> None:
    """The rule above is not empty: the pages and the app do import streamlit."""
    ui_files = _python_files("console/ui")
    assert sum("streamlit" in _imports(path) for path in ui_files) >= 8


def test_no_python_file_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _python_files(*PACKAGES, "tests")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
