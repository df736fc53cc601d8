"""The OCR service on Cloud Run: status and scaling through `deploy`, logs through Cloud
Logging, metrics through Cloud Monitoring, warm-up through ocr_core with Google ID tokens.

Every Google client is a constructor argument (tests hand in real clients connected to fake
servers on loopback); missing ones are built on first use from Application Default
Credentials, so a console without credentials still opens and says what to do.

How status reads a scale-to-zero service: a healthy service with floor 0 and no instance is
**down** (cold, not broken: the base interface's "nothing is running"), and its detail says
the next request or a warm-up will start one. Whether an instance exists comes from the
`container/instance_count` metric over the last few minutes (Monitoring lags by up to ~3
minutes, so a warm-up that just succeeded counts too). When that metric cannot be read the
service is reported ready with a "may be cold" note rather than guessed down.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.auth import exceptions as auth_exc

from console.platforms._base import (
    ActionResult,
    InstanceSize,
    LogEntry,
    LogQuery,
    LogTail,
    MetricSeries,
    Platform,
    Revision,
    ServiceState,
    ServiceStatus,
    WarmUpMeasurement,
)
from console.platforms._cloudrun_facts import cold_hint, in_flight_limit, instance_size
from console.platforms._cloudrun_logs import (
    LOGS_ROLE,
    POLL_INTERVAL_S,
    CloudLoggingTail,
    list_entries,
)
from console.platforms._cloudrun_metrics import MONITORING_ROLE, MetricsReader
from console.platforms._cloudrun_state import service_state
from console.settings import ConsoleSettings
from deploy import (
    CloudError,
    CloudRunDeployer,
    InvalidSpec,
    ServiceSpec,
    ServiceTarget,
    explain_google_error,
    startup_messages,
)
from ocr_core import ClientSettings, OCRError, SyncOCRClient

if TYPE_CHECKING:
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.monitoring_v3 import MetricServiceClient

    from ocr_core._auth import IdTokenFetcher

NAME = "cloudrun"
RUN_VIEWER_ROLE = "roles/run.viewer"
# How far back status looks for a running instance of a scale-to-zero service.
INSTANCE_LOOKBACK = timedelta(minutes=5)
# Cloud Run keeps an idle instance around for a while after its last request.
WARM_AFTER_WARM_UP = timedelta(minutes=10)
# How often warm_up reports its elapsed time while waiting.
PROGRESS_TICK_S = 0.5
# A warm instance answers /health and /v1/models in well under this; a cold start (an
# instance started and the model loaded onto the GPU) takes far longer.
WARM_ANSWER_S = 10.0
# Cloud Run has no in-flight gauge: the requests of the last minute stand in for it.
IN_FLIGHT_LOOKBACK = timedelta(minutes=1)
# Past the startup probe's window: Cloud Run routes a held request once the probe passes.
ROUTING_MARGIN_S = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CloudRunPlatform(Platform):
    """One Cloud Run service (`target`) reachable at `service_url` with IAM-only access."""

    name = NAME
    supports_traffic = True
    in_flight_source = "requests in the last minute (Cloud Monitoring request_count)"

    def __init__(
        self,
        target: ServiceTarget,
        service_url: str,
        *,
        deployer: CloudRunDeployer | None = None,
        logging_client: LoggingServiceV2Client | None = None,
        metrics_client: MetricServiceClient | None = None,
        client_settings: ClientSettings | None = None,
        id_token_fetcher: IdTokenFetcher | None = None,
        clock: Callable[[], datetime] = _utc_now,
        progress_tick_s: float = PROGRESS_TICK_S,
        log_poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        if not service_url:
            raise ValueError(
                "The Cloud Run platform needs the service URL: set LIGHTONOCR_SERVICE_URL "
                "(shown by `python -m deploy status`)."
            )
        self.target = target
        self._service_url = service_url.rstrip("/")
        self._deployer = deployer
        self._logging = logging_client
        self._metrics = metrics_client
        self._settings = client_settings or ClientSettings.from_env()
        self.id_token_fetcher = id_token_fetcher
        self._clock = clock
        self.progress_tick_s = progress_tick_s
        self._log_poll_interval_s = log_poll_interval_s
        self._lock = threading.Lock()
        self._tails: list[CloudLoggingTail] = []
        self._startup_window: float | None = None
        self._audience: str | None = None
        self._ceiling: int | None = None
        self._size: InstanceSize | None = None
        self._warm_at: datetime | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CloudRunPlatform:
        """LIGHTONOCR_SERVICE_URL, GOOGLE_CLOUD_PROJECT, LIGHTONOCR_REGION, LIGHTONOCR_SERVICE."""
        return cls(
            ServiceTarget.from_env(env),
            ConsoleSettings.from_env(env).base_url or "",
            client_settings=ClientSettings.from_env(env),
        )

    def __repr__(self) -> str:
        return f"CloudRunPlatform({self.target.name!r}, {self._service_url!r})"

    # --- Google clients, built on first use ----------------------------------------------------

    def _client(self, attribute: str, factory: Callable[[], Any], action: str, role: str) -> Any:
        with self._lock:
            client = getattr(self, attribute)
            if client is None:
                try:
                    client = factory()
                except auth_exc.GoogleAuthError as exc:  # no ADC, unusable key file
                    raise explain_google_error(
                        exc, action=action, role=role, project=self.target.project
                    ) from None
                setattr(self, attribute, client)
            return client

    def _deploy(self) -> CloudRunDeployer:
        return self._client(
            "_deployer",
            lambda: CloudRunDeployer(self.target),
            f"connecting to Cloud Run for {self.target.service}",
            RUN_VIEWER_ROLE,
        )

    def _logging_client(self) -> LoggingServiceV2Client:
        def build() -> LoggingServiceV2Client:
            from google.cloud.logging_v2.services.logging_service_v2 import (
                LoggingServiceV2Client,
            )

            return LoggingServiceV2Client()

        return self._client("_logging", build, "connecting to Cloud Logging", LOGS_ROLE)

    def _reader(self) -> MetricsReader:
        def build() -> MetricServiceClient:
            from google.cloud.monitoring_v3 import MetricServiceClient

            return MetricServiceClient()

        client = self._client("_metrics", build, "connecting to Cloud Monitoring", MONITORING_ROLE)
        return MetricsReader(client, self.target.project, self.target.service, self._clock)

    # --- Platform ------------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return self._service_url

    def canary_tools(self) -> tuple[CloudRunDeployer, Callable[[str], list[str]]]:
        """The deployer and a revision's startup log reader, for the quality-gated canary."""

        def startup_log(revision: str) -> list[str]:
            return startup_messages(self._logging_client(), self.target, revision)

        return self._deploy(), startup_log

    def client_settings(self) -> ClientSettings:
        """The service URL with Google ID tokens (unless LIGHTONOCR_AUTH says otherwise),
        the startup probe's wait for a cold start, every instance's slots (once read)."""
        auth = "google" if self._settings.auth == "auto" else self._settings.auth
        if self._audience is None:  # minted for the custom audience the service accepts
            with contextlib.suppress(CloudError):
                self.status()
        return self._settings.with_overrides(
            base_url=self._service_url,
            auth=auth,
            admission_timeout_s=self._startup_window,
            audience=self._audience,
            concurrency=in_flight_limit(self._settings.concurrency, self._ceiling),
        )

    def startup_window_s(self) -> float:
        """The deployed startup probe's window (read from the service), plus the moments
        Cloud Run takes to route a held request once the instance is up."""
        if self._startup_window is None:
            with contextlib.suppress(CloudError):
                self.status()
        return self._startup_window or ServiceSpec().startup_window_s + ROUTING_MARGIN_S

    def status(self) -> ServiceStatus:
        """Raises CloudError (with the role or login step to fix it) when Run cannot be read."""
        info = self._deploy().status()
        if info.startup_window_s:
            self._startup_window = info.startup_window_s + ROUTING_MARGIN_S
        self._audience = self._settings.audience or info.audience or None
        self._size, self._ceiling = instance_size(info), info.max_instances
        state, detail = service_state(info) or self._scale_to_zero_state()
        gpu = f"{info.gpu_count or 1} x {info.gpu_type}" if info.gpu_type else None
        return ServiceStatus(
            state=state,
            url=self._service_url,
            model=self._settings.model,
            revision=info.latest_ready_revision or None,
            min_instances=info.min_instances,
            max_instances=info.max_instances,
            gpu=gpu,
            ready_since=info.update_time if state is ServiceState.READY else None,
            detail=detail,
        )

    def _scale_to_zero_state(self) -> tuple[ServiceState, str]:
        """A healthy service with floor 0: ready if warmed up lately or an instance runs."""
        now = self._clock()
        if self._warm_at is not None and now - self._warm_at < WARM_AFTER_WARM_UP:
            return ServiceState.READY, "Warmed up recently; with floor 0 it idles back to zero."
        try:
            instances = self._reader().instances_now(INSTANCE_LOOKBACK)
        except CloudError as exc:
            return ServiceState.READY, f"Floor 0: may be cold (instance count unknown: {exc})."
        if instances:
            return ServiceState.READY, f"{instances} instance(s) running; floor 0."
        return (
            ServiceState.DOWN,
            "Scaled to zero: cold, not broken. The next request (or Warm up) starts an "
            "instance; expect a cold start of a few minutes.",
        )

    def measure_warm_up(self, timeout_s: float) -> WarmUpMeasurement:
        """Wake the service through ocr_core (ID tokens) and time it.

        Cloud Run holds a request to a cold service until an instance has started, so the
        first health check can succeed after minutes: the service was already ready only if
        that first check also answered within `WARM_ANSWER_S`.
        """
        started = time.monotonic()
        try:
            with SyncOCRClient(
                settings=self.client_settings(), id_token_fetcher=self.id_token_fetcher
            ) as client:
                report = client.warm_up(timeout=timeout_s)
        except OCRError as error:
            return WarmUpMeasurement(False, time.monotonic() - started, 0, error=str(error))
        if not report.ready:
            hint = cold_hint(
                report.error,
                report.seconds,
                timeout_s,
                self.target,
                self._service_url,
                self.startup_window_s() - ROUTING_MARGIN_S,
            )
            return WarmUpMeasurement(False, report.seconds, report.attempts, error=hint)
        self._warm_at = self._clock()
        return WarmUpMeasurement(
            True,
            report.seconds,
            report.attempts,
            was_ready=report.was_ready and report.seconds < WARM_ANSWER_S,
        )

    def scale(self, *, min_instances: int, max_instances: int | None = None) -> ActionResult:
        """Through `deploy`'s CloudRunDeployer.scale; failures come back as ok=False."""
        if min_instances < 0 or (max_instances is not None and max_instances < min_instances):
            return ActionResult(
                False,
                f"Cannot scale to floor {min_instances} / ceiling {max_instances}: the floor "
                "must be 0 or more and not above the ceiling.",
            )
        try:
            info = self._deploy().scale(min_instances=min_instances, max_instances=max_instances)
        except (CloudError, InvalidSpec) as exc:  # both already say what to do
            return ActionResult(False, str(exc))
        floor_note = (
            "scaled to zero when idle" if info.min_instances == 0 else "instances kept warm"
        )
        return ActionResult(
            True,
            f"{self.target.service}: floor {info.min_instances}, ceiling {info.max_instances} "
            f"({floor_note}).",
        )

    # --- revisions, traffic, requests in flight ------------------------------------------------

    def revisions(self) -> list[Revision]:
        """Newest first; raises CloudError (with the role to ask for) when Run cannot be read."""
        return [
            Revision(
                name=info.name,
                image=info.image,
                digest=info.digest,
                model_revision=info.model_revision,
                created=info.create_time,
                traffic_percent=info.traffic_percent,
                ready=info.ready,
            )
            for info in self._deploy().revisions()
        ]

    def set_traffic(self, split: Mapping[str, int]) -> ActionResult:
        """Through `deploy` (an update_mask on traffic only); failures come back as ok=False."""
        try:
            info = self._deploy().set_traffic(split)
        except (CloudError, InvalidSpec) as exc:  # both already say what to do
            return ActionResult(False, str(exc))
        shares = ", ".join(f"{name} {percent}%" for name, percent in info.traffic)
        return ActionResult(True, f"{self.target.service} now sends traffic to {shares}.")

    def requests_in_flight(self) -> int | None:
        """Requests of the last minute: Cloud Run publishes no in-flight gauge, and a service
        that answered none in a minute has none in flight (Monitoring lags by a minute or
        two, so this is a lower bound on a busy service). None when Monitoring cannot say."""
        try:
            return self._reader().requests_in(IN_FLIGHT_LOOKBACK)
        except CloudError:
            return None

    def logs(self, query: LogQuery) -> list[LogEntry]:
        return list_entries(self._logging_client(), self.target.project, self.target.service, query)

    def tail(self, query: LogQuery) -> LogTail:
        tail = CloudLoggingTail(
            self._logging_client(),
            self.target.project,
            self.target.service,
            query,
            poll_interval_s=self._log_poll_interval_s,
            now=self._clock,
        )
        with self._lock:
            self._tails = [t for t in self._tails if t.running]
            self._tails.append(tail)
        return tail

    def metrics(self, window: timedelta) -> list[MetricSeries]:
        return self._reader().read(window)

    def billing(self, window: timedelta) -> tuple[list[MetricSeries], InstanceSize | None]:
        if self._size is None:
            with contextlib.suppress(CloudError):
                self.status()  # learns the instance size as deployed
        return self._reader().billing(window), self._size

    def close(self) -> None:
        with self._lock:
            tails, self._tails = self._tails, []
        for tail in tails:
            tail.close()
