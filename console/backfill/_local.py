"""`--local-tasks N`: the same task driver as Cloud Run Jobs runs, as N processes here.

Each process gets `CLOUD_RUN_TASK_INDEX`/`COUNT`/`ATTEMPT` as Cloud Run sets them; one that
exits non-zero or is killed is started again, up to `max_retries` times, as Cloud Run
retries a task. So the path a user tries on a laptop is the path the cloud runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

POLL_S = 0.2


def task_command(dest: str, backfill_id: str) -> list[str]:
    return [sys.executable, "-m", "console.backfill", "task", dest, "--id", backfill_id]


def run_local_tasks(
    dest: str,
    backfill_id: str,
    count: int,
    *,
    max_retries: int = 3,
    env: Mapping[str, str] | None = None,
) -> dict[int, int]:
    """Run `count` task processes to the end; {task index: attempts used} of those that
    failed every attempt (empty when all succeeded)."""
    base = dict(os.environ if env is None else env)
    attempts = dict.fromkeys(range(count), 0)
    running: dict[int, subprocess.Popen[bytes]] = {}

    def start(index: int) -> None:
        task_env = {
            **base,
            "CLOUD_RUN_TASK_INDEX": str(index),
            "CLOUD_RUN_TASK_COUNT": str(count),
            "CLOUD_RUN_TASK_ATTEMPT": str(attempts[index]),
        }
        running[index] = subprocess.Popen(
            task_command(dest, backfill_id), env=task_env, stdin=subprocess.DEVNULL
        )

    for index in range(count):
        start(index)
    failed: dict[int, int] = {}
    try:
        while running:
            for index, process in list(running.items()):
                code = process.poll()
                if code is None:
                    continue
                del running[index]
                attempts[index] += 1
                if code != 0:
                    if attempts[index] <= max_retries:
                        start(index)
                    else:
                        failed[index] = attempts[index]
            time.sleep(POLL_S)
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.wait()
    return failed


def task_pids(index: int) -> list[int]:
    """The live task processes of this machine with CLOUD_RUN_TASK_INDEX=`index` (from /proc):
    what a test or a bench kills to play a task lost mid-shard."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        wanted = f"CLOUD_RUN_TASK_INDEX={index}".encode()
        if b"console.backfill\0task" in command and wanted in environ:
            found.append(int(entry.name))
    return found
