"""Does a new revision really run on its GPU? Read from its own startup log, before traffic.

Why here and not in a health check: vLLM answers `/health` on a CPU-only torch too slowly to
notice, and a driver that is too old for the image's CUDA does not stop the container. Cloud
Run documents its L4 driver as 535 (CUDA 12.2) while vLLM 0.11.2's torch 2.9 is built for
CUDA 12.8; whether NVIDIA's forward-compatibility libraries bridge that on Cloud Run is not
something the documentation settles, so the first deploy must show it. These are the lines
torch, the CUDA runtime and vLLM print either way (matched on their text, any severity):

- GPU seen: vLLM "Automatically detected platform cuda."
- driver mismatch: torch "The NVIDIA driver on your system is too old (found version 12020)",
  CUDA "CUDA driver version is insufficient for CUDA runtime version", forward-compatibility
  errors 803 ("system has unsupported display driver / cuda driver combination") and 804
  ("forward compatibility was attempted on non supported HW"), "No CUDA GPUs are available",
  vLLM "Failed to infer device type".
- model from the image, no download: vLLM "Model loading took" and no Hub fetch
  ("Downloading", huggingface.co URLs; the image sets HF_HUB_OFFLINE=1, so a fetch is a miss
  of the baked cache).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

GPU_SEEN = re.compile(r"Automatically detected platform cuda\b")
MODEL_LOADED = re.compile(r"Model loading took")
DRIVER_PROBLEMS = re.compile(
    r"NVIDIA driver on your system is too old"
    r"|CUDA driver version is insufficient"
    r"|unsupported display driver / cuda driver combination"
    r"|forward compatibility was attempted on non supported HW"
    r"|No CUDA GPUs are available"
    r"|Failed to infer device type",
    re.IGNORECASE,
)
DOWNLOADS = re.compile(r"\bDownloading\b|https://huggingface\.co/\S+/resolve/", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StartupCheck:
    """What the startup log showed; `problems` empty means the revision passed."""

    gpu_seen: bool
    model_loaded: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_startup(messages: Iterable[str]) -> StartupCheck:
    """Judge a revision's startup from its log messages (in any order)."""
    lines = list(messages)
    gpu = any(GPU_SEEN.search(line) for line in lines)
    loaded = any(MODEL_LOADED.search(line) for line in lines)
    problems = [f"driver: {line.strip()[:200]}" for line in lines if DRIVER_PROBLEMS.search(line)]
    problems += [
        f"download at startup: {line.strip()[:200]}" for line in lines if DOWNLOADS.search(line)
    ]
    if not gpu:
        problems.append("no line shows the GPU in use (vLLM never said 'platform cuda')")
    if not loaded:
        problems.append("no line shows the model loaded ('Model loading took')")
    return StartupCheck(gpu_seen=gpu, model_loaded=loaded, problems=problems)


__all__ = ["StartupCheck", "check_startup"]
