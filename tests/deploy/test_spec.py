"""ServiceSpec and ServiceTarget: the seed defaults, overrides, and what is refused."""

from __future__ import annotations

import dataclasses

import pytest

from deploy import InvalidSpec, PublicAccessRefused, ServiceSpec, ServiceTarget
from deploy._spec import check_member
from gpu_image import serve_config
from ocr_core import ClientSettings


def test_defaults_are_the_seed_deployment() -> None:
    spec = ServiceSpec()

    assert (spec.cpu, spec.memory, spec.gpu_type, spec.gpu_count) == ("8", "32Gi", "nvidia-l4", 1)
    assert (spec.min_instances, spec.max_instances) == (0, 3)
    assert spec.cpu_idle is False
    assert spec.gpu_zonal_redundancy_disabled is True
    assert spec.port == serve_config.DEFAULT_PORT
    assert spec.env["HF_HUB_OFFLINE"] == "1"


def test_the_startup_window_is_the_most_cloud_run_allows_within_its_two_caps() -> None:
    spec = ServiceSpec()

    assert spec.probe_http_path == "/health"
    assert spec.probe_initial_delay_s <= 240  # Cloud Run's cap on the initial delay
    assert spec.probe_failure_threshold * spec.probe_period_s == 240  # and on the rest
    assert spec.startup_window_s == spec.probe_initial_delay_s + 240 > 240


def test_concurrency_is_above_the_vllm_batch_so_one_document_does_not_start_a_second_gpu() -> None:
    assert ServiceSpec().concurrency == 2 * serve_config.MAX_NUM_SEQS
    with pytest.raises(InvalidSpec, match="above vLLM's --max-num-seqs"):
        ServiceSpec(concurrency=serve_config.MAX_NUM_SEQS)


def test_default_image_lives_in_artifact_registry_of_the_target() -> None:
    target = ServiceTarget(project="p1", region="us-east4")

    assert ServiceSpec(tag="abc1234").image_for(target) == (
        "us-east4-docker.pkg.dev/p1/lightonocr/lightonocr-gpu:abc1234"
    )


DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    "image",
    [
        f"example/img@{DIGEST}",
        f"example/img:1@{DIGEST}",
        "example/img:0123abcd",
        "h:5000/i:abc1234",
    ],
)
def test_a_digest_or_a_commit_tag_is_an_immutable_image(image: str) -> None:
    assert ServiceSpec(image=image).image_for(ServiceTarget(project="p1")) == image


@pytest.mark.parametrize("image", ["example/img:latest", "example/img", "example/img:v7"])
def test_an_image_whose_tag_can_move_is_refused(image: str) -> None:
    # Cloud Run makes no new revision for an unchanged template: a rebuilt :latest never runs.
    with pytest.raises(InvalidSpec, match="not immutable"):
        ServiceSpec(image=image)


@pytest.mark.parametrize("tag", ["latest", "v7", "main"])
def test_a_tag_that_is_not_a_commit_is_refused(tag: str) -> None:
    with pytest.raises(InvalidSpec, match="can move"):
        ServiceSpec(tag=tag)


def test_without_a_tag_or_image_the_error_says_how_to_name_one() -> None:
    with pytest.raises(InvalidSpec, match=r"--tag \$\(git rev-parse HEAD\)"):
        ServiceSpec().image_for(ServiceTarget(project="p1"))


def test_default_service_account_is_the_dedicated_runtime_account() -> None:
    assert ServiceSpec().service_account_for(ServiceTarget(project="p1")) == (
        "lightonocr-run@p1.iam.gserviceaccount.com"
    )


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"cpu": "2"}, "at least 4 CPU"),
        ({"memory": "8Gi"}, "at least 16Gi"),
        ({"cpu_idle": True}, "CPU always allocated"),
        ({"gpu_count": 2}, "exactly 1 GPU"),
        ({"min_instances": 4, "max_instances": 3}, "min <= max"),
        ({"probe_failure_threshold": 30}, r"failure_threshold \* period"),
        ({"probe_timeout_s": 20}, "timeout <= period"),
        ({"memory": "lots"}, "not a size"),
    ],
)
def test_specs_cloud_run_would_reject_fail_before_any_call(
    changes: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidSpec, match=complaint):
        ServiceSpec(**changes)  # type: ignore[arg-type]


def test_a_cpu_only_service_may_have_less_than_gpu_minimums() -> None:
    spec = ServiceSpec(gpu_count=0, cpu="1", memory="2Gi")

    assert spec.cpu == "1"


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers"])
def test_public_invokers_cannot_be_written_into_a_spec(member: str) -> None:
    with pytest.raises(PublicAccessRefused):
        ServiceSpec(invokers=(member,))


