"""Settings take the served model's facts from gpu_image/serve_config.py, their one source."""

from __future__ import annotations

from gpu_image import serve_config
from ocr_core import DEFAULT_LOCAL_URL, DEFAULT_MODEL, ClientSettings
from ocr_core._config import ANSWER_ALLOWANCE_S


def test_the_model_and_concurrency_default_to_what_the_image_serves() -> None:
    settings = ClientSettings()
    assert DEFAULT_MODEL == settings.model == serve_config.MODEL_ID
    assert settings.concurrency == serve_config.MAX_NUM_SEQS
    assert DEFAULT_LOCAL_URL.endswith(f":{serve_config.DEFAULT_PORT}")


def test_the_environment_still_overrides_them() -> None:
    env = {"LIGHTONOCR_MODEL": "someone/else", "LIGHTONOCR_CONCURRENCY": "3"}
    settings = ClientSettings.from_env(env)
    assert (settings.model, settings.concurrency) == ("someone/else", 3)


def test_one_attempt_lasts_at_most_its_phases_end_to_end() -> None:
    settings = ClientSettings()
    assert settings.attempt_deadline_s == 360 + 600 + ANSWER_ALLOWANCE_S == 1200
    longer_start = ClientSettings(admission_timeout_s=510)  # the console's largest window
    assert longer_start.attempt_deadline_s == 510 + 600 + ANSWER_ALLOWANCE_S


def test_the_attempt_timeout_is_read_from_the_environment() -> None:
    settings = ClientSettings.from_env({"LIGHTONOCR_ATTEMPT_TIMEOUT_S": "900"})
    assert settings.attempt_deadline_s == 900
    assert ClientSettings.from_env({"LIGHTONOCR_ATTEMPT_TIMEOUT_S": ""}).attempt_limit_s is None
