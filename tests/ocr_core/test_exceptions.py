"""The error tree: each HTTP status becomes the class that says what went wrong."""

from __future__ import annotations

import pytest

from ocr_core import (
    AuthError,
    BadRequest,
    ClientSettings,
    ImageTooLarge,
    NotFound,
    OCRClient,
    OCRError,
    PageRenderError,
    PageTooLarge,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
    ServerError,
    ServiceError,
    ServiceUnavailable,
)
from ocr_core._breaker import counts_as_failure
from ocr_core._exceptions import redact
from ocr_core._protocol import error_from_body
from tests.fakes.inputs import png


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (405, NotFound),
        (408, RequestTimeout),
        (409, BadRequest),
        (413, PayloadTooLarge),
        (422, BadRequest),
        (429, RateLimited),
        (500, ServerError),
        (501, ServerError),
        (502, ServiceUnavailable),
        (503, ServiceUnavailable),
        (504, ServiceUnavailable),
    ],
)
def test_each_status_maps_to_its_class_and_keeps_the_code(status: int, kind: type) -> None:
    error = error_from_body(status, {"error": {"message": "no"}})
    assert type(error) is kind
    assert error.status_code == status
    assert f"HTTP {status}" in error.message


def test_retry_after_is_set_when_the_error_is_built() -> None:
    error = error_from_body(503, None, {"retry-after": "12"})
    assert error.retry_after_s == 12.0


def test_a_wrong_url_is_not_read_as_the_service_being_up() -> None:
    assert counts_as_failure(error_from_body(404, None))
    assert not counts_as_failure(error_from_body(400, None))
    assert not counts_as_failure(error_from_body(413, None))


def test_page_too_large_is_a_page_failure_and_an_image_too_large() -> None:
    assert issubclass(PageTooLarge, PageRenderError)
    assert issubclass(PageTooLarge, ImageTooLarge)


def test_every_public_exception_has_the_one_root() -> None:
    import ocr_core

    classes = [getattr(ocr_core, n) for n in ocr_core.__all__]
    errors = [c for c in classes if isinstance(c, type) and issubclass(c, Exception)]
    assert len(errors) >= 20
    assert all(issubclass(c, OCRError) for c in errors)
    assert issubclass(ServiceError, OCRError)


@pytest.mark.parametrize(
    ("quoted", "secret"),
    [
        ("Bearer abc.def-123_456", "abc.def-123_456"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("authorization=sk-live-0123456789", "sk-live-0123456789"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyJzdWIiOiJ4In0"),
    ],
)
def test_credentials_are_redacted_from_server_messages(quoted: str, secret: str) -> None:
    error = error_from_body(401, {"error": {"message": f"refused {quoted} for you"}})
    assert secret not in error.message
    assert "[redacted]" in error.message
    assert error.message.startswith("not authorised (HTTP 401): refused ")
    assert error.message.endswith(" for you")


def test_redaction_leaves_ordinary_text_alone() -> None:
    text = "maximum context length is 4096 tokens and your request has 2778 input tokens"
    assert redact(text) == text


async def test_a_server_quoting_our_token_back_does_not_leak_it(server) -> None:
    server.script("leaky401")
    settings = ClientSettings(token="sk-our-secret-token", max_attempts=1)
    async with OCRClient(server.base_url, settings=settings) as ocr:
        page = await ocr.ocr_image(png())
    assert isinstance(page.error, AuthError)
    assert "Authorization: [redacted]" in str(page.error)
    assert "sk-our-secret-token" not in str(page.error)


def test_an_error_is_bound_to_its_page_as_a_new_error_keeping_every_field() -> None:
    original = error_from_body(429, None, {"retry-after": "3"})
    on_page = original.on_page(4)
    assert type(on_page) is RateLimited and on_page is not original
    assert (on_page.status_code, on_page.retry_after_s, on_page.message) == (
        429,
        3.0,
        original.message,
    )
    assert str(on_page).startswith("page 5: rate limited")
    assert original.page_index is None
