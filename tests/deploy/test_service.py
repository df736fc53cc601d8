"""CloudRunDeployer against the fake Cloud Run API, through the real run_v2 clients."""

from __future__ import annotations

import grpc
import pytest
from google.cloud import run_v2

from deploy import (
    CloudError,
    CloudRunDeployer,
    CloudUnavailable,
    InvalidSpec,
    PermissionDeniedError,
    PublicAccessRefused,
    QuotaExceeded,
    ServiceNotFound,
    ServiceSpec,
    ServiceTarget,
)
from tests.fakes.google_run import FakeRun

BACKEND = "serviceAccount:backend@ocr-test.iam.gserviceaccount.com"
# A commit tag, as cloudbuild.yaml pushes every build: an immutable image reference.
COMMIT = "c0ffee0"


def _sent_service(fake: FakeRun, method: str) -> run_v2.Service:
    return fake.requests_for(method)[-1].service


def test_apply_creates_the_service_with_the_seed_gpu_spec(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag="abc1234"))

    request = fake_run.requests_for("CreateService")[-1]
    assert request.parent == "projects/ocr-test/locations/europe-west1"
    assert request.service_id == "lightonocr"
    service = request.service
    template = service.template
    container = template.containers[0]
    assert container.image == (
        "europe-west1-docker.pkg.dev/ocr-test/lightonocr/lightonocr-gpu:abc1234"
    )
    assert dict(container.resources.limits) == {
        "cpu": "8",
        "memory": "32Gi",
        "nvidia.com/gpu": "1",
    }
    assert container.resources.cpu_idle is False
    assert template.node_selector.accelerator == "nvidia-l4"
    assert template.gpu_zonal_redundancy_disabled is True
    assert (service.scaling.min_instance_count, service.scaling.max_instance_count) == (0, 3)
    assert template.service_account == "lightonocr-run@ocr-test.iam.gserviceaccount.com"
    assert template.max_instance_request_concurrency == 16  # 2 x vLLM's batch of 8
    assert [(p.name, p.container_port) for p in container.ports] == [("http1", 8000)]
    assert {e.name: e.value for e in container.env}["HF_HUB_OFFLINE"] == "1"


