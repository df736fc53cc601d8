"""Roles in the browser (issue 14): the real console in IAP mode, verifying real assertions.

The console runs with `LIGHTONOCR_IDENTITY=iap`; IAP's public key is served on loopback
(tests/fakes/iap.py) and every request of the browser context, the websocket included,
carries the signed `X-Goog-IAP-JWT-Assertion` header IAP would add.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from console._store import Store
from tests.console.review.conftest import Seed, seed_job
from tests.e2e.conftest import (
    VIEWPORT,
    Console,
    assert_page_clean,
    full_page_screenshot,
    go_to,
    running_console,
    wait_idle,
)
from tests.fakes.iap import AUDIENCE, IapKeys, serve_iap_keys

pytestmark = pytest.mark.e2e

OPERATOR = "ops@bank.example"
VIEWER = "qa@bank.example"


@pytest.fixture(scope="module")
def iap() -> Iterator[IapKeys]:
    with serve_iap_keys() as keys:
        yield keys


@pytest.fixture(scope="module")
def team(iap: IapKeys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console as the team deployment runs it: IAP identity, roles from the lists."""
    settings = {
        "LIGHTONOCR_IDENTITY": "iap",
        "LIGHTONOCR_IAP_AUDIENCE": AUDIENCE,
        "LIGHTONOCR_IAP_KEYS_URL": iap.url,
        "LIGHTONOCR_OPERATORS": OPERATOR,
        "LIGHTONOCR_VIEWERS": "@bank.example",
    }
    with running_console(tmp_path_factory.mktemp("team-console"), settings=settings) as started:
        yield started


@pytest.fixture(scope="module")
def team_console(team: Console) -> str:
    return team.url


@contextmanager
def signed_in(browser: Browser, url: str, assertion: str | None) -> Iterator[Page]:
    """A browser session whose every request carries `assertion`, as IAP adds it."""
    headers = {"X-Goog-IAP-JWT-Assertion": assertion} if assertion else {}
    context = browser.new_context(viewport=VIEWPORT, extra_http_headers=headers)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_idle(page)
        yield page
    finally:
        context.close()


def _sidebar(page: Page) -> str:
    return page.get_by_test_id("stSidebarContent").inner_text()


def test_a_viewer_sees_no_warm_up_or_scale_controls(
    browser: Browser, team_console: str, iap: IapKeys
) -> None:
    with signed_in(browser, team_console, iap.assertion(email=VIEWER)) as page:
        assert f"Signed in as {VIEWER} · viewer" in _sidebar(page)
        go_to(page, "Service")
        main = page.get_by_test_id("stMain")
        for label in ("Warm up", "Apply", "Scale to zero now", "Restore"):
            assert main.get_by_role("button", name=label, exact=True).count() == 0, label
        assert main.get_by_test_id("stNumberInput").count() == 0
        assert main.get_by_text("Scaling needs the operator role.").is_visible()
        assert_page_clean(page)


def test_an_operator_sees_them(browser: Browser, team_console: str, iap: IapKeys) -> None:
    with signed_in(browser, team_console, iap.assertion(email=OPERATOR)) as page:
        assert f"Signed in as {OPERATOR} · operator" in _sidebar(page)
        go_to(page, "Service")
        main = page.get_by_test_id("stMain")
        assert main.get_by_role("button", name="Warm up", exact=True).is_visible()
        # The floor, the ceiling and the keep-warm hours.
        assert main.get_by_test_id("stNumberInput").count() == 3
        assert_page_clean(page)


@pytest.mark.parametrize(
    "who",
    ["nobody", "forged", "expired", "other audience"],
)
def test_without_a_valid_assertion_the_console_shows_only_not_signed_in(
    browser: Browser, team_console: str, iap: IapKeys, who: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    assertion = {
        "nobody": None,
        "forged": iap.assertion(ec.generate_private_key(ec.SECP256R1()), email=OPERATOR),
        "expired": iap.assertion(email=OPERATOR, iat=1, exp=2),
        "other audience": iap.assertion(audience="/projects/9/global/backendServices/1"),
    }[who]
    with signed_in(browser, team_console, assertion) as page:
        assert page.locator("h1").first.inner_text() == "Not signed in"
        assert page.get_by_test_id("stButton").count() == 0
        assert page.get_by_test_id("stSidebarNav").count() == 0


def test_a_viewer_reads_a_page_waiting_for_review_but_cannot_edit_it(
    browser: Browser, team: Console, iap: IapKeys, screenshots: Path
) -> None:
    store = Store.in_dir(team.data_dir)
    try:
        seed_job(store, Seed("teh quick brown fox", confidence=0.4, doubtful=("teh",)))
    finally:
        store.close()
    with signed_in(browser, team.url, iap.assertion(email=VIEWER)) as page:
        go_to(page, "Review")
        main = page.get_by_test_id("stMain")
        assert main.get_by_role("textbox", name="Page text").is_disabled()
        assert main.get_by_text("Correcting pages needs the operator role.").is_visible()
        for label in ("Approve", "Save", "Send"):
            assert main.get_by_role("button", name=label, exact=True).count() == 0, label
        assert_page_clean(page)
        full_page_screenshot(page, screenshots / "review-viewer.png")
