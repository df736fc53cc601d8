"""The canary gate cannot be opened by its input (issue 36, item 2; issue 35, item 8): an
empty set name, a margin outside [0, 1), an unknown set, a set never measured and a missing
image are refused with exit 2 by `python -m console.golden canary`, before the fake Cloud Run
server hears anything."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from console._store import Store
from console.cli.canary import main
from console.golden import DocumentScore, GoldenStore, load_folder
from console.jobs import JobStore, NewDocument
from tests.console.golden.conftest import phototest_set
from tests.fakes.google_run import FakeRun


def measured_set(
    data_dir: Path,
    set_folder: Path,
    *,
    with_run: bool = True,
    revision: str = "lightonocr-00001-abc",
    cer: float = 0.01,
) -> None:
    """Golden set "photo" in the store at `data_dir`, with one complete scored run (no OCR:
    the gate reads only whether one exists)."""
    store = Store.in_dir(data_dir)
    try:
        golden = GoldenStore(store)
        documents = load_folder(phototest_set(set_folder)).documents
        golden.register("photo", documents, actor="qa", source="test")
        if with_run:
            job = JobStore(store).create_job(
                [NewDocument("phototest.tif", b"x")], actor="qa", service_url="https://s"
            )
            run = golden.add_run(
                golden.get("photo"),
                job_id=job,
                service_url="https://s",
                revision=revision,
                actor="qa",
                margin=0.02,
            )
            score = DocumentScore("phototest.tif", cer, cer, pages=1, pages_failed=0)
            golden.finish_run(run, [score], revision=revision, error=None)
    finally:
        store.close()


@pytest.fixture
def env(run_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    measured_set(tmp_path / "data", tmp_path / "set")
    return {**run_env, "LIGHTONOCR_DATA_DIR": str(tmp_path / "data"), "LIGHTONOCR_AUTH": "none"}


def _exit_code(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(argv, env=env, out=out, err=err)
    except SystemExit as exit_:  # argparse's usage error
        code = int(exit_.code or 0)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
@pytest.mark.parametrize(
    "args",
    [
        ["", "--tag", "c0ffee2"],
        ["  ", "--tag", "c0ffee2"],
        ["photo", "--tag", "c0ffee2", "--margin", "nan"],
        ["photo", "--tag", "c0ffee2", "--margin", "inf"],
        ["photo", "--tag", "c0ffee2", "--margin", "5"],
        ["photo", "--tag", "c0ffee2", "--margin", "1"],
        ["photo", "--tag", "c0ffee2", "--margin=-1"],
        ["no-such-set", "--tag", "c0ffee2"],
        ["photo"],
    ],
    ids=["empty", "blank", "nan", "inf", "5", "1", "-1", "unknown-set", "no-tag"],
)
def test_a_gate_input_it_cannot_judge_is_refused_before_cloud_run_is_contacted(
    args: list[str], dry_run: list[str], env: dict[str, str], fake_run: FakeRun
) -> None:
    code, text = _exit_code([*args, *dry_run], env)

    assert code == 2, text
    assert fake_run.requests == []
    assert "the revision of None" not in text and "canary plan" not in text


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_set_never_measured_is_refused_before_cloud_run_is_contacted(
    dry_run: list[str], run_env: dict[str, str], fake_run: FakeRun, tmp_path: Path
) -> None:
    measured_set(tmp_path / "data", tmp_path / "set", with_run=False)
    env = {**run_env, "LIGHTONOCR_DATA_DIR": str(tmp_path / "data")}

    code, text = _exit_code(["photo", "--tag", "c0ffee2", *dry_run], env)

    assert code == 2, text
    assert "no complete run to compare with" in text
    assert fake_run.requests == []


def test_a_measured_set_and_a_digest_make_a_plan_named_by_the_digest(
    env: dict[str, str], fake_run: FakeRun
) -> None:
    image = "europe-west1-docker.pkg.dev/ocr-test/lightonocr/lightonocr-gpu@sha256:" + "ab" * 32
    code, text = _exit_code(["photo", "--image", image, "--dry-run"], env)

    assert code == 0, text
    assert "tag canary-abababababab" in text and image in text
    assert fake_run.requests == []
