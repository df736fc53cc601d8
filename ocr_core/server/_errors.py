"""vLLM's error answer: one exception type for refused requests and the JSON body it becomes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

# vLLM's `type` for the statuses its handlers raise; other statuses use the HTTP phrase,
# as its HTTPException handler does.
_KINDS = {
    400: "BadRequestError",
    404: "NotFoundError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


class RequestError(Exception):
    """A request the server refuses, with vLLM's error type and HTTP status.

    `headers` go on the answer (Retry-After on 429, Connection: close when the rest of the
    body is not read).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        kind: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.kind = kind or _KINDS.get(status) or HTTPStatus(status).phrase
        self.headers = headers or {}


def error_body(message: str, kind: str, status: int, param: str | None = None) -> dict[str, Any]:
    """vLLM's ErrorResponse: `{"error": {"message", "type", "param", "code"}}`, code = status."""
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}
