"""Who listens on a local TCP port, read from Linux's /proc.

The local platform must not hand documents to a program it did not start because that
program happens to sit on the OCR server's port, and a port it cannot bind must be said at
start, not found later in the server's log. The kernel's socket tables (`/proc/net/tcp`,
`/proc/net/tcp6`) name the listening socket's inode; the process holding it is the one with
that socket among its `/proc/<pid>/fd` links (visible for this user's processes, and all of
them for root). Off Linux nothing is known and every answer is None.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

_LISTEN = "0A"
_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


@dataclass(frozen=True)
class PortHolder:
    """A process listening on the port; `pid` is None when it belongs to another user."""

    port: int
    pid: int | None
    command: str

    def describe(self) -> str:
        if self.pid is None:
            return f"a process of another user (port {self.port})"
        command = self.command if len(self.command) <= 160 else self.command[:157] + "..."
        return f"pid {self.pid} ({command or 'command unknown'})"


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in _TABLES:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10 or fields[3] != _LISTEN:
                    continue
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    # One line of printable words: an argument may hold a newline or an escape sequence.
    words = raw.replace(b"\0", b" ").decode(errors="replace").split()
    return " ".join("".join(c if c.isprintable() else "?" for c in word) for word in words)


def _holder_pid(inodes: set[str]) -> int | None:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return int(entry.name)
    return None


def port_holder(port: int) -> PortHolder | None:
    """The process listening on `port` (any local address), or None when nothing listens."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    pid = _holder_pid(inodes)
    return PortHolder(port=port, pid=pid, command=command_line(pid) if pid else "")


def listens_on(pid: int, port: int) -> bool:
    """True when `pid` itself holds the listening socket on `port`: proof that the server
    answering there is that process, not a program that took the port."""
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    wanted = {f"socket:[{inode}]" for inode in inodes}
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in wanted:
                    return True
    return False
