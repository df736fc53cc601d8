"""The ONE place the vLLM serving flags live.

Read by the image's entrypoint (`gpu_image/entrypoint.py`), by the local launcher
(`python -m ocr_core.server --engine vllm`), by the deploy spec (port, model) and by the docs.
Standard library only: the image's Python imports it with nothing else installed.
"""

from __future__ import annotations

import json

MODEL_ID = "lightonai/LightOnOCR-2-1B"
VLLM_IMAGE = "vllm/vllm-openai:v0.11.2"
TRANSFORMERS_VERSION = "4.57.1"
HF_HOME = "/model-cache"
DEFAULT_PORT = 8000
MAX_NUM_SEQS = 8
MAX_MODEL_LEN = 4096

VLLM_FLAGS: tuple[str, ...] = (
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
