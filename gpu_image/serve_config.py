"""The ONE place the vLLM serving flags, the model and its pinned revision live.

Read by the image's entrypoint (`gpu_image/entrypoint.py`), by the Dockerfile's model
download (`python3 serve_config.py download-model`), by the local launcher
(`python -m ocr_core.server --engine vllm`), by the deploy spec (port, model, concurrency)
and by the docs. Standard library only: the image's Python imports it with nothing else
installed, and the Dockerfile runs it before any of our code is copied in.
"""

from __future__ import annotations

import json
import math
import sys

MODEL_ID = "lightonai/LightOnOCR-2-1B"
# The Hub commit the image bakes in and vLLM loads (`--revision`): a rebuild gets the same
# weights, processor and chat template, never whatever `main` has become. Change it on
# purpose, after checking the new revision's output, e.g. with
#   python -c "from huggingface_hub import HfApi; print(HfApi().model_info('$MODEL_ID').sha)"
# This sha was checked (offline, 2026-11) against a copy of the Hub's blame page for the
# repository's README at this commit (`/lightonai/LightOnOCR-2-1B/blame/c70b084.../README.md`),
# where c70b084 is one of the README's commits; the image build fails loudly if the Hub
# no longer has it (snapshot_download of an unknown revision raises).
MODEL_REVISION = "c70b08423857ca595121da92243de40267a0b0c7"
VLLM_IMAGE = "vllm/vllm-openai:v0.11.2"
TRANSFORMERS_VERSION = "4.57.1"
HF_HOME = "/model-cache"
DEFAULT_PORT = 8000
MAX_NUM_SEQS = 8

# --- the context budget ---------------------------------------------------------------------
# vLLM stops a request when prompt + output reach --max-model-len, and the prompt counts the
# page's image tokens (v1/core/sched/utils.py check_stop: num_tokens >= max_model_len ->
# FINISHED_LENGTH_CAPPED). So the context must hold the largest page's image plus the whole
# output budget, or dense pages come back cut short.
PAGE_LONGEST_SIDE_PX = 1540  # what the client renders (the model card's resolution)
PATCH_SIZE_PX = 14  # Pixtral vision encoder patch
SPATIAL_MERGE = 2  # patches merged 2x2 into one token before the decoder
MAX_OUTPUT_TOKENS = 4096  # the card's max_tokens; the client's default
# The chat template around the image (BOS, [INST], [/INST], role markers) and rounding.
PROMPT_SLACK_TOKENS = 256
CONTEXT_ROUNDING = 1024


def image_tokens(width_px: int, height_px: int) -> int:
    """Tokens one image costs, as vLLM's LightOnOCR processor counts them.

    Each side is cut into ceil(side / (patch * merge)) cells (transformers'
    pixtral `_num_image_tokens`, used by vLLM's `PixtralHFEncoderInfo.get_patch_grid_size`);
    LightOnOCR adds no row-break or end tokens, so the count is columns x rows.
    """
    cell = PATCH_SIZE_PX * SPATIAL_MERGE
    return math.ceil(width_px / cell) * math.ceil(height_px / cell)


def max_model_len() -> int:
    """The context for the worst page: a square at the longest side, plus every output token."""
    worst_page = image_tokens(PAGE_LONGEST_SIDE_PX, PAGE_LONGEST_SIDE_PX)
    needed = worst_page + MAX_OUTPUT_TOKENS + PROMPT_SLACK_TOKENS
    return math.ceil(needed / CONTEXT_ROUNDING) * CONTEXT_ROUNDING


MAX_MODEL_LEN = max_model_len()

VLLM_FLAGS: tuple[str, ...] = (
    "--revision",
    MODEL_REVISION,
    "--gpu-memory-utilization",
    "0.80",
    "--max-num-seqs",
    str(MAX_NUM_SEQS),
    "--max-model-len",
    str(MAX_MODEL_LEN),
    "--limit-mm-per-prompt",
    json.dumps({"image": 1}),
    "--mm-processor-cache-gb",
    "0",
    "--no-enable-prefix-caching",
)


def vllm_command(
    port: int = DEFAULT_PORT, host: str = "0.0.0.0", model: str = MODEL_ID
) -> list[str]:
    """The full `vllm serve` command line, as the image and the local launcher run it."""
    return ["vllm", "serve", model, "--host", host, "--port", str(port), *VLLM_FLAGS]


def download_model(*, local_files_only: bool = False) -> str:
    """Fetch the pinned revision into $HF_HOME (the image build), or with `local_files_only`
    prove the cache alone has it (the build's offline check); returns the snapshot path."""
    from huggingface_hub import snapshot_download  # type: ignore[import-not-found]  # image only

    path: str = snapshot_download(
        MODEL_ID, revision=MODEL_REVISION, local_files_only=local_files_only
    )
    return path


def main(argv: list[str]) -> int:
    """`download-model` / `check-model` for the Dockerfile; `revision` prints the pin."""
    commands = {
        "download-model": lambda: print(download_model()),
        "check-model": lambda: print(download_model(local_files_only=True)),
        "revision": lambda: print(MODEL_REVISION),
    }
    usage = f"usage: serve_config.py {{{','.join(commands)}}}"
    if argv in (["--help"], ["-h"]):
        print(usage)
        return 0
    if len(argv) != 1 or argv[0] not in commands:
        print(usage, file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
