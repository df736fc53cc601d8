"""The Dockerfile: pinned versions, model baked at build time, offline after, our entrypoint.

No Docker engine here, so the file is parsed (dockerfile-parse) and checked instruction by
instruction against serve_config, the single source of truth.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from gpu_image import serve_config

IMAGE_DIR = Path(serve_config.__file__).resolve().parent


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    parser = DockerfileParser(path=str(IMAGE_DIR / "Dockerfile"))
    return [
        (i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"
    ]


def _index(instructions: list[tuple[str, str]], kind: str, pattern: str) -> int:
    hits = [n for n, (k, v) in enumerate(instructions) if k == kind and re.search(pattern, v)]
    assert hits, f"no {kind} matching {pattern!r}"
    return hits[0]


def _envs(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in value.split())


def test_the_base_is_the_exact_vllm_release(instructions: list[tuple[str, str]]) -> None:
    froms = [v for k, v in instructions if k == "FROM"]

    assert froms == [serve_config.VLLM_IMAGE]
    assert serve_config.VLLM_IMAGE == "vllm/vllm-openai:v0.11.2"


def test_transformers_is_pinned_to_the_tested_version(
    instructions: list[tuple[str, str]],
) -> None:
    runs = " ".join(v for k, v in instructions if k == "RUN")

    assert re.findall(r"transformers==([\w.]+)", runs) == [serve_config.TRANSFORMERS_VERSION]


def test_the_pinned_model_is_downloaded_into_hf_home_at_build_time(
    instructions: list[tuple[str, str]],
) -> None:
    hf_home = _index(instructions, "ENV", r"HF_HOME=")
    brought = _index(instructions, "COPY", r"^serve_config\.py /build/serve_config\.py$")
    download = _index(instructions, "RUN", r"serve_config\.py download-model$")

    assert _envs(instructions[hf_home][1])["HF_HOME"] == serve_config.HF_HOME
    assert hf_home < brought < download


def test_the_model_and_revision_are_written_only_in_serve_config(
    instructions: list[tuple[str, str]],
) -> None:
    """One source: the Dockerfile runs serve_config's download instead of naming the model."""
    text = " ".join(value for _, value in instructions)

    assert serve_config.MODEL_ID not in text
    assert serve_config.MODEL_REVISION not in text
    assert re.fullmatch(r"[0-9a-f]{40}", serve_config.MODEL_REVISION)


def test_offline_mode_is_set_after_the_download_and_checked_in_the_build(
    instructions: list[tuple[str, str]],
) -> None:
    download = _index(instructions, "RUN", r"download-model$")
    offline = _index(instructions, "ENV", r"HF_HUB_OFFLINE=1")
    check = _index(instructions, "RUN", r"serve_config\.py check-model$")

    env = _envs(instructions[offline][1])
    assert (env["HF_HUB_OFFLINE"], env["TRANSFORMERS_OFFLINE"]) == ("1", "1")
    assert download < offline < check


def test_the_image_runs_our_entrypoint(instructions: list[tuple[str, str]]) -> None:
    entrypoint = [v for k, v in instructions if k == "ENTRYPOINT"]

    assert [json.loads(v) for v in entrypoint] == [["python3", "-m", "gpu_image.entrypoint"]]
    assert [v for k, v in instructions if k == "EXPOSE"] == [str(serve_config.DEFAULT_PORT)]


def test_copy_brings_exactly_the_files_the_entrypoint_needs_and_dockerignore_lets_them_in(
    instructions: list[tuple[str, str]],
) -> None:
    *_model_step, copy = [v for k, v in instructions if k == "COPY"]
    *sources, destination = copy.split()
    ignore = (IMAGE_DIR / ".dockerignore").read_text().splitlines()
    allowed = [line[1:] for line in ignore if line.startswith("!")]

    assert destination == "/app/gpu_image/"
    assert sorted(sources) == ["__init__.py", "entrypoint.py", "serve_config.py"]
    assert all((IMAGE_DIR / name).is_file() for name in sources)
    assert "*" in ignore and sorted(allowed) == sorted(sources)
