"""A listener that answers every request with a TCP reset."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class ResettingServer:
    """A TCP listener that reads each request and answers with a reset (RST), like a load
    balancer whose backend instance just died. Records each request line it refused."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.refused: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    head = conn.recv(65536)
                    self.refused.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                # Linger 0: close() sends RST instead of FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def __enter__(self) -> ResettingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)
