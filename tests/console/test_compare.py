"""A/B comparisons: two jobs of the same documents, each run on its own endpoint by the one
runner, read back side by side with a safe word diff; the other URL is checked first."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from console._compare import (
    DEFAULT_COMPARE_HOSTS,
    Comparisons,
    EndpointError,
    check_endpoint,
    compare_hosts,
    diff_html,
)
from console._store import Store
from console.golden import GoldenDocument, GoldenStore
from console.jobs import JobRunner, NewDocument
from ocr_core import ClientSettings, OCRClient
from tests.console.jobs.conftest import wait_until
from tests.fakes.fault_server import FaultServer
from tests.fakes.inputs import png, tiff_pages
from tests.fakes.local_server import LocalServer, free_port, start_local_server

SIMULATED_TEXT = "This text stands in for the OCR of one page."


@pytest.fixture(scope="module")
def simulated() -> Iterator[LocalServer]:
    with start_local_server("--engine", "simulated", "--service-time", "0.05") as server:
        yield server


@pytest.fixture
def runner(store: Store, simulated: LocalServer) -> Iterator[JobRunner]:
    settings = ClientSettings(base_url=simulated.base_url, auth="none", max_attempts=1)
    runner = JobRunner(store, lambda: OCRClient(settings=settings), poll_s=0.1).start()
    yield runner
    runner.stop()


def test_each_side_is_read_by_its_own_endpoint(
    store: Store, runner: JobRunner, simulated: LocalServer
) -> None:
    comparisons = Comparisons(store)
    with FaultServer() as fault:
        pair = comparisons.start(
            [NewDocument("two.tif", tiff_pages(["#ffffff", "#000000"]))],
            left_url=simulated.base_url,
            left_revision="r1",
            right_url=fault.base_url,
            actor="qa",
        )
        runner.wake()
        assert wait_until(lambda: comparisons.finished(pair), timeout_s=60)
        assert len(fault.chat_requests()) == 2  # the right side's pages, and only those
    pages = comparisons.pages(pair)
    assert [(p.document, p.page) for p in pages] == [("two.tif", 0), ("two.tif", 1)]
    assert SIMULATED_TEXT in (pages[0].left.text or "")
    assert [p.right.text for p in pages] == ["page #ffffff", "page #000000"]
    for side in (pages[0].left, pages[0].right):
        assert side.latency_s and side.latency_s > 0 and side.prompt_tokens
    assert comparisons.recent()[0].id == pair.id


def test_sides_from_a_golden_set_are_scored_against_its_text(
    store: Store, runner: JobRunner, simulated: LocalServer
) -> None:
    golden = GoldenStore(store)
    golden.register(
        "g",
        [GoldenDocument("white.png", png("white"), "page #ffffff", "white.txt")],
        actor="qa",
        source="test",
    )
    comparisons = Comparisons(store)
    with FaultServer() as fault:
        pair = comparisons.start_golden(
            golden,
            "g",
            left_url=simulated.base_url,
            left_revision=None,
            right_url=fault.base_url,
            actor="qa",
        )
        runner.wake()
        assert wait_until(lambda: comparisons.finished(pair), timeout_s=60)
    (page,) = comparisons.pages(pair, golden)
    assert page.expected == "page #ffffff"
    assert page.right.cer == 0.0
    assert page.left.cer is not None and page.left.cer > 0.5


def test_the_diff_marks_both_sides_and_escapes_every_word() -> None:
    # An unclosed tag survives the scores' normalisation (closed ones are markup and go).
    rendered = diff_html("total 42 paid", "total <img src=x onerror=alert(1) 43 & paid")
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)" in rendered
    assert "&amp;" in rendered
    assert "<del>" in rendered and "<u>" in rendered
    assert rendered.startswith("<div>total ") and rendered.endswith("paid</div>")


def test_the_same_url_on_both_sides_is_refused(store: Store, simulated: LocalServer) -> None:
    with pytest.raises(EndpointError, match="nothing to compare"):
        Comparisons(store).start(
            [NewDocument("a.png", png())],
            left_url=simulated.base_url,
            left_revision=None,
            right_url=simulated.base_url + "/",
            actor="qa",
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com", "must be an http:// or https:// URL"),
        ("javascript:alert(1)", "must be an http:// or https:// URL"),
        ("http://", "names no host"),
        ("https://user:secret@example.com", "put no credentials in the URL"),
        ("https://ocr-abc.a.run.app/?x=1", r"without \? or #"),
    ],
)
def test_an_invalid_url_is_refused_before_any_request(url: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message) as refused:
        check_endpoint(url)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/computeMetadata/v1",  # the metadata server
        "http://metadata.google.internal",
        "https://intranet.bank.example",
        "https://evil.example/x.run.app",  # the pattern is the host's, not the path's
    ],
)
def test_a_host_outside_the_allow_list_is_refused_before_any_request(url: str) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    with pytest.raises(EndpointError, match="LIGHTONOCR_COMPARE_HOSTS"):
        check_endpoint(url, transport=transport)
    assert sent == []


def test_a_cloud_run_url_is_allowed_by_default() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(403))
    url = "https://lightonocr-canary---lightonocr-123456789.us-central1.run.app"
    assert check_endpoint(url, transport=transport) == url
    assert [str(r.url) for r in sent] == [f"{url}/health"]


def test_the_allow_list_comes_from_the_environment() -> None:
    env = {"LIGHTONOCR_COMPARE_HOSTS": " ocr.internal.bank.example, *.run.app ,"}
    assert compare_hosts(env) == ("ocr.internal.bank.example", "*.run.app")
    assert compare_hosts({}) == DEFAULT_COMPARE_HOSTS
    with pytest.raises(EndpointError, match="not a host this console compares against"):
        check_endpoint("http://127.0.0.1:9", allowed_hosts=compare_hosts(env))


def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    with pytest.raises(EndpointError, match=r"cannot reach http://127\.0\.0\.1:\d+: ConnectError"):
        check_endpoint(f"http://127.0.0.1:{free_port()}", timeout_s=2)


def test_an_endpoint_that_is_not_ready_is_refused() -> None:
    with FaultServer() as fault:
        fault.go_cold(30)
        with pytest.raises(EndpointError, match="answered 503: not a ready OCR service"):
            check_endpoint(fault.base_url)


def test_an_iam_only_service_counts_as_reachable() -> None:
    with FaultServer() as fault:
        fault.faults.accept_tokens = {"a-token"}
        assert check_endpoint(fault.base_url + "/") == fault.base_url


def test_a_healthy_endpoint_comes_back_normalised(simulated: LocalServer) -> None:
    assert check_endpoint(f"  {simulated.base_url}/ ") == simulated.base_url
    assert httpx.get(f"{simulated.base_url}/health").status_code == 200


def test_a_failed_page_and_an_unreadable_document_say_why_on_their_side(
    store: Store, runner: JobRunner, simulated: LocalServer
) -> None:
    comparisons = Comparisons(store)
    with FaultServer() as fault:
        fault.faults.fail_colour = "#000000"
        pair = comparisons.start(
            [
                NewDocument("two.tif", tiff_pages(["#ffffff", "#000000"])),
                NewDocument("junk.pdf", b"not a pdf"),
            ],
            left_url=simulated.base_url,
            left_revision=None,
            right_url=fault.base_url,
            actor="qa",
        )
        runner.wake()
        assert wait_until(lambda: comparisons.finished(pair), timeout_s=60)
    first, second = comparisons.pages(pair)
    assert first.right.text == "page #ffffff"
    assert second.right.text is None and "cannot read page #000000" in (second.right.error or "")
    assert SIMULATED_TEXT in (second.left.text or "")  # the other side is unaffected
    problems = comparisons.problems(pair)
    assert len(problems) == 2 and all("junk.pdf" in problem for problem in problems)
    assert problems[0].startswith("left: ") and problems[1].startswith("right: ")