def test_a_malformed_invoker_member_is_refused() -> None:
    with pytest.raises(InvalidSpec, match="serviceAccount:"):
        ServiceSpec(invokers=("backend@p.iam.gserviceaccount.com",))


def test_environment_overrides_single_fields() -> None:
    env = {
        "LIGHTONOCR_IMAGE_TAG": "deadbeef",
        "LIGHTONOCR_MIN_INSTANCES": "1",
        "LIGHTONOCR_MAX_INSTANCES": "2",
        "LIGHTONOCR_RUN_SERVICE_ACCOUNT": "ocr@p.iam.gserviceaccount.com",
    }

    spec = ServiceSpec().with_env(env)

    assert dataclasses.asdict(spec) == dataclasses.asdict(
        ServiceSpec(
            tag="deadbeef",
            min_instances=1,
            max_instances=2,
            service_account="ocr@p.iam.gserviceaccount.com",
        )
    )


def test_a_non_numeric_instance_count_in_the_environment_is_named() -> None:
    with pytest.raises(InvalidSpec, match="LIGHTONOCR_MAX_INSTANCES"):
        ServiceSpec().with_env({"LIGHTONOCR_MAX_INSTANCES": "three"})


def test_target_from_env_uses_documented_defaults() -> None:
    target = ServiceTarget.from_env({"GOOGLE_CLOUD_PROJECT": "p1"})

    assert (target.project, target.region, target.service) == ("p1", "us-central1", "lightonocr")
    assert target.name == "projects/p1/locations/us-central1/services/lightonocr"


def test_target_arguments_win_over_the_environment() -> None:
    env = {"GOOGLE_CLOUD_PROJECT": "p1", "LIGHTONOCR_REGION": "europe-west1"}

    target = ServiceTarget.from_env(env, project="p2", service="ocr-staging")

    assert (target.project, target.region, target.service) == ("p2", "europe-west1", "ocr-staging")


def test_target_without_a_project_says_how_to_give_one() -> None:
    with pytest.raises(InvalidSpec, match="GOOGLE_CLOUD_PROJECT"):
        ServiceTarget.from_env({})


def test_target_refuses_a_name_cloud_run_would_reject() -> None:
    with pytest.raises(InvalidSpec, match="not valid for Cloud Run"):
        ServiceTarget(project="p", service="OCR_Service")


# Issue 10, L7: nonsense that used to pass validation and reach the Cloud Run API.
@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("cpu", "nan", "CPU limit"),
        ("cpu", "inf", "CPU limit"),
        ("cpu", "1e9", "CPU limit"),
        ("memory", "1000000Gi", "Memory limit"),
        ("max_instances", 100000, "at most 100 instances"),
        ("gpu_type", "", "GPU type must be one of"),
    ],
)
def test_limits_outside_what_cloud_run_offers_are_refused(field, value, reason):
    with pytest.raises(InvalidSpec, match=reason):
        ServiceSpec(tag="c0ffee0", **{field: value})


@pytest.mark.parametrize("project", ["p/locations/x", "P1", "my project", "1abc"])
def test_a_project_that_is_not_a_project_id_never_reaches_a_resource_name(project):
    with pytest.raises(InvalidSpec, match="not a Google Cloud project id"):
        ServiceTarget(project=project)


@pytest.mark.parametrize("member", ["serviceAccount:", "user:  "])
def test_an_iam_member_with_no_principal_is_refused(member):
    with pytest.raises(InvalidSpec, match="must look like"):
        check_member(member)


def test_every_gpu_revision_is_labelled_with_the_model_revision_it_serves() -> None:
    from google.cloud import run_v2

    from deploy._info import model_revision
    from deploy._request import build_service

    target = ServiceTarget(project="p1", region="us-east4")
    service = build_service(target, ServiceSpec(tag="abc1234"))
    # A revision made from this template is what the console's revision list reads.
    revision = run_v2.Revision(labels=dict(service.template.labels))
    assert model_revision(revision) == serve_config.MODEL_REVISION


def test_the_clients_default_cold_start_wait_is_the_specs_startup_window() -> None:
    assert ClientSettings().admission_timeout_s == ServiceSpec().startup_window_s


@pytest.mark.parametrize(
    "member",
    [
        "principalSet://iam.googleapis.com/locations/global/workforcePools/staff/*",
        "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*",
    ],
)
def test_a_principal_set_is_refused_as_an_invoker(member: str) -> None:
    with pytest.raises(PublicAccessRefused, match="principal set"):
        check_member(member)


def test_only_gpus_whose_shape_fits_the_caps_are_offered() -> None:
    with pytest.raises(InvalidSpec, match="GPU type must be one of nvidia-l4"):
        ServiceSpec(gpu_type="nvidia-rtx-pro-6000")
