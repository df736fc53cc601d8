"""Settings take the served model's facts from gpu_image/serve_config.py, their one source."""

from __future__ import annotations

from gpu_image import serve_config
from ocr_core import DEFAULT_LOCAL_URL, DEFAULT_MODEL, ClientSettings


def test_the_model_and_concurrency_default_to_what_the_image_serves() -> None:
    settings = ClientSettings()
    assert DEFAULT_MODEL == settings.model == serve_config.MODEL_ID
    assert settings.concurrency == serve_config.MAX_NUM_SEQS
    assert DEFAULT_LOCAL_URL.endswith(f":{serve_config.DEFAULT_PORT}")


def test_the_environment_still_overrides_them() -> None:
    env = {"LIGHTONOCR_MODEL": "someone/else", "LIGHTONOCR_CONCURRENCY": "3"}
    settings = ClientSettings.from_env(env)
    assert (settings.model, settings.concurrency) == ("someone/else", 3)
