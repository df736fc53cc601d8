"""One exception hierarchy, rooted in `OCRError`, so callers can catch all of ours at once.

Messages never contain credentials: auth errors say what was tried, not what was sent.
"""

from __future__ import annotations


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


# --- Documents -------------------------------------------------------------------------------


class InvalidDocument(OCRError):
    """The input cannot be turned into pages."""


class EmptyDocument(InvalidDocument):
    """Zero bytes, or a container with no pages."""


class CorruptDocument(InvalidDocument):
    """Truncated or malformed data of a known type."""


class UnsupportedDocument(InvalidDocument):
    """Content that is not a type we read; `detected` names what was found."""

    def __init__(self, message: str, *, detected: str = "unknown", page_index: int | None = None):
        super().__init__(message, page_index=page_index)
        self.detected = detected


class EncryptedDocument(InvalidDocument):
    """A password-protected PDF opened without (or with the wrong) password."""


class PageLimitExceeded(InvalidDocument):
    """More pages than the configured cap."""

    def __init__(self, message: str, *, page_count: int, limit: int) -> None:
        super().__init__(message)
        self.page_count = page_count
        self.limit = limit


class ImageTooLarge(InvalidDocument):
    """Too many pixels (decompression bombs) or a page size no scan has."""


class PageRenderError(OCRError):
    """One page of an otherwise readable document could not be rendered."""


class ResourceLimitExceeded(PageRenderError, InvalidDocument):
    """Parsing or rendering breached the sandbox's memory, CPU-time or wall-time limit.

    `limit` is "memory", "cpu" or "time". Both a page failure and an invalid document: when
    opening the file breaches, the whole document is refused; when one page does, only it.
    """

    def __init__(self, message: str, *, limit: str, page_index: int | None = None) -> None:
        super().__init__(message, page_index=page_index)
        self.limit = limit


# --- Service ---------------------------------------------------------------------------------


class ServiceError(OCRError):
    """The OCR service failed to answer usefully.

    `status_code` is the HTTP status when there was one; `retryable` says whether the
    client's retry policy treats it as transient (cold starts, overload).
    """

    retryable: bool = False
    # Seconds the server asked us to wait (Retry-After on 429/503), when it said.
    retry_after_s: float | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        page_index: int | None = None,
    ) -> None:
        super().__init__(message, page_index=page_index)
        self.status_code = status_code


class ServiceUnavailable(ServiceError):
    """Connection refused/reset, 502/503/504: typically a cold start or a restart."""

    retryable = True


class RateLimited(ServiceError):
    """429; `retry_after_s` is the server's Retry-After when it sent one."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        retry_after_s: float | None = None,
        page_index: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, page_index=page_index)
        self.retry_after_s = retry_after_s


class RequestTimeout(ServiceError):
    """No answer within the client's timeout."""

    retryable = True


class BadRequest(ServiceError):
    """400/413/422: the request will not succeed if repeated."""


class AuthError(ServiceError):
    """401/403, or no credential could be obtained. Never carries the token itself."""


class ProtocolError(ServiceError):
    """The service answered, but not in the OpenAI/vLLM shape (malformed JSON, no choices)."""

    retryable = True


class CircuitOpenError(ServiceError):
    """The breaker is open after repeated failures: failing fast instead of queueing."""

    def __init__(self, message: str, *, retry_in_s: float, page_index: int | None = None):
        super().__init__(message, page_index=page_index)
        self.retry_in_s = retry_in_s


class Truncated(OCRError):
    """The model stopped at max_tokens (finish_reason "length"); raised only in strict mode."""


__all__ = [
    "AuthError",
    "BadRequest",
    "CircuitOpenError",
    "CorruptDocument",
    "EmptyDocument",
    "EncryptedDocument",
    "ImageTooLarge",
    "InvalidDocument",
    "OCRError",
    "PageLimitExceeded",
    "PageRenderError",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "ResourceLimitExceeded",
    "ServiceError",
    "ServiceUnavailable",
    "Truncated",
    "UnsupportedDocument",
]
