"""`python -m console`: the console as one unit: the worker, the Streamlit UI and (on the
local platform, through the worker) the local OCR server start and stop together.

Why a supervisor of our own rather than two commands: an operator runs one command and
stops it with one Ctrl-C, and nothing may outlive it. Each child gets SIGTERM from the
kernel if the supervisor dies, even by SIGKILL (Linux's parent-death signal), so a killed
console leaves no UI or worker behind; the worker stops the OCR server it runs, and the
supervisor, last, stops a server the store records as the console's (one the UI started
after a scale to zero) once it has proven from /proc that it is ours. A server that a
killed worker left running is taken over by the next start, which says so.

One console per data folder (`_data_lock`): a second one is refused at start, naming the
first, since it would take over (and on stopping, stop) the first one's OCR server. The lock's
descriptor is handed to the worker and the UI, so the folder stays held until the last of
them is gone. A port the local server cannot have is refused at start too: a program this
console did not start must not receive the documents (unless LIGHTONOCR_SERVICE_URL names
that server on purpose, and then the console says it uses a server it did not start).

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

from console._data_lock import SUPERVISOR_ENV, ConsoleAlreadyRunning, DataFolderLock
from console._loopback import is_loopback
from console.settings import DEFAULT_CONSOLE_PORT, DEFAULT_LOCAL_PORT, ConsoleSettings

APP = Path(__file__).resolve().parent / "ui" / "app.py"
DEFAULT_PORT = DEFAULT_CONSOLE_PORT
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
        command += ["--server.port", str(ConsoleSettings.from_env(env).console_port)]
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


def _start(
    command: Sequence[str], *, env: Mapping[str, str], keep_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        preexec_fn=_child_signals,
        env=dict(env),
        pass_fds=keep_fds,
    )


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


def _say(message: str) -> None:
    print(f"console: {message}", flush=True)


def _local_port(env: Mapping[str, str]) -> int | None:
    """The local OCR server's port, or None on the cloudrun platform."""
    settings = ConsoleSettings.from_env(env)
    url = urlsplit(settings.base_url or "")
    if url.hostname and not is_loopback(url.hostname):
        return None
    return url.port or settings.local_port or DEFAULT_LOCAL_PORT


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


def _port_refusal(env: Mapping[str, str], port: int, left: int | None) -> str | None:
    """Why the local OCR server's port cannot be the console's, or None when it can."""
    from console.platforms._port_holder import port_holder

    holder = port_holder(port)
    if holder is None or (left is not None and holder.pid == left):
        return None
    if ConsoleSettings.from_env(env).base_url and _answers_health(port):
        _say(
            f"using the OCR server on port {port} that this console did not start "
            f"({holder.describe()}), as LIGHTONOCR_SERVICE_URL asks; it is never stopped from here"
        )
        return None
    return (
        f"port {port} of the local OCR server is taken by {holder.describe()}, which this "
        "console did not start. Stop it, or give the console another port with "
        "LIGHTONOCR_LOCAL_PORT (to use that server on purpose, name it in "
        "LIGHTONOCR_SERVICE_URL)."
    )


def _answers_health(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    from console._store import data_dir_from_env

    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    port = _local_port(env)
    ui_command = streamlit_command(args, env)
    lock = DataFolderLock(data_dir_from_env(env))
    service_url = ConsoleSettings.from_env(env).base_url or f"http://127.0.0.1:{port}"
    try:
        lock.acquire(url=console_url(ui_command), service_url=service_url)
    except ConsoleAlreadyRunning as refused:
        print(f"console: not started: {refused}", file=sys.stderr, flush=True)
        return 2
    try:
        return _run(args, env, port, ui_command, lock)
    finally:
        lock.release()


def _run(
    args: list[str],
    env: Mapping[str, str],
    port: int | None,
    ui_command: list[str],
    lock: DataFolderLock,
) -> int:
    if port is not None:
        left = _recorded_server(env, port)
        if left is not None:
            _say(
                "taking over the local OCR server a previous console left running "
                f"(pid {left}, port {port})"
            )
        refusal = _port_refusal(env, port, left)
        if refusal:
            print(f"console: not started: {refusal}", file=sys.stderr, flush=True)
            return 2
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    child_env = {**env, SUPERVISOR_ENV: str(os.getpid())}
    keep = (lock.fileno(),)
    worker = _start([sys.executable, "-m", "console.worker"], env=child_env, keep_fds=keep)
    ui = _start(ui_command, env=child_env, keep_fds=keep)
    url = console_url(ui_command)
    _say(f"{url}  (Ctrl-C stops the console, its worker and the local OCR server)")
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
