"""The entrypoint's command line is serve_config.vllm_command, on $PORT, and it execs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_image import serve_config
from gpu_image.entrypoint import command

ROOT = Path(serve_config.__file__).resolve().parents[1]


def _entrypoint(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpu_image.entrypoint", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_port_the_command_is_exactly_the_single_source_of_truth() -> None:
    assert command({}) == serve_config.vllm_command()


def test_cloud_runs_port_variable_sets_the_listening_port() -> None:
    assert command({"PORT": "8080"}) == serve_config.vllm_command(port=8080)


@pytest.mark.parametrize("port", ["http", "0", "70000", "-1"])
def test_a_port_that_is_not_a_port_is_refused(port: str) -> None:
    with pytest.raises(ValueError, match="PORT"):
        command({"PORT": port})


def test_print_mode_shows_the_shell_quoted_command_line() -> None:
    done = _entrypoint(["--print"], PORT="8123")

    assert done.returncode == 0, done.stderr
    assert shlex.split(done.stdout) == serve_config.vllm_command(port=8123)


def test_the_entrypoint_replaces_itself_with_vllm(tmp_path: Path) -> None:
    # A stand-in `vllm` that reports its pid and argv: exec keeps the pid, so Cloud Run's
    # SIGTERM reaches vLLM itself rather than a Python parent.
    fake_vllm = tmp_path / "vllm"
    fake_vllm.write_text('#!/bin/sh\necho "$$"\nprintf "%s\\n" "$@"\n')
    fake_vllm.chmod(0o755)
    process = subprocess.Popen(
        [sys.executable, "-m", "gpu_image.entrypoint"],
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "PORT": "8000"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=30)

    pid, *argv = out.splitlines()
    assert int(pid) == process.pid
    assert ["vllm", *argv] == serve_config.vllm_command(port=8000)


def test_extra_arguments_are_refused_so_flags_stay_in_one_place() -> None:
    done = _entrypoint(["--max-num-seqs", "64"])

    assert done.returncode == 2
    assert "serve_config.py" in done.stderr
