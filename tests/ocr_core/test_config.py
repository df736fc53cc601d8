"""Settings take the served model's facts from gpu_image/serve_config.py, their one source."""

from __future__ import annotations

import pytest

from gpu_image import serve_config
from ocr_core import DEFAULT_LOCAL_URL, DEFAULT_MODEL, ClientSettings, SettingsError, Variable
from ocr_core._config import ANSWER_ALLOWANCE_S
from ocr_core._sandbox import SandboxLimits


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


def test_a_number_variable_holding_text_is_one_error_naming_it() -> None:
    with pytest.raises(SettingsError) as raised:
        ClientSettings.from_env({"LIGHTONOCR_CONCURRENCY": "eight"})
    assert raised.value.variable == "LIGHTONOCR_CONCURRENCY"
    assert str(raised.value) == "LIGHTONOCR_CONCURRENCY must be a whole number, not 'eight'"


def test_a_bad_render_limit_is_the_same_error() -> None:
    with pytest.raises(SettingsError, match="LIGHTONOCR_RENDER_CPU_S must be a number"):
        SandboxLimits.from_env({"LIGHTONOCR_RENDER_CPU_S": "30s"})


def test_a_secret_value_is_never_repeated_in_the_error() -> None:
    secret = Variable("LIGHTONOCR_SOME_KEY", "key", int, 0, "a key", secret=True)
    with pytest.raises(SettingsError) as raised:
        secret.read({"LIGHTONOCR_SOME_KEY": "hunter2-secret"})
    assert "hunter2" not in str(raised.value)
    assert "LIGHTONOCR_SOME_KEY" in str(raised.value)


def test_a_blank_variable_means_its_default() -> None:
    settings = ClientSettings.from_env({"LIGHTONOCR_MAX_PAGES": "  ", "LIGHTONOCR_AUTH": ""})
    assert (settings.documents.max_pages, settings.auth) == (1000, "auto")


def test_the_render_limits_come_from_the_environment() -> None:
    env = {"LIGHTONOCR_RENDER_MEMORY_MB": "512", "LIGHTONOCR_RENDER_WORKERS": "3"}
    limits = SandboxLimits.from_env(env)
    assert (limits.memory_mb, limits.workers, limits.cpu_seconds) == (512, 3, 30.0)
