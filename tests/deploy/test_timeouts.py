"""The GPU service's request timeout holds every phase the client waits through.

Cloud Run counts an instance's start inside the request timeout and answers 504 when it
runs out; the client would take that for a failure and send the page again. So the client
must give up on an attempt first: its whole attempt (the cold start it waits through as
admission, its turn in the queue, the answer) fits inside the service's request timeout,
for the startup window the spec deploys by default and for the longest Cloud Run allows.
"""

from __future__ import annotations

import pytest

from console.platforms.cloudrun import ROUTING_MARGIN_S
from deploy import ServiceSpec
from ocr_core import ClientSettings

# Cloud Run's caps on a startup probe: initial delay <= 240 s, failures x period <= 240 s.
LONGEST_PROBE = {"probe_initial_delay_s": 240, "probe_failure_threshold": 24}
CLOUD_RUN_MAX_REQUEST_TIMEOUT_S = 3600  # "can be extended up to 60 minutes (3600 seconds)"


@pytest.mark.parametrize("probe", [{}, LONGEST_PROBE], ids=["default probe", "longest probe"])
def test_the_clients_attempt_fits_inside_the_services_request_timeout(probe: dict) -> None:
    spec = ServiceSpec(**probe)
    # What the console's client waits (console/platforms/cloudrun.py), phase by phase.
    client = ClientSettings(admission_timeout_s=spec.startup_window_s + ROUTING_MARGIN_S)
    phases = client.admission_timeout_s + client.queue_timeout_s
    assert phases < client.attempt_deadline_s  # room for the answer itself
    assert client.attempt_deadline_s <= spec.request_timeout_s <= CLOUD_RUN_MAX_REQUEST_TIMEOUT_S


def test_a_client_with_its_own_defaults_fits_too() -> None:
    assert ClientSettings().attempt_deadline_s <= ServiceSpec().request_timeout_s
