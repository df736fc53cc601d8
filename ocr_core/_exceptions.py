"""One exception hierarchy, rooted in `OCRError`, so callers can catch all of ours at once.

Our exception hierarchy (HTTP statuses that map to a class are shown beside it):

* OCRError
  + InvalidDocument - the input cannot be turned into pages
  | + EmptyDocument
  | + CorruptDocument
  | + UnsupportedDocument
  | + EncryptedDocument
  | + PageLimitExceeded
  | + ImageTooLarge
  |   + PageTooLarge (also a PageRenderError)
  | + ResourceLimitExceeded (also a PageRenderError)
  + PageRenderError - one page of a readable document cannot be drawn
  | + PageTooLarge
  | + ResourceLimitExceeded - the sandbox's memory, CPU-time or wall-time limit was breached
  | + DocumentQuarantined - the document breached the limits repeatedly: not rendered more
  + Truncated - the model stopped at max_tokens (strict mode only)
  + ServiceError - the OCR service did not answer usefully
    + BadRequest .......... 400, 422 and any other 4xx not listed here
    | + PayloadTooLarge ... 413
    + AuthError ........... 401, 403, 407, or no credential could be obtained
    + NotFound ............ 404, 405, 410: a wrong URL or a model the server does not serve
    + RequestTimeout ...... 408, or no answer within the client's deadline
    + RateLimited ......... 429
    + ServiceUnavailable .. 502, 503, 504, or the connection failed
    + ServerError ......... 500 and any other 5xx
    + ProtocolError ....... the answer is not in the OpenAI/vLLM shape
    | + AnswerTooLarge .... more text than max_tokens allows (not retried, not re-run)
    + CircuitOpenError .... the breaker is failing calls fast

`ServiceError.retryable` says which ones the retry policy waits out (timeouts, 429, 502-504,
malformed answers); the breaker counts every ServiceError as a sign of ill health except
BadRequest and AuthError, which prove the service is up and reading requests.

Messages never contain credentials: auth errors say what was tried, not what was sent, and
every message built from a server's answer goes through `redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

# Secrets a server may echo back in an error body: bearer tokens, Authorization header values
# (any scheme), and anything shaped like a JWT (three base64url segments, header starting eyJ).
_SECRETS = (
    re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:\w+\s+)?[^\s,;\"'}]+"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"()\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every bearer token, Authorization value and JWT-looking string replaced."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class OCRError(Exception):
    """Base of every error raised by ocr_core.

    `page_index` is set when the error belongs to one page of a document (0-based).
    """

    def __init__(self, message: str, *, page_index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.page_index = page_index

    def __str__(self) -> str:
        if self.page_index is None:
            return self.message
        return f"page {self.page_index + 1}: {self.message}"

    def on_page(self, page_index: int) -> Self:
        """This error as one page's error: a new error of the same type and fields, so an
        error is never changed after it was raised (another page may hold it too)."""
        if page_index == self.page_index:
            return self
        error = self._with_page(page_index)
        error.__cause__ = self.__cause__
        return error.with_traceback(self.__traceback__)

    def _with_page(self, page_index: int) -> Self:
        return type(self)(self.message, page_index=page_index)

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (the document sandbox's workers), and subclasses
        # take keyword-only fields that `Exception`'s default pickling would drop.
        return (_rebuild_error, (type(self), self.message, dict(self.__dict__)))


def _rebuild_error(cls: type[OCRError], message: str, state: dict[str, Any]) -> OCRError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


# --- Documents -------------------------------------------------------------------------------


class InvalidDocument(OCRError):
    """The input cannot be turned into pages."""


class EmptyDocument(InvalidDocument):
    """Zero bytes, or a container with no pages."""


class CorruptDocument(InvalidDocument):
    """Truncated or malformed data of a known type."""


class UnsupportedDocument(InvalidDocument):
    """Content that is not a type we read; `detected` names what was found."""

    def __init__(
        self, message: str, *, detected: str = "unknown", page_index: int | None = None
    ) -> None:
        super().__init__(message, page_index=page_index)
        self.detected = detected

    def _with_page(self, page_index: int) -> Self:
        return type(self)(self.message, detected=self.detected, page_index=page_index)


class EncryptedDocument(InvalidDocument):
    """A password-protected PDF opened without (or with the wrong) password."""


class PageLimitExceeded(InvalidDocument):
    """More pages than the configured cap."""

    def __init__(
        self, message: str, *, page_count: int, limit: int, page_index: int | None = None
    ) -> None:
        super().__init__(message, page_index=page_index)
        self.page_count = page_count
        self.limit = limit

    def _with_page(self, page_index: int) -> Self:
        return type(self)(
            self.message, page_count=self.page_count, limit=self.limit, page_index=page_index
        )


class ImageTooLarge(InvalidDocument):
    """Too many pixels (decompression bombs) or a page size no scan has."""


class PageRenderError(OCRError):
    """One page of an otherwise readable document could not be rendered."""


class PageTooLarge(PageRenderError, ImageTooLarge):
    """One page is larger than any scan (an image frame past the pixel cap, a 200-inch page).

    Both a page failure (the rest of the document is fine) and an `ImageTooLarge`, so callers
    catching either one see it.
    """


class LocatorUnavailable(OCRError):
    """Words cannot be located: the `local` extra (rapidocr-onnxruntime) is not installed."""


class ExportError(OCRError):
    """Pages cannot be written as searchable PDF, hOCR or ALTO: no pages, an image that is not
    one, or the `exports` extra (fpdf2) is not installed."""


class Truncated(OCRError):
    """The model stopped at max_tokens (finish_reason "length"); raised only in strict mode."""


class ResourceLimitExceeded(PageRenderError, InvalidDocument):
    """Parsing or rendering breached the sandbox's memory, CPU-time or wall-time limit.

    `limit` is "memory", "cpu" or "time". Both a page failure and an invalid document: when
    opening the file breaches, the whole document is refused; when one page does, only it.
    """

    def __init__(self, message: str, *, limit: str, page_index: int | None = None) -> None:
        super().__init__(message, page_index=page_index)
        self.limit = limit

    def _with_page(self, page_index: int) -> Self:
        return type(self)(self.message, limit=self.limit, page_index=page_index)


class DocumentQuarantined(PageRenderError):
    """The document's pages breached the sandbox's limits so often (`breaches` times) that
    its remaining pages are failed without being rendered: a hostile file costs the workers
    a few limits' worth of time, not one per page."""

    def __init__(self, message: str, *, breaches: int, page_index: int | None = None) -> None:
        super().__init__(message, page_index=page_index)
        self.breaches = breaches

    def _with_page(self, page_index: int) -> Self:
        return type(self)(self.message, breaches=self.breaches, page_index=page_index)


