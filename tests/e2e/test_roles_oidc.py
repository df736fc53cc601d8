"""Outside IAP, st.login (issue 14): the whole OpenID Connect sign-in in Chromium.

The console's secrets name a provider on loopback (tests/fakes/oidc.py): the browser goes to
it and back with a code, Streamlit (Authlib) exchanges the code and checks the ID token
(signature against the provider's JWKS, issuer, audience, expiry, nonce), and the console
takes the person from `st.user` with the same role lists as behind IAP.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import VIEWPORT, _free_port, go_to, running_console, wait_idle
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider, running_oidc_provider

pytestmark = pytest.mark.e2e

OPERATOR = "ana@bank.example"
VIEWER = "qa@bank.example"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with running_oidc_provider() as running:
        yield running


@pytest.fixture(scope="module")
def oidc_console(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A console that is not behind IAP but whose secrets configure st.login."""
    folder = tmp_path_factory.mktemp("oidc-console")
    port = _free_port()
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n'
    )
    settings = {"LIGHTONOCR_OPERATORS": OPERATOR, "LIGHTONOCR_VIEWERS": "@bank.example"}
    args = ("--secrets.files", str(secrets_file))
    with running_console(
        folder, settings=settings, args=("--server.address", "127.0.0.1", *args), port=port
    ) as started:
        url = started.url
        yield url


@contextmanager
def browsing(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_idle(page)
        yield page
    finally:
        context.close()


def sign_in(page: Page) -> None:
    """Press "Sign in": to the provider and back, then the console loads again."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/", timeout=60_000)
    wait_idle(page)


def _sidebar(page: Page) -> str:
    """The sidebar once it says who is signed in (drawn after the page, so wait for it)."""
    sidebar = page.get_by_test_id("stSidebarContent")
    sidebar.get_by_text("Signed in as").wait_for(timeout=60_000)
    return sidebar.inner_text()


def test_the_console_asks_to_sign_in_and_shows_nothing_else(
    browser: Browser, oidc_console: str
) -> None:
    with browsing(browser, oidc_console) as page:
        assert page.locator("h1").first.inner_text() == "Not signed in"
        assert page.get_by_test_id("stSidebarNav").count() == 0
        assert page.get_by_role("button", name="Sign in").is_visible()


def test_an_operator_signs_in_through_the_provider_and_may_act(
    browser: Browser, oidc_console: str, provider: OidcProvider
) -> None:
    provider.person = {"email": OPERATOR, "email_verified": True}
    exchanges = provider.token_requests
    with browsing(browser, oidc_console) as page:
        sign_in(page)
        assert provider.token_requests == exchanges + 1  # the code went back for a token
        assert f"Signed in as {OPERATOR} · operator" in _sidebar(page)
        go_to(page, "Service")
        main = page.get_by_test_id("stMain")
        assert main.get_by_role("button", name="Warm up", exact=True).is_visible()


def test_a_viewer_signs_in_and_sees_no_controls_then_signs_out(
    browser: Browser, oidc_console: str, provider: OidcProvider
) -> None:
    provider.person = {"email": VIEWER, "email_verified": True}
    with browsing(browser, oidc_console) as page:
        sign_in(page)
        assert f"Signed in as {VIEWER} · viewer" in _sidebar(page)
        go_to(page, "Service")
        main = page.get_by_test_id("stMain")
        assert main.get_by_role("button", name="Warm up", exact=True).count() == 0
        assert main.get_by_text("Scaling needs the operator role.").is_visible()
        page.get_by_test_id("stSidebarContent").get_by_role("button", name="Sign out").click()
        page.wait_for_selector("h1:has-text('Not signed in')")


def test_an_unverified_email_is_not_signed_in(
    browser: Browser, oidc_console: str, provider: OidcProvider
) -> None:
    provider.person = {"email": OPERATOR, "email_verified": False}
    with browsing(browser, oidc_console) as page:
        sign_in(page)
        assert page.locator("h1").first.inner_text() == "Not signed in"
        assert "no verified e-mail" in page.get_by_test_id("stMain").inner_text()
        assert page.get_by_test_id("stSidebarNav").count() == 0
