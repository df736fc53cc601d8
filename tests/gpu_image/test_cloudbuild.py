"""cloudbuild.yaml: valid YAML that builds on a large machine, tags with the commit, pushes
to the Artifact Registry path the deploy spec expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import ServiceSpec, ServiceTarget
from gpu_image import serve_config

CLOUDBUILD = Path(serve_config.__file__).resolve().parent / "cloudbuild.yaml"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(CLOUDBUILD.read_text())


def _resolve(text: str, values: dict[str, str]) -> str:
    for _ in range(3):  # substitutions may refer to substitutions
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
    return text


def _step(config: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in config["steps"] if step.get("id") == step_id)


def test_builds_on_a_large_machine_with_a_generous_timeout(config: dict[str, Any]) -> None:
    assert config["options"]["machineType"].startswith("E2_HIGHCPU_")
    assert int(config["options"]["machineType"].rsplit("_", 1)[-1]) >= 8
    assert int(config["timeout"].removesuffix("s")) >= 3600
    assert config["options"]["diskSizeGb"] >= 100


def test_the_build_step_tags_with_the_commit_and_latest(config: dict[str, Any]) -> None:
    build = _step(config, "build")

    assert build["name"] == "gcr.io/cloud-builders/docker"
    assert build["args"][0] == "build" and build["args"][-1] == "."
    tags = {a.removeprefix("--tag=") for a in build["args"] if a.startswith("--tag=")}
    assert tags == {"${_IMAGE}:${COMMIT_SHA}", "${_IMAGE}:${SHORT_SHA}", "${_IMAGE}:latest"}


def test_every_tag_is_pushed_and_recorded(config: dict[str, Any]) -> None:
    push = _step(config, "push")

    assert push["args"] == ["push", "--all-tags", "${_IMAGE}"]
    assert set(config["images"]) == {
        "${_IMAGE}:${COMMIT_SHA}",
        "${_IMAGE}:${SHORT_SHA}",
        "${_IMAGE}:latest",
    }


def test_the_pushed_image_is_the_one_the_deploy_spec_runs(config: dict[str, Any]) -> None:
    values = {**config["substitutions"], "PROJECT_ID": "ocr-prod", "COMMIT_SHA": "abc1234"}

    pushed = _resolve("${_IMAGE}:${COMMIT_SHA}", values)

    assert config["options"]["dynamicSubstitutions"] is True
    assert pushed == ServiceSpec(tag="abc1234").image_for(ServiceTarget(project="ocr-prod"))
