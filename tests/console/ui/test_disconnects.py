"""A browser that goes away is one INFO line in the UI's log, not an ERROR traceback; any
other exception uvicorn logs keeps its traceback. Records are made from real exceptions of
the libraries the console runs on (starlette, uvicorn, websockets), raised and caught."""

from __future__ import annotations

import logging

import pytest
import websockets.exceptions
from starlette.websockets import WebSocketDisconnect
from uvicorn.protocols.utils import ClientDisconnected

from console.ui._disconnects import DisconnectFilter, quiet_disconnects


def _logged(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        record = logging.getLogger("uvicorn.error").makeRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in ASGI application\n",
            (),
            exc_info=__import__("sys").exc_info(),
        )
    assert DisconnectFilter().filter(record)
    return record


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    "error",
    [
        WebSocketDisconnect(1001),
        ClientDisconnected(),
        websockets.exceptions.ConnectionClosedError(None, None),
        RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'"),
        _chained(RuntimeError("send failed"), ClientDisconnected()),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=["starlette", "uvicorn", "websockets", "after-close", "chained", "reset"],
)
def test_a_closed_browser_is_one_info_line(error: BaseException) -> None:
    record = _logged(error)
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.getMessage().startswith("a browser session disconnected")


def test_any_other_exception_keeps_its_traceback() -> None:
    record = _logged(KeyError("job"))
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_the_filter_is_installed_once() -> None:
    quiet_disconnects()
    quiet_disconnects()
    filters = logging.getLogger("uvicorn.error").filters
    assert sum(isinstance(f, DisconnectFilter) for f in filters) == 1
