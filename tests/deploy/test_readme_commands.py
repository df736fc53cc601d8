"""The READMEs' canary commands work as written (issue 35, item 8): each block sets the
project before the first deploying command, every `python -m deploy` and `python -m
console.golden canary` line parses, and the dry run, run in the block's environment against a
store with a measured set, prints the plan and contacts nothing."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from console.cli.canary import _parser as canary_parser
from console.cli.canary import main as canary_main
from deploy._cli import _parser
from tests.console.golden.test_gate import measured_set
from tests.fakes.google_run import FakeRun

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"```(?:sh|bash)\n(.*?)```", re.S)
CANARY = "python -m console.golden canary"


def _canary_blocks() -> list[tuple[str, str]]:
    blocks = []
    for readme in (ROOT / "README.md", ROOT / "deploy" / "README.md"):
        for n, block in enumerate(FENCE.findall(readme.read_text())):
            if CANARY in block:
                blocks.append((f"{readme.relative_to(ROOT)}#{n}", block))
    return blocks


BLOCKS = _canary_blocks()


def _lines(block: str) -> list[str]:
    """Shell lines with continuations joined and comments dropped."""
    joined = block.replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in joined.splitlines() if line.strip()]


def _argv(line: str, sha: str, words: int) -> list[str]:
    """The arguments after the command's first `words` words."""
    line = line.replace("$(git rev-parse HEAD)", sha).replace("$SHA", sha)
    return shlex.split(line)[words:]


def test_the_readmes_have_canary_blocks() -> None:
    assert len(BLOCKS) >= 3  # README's, deploy/README's canary section and its first deploy


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_canary_block_sets_the_project_before_deploying(where: str, block: str) -> None:
    lines = _lines(block)
    first_deploy = next(
        i for i, line in enumerate(lines) if "python -m deploy" in line or CANARY in line
    )
    assert any("GOOGLE_CLOUD_PROJECT=" in line for line in lines[:first_deploy]), where


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_every_deploy_line_of_a_canary_block_parses(where: str, block: str) -> None:
    for line in _lines(block):  # SystemExit on a bad flag
        if line.startswith("python -m deploy"):
            _parser().parse_args(_argv(line, "c0ffee2", 3))
        elif line.startswith(CANARY):
            canary_parser().parse_args(_argv(line, "c0ffee2", 4))


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_canary_blocks_dry_run_prints_the_plan_in_the_blocks_environment(
    where: str, block: str, fake_run: FakeRun, tmp_path: Path
) -> None:
    lines = _lines(block)
    exported = {
        key: value
        for line in lines
        if line.startswith(("export ", "GOOGLE_CLOUD_PROJECT="))
        for key, value in re.findall(r"([A-Z_]+)=([^\s$]+)", line)
    }
    [dry_run] = [line for line in lines if CANARY in line and "--dry-run" in line]
    set_name = _argv(dry_run, "c0ffee2", 4)[0]
    measured_set(tmp_path / "data", tmp_path / "set")
    data = tmp_path / "data"
    if set_name != "photo":  # the block's set, registered under its name
        _rename_set(data, set_name)
    env = {
        **exported,
        "LIGHTONOCR_DATA_DIR": str(data),
        "LIGHTONOCR_RUN_ENDPOINT": fake_run.address,
    }
    out, err = io.StringIO(), io.StringIO()

    code = canary_main(_argv(dry_run, "c0ffee2", 4), env=env, out=out, err=err)

    assert code == 0, err.getvalue()
    assert "canary plan for service lightonocr (my-project" in out.getvalue()
    assert fake_run.requests == []


def _rename_set(data: Path, name: str) -> None:
    from console._store import Store
    from console.golden._tables import golden_sets_table

    store = Store.in_dir(data)
    try:
        with store.transaction() as connection:
            connection.execute(golden_sets_table.update().values(name=name))
    finally:
        store.close()
