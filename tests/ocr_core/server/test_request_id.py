"""The client's X-Request-Id ties a page to the server's log lines (issue 8)."""

from __future__ import annotations

import httpx

from tests.fakes.local_server import LocalServer
from tests.waits import logged

from ._requests import blank_page, chat_body


def test_the_request_id_is_in_every_log_line_of_its_request(
    simulated_server: LocalServer,
) -> None:
    response = httpx.post(
        f"{simulated_server.base_url}/v1/chat/completions",
        json=chat_body(blank_page()),
        headers={"X-Request-Id": "job-7-page-3-f00d"},
        timeout=30,
    )
    # The access line is written after the response is sent: wait for it, then look at all.
    logged(
        simulated_server.log_text,
        lambda r: r.get("x_request_id") == "job-7-page-3-f00d" and r["logger"] == "uvicorn.access",
    )
    lines = logged(
        simulated_server.log_text, lambda r: r.get("x_request_id") == "job-7-page-3-f00d"
    )
    assert {record["logger"] for record in lines} == {"ocr_core.server", "uvicorn.access"}
    assert response.headers["x-request-id"] == "job-7-page-3-f00d"


def test_the_completion_id_carries_the_request_id_as_in_vllm(
    simulated_server: LocalServer,
) -> None:
    body = httpx.post(
        f"{simulated_server.base_url}/v1/chat/completions",
        json=chat_body(blank_page()),
        headers={"X-Request-Id": "abc123"},
        timeout=30,
    ).json()
    assert body["id"] == "chatcmpl-abc123"


def test_a_refused_request_is_logged_with_its_request_id(simulated_server: LocalServer) -> None:
    httpx.post(
        f"{simulated_server.base_url}/v1/chat/completions",
        json=chat_body(None),
        headers={"X-Request-Id": "no-image-9"},
        timeout=30,
    )
    logged(
        simulated_server.log_text,
        lambda r: r.get("x_request_id") == "no-image-9" and r["logger"] == "uvicorn.access",
    )
    refused = logged(simulated_server.log_text, lambda r: r.get("x_request_id") == "no-image-9")
    assert any(r["message"].startswith("rejected chat completion") for r in refused)
    assert any(r["severity"] == "WARNING" and r["logger"] == "uvicorn.access" for r in refused)
