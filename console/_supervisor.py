"""`python -m console`: the console as one unit: the worker, the Streamlit UI and (on the
local platform, through the worker) the local OCR server start and stop together.

Why a supervisor of our own rather than two commands: an operator runs one command and
stops it with one Ctrl-C, and nothing may outlive it. Each child gets SIGTERM from the
kernel if the supervisor dies, even by SIGKILL (Linux's parent-death signal), so a killed
console leaves no UI or worker behind; the worker stops the OCR server it runs, and the
supervisor, last, stops a server the store records as the console's (one the UI started
after a scale to zero) once it has proven from /proc that it is ours. A server that a
killed worker left running is taken over by the next start, which says so.

Streamlit's options pass through (`python -m console --server.port 8600`); without
`--server.address` the UI listens on loopback only and refuses other Host names.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from console._loopback import is_loopback

APP = Path(__file__).resolve().parent / "ui" / "app.py"
DEFAULT_PORT = 8501
STOP_GRACE_S = 30.0
_PR_SET_PDEATHSIG = 1

# The console can scale the service and read its logs and has no login: it listens on
# loopback and refuses websocket handshakes that name another host (DNS rebinding). Given on
# the command line so that no config file (or its absence) can change it.
LOOPBACK_ARGS = (
    "--server.address",
    "127.0.0.1",
    *("--server.allowedHosts", "localhost"),
    *("--server.allowedHosts", "127.0.0.1"),
    *("--server.allowedHosts", "::1"),
)


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of a Streamlit option given as `--name value` or `--name=value`."""
    for position, arg in enumerate(args):
        if arg == name and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def streamlit_command(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`streamlit run` for the UI: loopback unless told otherwise, a fixed port (a busy port
    is an error, not a silent move to the next one), no usage statistics."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    command += ["--browser.gatherUsageStats", "false"]
    if _option(args, "--server.address") is None:
        command += LOOPBACK_ARGS
    if _option(args, "--server.port") is None:
        command += ["--server.port", env.get("LIGHTONOCR_CONSOLE_PORT") or str(DEFAULT_PORT)]
    return [*command, *args]


def console_url(command: Sequence[str]) -> str:
    address = _option(command, "--server.address") or "127.0.0.1"
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    return f"http://{host}:{_option(command, '--server.port')}"


def _child_signals() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (Linux), and a terminal's
    Ctrl-C left to the supervisor, which stops the children in order with SIGTERM (a child
    interrupted while it still imports would print a KeyboardInterrupt traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(command: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command), stdin=subprocess.DEVNULL, preexec_fn=_child_signals)


def _stop(processes: Sequence[subprocess.Popen[bytes]], grace_s: float) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _local_port(env: Mapping[str, str]) -> int | None:
    """The local OCR server's port, or None on the cloudrun platform."""
    url = urlsplit(env.get("LIGHTONOCR_SERVICE_URL") or "")
    if url.hostname and not is_loopback(url.hostname):
        return None
    return url.port or int(env.get("LIGHTONOCR_LOCAL_PORT") or 8000)


def _recorded_server(env: Mapping[str, str], port: int) -> int | None:
    """The pid of a live OCR server on `port` that the store records as the console's."""
    from console._store import Store
    from console.platforms._local_process import PID_SETTING, is_our_server

    store = Store.from_env(env)
    try:
        record = store.get_setting(PID_SETTING)
    finally:
        store.close()
    if record and record.get("port") == port and is_our_server(int(record["pid"]), port):
        return int(record["pid"])
    return None


def _stop_recorded_server(env: Mapping[str, str], port: int) -> None:
    from console.platforms._local_process import is_our_server

    pid = _recorded_server(env, port)
    if pid is None:
        return
    print(f"console: stopping the local OCR server (pid {pid})", flush=True)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while is_our_server(pid, port) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_our_server(pid, port):
        os.kill(pid, signal.SIGKILL)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    port = _local_port(env)
    if port is not None:
        left = _recorded_server(env, port)
        if left is not None:
            print(f"console: taking over the local OCR server a previous console left running "
                  f"(pid {left}, port {port})", flush=True)  # fmt: skip
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ui_command = streamlit_command(args, env)
    worker = _start([sys.executable, "-m", "console.worker"])
    ui = _start(ui_command)
    print(f"console: {console_url(ui_command)}  (Ctrl-C stops the console, its worker and "
          "the local OCR server)", flush=True)  # fmt: skip
    code = 0
    while not stopping:
        for name, process in (("worker", worker), ("UI", ui)):
            exited = process.poll()
            if exited is not None:
                print(f"console: the {name} exited with code {exited}; stopping", flush=True)
                code = exited or 1
                stopping = True
        time.sleep(0.2)
    _stop([ui, worker], STOP_GRACE_S)
    if port is not None:
        _stop_recorded_server(env, port)
    print("console: stopped", flush=True)
    return code
