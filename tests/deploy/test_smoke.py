"""deploy._smoke: a revision's startup log says whether it runs on its GPU with the baked model.

The lines are as vLLM 0.11.2, torch and the CUDA runtime print them (the driver line is what
torch 2.9, built for CUDA 12.8, says on a 535 driver: CUDA 12.2 is version 12020)."""

from __future__ import annotations

from deploy._smoke import check_startup

GOOD = [
    "INFO 12-05 03:01:02 [__init__.py:216] Automatically detected platform cuda.",
    "(APIServer pid=1) INFO 12-05 03:01:05 [api_server.py:1839] vLLM API server version 0.11.2",
    "INFO 12-05 03:01:20 [gpu_model_runner.py:2602] Starting to load model lightonai/...",
    "INFO 12-05 03:01:41 [gpu_model_runner.py:2653] Model loading took 1.9 GiB and 20.1 s",
]


def test_a_revision_on_its_gpu_with_the_baked_model_passes() -> None:
    check = check_startup(GOOD)
    assert check.ok, check.problems
    assert (check.gpu_seen, check.model_loaded) == (True, True)


def test_a_driver_too_old_for_the_images_cuda_fails_the_revision() -> None:
    torch_warning = (
        "/usr/local/lib/python3.12/dist-packages/torch/cuda/__init__.py:182: UserWarning: CUDA "
        "initialization: The NVIDIA driver on your system is too old (found version 12020)."
    )
    check = check_startup([torch_warning, *GOOD[1:]])
    assert not check.ok
    assert any("too old (found version 12020)" in p for p in check.problems)
    assert check.gpu_seen is False  # vLLM never saw CUDA either


def test_a_forward_compatibility_error_fails_even_when_cuda_was_detected() -> None:
    error = (
        "RuntimeError: Error 803: system has unsupported display driver / cuda driver combination"
    )
    check = check_startup([*GOOD, error])
    assert [p for p in check.problems if p.startswith("driver:")] == [f"driver: {error}"]


def test_a_model_fetched_from_the_hub_at_startup_fails_the_revision() -> None:
    fetch = "Downloading 'model.safetensors' to '/model-cache/hub/models--lightonai...'"
    check = check_startup([*GOOD, fetch])
    assert check.problems == [f"download at startup: {fetch}"]


def test_a_log_without_the_model_loaded_is_not_a_pass() -> None:
    check = check_startup(GOOD[:3])  # the engine never finished loading the weights
    assert check.problems == ["no line shows the model loaded ('Model loading took')"]
