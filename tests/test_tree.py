"""Rules of the tree that a reviewer would otherwise have to check by reading every file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


# The console's layers, top to bottom: a module may import its own layer and those below,
# never one above. The entry points (the CLIs, the UI floor, `__main__`s, benches) build a
# console from the composition root (`runtime`), which wires the door (`service`) over the
# domain (jobs, golden sets, review, backfill, metrics, platforms) over the store.
LAYERS: dict[str, int] = {
    "console.cli": 6,
    "console.ui": 6,
    "console._supervisor": 6,
    "console.worker": 5,
    "console.runtime": 4,
    "console.service": 3,
    "console.jobs": 2,
    "console.golden": 2,
    "console.review": 2,
    "console.backfill": 2,
    "console.metrics": 2,
    "console.platforms": 2,
    "console._compare": 2,
    "console._references": 2,
    "console._overlay": 2,
    "console._review_overlay": 2,
    "console._exports": 2,
    "console._store": 1,
    "console._objects": 1,
    "console._object_cache": 1,
    "console.migrations": 1,
    "console._running": 1,
    "console._disk": 1,
    "console._recurring": 1,
    "console._data_lock": 1,
    "console._identity": 0,
    "console._render": 0,
    "console._loopback": 0,
    "console._host_guard": 0,
    "console": 0,
}
ENTRY = 6


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (inside functions too);
    `from console import _exports` names console._exports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _layer(module: str) -> int | None:
    name = module.rsplit(".", 1)[-1]
    if module.startswith("console") and (name == "__main__" or name.startswith("bench")):
        return ENTRY  # a command a person runs, like the CLIs
    while module:
        if module in LAYERS:
            return LAYERS[module]
        module = module.rpartition(".")[0]
    return None


def test_every_console_module_has_a_layer() -> None:
    unplaced = [_module(path) for path in _python_files("console") if _layer(_module(path)) is None]
    assert unplaced == []


def test_no_console_import_points_up_a_layer() -> None:
    upward = []
    for path in _python_files("console"):
        here = _layer(_module(path))
        assert here is not None
        for imported in _imported_modules(path):
            there = _layer(imported) if imported.startswith("console") else None
            if there is not None and there > here and not _module(path).startswith(imported):
                upward.append(f"{_module(path)} -> {imported}")
    assert upward == []


def test_the_layer_rule_sees_an_upward_import() -> None:
    """The check above can fail: the door importing the worker would be caught."""
    assert _layer("console.service._door") < _layer("console.worker._worker")  # type: ignore[operator]
    assert _layer("console.jobs.bench_lanes") == ENTRY


def test_the_ui_does_not_import_the_worker_or_the_clis() -> None:
    reached = {
        f"{_module(path)} -> {imported}"
        for path in _python_files("console/ui")
        for imported in _imported_modules(path)
        if imported.startswith(("console.worker", "console.cli"))
    }
    assert reached == set()


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("deploy", ("console",)),
        ("ocr_core", ("console", "deploy", "console_image")),
        ("gpu_image", ("console", "deploy", "ocr_core", "console_image")),
    ],
)
def test_the_libraries_below_the_console_do_not_import_it(
    package: str, forbidden: tuple[str, ...]
) -> None:
    reached = {
        f"{_module(path)} -> {imported}"
        for path in _python_files(package)
        for imported in _imported_modules(path)
        if imported.split(".")[0] in forbidden
    }
    assert reached == set()
