"""End to end: the client against the real local server (`python -m ocr_core.server`).

`local_server` reads pages with the CPU OCR engine; `simulated_server` answers after a fixed
service time with text that names the page image's size, so page order is visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocr_core import (
    ClientSettings,
    EncryptedDocument,
    OCRClient,
    StreamChunk,
    SyncOCRClient,
)
from ocr_core.quality import cer


def client(base_url: str, **overrides: Any) -> OCRClient:
    return OCRClient(base_url, settings=ClientSettings(**overrides))


async def test_extract_text_reads_a_real_scan(local_server, corpus: Path):
    scan = (corpus / "scans" / "phototest.tif").read_bytes()
    truth = (corpus / "scans" / "phototest.txt").read_text()
    async with client(local_server.base_url) as ocr:
        text = await ocr.extract_text(scan)
    assert cer(text, truth) <= 0.05


async def test_multi_page_pdf_keeps_page_order(simulated_server, corpus: Path):
    # Pages alternate landscape and portrait; the simulated engine names each page's size.
    pdf = (corpus / "pdf" / "habibi-rotated.pdf").read_bytes()
    async with client(simulated_server.base_url) as ocr:
        result = await ocr.ocr_document(pdf, filename="habibi-rotated.pdf")
    assert result.ok
    assert [page.index for page in result.pages] == [0, 1, 2, 3]
    sizes = [f"{page.width}x{page.height}" for page in result.pages]
    assert sizes == ["1540x1089", "1089x1540", "1540x1089", "1089x1540"]
    for page, size in zip(result.pages, sizes, strict=True):
        assert page.text.startswith(f"simulated page {size}")
        assert page.prompt_tokens > 0 and page.completion_tokens > 0
        assert page.finish_reason == "stop"


async def test_streaming_chunks_concatenate_to_the_final_text(simulated_server, corpus: Path):
    pdf = (corpus / "pdf" / "habibi-rotated.pdf").read_bytes()
    chunks: list[StreamChunk] = []
    async with client(simulated_server.base_url) as ocr:
        result = await ocr.ocr_document(pdf, on_chunk=chunks.append)
    assert result.ok
    for page in result.pages:
        streamed = [c.delta for c in chunks if c.page_index == page.index]
        assert len(streamed) > 1  # it really arrived in pieces
        assert "".join(streamed) == page.text
        assert page.completion_tokens > 0  # usage from stream_options.include_usage


async def test_encrypted_pdf_needs_its_password(simulated_server, corpus: Path):
    pdf = (corpus / "pdf" / "libreoffice-writer-password.pdf").read_bytes()
    async with client(simulated_server.base_url) as ocr:
        with pytest.raises(EncryptedDocument):
            await ocr.ocr_document(pdf)
        result = await ocr.ocr_document(pdf, password="openpassword")
    assert result.ok and result.page_count == 1


def test_sync_client_warms_up_and_reads_a_document(simulated_server, corpus: Path):
    pdf = (corpus / "pdf" / "multicolumn.pdf").read_bytes()
    with SyncOCRClient(simulated_server.base_url, settings=ClientSettings()) as ocr:
        report = ocr.warm_up(timeout=30)
        result = ocr.ocr_document(pdf)
    assert report.ready and report.url == simulated_server.base_url
    assert [page.index for page in result.pages] == [0, 1, 2]
    assert result.ok
