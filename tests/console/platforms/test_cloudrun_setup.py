"""CloudRunPlatform configuration, and what it says when there are no Google credentials."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from console.platforms import select_platform
from console.platforms._base import LogQuery
from console.platforms.cloudrun import CloudRunPlatform
from deploy import MissingCredentials, ServiceTarget

URL = "https://lightonocr-abc123-ew.a.run.app"
ENV = {
    "LIGHTONOCR_SERVICE_URL": URL + "/",
    "GOOGLE_CLOUD_PROJECT": "demo-project",
    "LIGHTONOCR_REGION": "europe-west4",
    "LIGHTONOCR_SERVICE": "ocr-gpu",
}
LOGIN = "gcloud auth application-default login"


@pytest.fixture
def no_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CloudRunPlatform:
    """A platform with no injected clients on a machine whose ADC file does not exist."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    monkeypatch.delenv("LIGHTONOCR_RUN_ENDPOINT", raising=False)
    return CloudRunPlatform(ServiceTarget("demo-project"), URL)


def test_from_env_reads_the_service_url_project_region_and_name() -> None:
    platform = CloudRunPlatform.from_env(ENV)

    assert platform.target == ServiceTarget("demo-project", "europe-west4", "ocr-gpu")
    assert platform.service_url == URL
    assert platform.name == "cloudrun"


def test_the_console_selects_cloud_run_when_a_url_and_project_are_set() -> None:
    assert isinstance(select_platform(ENV), CloudRunPlatform)


def test_clients_of_the_service_use_google_id_tokens_by_default() -> None:
    settings = CloudRunPlatform.from_env(ENV).client_settings()

    assert settings.base_url == URL
    assert settings.auth == "google"


def test_an_explicit_auth_choice_is_kept() -> None:
    settings = CloudRunPlatform.from_env({**ENV, "LIGHTONOCR_AUTH": "bearer"}).client_settings()

    assert settings.auth == "bearer"


def test_without_a_service_url_it_says_which_variable_to_set() -> None:
    with pytest.raises(ValueError, match="LIGHTONOCR_SERVICE_URL"):
        CloudRunPlatform.from_env({"GOOGLE_CLOUD_PROJECT": "demo-project"})


def test_status_without_credentials_says_how_to_log_in(no_adc: CloudRunPlatform) -> None:
    with pytest.raises(MissingCredentials) as raised:
        no_adc.status()

    assert LOGIN in str(raised.value)


def test_logs_without_credentials_say_how_to_log_in(no_adc: CloudRunPlatform) -> None:
    with pytest.raises(MissingCredentials) as raised:
        no_adc.logs(LogQuery())

    assert LOGIN in str(raised.value)


def test_metrics_without_credentials_say_how_to_log_in(no_adc: CloudRunPlatform) -> None:
    with pytest.raises(MissingCredentials) as raised:
        no_adc.metrics(timedelta(hours=1))

    assert LOGIN in str(raised.value)


def test_scaling_without_credentials_is_a_failed_action(no_adc: CloudRunPlatform) -> None:
    result = no_adc.scale(min_instances=1)

    assert not result.ok
    assert LOGIN in result.message


def test_a_service_that_cannot_be_read_is_waited_for_as_the_spec_deploys_it(
    no_adc: CloudRunPlatform,
) -> None:
    # 120 s + 24 x 10 s of startup probe, and the moments Cloud Run takes to route after it.
    assert no_adc.startup_window_s() == 360 + 30
    assert no_adc.client_settings().admission_timeout_s == 360
