"""The settings tables: every LIGHTONOCR_* variable the product code names is declared in a
package's settings module, only those modules read one, each table matches its settings
object, and the README has each variable's row (default and meaning) exactly once."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from console import settings as console_settings
from deploy import settings as deploy_settings
from ocr_core import _config as core_settings
from ocr_core._config import ClientSettings, DocumentSettings
from ocr_core._sandbox import SandboxLimits
from ocr_core._variables import Variable, markdown_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr_core", "console", "deploy", "gpu_image")
TABLES: dict[str, tuple[Variable[Any], ...]] = {
    "ocr_core/_config.py": core_settings.VARIABLES,
    "console/settings.py": console_settings.VARIABLES,
    "deploy/settings.py": deploy_settings.VARIABLES,
}
# A variable's name as written in code or prose; `LIGHTONOCR_RATE_*` names a family.
NAME = re.compile(r"\bLIGHTONOCR_[A-Z0-9_]*[A-Z0-9]\b(?!_?\*)")
READERS = {"get", "getenv"}


def _product_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _declared() -> dict[str, list[Variable[Any]]]:
    by_name: dict[str, list[Variable[Any]]] = {}
    for table in TABLES.values():
        for variable in table:
            by_name.setdefault(variable.name, []).append(variable)
    return by_name


def test_every_variable_the_code_names_is_declared_in_a_settings_table() -> None:
    declared = _declared()
    unknown = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in _product_files()
        for name in set(NAME.findall(path.read_text(encoding="utf-8")))
        if name not in declared
    )
    assert unknown == []


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for each place a LIGHTONOCR_* variable is looked up: `x.get(NAME)`,
    `getenv(NAME)`, `env[NAME]` read, `NAME in env`, with NAME a literal or a `*_ENV` name.
    Writing one for a child process (`{NAME: value}`, `env[NAME] = value`) is no read."""

    def named(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value if node.value.startswith("LIGHTONOCR_") else None
        if isinstance(node, ast.Name) and node.id.endswith("_ENV"):
            return node.id
        return None

    found = []
    for node in ast.walk(tree):
        keys: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in READERS:
                keys = node.args[:1]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            keys = [node.slice]
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            keys = [node.left]
        found += [(node.lineno, name) for key in keys if (name := named(key))]
    return found


def test_no_module_but_the_settings_modules_reads_a_lightonocr_variable() -> None:
    reads = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _product_files()
        if str(path.relative_to(ROOT)) not in TABLES
        for line, name in _reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert reads == []


def test_the_reads_check_finds_a_read_through_a_constant() -> None:
    tree = ast.parse("X_ENV = 'LIGHTONOCR_X'\nvalue = env.get(X_ENV)\nok = {X_ENV: '1'}\n")
    assert _reads(tree) == [(2, "X_ENV")]


def test_a_package_table_declares_each_name_once() -> None:
    for path, table in TABLES.items():
        names = [v.name for v in table]
        assert len(names) == len(set(names)), path


def test_a_name_in_two_tables_has_one_row() -> None:
    """Documented once: a variable two packages read (the console's operators, which
    `deploy console apply` passes on) has the same default and meaning in both."""
    for name, variables in _declared().items():
        assert len({markdown_table([v]) for v in variables}) == 1, name


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize(
    ("table", "fields"),
    [
        (console_settings.VARIABLES, _fields(console_settings.ConsoleSettings)),
        (deploy_settings.VARIABLES, _fields(deploy_settings.DeploySettings)),
    ],
    ids=["console", "deploy"],
)
def test_each_row_fills_one_field_of_its_settings_object(
    table: tuple[Variable[Any], ...], fields: set[str]
) -> None:
    assert sorted(v.field for v in table) == sorted(fields)


def test_the_client_rows_name_fields_of_the_client_and_the_sandbox() -> None:
    known = (
        _fields(ClientSettings)
        | {f"documents.{name}" for name in _fields(DocumentSettings)}
        | _fields(SandboxLimits)
    )
    assert {v.field for v in core_settings.VARIABLES} - known == set()


def test_a_default_written_by_hand_says_the_real_default() -> None:
    for variables in _declared().values():
        for v in variables:
            if v.shown is None or v.default in (None, (), ""):
                continue
            plain = dataclasses.replace(v, shown=None).shown_default.strip("`")
            assert plain in v.shown.replace("`", ""), v.name


def _readme_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\| `([A-Z0-9_]+)` \|", line):
            rows.setdefault(match.group(1), []).append(line)
    return rows


def test_every_declared_variable_has_its_row_in_the_readme_once() -> None:
    rows = _readme_rows()
    wrong = {}
    for name, variables in _declared().items():
        expected = markdown_table(variables[:1]).splitlines()[-1]
        if rows.get(name) != [expected]:
            wrong[name] = (rows.get(name), expected)
    assert wrong == {}


def test_every_variable_row_in_the_readme_is_declared() -> None:
    declared = _declared()
    named = [name for name in _readme_rows() if name.startswith("LIGHTONOCR_")]
    assert [name for name in named if name not in declared] == []


def test_the_console_listing_never_shows_a_secret() -> None:
    env = {"LIGHTONOCR_DATABASE_URL": "postgresql://u:hunter2@db/x", "LIGHTONOCR_TOKEN": "tkn"}
    text = console_settings.listing(console_settings.VARIABLES, env)
    assert "hunter2" not in text
    assert "LIGHTONOCR_DATABASE_URL  (default none: SQLite in the data folder; now set)" in text


def test_the_console_settings_repr_never_shows_a_secret() -> None:
    env = {"LIGHTONOCR_DATABASE_URL": "postgresql://u:hunter2@db/x", "LIGHTONOCR_SECRET_KEY": "k"}
    text = repr(console_settings.ConsoleSettings.from_env(env))
    assert "hunter2" not in text
    assert "database_url=<set>" in text
