"""serve_config: the context budget arithmetic, the pinned revision, the model download."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_image import serve_config
from ocr_core import ClientSettings
from ocr_core._config import DocumentSettings

IMAGE_DIR = Path(serve_config.__file__).resolve().parent


def _flag(name: str) -> str:
    flags = list(serve_config.VLLM_FLAGS)
    return flags[flags.index(name) + 1]


def test_the_largest_page_costs_55_by_55_image_tokens() -> None:
    # 1540 px / (14 px patch x 2 merge) = 55 cells a side.
    assert serve_config.image_tokens(1540, 1540) == 3025


@pytest.mark.parametrize(("width", "height"), [(1540, 1190), (1190, 1540), (29, 28), (1, 1)])
def test_image_tokens_round_each_side_up_as_the_pixtral_processor_does(
    width: int, height: int
) -> None:
    # transformers' pixtral `_num_image_tokens`: (side - 1) // cell + 1 per side.
    cell = serve_config.PATCH_SIZE_PX * serve_config.SPATIAL_MERGE
    expected = ((width - 1) // cell + 1) * ((height - 1) // cell + 1)

    assert serve_config.image_tokens(width, height) == expected


def test_the_context_holds_the_largest_page_and_the_whole_output_budget() -> None:
    worst_page = serve_config.image_tokens(1540, 1540)
    context = int(_flag("--max-model-len"))

    assert context == serve_config.MAX_MODEL_LEN == 8192
    assert context >= worst_page + serve_config.MAX_OUTPUT_TOKENS + 100  # + the chat template


def test_the_budget_uses_the_clients_own_page_size_and_max_tokens() -> None:
    # If the client renders larger pages or asks for more tokens, the context must follow.
    assert DocumentSettings().longest_side == serve_config.PAGE_LONGEST_SIDE_PX
    assert ClientSettings().max_tokens == serve_config.MAX_OUTPUT_TOKENS
    assert ClientSettings().model == serve_config.MODEL_ID


def test_vllm_serves_the_pinned_revision() -> None:
    assert _flag("--revision") == serve_config.MODEL_REVISION
    assert len(serve_config.MODEL_REVISION) == 40


@pytest.mark.parametrize(
    ("command", "local_only"), [("download-model", "False"), ("check-model", "True")]
)
def test_the_build_downloads_exactly_the_pinned_revision(
    tmp_path: Path, command: str, local_only: str
) -> None:
    # huggingface_hub exists only in the image; a stand-in on PYTHONPATH records the call
    # the Dockerfile's `python3 /build/serve_config.py ...` makes.
    hub = tmp_path / "huggingface_hub"
    hub.mkdir()
    (hub / "__init__.py").write_text(
        "def snapshot_download(repo_id, revision=None, local_files_only=False):\n"
        "    return f'{repo_id}@{revision} local_files_only={local_files_only}'\n"
    )
    done = subprocess.run(
        [sys.executable, str(IMAGE_DIR / "serve_config.py"), command],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{serve_config.MODEL_ID}@{serve_config.MODEL_REVISION} local_files_only={local_only}"
    )


def test_an_unknown_build_command_is_refused() -> None:
    assert serve_config.main(["download"]) == 2
