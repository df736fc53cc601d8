"""The loopback gRPC plumbing the fake Google services share."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent import futures

import grpc


class LoopbackGrpc:
    """A grpc server on a free 127.0.0.1 port, and the insecure channels opened to it.

    The real google-cloud clients are built on these channels (no credentials), so every
    request goes through the client library's own serialisation and transport.
    """

    def __init__(self, max_workers: int = 8) -> None:
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self._channels: list[grpc.Channel] = []
        self.address = ""

    def start(self, handlers: Sequence[grpc.GenericRpcHandler]) -> str:
        """Serve `handlers`; returns "127.0.0.1:PORT"."""
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=self._max_workers))
        server.add_generic_rpc_handlers(tuple(handlers))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        self.address = f"127.0.0.1:{port}"
        return self.address

    def channel(self) -> grpc.Channel:
        channel = grpc.insecure_channel(self.address)
        self._channels.append(channel)
        return channel

    def stop(self) -> None:
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None
