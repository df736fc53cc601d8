"""`python -m deploy`: in-process through `main`, and end to end in a subprocess.

The CLI reaches the fake through LIGHTONOCR_RUN_ENDPOINT (loopback only), the same
variable an operator could point at an emulator; nothing is patched.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
from google.cloud import run_v2

from deploy import CloudRunDeployer, ServiceSpec, ServiceTarget
from deploy._cli import main
from gpu_image import serve_config
from tests.fakes.google_run import FakeRun

ROOT = Path(__file__).resolve().parents[2]
BACKEND = "serviceAccount:backend@ocr-test.iam.gserviceaccount.com"
# A commit tag, as cloudbuild.yaml pushes every build: an immutable image reference.
COMMIT = "c0ffee0"


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A process environment with no Google credentials of any kind."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "CLOUDSDK_", "LIGHTONOCR_"))
    }
    env.update(
        HOME=str(tmp_path),
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        NO_GCE_CHECK="true",
        **extra,
    )
    return env


def _python_m_deploy(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dry_run_prints_the_exact_service_request_and_contacts_nothing(tmp_path: Path) -> None:
    env = _bare_env(tmp_path, GOOGLE_CLOUD_PROJECT="ocr-test")

    done = _python_m_deploy(
        ["apply", "--dry-run", "--region", "europe-west1", "--tag", "c0ffee7"], env
    )

    assert done.returncode == 0, done.stderr
    printed = run_v2.Service.from_json(done.stdout)
    expected = CloudRunDeployer(ServiceTarget("ocr-test", "europe-west1")).build_service(
        ServiceSpec(tag="c0ffee7")
    )
    assert printed == expected


def test_dry_run_prints_only_the_fields_that_are_set(run_env: dict[str, str]) -> None:
    code, out, _ = _run(["apply", "--dry-run", "--tag", COMMIT], run_env)

    assert code == 0
    assert "[]" not in out and '""' not in out and "{}" not in out
    container = json.loads(out)["template"]["containers"][0]
    assert "command" not in container and "baseImageUri" not in container
    assert container["resources"]["startupCpuBoost"] is True


def test_dry_run_summary_shows_immutable_image_model_revision_and_probe_window(
    run_env: dict[str, str],
) -> None:
    code, _, err = _run(["apply", "--dry-run", "--tag", COMMIT], run_env)

    assert code == 0
    assert f"lightonocr-gpu:{COMMIT}" in err
    assert f"{serve_config.MODEL_ID} @ {serve_config.MODEL_REVISION}" in err
    assert "HTTP GET /health, 120 s + 24 x 10 s = 360 s window" in err
    assert f"{serve_config.MAX_MODEL_LEN} tokens" in err


def test_dry_run_of_a_movable_tag_is_refused_in_one_line(run_env: dict[str, str]) -> None:
    code, out, err = _run(["apply", "--dry-run", "--tag", "latest"], run_env)

    assert code == 2 and out == ""
    assert err.startswith("error: Invalid service spec: tag 'latest' can move")
    assert len(err.strip().splitlines()) == 1


def test_dry_run_without_an_image_says_how_to_name_one(run_env: dict[str, str]) -> None:
    code, _, err = _run(["apply", "--dry-run"], run_env)

    assert code == 2
    assert "--tag $(git rev-parse HEAD)" in err


def test_dry_run_applies_flags_over_environment_over_defaults(run_env: dict[str, str]) -> None:
    env = {**run_env, "LIGHTONOCR_MAX_INSTANCES": "2", "LIGHTONOCR_IMAGE_TAG": "c0ffee9"}

    code, out, _ = _run(["apply", "--dry-run", "--max", "1", "--memory", "24Gi"], env)

    service = run_v2.Service.from_json(out)
    assert code == 0
    assert service.scaling.max_instance_count == 1
    assert service.template.containers[0].image.endswith(":c0ffee9")
    assert service.template.containers[0].resources.limits["memory"] == "24Gi"


def test_apply_end_to_end_prints_url_and_ready_revision(
    fake_run: FakeRun, run_env: dict[str, str], tmp_path: Path
) -> None:
    done = _python_m_deploy(["apply", "--tag", "c0ffee1"], _bare_env(tmp_path, **run_env))

    assert done.returncode == 0, done.stderr
    service = fake_run.services["projects/ocr-test/locations/europe-west1/services/lightonocr"]
    assert f"Deployed lightonocr: {service.uri}" in done.stdout
    assert f"Ready revision: {service.latest_ready_revision.rsplit('/', 1)[-1]}" in done.stdout


def test_status_shows_revision_scaling_and_gpu(
    deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    info = deployer.apply(ServiceSpec(tag=COMMIT))

    code, out, _ = _run(["status"], run_env)

    assert code == 0
    assert f"Ready revision: {info.latest_ready_revision}" in out
    assert "min 0 / max 3" in out
    assert "8 vCPU, 32Gi, 1 x nvidia-l4" in out
    assert "State:          ready" in out


def test_scale_to_zero_drops_the_floor(
    deployer: CloudRunDeployer, fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT, min_instances=1))

    code, out, _ = _run(["scale", "--to-zero"], run_env)

    assert code == 0
    assert fake_run.requests_for("UpdateService")[-1].service.scaling.min_instance_count == 0
    assert "min 0 / max 3" in out


def test_scale_with_no_bound_is_a_usage_error(run_env: dict[str, str]) -> None:
    code, _, err = _run(["scale"], run_env)

    assert code == 2
    assert "--min" in err


def test_revisions_lists_traffic_per_revision(
    deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    latest = deployer.apply(ServiceSpec(tag="c0ffee2"))

    code, out, _ = _run(["revisions"], run_env)

    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("REVISION")
    assert lines[1].startswith(latest.latest_ready_revision) and "100%" in lines[1]
    assert "  0%" in lines[2]


def test_rollback_to_a_named_revision(
    deployer: CloudRunDeployer, fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    deployer.apply(ServiceSpec(tag="c0ffee2"))

    code, out, _ = _run(["rollback", "--revision", first.latest_ready_revision], run_env)

    assert code == 0
    assert f"traffic now {first.latest_ready_revision} 100%" in out
    traffic = fake_run.requests_for("UpdateService")[-1].service.traffic
    assert [(t.revision, t.percent) for t in traffic] == [(first.latest_ready_revision, 100)]


def test_grant_invoker_binds_the_member(
    deployer: CloudRunDeployer, fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    code, out, _ = _run(["grant-invoker", "--member", BACKEND], run_env)

    assert code == 0
    assert f"Granted roles/run.invoker on lightonocr to {BACKEND}" in out
    policy = fake_run.requests_for("SetIamPolicy")[-1].policy
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        ("roles/run.invoker", [BACKEND])
    ]


def test_grant_invoker_to_all_users_is_refused_in_one_line(
    fake_run: FakeRun, run_env: dict[str, str], tmp_path: Path
) -> None:
    done = _python_m_deploy(
        ["grant-invoker", "--member", "allUsers"], _bare_env(tmp_path, **run_env)
    )

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "must never be public" in done.stderr
    assert fake_run.requests == []


def test_permission_denied_is_one_line_naming_the_role(
    deployer: CloudRunDeployer, fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    fake_run.fail("UpdateService", grpc.StatusCode.PERMISSION_DENIED, "caller lacks permission")

    code, _, err = _run(["scale", "--min", "1"], run_env)

    assert code == 1
    assert err.count("\n") == 1
    assert "needs roles/run.developer on project ocr-test" in err


def test_missing_credentials_is_one_line_saying_how_to_log_in(tmp_path: Path) -> None:
    done = _python_m_deploy(["status", "--project", "ocr-test"], _bare_env(tmp_path))

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: No Google credentials found")
    assert "gcloud auth application-default login" in done.stderr


def test_apply_with_the_old_canary_flag_says_where_the_canary_went(run_env: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main(["apply", "--tag", "c0ffee2", "--canary", "photo"], env=run_env, out=out, err=err)

    assert code == 2
    assert "python -m console.golden canary SET --tag SHA" in err.getvalue()
