"""Environment variables as a table: one `Variable` per name, with its type, its default and
one line of documentation, so each package's settings module reads its variables one way and
the README's tables and `python -m console.settings` list the same rows.

Why a small table and not pydantic-settings: `ocr_core` is what the loan backend installs
(httpx, tenacity, ... and no pydantic), the settings are a few dozen flat strings and numbers,
and the one rule here (unset, empty or blank means the default; a bad value is one typed
error naming the variable and never echoing a secret) fits in this module.

This module reads no variable itself: each package's settings module (`ocr_core/_config.py`,
`console/settings.py`, `deploy/settings.py`) declares its rows and reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._exceptions import OCRError

T = TypeVar("T")

_EXPECTED: dict[object, str] = {int: "a whole number", float: "a number"}


class SettingsError(OCRError, ValueError):
    """An environment variable holds a value of the wrong kind. The message names the
    variable and what it needs; it repeats the value only when the variable is no secret."""

    def __init__(self, variable: str, expected: str, value: str | None = None) -> None:
        self.variable = variable
        shown = "" if value is None else f", not {value!r}"
        super().__init__(f"{variable} must be {expected}{shown}")


@dataclass(frozen=True, slots=True)
class Variable(Generic[T]):
    """One environment variable: `name`, the settings `field` it fills, how its text becomes
    a value (`parse`: int, float, str, `flag`, `entries`, ...), its `default` and one line of
    `doc`. `shown` is the default as the README writes it when that is not `default` itself
    (a computed or borrowed default); `secret` values are never repeated in errors or lists."""

    name: str
    field: str
    parse: Callable[[str], T]
    default: T
    doc: str
    shown: str | None = None
    secret: bool = False

    def read(self, env: Mapping[str, str]) -> T:
        """The value in `env`: the default when unset, empty or blank."""
        raw = env.get(self.name)
        if raw is None or not raw.strip():
            return self.default
        try:
            return self.parse(raw.strip())
        except ValueError:
            expected = _EXPECTED.get(self.parse, f"a valid {self.field}")
            raise SettingsError(self.name, expected, None if self.secret else raw) from None

    @property
    def shown_default(self) -> str:
        """The default as the README and the listing write it."""
        if self.shown is not None:
            return self.shown
        value = self.default
        if value is None or value == () or value == "":
            return "none"
        if isinstance(value, bool):
            return "`1`" if value else "`0`"
        if isinstance(value, float):  # as written by hand: 30, 0.000018
            return "`" + f"{value:.10f}".rstrip("0").rstrip(".") + "`"
        if isinstance(value, tuple):
            return ", ".join(f"`{item}`" for item in value)
        return f"`{value}`"


def flag(text: str) -> bool:
    """A yes/no variable: 0, false, no and off are no; anything else is yes."""
    return text.lower() not in ("0", "false", "no", "off")


def entries(text: str) -> tuple[str, ...]:
    """A comma-separated list, each entry stripped and lower-cased, empty ones dropped."""
    return tuple(item.strip().lower() for item in text.split(",") if item.strip())


def markdown_table(variables: Iterable[Variable[object]]) -> str:
    """The rows as the README's table: variable, default, meaning."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{v.name}` | {v.shown_default} | {v.doc} |" for v in variables]
    return "\n".join(lines)


def listing(variables: Iterable[Variable[object]], env: Mapping[str, str]) -> str:
    """Each variable, its default and what `env` sets it to (a secret only as "set")."""
    lines = []
    for v in variables:
        raw = env.get(v.name)
        now = "unset" if raw is None else ("set" if v.secret else repr(raw))
        lines.append(f"{v.name}  (default {v.shown_default}; now {now})\n    {v.doc}")
    return "\n".join(lines)
