"""The cloudrun platform wired to fake Run, Logging and Monitoring servers, with realistic data.

For tests of the platform and of the console's pages on it (AppTest, browser):

    with cloudrun_platform_with_fakes() as cloud:
        cloud.platform.status()          # real google-cloud clients, fake servers on loopback
        cloud.logging.push(entry(...))   # a new log line arrives (tails see it)
        cloud.run.fail("UpdateService", grpc.StatusCode.PERMISSION_DENIED)

The seeded service is the seed deployment (`ServiceSpec()` applied through `deploy`: one
nvidia-l4, min 0 / max 3); the logs are a cold start followed by OCR requests and one
out-of-memory error; the metrics cover the last seven days with one cold start per day, a
busy last hour and a 5xx burst. Every timestamp is relative to `now`, the platform's clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from console.platforms.cloudrun import CloudRunPlatform
from deploy import CloudRunDeployer, ServiceSpec, ServiceTarget
from ocr_core import ClientSettings
from ocr_core._auth import IdTokenFetcher
from tests.fakes.google_logging import FakeLogging, entry
from tests.fakes.google_monitoring import PREFIX, FakeMonitoring, RawSeries
from tests.fakes.google_run import FakeRun

PROJECT = "demo-project"
REGION = "us-central1"
SERVICE = "lightonocr"
SERVICE_URL = "https://lightonocr-abc123-uc.a.run.app"


@dataclass
class CloudFakes:
    platform: CloudRunPlatform
    run: FakeRun
    logging: FakeLogging
    monitoring: FakeMonitoring
    deployer: CloudRunDeployer
    target: ServiceTarget
    now: datetime

    @property
    def revision(self) -> str:
        """The seeded service's serving revision (short name)."""
        return self.deployer.status().latest_ready_revision


def seed_logs(fake: FakeLogging, now: datetime, revision: str) -> None:
    """A cold start 50 minutes ago, then requests, one slow page and one OOM (JSON payload)."""
    start = now - timedelta(minutes=50)
    lines = [
        (0, "INFO", "Starting vLLM API server on http://0.0.0.0:8000", False),
        (5, "INFO", "Loading model lightonai/LightOnOCR-2-1B from /model-cache", False),
        (62, "WARNING", "Default sampling parameters have been overridden by the model", False),
        (95, "INFO", "Application startup complete.", False),
        (120, "INFO", 'POST /v1/chat/completions HTTP/1.1" 200 OK', False),
        (600, "WARNING", "Request took 131.2 s: output reached max_tokens", False),
        (1800, "ERROR", "CUDA out of memory while allocating the KV cache", True),
        (2400, "INFO", 'POST /v1/chat/completions HTTP/1.1" 200 OK', False),
    ]
    fake.push(
        *(
            entry(
                text,
                at=start + timedelta(seconds=s),
                severity=sev,
                revision=revision,
                json_message=as_json,
            )
            for s, sev, text, as_json in lines
        )
    )


def seed_metrics(fake: FakeMonitoring, now: datetime, revision: str) -> None:
    """Seven days of Cloud Run metrics for the service, minute resolution in the last hour."""
    ms = 1000.0
    cold_starts = [
        (now - timedelta(days=d, minutes=50), [(70 + 5 * d) * ms, (80 + 5 * d) * ms])
        for d in range(7)
    ]
    last_hour = [now - timedelta(minutes=m) for m in range(1, 51)]
    series = [
        RawSeries(PREFIX + "container/startup_latencies", cold_starts),  # type: ignore[arg-type]
        RawSeries(
            PREFIX + "container/memory/utilizations",
            [(t, [0.55, 0.6 + (i % 10) / 100]) for i, t in enumerate(last_hour)],
        ),
        RawSeries(
            PREFIX + "container/cpu/utilizations",
            [(t, [0.2, 0.35]) for t in last_hour],
        ),
        RawSeries(
            PREFIX + "container/gpu/memory_utilizations",
            [(t, [0.78, 0.8]) for t in last_hour],
        ),
        RawSeries(
            PREFIX + "container/gpu/utilizations",
            [(t, [0.1, 0.65]) for t in last_hour],
        ),
        RawSeries(
            PREFIX + "container/instance_count",
            [(t, 1.0) for t in last_hour],
            metric_labels={"state": "active"},
        ),
        RawSeries(
            PREFIX + "container/instance_count",
            [(t, 1.0 if i % 3 == 0 else 0.0) for i, t in enumerate(last_hour)],
            metric_labels={"state": "idle"},
        ),
        RawSeries(  # what Cloud Run bills: both instances' states, 60 s each a minute
            PREFIX + "container/billable_instance_time",
            [(t, 120.0 if i % 3 == 0 else 60.0) for i, t in enumerate(last_hour)],
        ),
        RawSeries(
            PREFIX + "request_latencies",
            [(t, [9 * ms, 14 * ms, 31 * ms, 95 * ms]) for t in last_hour],
        ),
        RawSeries(
            PREFIX + "request_count",
            [(t, 12.0) for t in last_hour],
            metric_labels={"response_code_class": "2xx"},
        ),
        RawSeries(
            PREFIX + "request_count",
            [(t, 3.0 if 20 <= i < 25 else 0.0) for i, t in enumerate(last_hour)],
            metric_labels={"response_code_class": "5xx"},
        ),
    ]
    for raw in series:
        raw.revision = revision
    fake.add(*series)


@contextlib.contextmanager
def cloudrun_platform_with_fakes(
    *,
    now: datetime | None = None,
    service_url: str = SERVICE_URL,
    seed: bool = True,
    client_settings: ClientSettings | None = None,
    id_token_fetcher: IdTokenFetcher | None = None,
    log_poll_interval_s: float = 0.05,
    progress_tick_s: float = 0.1,
) -> Iterator[CloudFakes]:
    """Start the three fakes, deploy the seed service into fake Run, and yield the platform.

    `now` fixes the platform's clock (default: the real time at entry); `seed=False` leaves
    the logs and metrics empty (the service is always deployed).
    """
    now = now or datetime.now(UTC).replace(microsecond=0)
    run, logging, monitoring = FakeRun(), FakeLogging(), FakeMonitoring()
    run.start()
    logging.start()
    monitoring.start()
    target = ServiceTarget(PROJECT, REGION, SERVICE)
    platform: CloudRunPlatform | None = None
    try:
        deployer = CloudRunDeployer(
            target, services_client=run.services_client(), revisions_client=run.revisions_client()
        )
        revision = deployer.apply(ServiceSpec(tag="c0ffee0")).latest_ready_revision
        if seed:
            seed_logs(logging, now, revision)
            seed_metrics(monitoring, now, revision)
        platform = CloudRunPlatform(
            target,
            service_url,
            deployer=deployer,
            logging_client=logging.client(),
            metrics_client=monitoring.client(),
            client_settings=client_settings or ClientSettings(base_url=service_url),
            id_token_fetcher=id_token_fetcher,
            clock=lambda: now,
            log_poll_interval_s=log_poll_interval_s,
            progress_tick_s=progress_tick_s,
        )
        yield CloudFakes(platform, run, logging, monitoring, deployer, target, now)
    finally:
        if platform is not None:
            platform.close()
        monitoring.stop()
        logging.stop()
        run.stop()
