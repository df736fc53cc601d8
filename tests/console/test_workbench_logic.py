"""The workbench's batch logic with the real client against real servers on loopback."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from console._workbench import (
    DISPLAY_LONGEST_SIDE,
    TICK_S,
    Batch,
    FileEntry,
    FileState,
    Finished,
    Opened,
    PageDone,
    TextDelta,
    Tick,
    Upload,
    retry_page,
    run_document,
)
from ocr_core import ClientSettings, SyncOCRClient
from tests.fakes.fault_server import FaultServer, tiff_pages
from tests.fakes.local_server import LocalServer

RED, WHITE, BLUE = "#ff0000", "#ffffff", "#0000ff"


@pytest.fixture
def client(simulated_server: LocalServer) -> Iterator[SyncOCRClient]:
    with SyncOCRClient(settings=ClientSettings(base_url=simulated_server.base_url)) as client:
        yield client


@pytest.fixture
def streaming_client(simulated_server: LocalServer) -> Iterator[SyncOCRClient]:
    settings = ClientSettings(base_url=simulated_server.base_url, stream=True)
    with SyncOCRClient(settings=settings) as client:
        yield client


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fault_client(fault_server: FaultServer) -> Iterator[SyncOCRClient]:
    with SyncOCRClient(settings=ClientSettings(base_url=fault_server.base_url)) as client:
        yield client


def _entry(path: Path, name: str | None = None) -> FileEntry:
    return FileEntry(file_id="f1", filename=name or path.name, data=path.read_bytes())


def test_a_document_reports_its_size_then_every_page_then_the_end(
    client: SyncOCRClient, corpus: Path
) -> None:
    entry = _entry(corpus / "pdf" / "pdflatex-4-pages.pdf")
    events = list(run_document(entry, client))
    assert events[0] == Opened(4)
    assert sorted(e.result.index for e in events if isinstance(e, PageDone)) == [0, 1, 2, 3]
    assert events[-1] == Finished(ok=True)
    assert entry.state is FileState.DONE
    assert [p.index for p in entry.result().pages] == [0, 1, 2, 3]
    assert entry.result().ok


def test_streamed_text_arrives_before_its_page_and_adds_up_to_it(
    streaming_client: SyncOCRClient, corpus: Path
) -> None:
    entry = _entry(corpus / "scans" / "phototest.tif")
    events = list(run_document(entry, streaming_client))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    [done] = [e for e in events if isinstance(e, PageDone)]
    assert deltas
    assert events.index(deltas[-1]) < events.index(done)
    assert "".join(d.delta for d in deltas) == done.result.text


def test_a_bad_file_ends_as_a_message_not_an_exception(client: SyncOCRClient, corpus: Path) -> None:
    entry = _entry(corpus / "scans" / "phototest.txt", name="renamed.pdf")
    events = list(run_document(entry, client))
    assert events == [Finished(ok=False, error=entry.error)]
    assert entry.state is FileState.FAILED
    assert "plain text" in (entry.error or "")


def test_an_encrypted_pdf_waits_for_a_password_then_opens(
    client: SyncOCRClient, corpus: Path
) -> None:
    entry = _entry(corpus / "pdf" / "libreoffice-writer-password.pdf")
    list(run_document(entry, client))
    assert entry.state is FileState.NEEDS_PASSWORD
    entry.password = "openpassword"
    list(run_document(entry, client))
    assert entry.state is FileState.DONE
    assert entry.result().ok_count == entry.page_count >= 1


def test_a_run_stopped_early_still_accounts_for_every_page(
    client: SyncOCRClient, corpus: Path
) -> None:
    entry = _entry(corpus / "pdf" / "pdflatex-4-pages.pdf")
    events = run_document(entry, client)
    while not isinstance(next(events), PageDone):
        pass
    events.close()
    result = entry.result()
    assert result.page_count == 4
    assert result.ok_count == 1
    assert {str(p.error) for p in result.pages if not p.ok} <= {
        f"page {i}: no result" for i in range(1, 5)
    }


def test_a_failed_page_leaves_the_others_and_can_be_retried_alone(
    fault_server: FaultServer, fault_client: SyncOCRClient
) -> None:
    fault_server.faults.fail_colour, fault_server.faults.fail_colour_status = RED, 400
    entry = FileEntry(file_id="f1", filename="three.tif", data=tiff_pages([WHITE, RED, BLUE]))
    list(run_document(entry, fault_client))
    assert entry.failed_pages == [1]
    untouched = entry.pages[0], entry.pages[2]
    fault_server.faults.fail_colour = None
    retried = retry_page(entry, 1, fault_client)
    assert retried.ok
    assert retried.text == f"page {RED}"
    assert retried.attempts == 2  # the failed request and the retry
    assert (entry.pages[0], entry.pages[2]) == untouched
    assert entry.result().ok


def test_page_images_for_display_are_jpegs_of_bounded_size(corpus: Path) -> None:
    entry = _entry(corpus / "scans" / "eurotext.tif")
    with Image.open(io.BytesIO(entry.page_image(0))) as image:
        assert image.format == "JPEG"
        assert max(image.size) <= DISPLAY_LONGEST_SIDE


def test_a_batch_adds_new_uploads_once_and_lists_what_could_not_be_read(
    client: SyncOCRClient, corpus: Path
) -> None:
    batch = Batch()
    good = Upload("a", "scan.tif", (corpus / "scans" / "phototest.tif").read_bytes())
    bad = Upload("b", "empty.pdf", b"")
    batch.add([good, bad])
    batch.add([good])
    assert [e.filename for e in batch.pending()] == ["scan.tif", "empty.pdf"]
    for entry in batch.pending():
        list(run_document(entry, client))
    assert [r.filename for r in batch.results()] == ["scan.tif"]
    assert batch.failures() == {"empty.pdf": "is empty: it has no bytes or no pages"}


def test_a_slow_page_keeps_the_clock_ticking(
    fault_server: FaultServer, fault_client: SyncOCRClient
) -> None:
    fault_server.faults.delay_s = 1.3
    entry = FileEntry(file_id="f1", filename="slow.png", data=tiff_pages([WHITE]))
    events = list(run_document(entry, fault_client))
    ticks = [e.elapsed_s for e in events if isinstance(e, Tick)]
    assert len(ticks) >= 2
    assert ticks == sorted(ticks)
    assert ticks[0] >= TICK_S
    assert isinstance(events[-1], Finished) and events[-1].ok