# --- Service ---------------------------------------------------------------------------------


class ServiceError(OCRError):
    """The OCR service failed to answer usefully.

    `status_code` is the HTTP status when there was one; `retryable` says whether the
    client's retry policy treats it as transient (cold starts, overload); `retry_after_s` is
    the server's Retry-After in seconds when it sent one (429 and 503 do).
    """

    retryable: ClassVar[bool] = False
    # The status a class stands for when it stands for exactly one (None: several or none).
    http_status: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after_s: float | None = None,
        page_index: int | None = None,
    ) -> None:
        super().__init__(message, page_index=page_index)
        self.status_code = self.http_status if status_code is None else status_code
        self.retry_after_s = retry_after_s

    def _with_page(self, page_index: int) -> Self:
        return type(self)(
            self.message,
            status_code=self.status_code,
            retry_after_s=self.retry_after_s,
            page_index=page_index,
        )


class BadRequest(ServiceError):
    """A 4xx about this request (400, 422, ...): sending it again will not help."""

    http_status = 400


class PayloadTooLarge(BadRequest):
    """413: the page image is larger than the server (or a proxy in front of it) accepts."""

    http_status = 413


class AuthError(ServiceError):
    """401/403, or no credential could be obtained. Never carries the token itself."""


class NotFound(ServiceError):
    """404 (or 405/410): the URL or the model is wrong, so the service is not the one we want.

    Not a sign the service is up: the breaker counts it, so a client pointed at the wrong
    place fails fast instead of sending every page there.
    """

    http_status = 404


class RequestTimeout(ServiceError):
    """No answer within the client's deadline (or the server's own 408)."""

    retryable = True


class RateLimited(ServiceError):
    """429; `retry_after_s` is the server's Retry-After when it sent one."""

    retryable = True
    http_status = 429


class ServiceUnavailable(ServiceError):
    """Connection refused/reset, 502/503/504: typically a cold start or a restart."""

    retryable = True


class ServerError(ServiceError):
    """500 and any other 5xx that is not a gateway's "unavailable": the server itself failed."""

    http_status = 500


class ProtocolError(ServiceError):
    """The service answered, but not in the OpenAI/vLLM shape (malformed JSON, no choices,
    non-numeric usage, an endless line)."""

    retryable = True


class AnswerTooLarge(ProtocolError):
    """The answer holds more text (or tokens) than the request's `max_tokens` allows: the
    server does not honour the request (it streams forever, or it is hostile). Refused as
    soon as the text outgrows the bound (see `_answers.py`), never held whole; not retried
    and not asked for again (the same server would answer the same way)."""

    retryable = False


class CircuitOpenError(ServiceError):
    """The breaker is open after repeated failures: failing fast instead of queueing."""

    def __init__(self, message: str, *, retry_in_s: float, page_index: int | None = None) -> None:
        super().__init__(message, page_index=page_index)
        self.retry_in_s = retry_in_s

    def _with_page(self, page_index: int) -> Self:
        return type(self)(self.message, retry_in_s=self.retry_in_s, page_index=page_index)


_BY_STATUS: Mapping[int, type[ServiceError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    405: NotFound,
    407: AuthError,
    408: RequestTimeout,
    410: NotFound,
    413: PayloadTooLarge,
    429: RateLimited,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}


def error_class_for_status(status_code: int) -> type[ServiceError]:
    """The class an HTTP error status maps to (see the tree in the module docstring)."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if 400 <= status_code < 500:
        return BadRequest
    return ServerError


__all__ = [
    "AnswerTooLarge",
    "AuthError",
    "BadRequest",
    "CircuitOpenError",
    "CorruptDocument",
    "DocumentQuarantined",
    "EmptyDocument",
    "EncryptedDocument",
    "ExportError",
    "ImageTooLarge",
    "InvalidDocument",
    "LocatorUnavailable",
    "NotFound",
    "OCRError",
    "PageLimitExceeded",
    "PageRenderError",
    "PageTooLarge",
    "PayloadTooLarge",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "ResourceLimitExceeded",
    "ServerError",
    "ServiceError",
    "ServiceUnavailable",
    "Truncated",
    "UnsupportedDocument",
]
