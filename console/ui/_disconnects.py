"""A browser that goes away is not an error of the console.

Streamlit serves its websocket with Starlette under uvicorn; when a tab closes or a network
drops mid-send, an exception about the closed connection can escape the app, and uvicorn
logs "Exception in ASGI application" with a full traceback (the probes counted 11 in a
10-session run). Such a record is turned into one INFO line; any other exception keeps its
traceback.
"""

from __future__ import annotations

import logging

_LOGGER = "uvicorn.error"
_CLOSED_NAMES = {
    "WebSocketDisconnect",  # starlette
    "ClientDisconnected",  # uvicorn
    "ConnectionClosed",  # websockets, and its subclasses' bases
    "ConnectionClosedError",
    "ConnectionClosedOK",
}
_CLOSED_WORDS = ("after sending 'websocket.close'", "websocket.close", "ClientDisconnected")


def _is_disconnect(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 10:  # the cause chain, bounded
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & _CLOSED_NAMES or isinstance(error, ConnectionResetError | BrokenPipeError):
            return True
        if isinstance(error, RuntimeError) and any(w in str(error) for w in _CLOSED_WORDS):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


class DisconnectFilter(logging.Filter):
    """Rewrites a disconnected browser's traceback as one line (returns True: still logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and _is_disconnect(error):
            record.msg = "a browser session disconnected (%s)"
            record.args = (type(error).__name__,)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_disconnects() -> None:
    """Install the filter on uvicorn's error logger once per process."""
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, DisconnectFilter) for f in logger.filters):
        logger.addFilter(DisconnectFilter())
