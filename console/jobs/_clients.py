"""The runner's OCR clients: its own for the current service, one per other endpoint.

A job names its service (`jobs.service_url`): the runner's own client serves the current
service (and jobs with an empty URL); a job aimed elsewhere (an A/B comparison's other side:
a tagged Cloud Run revision, a second service, a local server) gets a client of its own for
that URL, with the same settings and, off loopback, the same kind of credentials. Its ID
tokens name the runner's audience only at a tag URL of the runner's own service (a custom
audience is the service's, valid at its tags); anywhere else, that URL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from console._loopback import is_loopback
from ocr_core import OCRClient

logger = logging.getLogger(__name__)


def revision_or_none(revision: Callable[[], str | None]) -> str | None:
    """What serves the pages, or None: not knowing the revision must not stop a job."""
    try:
        return revision()
    except Exception:
        logger.info("revision unknown", exc_info=True)
        return None


def _tag_of(url: str, service_url: str) -> bool:
    """Whether `url` is a revision tag's URL of the service at `service_url`
    (https://TAG---SERVICE-HASH.a.run.app beside https://SERVICE-HASH.a.run.app)."""
    host, service = urlsplit(url).hostname or "", urlsplit(service_url).hostname or ""
    return bool(service) and host.endswith(f"---{service}")


class Clients:
    def __init__(self, own: OCRClient) -> None:
        self.own = own
        self._others: dict[str, OCRClient] = {}

    def for_service(self, service_url: str) -> OCRClient:
        url = service_url.rstrip("/")
        settings = self.own.settings
        if not url or url == settings.base_url.rstrip("/"):
            return self.own
        if url not in self._others:
            auth = settings.auth if settings.auth != "none" else "auto"
            if is_loopback(urlsplit(url).hostname or ""):
                auth = "none"
            other = settings.with_overrides(base_url=url, auth=auth)
            if not _tag_of(url, settings.base_url):
                other = replace(other, audience=None)
            self._others[url] = OCRClient(settings=other)
        return self._others[url]

    async def aclose(self) -> None:
        for client in [self.own, *self._others.values()]:
            await client.aclose()
