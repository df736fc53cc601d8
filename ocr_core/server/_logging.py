"""One JSON object per log line on stderr.

The console's local platform tails the child's log file and parses each line, so every
record (ours, uvicorn's, the access log) must share one machine-readable shape.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The client's X-Request-Id for the request being handled (set by the app for each request).
# Every log line written while handling it carries it as `x_request_id`, the access line
# included, so an operator finds all of one page's lines by the id the client stored.
REQUEST_ID: ContextVar[str | None] = ContextVar("x_request_id", default=None)
# The longest X-Request-Id kept; longer ones are cut (a header may be up to 16 KB).
MAX_REQUEST_ID_CHARS = 128


class RequestIdFilter(logging.Filter):
    """Adds `x_request_id` to records written while a request with that header is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "x_request_id"):
            record.x_request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "severity", "logger", "message"}` plus any `extra` fields the caller adds."""

    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
        "message",
        "asctime",
        "color_message",  # uvicorn adds an ANSI-coloured copy of the message
    }

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, tz=UTC)
        entry: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "severity": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


PROBE_PATHS = frozenset({"/health", "/metrics"})


class AccessLogFilter(logging.Filter):
    """Shape uvicorn's access log for an operator.

    Successful `/health` and `/metrics` probes are dropped: the console probes health on
    every rerun and scrapes metrics every few seconds, and at INFO they would bury the
    requests an operator is looking for; failed probes stay at INFO (a cold start answers
    503 by design). Other failed requests are raised to WARNING (4xx) or ERROR (5xx) so a
    severity filter finds them, as Cloud Run's request log does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _client, _method, path, _version, status = args
        if not isinstance(status, int):
            return True
        if str(path).split("?", 1)[0] in PROBE_PATHS:
            # 503 from /health is how a loading engine answers: expected, not an error.
            return status != 200
        if status >= 500:
            record.levelno, record.levelname = logging.ERROR, "ERROR"
        elif status >= 400:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: ours and uvicorn's loggers through one JSON handler.

    Handed to uvicorn as `log_config`, so uvicorn does not install its own text formatters.
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "filters": {
            "access": {"()": f"{__name__}.AccessLogFilter"},
            "request_id": {"()": f"{__name__}.RequestIdFilter"},
        },
        "handlers": {"stderr": {**handler, "filters": ["request_id"]}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {
                "handlers": [],
                "level": level,
                "propagate": True,
                "filters": ["access"],
            },
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON handler before anything logs (the engine may load before uvicorn)."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
    logging.captureWarnings(True)
