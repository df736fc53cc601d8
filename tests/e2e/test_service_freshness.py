"""The sidebar keeps itself fresh, and keep-warm shows in it, in a real browser.

Its own console (simulated engine, own ports and data folder): these tests change the
service's floor, which the session console's other tests must not see.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import assert_page_clean, go_to, open_console, running_console, wait_idle

pytestmark = pytest.mark.e2e

# The sidebar redraws every 15 s (console.ui._state.SIDEBAR_REFRESH_S); two rounds and slack.
REFRESH_WAIT_MS = 45_000


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_console(tmp_path_factory.mktemp("freshness-console")) as started:
        yield started.url


@pytest.fixture
def page(browser: Browser, console_url: str) -> Iterator[Page]:
    with open_console(browser, console_url) as page:
        yield page


def test_the_sidebar_redraws_on_its_own(page: Page) -> None:
    checked = page.get_by_test_id("stSidebar").get_by_text("Checked ")
    first = checked.inner_text()
    expect(checked).not_to_have_text(first, timeout=REFRESH_WAIT_MS)  # nobody touched anything


def test_the_sidebar_shows_a_change_made_in_another_tab_without_a_click(
    browser: Browser, console_url: str, page: Page
) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("service: ready")).to_be_visible(timeout=60_000)
    with open_console(browser, console_url) as other:
        go_to(other, "Service")
        other.get_by_role("button", name="Scale to zero now").click()
        wait_idle(other)
        other.get_by_role("button", name="Confirm").click()
        wait_idle(other)
    expect(sidebar.get_by_text("service: down")).to_be_visible(timeout=REFRESH_WAIT_MS)
    go_to(page, "Service")  # put the floor back for the next test
    page.get_by_role("button", name="Warm up").click()
    wait_idle(page, timeout_ms=120_000)
    expect(sidebar.get_by_text("service: ready")).to_be_visible(timeout=60_000)


def test_keep_warm_counts_down_in_the_sidebar_and_can_be_cancelled(page: Page) -> None:
    go_to(page, "Service")
    page.get_by_role("button", name="Scale to zero now").click()
    wait_idle(page)
    page.get_by_role("button", name="Confirm").click()
    wait_idle(page)
    page.get_by_role("button", name="Keep warm").click()
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Kept warm until")).to_be_visible()
    expect(sidebar.get_by_text("left), then the floor goes back to 0")).to_be_visible()
    page.get_by_role("button", name="Cancel the revert").click()
    wait_idle(page)
    expect(sidebar.get_by_text("Kept warm until")).to_have_count(0)
    audit = page.get_by_test_id("stDataFrame").filter(has_text="keep warm cancelled")
    expect(audit).to_have_count(1)
    assert_page_clean(page)
