"""The runner's clients mint the service's custom audience at its tag URLs only (issue 31,
item 8): a comparison against another service gets tokens for that service's URL."""

from __future__ import annotations

from console.jobs._clients import Clients
from ocr_core import ClientSettings, OCRClient

SERVICE = "https://lightonocr-abc123-uc.a.run.app"
AUDIENCE = "https://lightonocr.us-central1.ocr-prod.run.invalid"


def _clients() -> Clients:
    settings = ClientSettings(base_url=SERVICE, auth="google", audience=AUDIENCE)
    return Clients(OCRClient(settings=settings))


def test_a_tag_of_the_service_is_called_with_the_services_custom_audience() -> None:
    tagged = _clients().for_service("https://canary-c0ffee2---lightonocr-abc123-uc.a.run.app")

    assert tagged.settings.audience == AUDIENCE


def test_another_service_is_called_with_its_own_url_as_the_audience() -> None:
    other = _clients().for_service("https://other-abc123-uc.a.run.app")

    assert other.settings.audience is None  # the URL called is the audience
