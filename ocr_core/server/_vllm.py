"""`--engine vllm`: hand the process over to the real `vllm serve` with the image's flags."""

from __future__ import annotations

import importlib.util
import os
import shutil

from gpu_image.serve_config import MODEL_ID, vllm_command


class VllmUnavailable(RuntimeError):
    """vLLM is not installed here; the local server's CPU engines still are."""


def command(port: int, host: str, served_model_name: str = MODEL_ID) -> list[str]:
    """The `vllm serve` command line, from gpu_image.serve_config (the one place flags live).

    Only the address and the name clients ask for may differ from the image's command.
    """
    argv = vllm_command(port, host)
    if served_model_name != MODEL_ID:
        argv += ["--served-model-name", served_model_name]
    return argv


def exec_vllm(port: int, host: str, served_model_name: str = MODEL_ID) -> None:
    """Replace this process with `vllm serve` (never returns), or raise VllmUnavailable."""
    if importlib.util.find_spec("vllm") is None:
        raise VllmUnavailable(
            "--engine vllm needs the vllm package (and a GPU); it is not installed. "
            "Use --engine rapidocr for the CPU engine."
        )
    argv = command(port, host, served_model_name)
    executable = shutil.which(argv[0])
    if executable is None:
        raise VllmUnavailable("vllm is importable but its `vllm` command is not on PATH")
    os.execv(executable, argv)
