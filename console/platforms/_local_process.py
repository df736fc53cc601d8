"""The local OCR server as a process: start it, stop it, and adopt one a previous console left.

The server is the console's child. Its pid is kept in the store, so if the console dies
without stopping it (killed, crashed), the next console adopts that server (and can stop it)
instead of starting a second one on the same port. Whether a pid still is our server is read
from /proc (state and command line), which guards against pid reuse.

Its output goes to the log file; the file is rotated to `<log>.1` when a start finds it
above `log_max_bytes` (a running child owns its file descriptor, so rotation happens at start).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console._store import Store
from console.platforms._local_logs import append_note
from console.platforms._port_holder import command_line, port_holder

SERVER_MODULE = "ocr_core.server"
PID_SETTING = "local.server"


class PortTaken(OSError):
    """The server's port is held by a program this console did not start."""


def is_our_server(pid: int, port: int) -> bool:
    """True when `pid` is alive and is an OCR server on `port` (guards against pid reuse)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    cmdline = command_line(pid)
    return state != "Z" and SERVER_MODULE in cmdline and f"--port {port}" in cmdline


@dataclass
class ServerProcess:
    """A server process this platform manages: its own child, or one adopted from the store."""

    pid: int
    port: int
    started_monotonic: float
    started_at: datetime
    popen: subprocess.Popen[bytes] | None = None
    stopping: bool = False

    def signal(self, signum: int) -> None:
        """Send `signum` unless the process is gone (Popen knows when its child was reaped)."""
        with contextlib.suppress(ProcessLookupError):
            if self.popen is not None:
                self.popen.send_signal(signum)
            elif self.alive:
                os.kill(self.pid, signum)

    def exit_code(self) -> int | None:
        """None while it runs; the exit code after (0 when an adopted process went away)."""
        if self.popen is not None:
            return self.popen.poll()
        return None if is_our_server(self.pid, self.port) else 0

    @property
    def alive(self) -> bool:
        return self.exit_code() is None

    def wait_gone(self, timeout_s: float) -> bool:
        if self.popen is not None:
            try:
                self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while self.alive:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class Supervisor:
    """Starts, stops and adopts the one server on `host:port`; `server` is the managed one."""

    def __init__(
        self,
        *,
        python: str,
        host: str,
        port: int,
        server_args: Sequence[str],
        log_path: Path,
        store: Store,
        stop_grace_s: float,
        log_max_bytes: int,
    ) -> None:
        self.python = python
        self.host = host
        self.port = port
        self.server_args = tuple(server_args)
        self.log_path = log_path
        self.store = store
        self.stop_grace_s = stop_grace_s
        self.log_max_bytes = log_max_bytes
        self.server: ServerProcess | None = None

    @property
    def own_alive(self) -> bool:
        return self.server is not None and self.server.alive

    def adopt(self, *, say: bool = False) -> None:
        """Take back a server a previous console (or the worker) started; `say` writes so in
        the server log (the worker taking over what a killed console left)."""
        record = self.store.get_setting(PID_SETTING)
        if record and record.get("port") == self.port and is_our_server(record["pid"], self.port):
            if say:
                note = f"console took over the OCR server (pid {record['pid']}) left running"
                append_note(self.log_path, note)
            self.server = ServerProcess(
                pid=int(record["pid"]),
                port=self.port,
                started_monotonic=time.monotonic(),
                started_at=datetime.now(UTC),
            )

    def _rotate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_path.stat().st_size > self.log_max_bytes:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))

    def start(self) -> ServerProcess:
        """Start the server; PortTaken when another program holds the port (a server started
        there would only fail to bind, and the documents could go to that program)."""
        holder = port_holder(self.port)
        if holder is not None:
            raise PortTaken(
                f"port {self.port} is taken by {holder.describe()}, which this console did not "
                "start: the local OCR server cannot start there"
            )
        self._rotate_log()
        command = [
            self.python,
            "-m",
            SERVER_MODULE,
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.server_args,
        ]
        append_note(self.log_path, f"console starts the OCR server: {' '.join(command[1:])}")
        with self.log_path.open("ab") as log:
            # A session of its own: a terminal's Ctrl-C reaches the console's process group,
            # not the server and its engine's pool processes (which would each print a
            # KeyboardInterrupt traceback into the log); the worker stops it with SIGTERM.
            popen = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.server = ServerProcess(
            pid=popen.pid,
            port=self.port,
            started_monotonic=time.monotonic(),
            started_at=datetime.now(UTC),
            popen=popen,
        )
        self.store.set_setting(PID_SETTING, {"pid": popen.pid, "port": self.port})
        return self.server

    def stop(self, server: ServerProcess) -> str:
        """Terminate, then kill after the grace period; says how it ended."""
        server.stopping = True
        how = "stopped"
        server.signal(signal.SIGTERM)
        if not server.wait_gone(self.stop_grace_s):
            how = f"killed (no exit {self.stop_grace_s:g} s after SIGTERM)"
            server.signal(signal.SIGKILL)
            server.wait_gone(5.0)
        self.store.delete_setting(PID_SETTING)
        append_note(self.log_path, f"console {how} the OCR server (pid {server.pid})")
        return how
