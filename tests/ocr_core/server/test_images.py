"""Page images are decoded at a bounded size, so a small file cannot take the memory (issue 10)."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image

from tests.fakes.local_server import LocalServer, start_local_server

from ._hostile import MB, peak_rss
from ._requests import chat_body, data_uri, encode

CHAT = "/v1/chat/completions"


def _blank_png(side: int) -> bytes:
    """A white RGB page that compresses to a few hundred KB but decodes to side^2 x 4 bytes."""
    return encode(Image.new("RGB", (side, side), "white"))


async def test_concurrent_huge_blank_pages_stay_within_a_memory_bound() -> None:
    """M3: 8 concurrent blank 9400x9400 PNGs (< 1 MB each) took the server to 12.8 GB."""
    page = _blank_png(9400)
    assert len(page) < MB
    with start_local_server(
        "--engine",
        "rapidocr",
        "--max-image-side",
        "770",
        "--engine-threads",
        "1",
        "--max-num-seqs",
        "8",
        startup_timeout_s=120,
    ) as server:
        before = peak_rss(server)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as client:
            answers = await asyncio.gather(
                *(client.post(CHAT, json=chat_body(data_uri(page))) for _ in range(8))
            )
        growth = peak_rss(server) - before
    assert [a.status_code for a in answers] == [200] * 8, answers[0].text
    # One 9400^2 page decodes to 353 MB; eight at once would be 2.8 GB before any OCR.
    assert growth < 1024 * MB, f"the server grew by {growth // MB} MB"


def test_a_page_larger_than_the_engine_needs_is_read_reduced(simulated_server: LocalServer) -> None:
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}", json=chat_body(data_uri(_blank_png(4000))), timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"].startswith(
        "simulated page 3080x3080"
    )


def test_a_format_no_scan_comes_in_is_refused_before_decoding(
    simulated_server: LocalServer,
) -> None:
    """Pillow opens EPS by running Ghostscript; the server takes only image formats."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}",
        json=chat_body(data_uri(eps, "image/eps")),
        timeout=30,
    )
    assert response.status_code == 400
    assert "PNG, JPEG" in response.json()["error"]["message"]


def test_a_one_bit_fax_page_is_read_reduced(simulated_server: LocalServer) -> None:
    buffer = io.BytesIO()
    Image.new("1", (6000, 4000), 1).save(buffer, "TIFF", compression="group4")
    response = httpx.post(
        f"{simulated_server.base_url}{CHAT}",
        json=chat_body(data_uri(buffer.getvalue(), "image/tiff")),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "3080x2053" in response.json()["choices"][0]["message"]["content"]