def test_apply_gives_the_model_360_seconds_through_an_http_health_probe_on_8000(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    probe = _sent_service(fake_run, "CreateService").template.containers[0].startup_probe
    assert (probe.http_get.path, probe.http_get.port) == ("/health", 8000)
    assert "tcp_socket" not in probe
    assert probe.initial_delay_seconds + probe.failure_threshold * probe.period_seconds == 360
    assert probe.initial_delay_seconds <= 240  # Cloud Run's caps, each on its own
    assert probe.failure_threshold * probe.period_seconds <= 240
    assert probe.timeout_seconds <= probe.period_seconds


def test_reapplying_the_same_commit_creates_no_revision_but_a_new_commit_does(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    # Why the image must be immutable: an unchanged template is not a new revision.
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    again = deployer.apply(ServiceSpec(tag="c0ffee1"))
    rebuilt = deployer.apply(ServiceSpec(tag="c0ffee2"))

    assert again.latest_created_revision == first.latest_created_revision
    assert rebuilt.latest_created_revision != first.latest_created_revision
    assert rebuilt.image.endswith(":c0ffee2")


def test_apply_keeps_the_service_iam_only(deployer: CloudRunDeployer, fake_run: FakeRun) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    service = _sent_service(fake_run, "CreateService")
    assert service.invoker_iam_disabled is False
    assert fake_run.requests_for("SetIamPolicy") == []
    assert "allUsers" not in run_v2.Service.to_json(service)


def test_apply_returns_the_url_and_ready_revision(deployer: CloudRunDeployer) -> None:
    info = deployer.apply(ServiceSpec(tag=COMMIT))

    assert info.url.startswith("https://lightonocr-")
    assert info.latest_ready_revision == "lightonocr-00001-" + info.latest_ready_revision[-3:]
    assert info.ready is True
    assert (info.gpu_type, info.gpu_count, info.cpu, info.memory) == ("nvidia-l4", 1, "8", "32Gi")


def test_apply_on_an_existing_service_updates_it_and_routes_traffic_to_the_new_revision(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    second = deployer.apply(ServiceSpec(tag="c0ffee2"))

    update = fake_run.requests_for("UpdateService")[-1].service
    assert update.name == "projects/ocr-test/locations/europe-west1/services/lightonocr"
    assert update.template.containers[0].image.endswith(":c0ffee2")
    assert [(t.type_.name, t.percent) for t in update.traffic] == [
        ("TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", 100)
    ]
    assert second.latest_ready_revision != first.latest_ready_revision
    assert second.traffic == [(second.latest_ready_revision, 100)]


def test_apply_grants_invoker_to_the_spec_members(
    deployer: CloudRunDeployer, fake_run: FakeRun, target: ServiceTarget
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT, invokers=(BACKEND,)))

    bindings = fake_run.policies[target.name].bindings
    assert [(b.role, list(b.members)) for b in bindings] == [("roles/run.invoker", [BACKEND])]


def test_apply_refuses_to_update_a_service_someone_made_public(
    deployer: CloudRunDeployer, fake_run: FakeRun, target: ServiceTarget
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    fake_run.policies[target.name].bindings.add(role="roles/run.invoker", members=["allUsers"])

    with pytest.raises(PublicAccessRefused, match="allUsers"):
        deployer.apply(ServiceSpec(tag="c0ffee2"))
    assert fake_run.requests_for("UpdateService") == []


def test_status_summarises_the_service(deployer: CloudRunDeployer) -> None:
    applied = deployer.apply(ServiceSpec(tag=COMMIT))

    info = deployer.status()

    assert info.name == "lightonocr"
    assert info.latest_ready_revision == applied.latest_ready_revision
    assert (info.min_instances, info.max_instances) == (0, 3)
    assert ("Ready", "SUCCEEDED", "") in info.conditions
    assert info.update_time is not None


def test_a_rollout_whose_revision_never_gets_ready_fails_and_status_shows_why(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    good = deployer.apply(ServiceSpec(tag="c0ffee1"))
    fake_run.new_revisions_ready = False

    with pytest.raises(CloudError, match="failed the configured startup probe"):
        deployer.apply(ServiceSpec(tag="badbad0"))
    info = deployer.status()

    assert info.ready is False
    assert info.latest_ready_revision == good.latest_ready_revision
    assert info.latest_created_revision != good.latest_ready_revision
    failed = next(c for c in info.conditions if c[0] == "Ready")
    assert failed[1] == "FAILED" and "startup probe" in failed[2]


def test_apply_waits_for_a_long_running_operation_to_finish(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    fake_run.pending_polls = 1

    info = deployer.apply(ServiceSpec(tag=COMMIT))

    assert len(fake_run.requests_for("GetOperation")) == 2
    assert info.ready is True and info.url


def test_an_operation_that_outlives_the_timeout_says_to_check_status(
    fake_run: FakeRun, target: ServiceTarget
) -> None:
    fake_run.pending_polls = None
    deployer = CloudRunDeployer(
        target,
        services_client=fake_run.services_client(),
        revisions_client=fake_run.revisions_client(),
        operation_timeout_s=0.2,
    )

    with pytest.raises(CloudUnavailable, match="python -m deploy status"):
        deployer.apply(ServiceSpec(tag=COMMIT))


def test_status_of_a_missing_service_says_how_to_create_it(deployer: CloudRunDeployer) -> None:
    with pytest.raises(ServiceNotFound) as caught:
        deployer.status()
    assert "python -m deploy apply" in str(caught.value)


def test_grant_invoker_adds_the_member_to_the_invoker_binding_with_the_etag(
    deployer: CloudRunDeployer, fake_run: FakeRun, target: ServiceTarget
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    deployer.grant_invoker(BACKEND)

    request = fake_run.requests_for("SetIamPolicy")[-1]
    assert request.resource == target.name
    assert request.policy.etag == b"etag-0"
    assert [(b.role, list(b.members)) for b in request.policy.bindings] == [
        ("roles/run.invoker", [BACKEND])
    ]


def test_grant_invoker_twice_changes_nothing_the_second_time(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    deployer.grant_invoker(BACKEND)

    deployer.grant_invoker(BACKEND)

    assert len(fake_run.requests_for("SetIamPolicy")) == 1


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers", "user:allUsers"])
def test_grant_invoker_refuses_public_members_without_calling_google(
    deployer: CloudRunDeployer, fake_run: FakeRun, member: str
) -> None:
    with pytest.raises(PublicAccessRefused):
        deployer.grant_invoker(member)
    assert fake_run.requests == []


def test_permission_denied_names_the_role_the_action_needs(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    fake_run.fail(
        "UpdateService",
        grpc.StatusCode.PERMISSION_DENIED,
        "Permission 'run.services.update' denied on resource",
    )

    with pytest.raises(PermissionDeniedError) as caught:
        deployer.scale(min_instances=1)

    assert caught.value.role == "roles/run.developer"
    assert str(caught.value).startswith(
        "Permission denied while scaling service lightonocr: the caller needs "
        "roles/run.developer on project ocr-test"
    )


def test_granting_invoker_without_admin_asks_for_run_admin(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    fake_run.fail("SetIamPolicy", grpc.StatusCode.PERMISSION_DENIED, "denied")

    with pytest.raises(PermissionDeniedError) as caught:
        deployer.grant_invoker(BACKEND)
    assert caught.value.role == "roles/run.admin"


def test_gpu_quota_exhaustion_on_create_is_a_quota_error(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    fake_run.fail(
        "CreateService", grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota exceeded for nvidia_l4_gpu"
    )

    with pytest.raises(QuotaExceeded, match="GPU"):
        deployer.apply(ServiceSpec(tag=COMMIT))


def test_clients_are_built_from_the_loopback_endpoint_variable(
    fake_run: FakeRun, target: ServiceTarget
) -> None:
    deployer = CloudRunDeployer(target, env={"LIGHTONOCR_RUN_ENDPOINT": fake_run.address})

    deployer.apply(ServiceSpec(tag=COMMIT))

    assert [r.method for r in fake_run.requests][:2] == ["GetService", "CreateService"]


def test_a_non_loopback_endpoint_is_refused(target: ServiceTarget) -> None:
    deployer = CloudRunDeployer(target, env={"LIGHTONOCR_RUN_ENDPOINT": "run.example.com:443"})

    with pytest.raises(InvalidSpec, match="loopback"):
        deployer.status()


@pytest.mark.parametrize("endpoint", ["localhost.evil.example:443", "127.0.0.1.nip.io:443"])
def test_a_host_that_only_starts_like_loopback_is_refused(
    target: ServiceTarget, endpoint: str
) -> None:
    # Issue 10, L7: the check was a prefix match.
    deployer = CloudRunDeployer(target, env={"LIGHTONOCR_RUN_ENDPOINT": endpoint})
    with pytest.raises(InvalidSpec, match="loopback"):
        deployer.status()


def test_apply_sets_the_custom_audience_every_caller_mints(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    # Issue 31, item 8: accepted at the service's URL and its tags' URLs alike.
    deployer.apply(ServiceSpec(tag="c0ffee1"))

    service = fake_run.services[deployer.target.name]
    assert list(service.custom_audiences) == [
        "https://lightonocr.europe-west1.ocr-test.run.invalid"
    ]
    assert deployer.status().audience == service.custom_audiences[0]
