"""`python -m deploy console`: the console behind IAP, against the fake Cloud Run server.

The CLI reaches the fake through LIGHTONOCR_RUN_ENDPOINT (loopback only) and the real
google-cloud-run client; nothing is patched.
"""

from __future__ import annotations

import io
import json

import pytest
from google.cloud import run_v2
from google.iam.v1 import policy_pb2

from console_image.entrypoint import command
from deploy import CloudRunDeployer, ServiceSpec
from deploy._cli import main
from tests.fakes.google_run import FakeRun

COMMIT = "c0ffee0"
CONSOLE = "projects/ocr-test/locations/europe-west1/services/lightonocr-console"
IAP_AGENT = "serviceAccount:service-123456@gcp-sa-iap.iam.gserviceaccount.com"
# A Secret Manager secret holds the URL with its password; the revision names only the secret.
APPLY = [
    "console",
    "apply",
    "--project-number",
    "123456",
    "--tag",
    COMMIT,
    "--database-url-secret",
    "console-database-url",
    "--bucket",
    "bank-ocr-documents",
    "--operator",
    "ana@bank.example",
    "--viewer",
    "@bank.example",
]


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _env(service: run_v2.Service) -> dict[str, str]:
    return {e.name: e.value for e in service.template.containers[0].env if e.value}


def _public(policy: policy_pb2.Policy) -> set[str]:
    members = {m for binding in policy.bindings for m in binding.members}
    return members & {"allUsers", "allAuthenticatedUsers"}


def test_apply_puts_the_console_behind_iap_with_no_public_invoker(
    fake_run: FakeRun, deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    gpu = deployer.apply(ServiceSpec(tag=COMMIT))

    code, out, err = _run([*APPLY, "--invoker", IAP_AGENT], run_env)

    assert code == 0, err
    console = fake_run.services[CONSOLE]
    assert console.iap_enabled is True
    assert console.invoker_iam_disabled is False
    assert console.template.session_affinity is True
    assert console.template.service_account == "lightonocr-console@ocr-test.iam.gserviceaccount.com"
    policy = fake_run.policies[CONSOLE]
    assert _public(policy) == set()
    assert [list(b.members) for b in policy.bindings] == [[IAP_AGENT]]
    assert f"Deployed lightonocr-console behind IAP: {console.uri}" in out
    assert (
        "gcloud storage buckets add-iam-policy-binding gs://bank-ocr-documents --member="
        "serviceAccount:lightonocr-console@ocr-test.iam.gserviceaccount.com "
        "--role=roles/storage.objectUser"
    ) in out
    env = _env(console)
    assert env["LIGHTONOCR_BUCKET"] == "bank-ocr-documents"
    assert env["LIGHTONOCR_SERVICE_URL"] == gpu.url  # read from Cloud Run
    assert env["LIGHTONOCR_IDENTITY"] == "iap"
    assert env["LIGHTONOCR_IAP_AUDIENCE"] == (
        "/projects/123456/locations/europe-west1/services/lightonocr-console"
    )
    own, hashed = "lightonocr-console-123456.europe-west1.run.app", console.uri[8:]
    assert env["LIGHTONOCR_CONSOLE_HOSTS"] == f"{own},{hashed}"  # both of its run.app URLs
    assert (env["LIGHTONOCR_OPERATORS"], env["LIGHTONOCR_VIEWERS"]) == (
        "ana@bank.example",
        "@bank.example",
    )


def test_the_database_url_comes_from_its_secret_never_in_plain_text(
    fake_run: FakeRun, deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    assert _run(APPLY, run_env)[0] == 0
    [database] = [
        e
        for e in fake_run.services[CONSOLE].template.containers[0].env
        if e.name == "LIGHTONOCR_DATABASE_URL"
    ]
    assert database.value == ""
    assert database.value_source.secret_key_ref.secret == "console-database-url"


def test_apply_refuses_a_console_someone_made_public(
    fake_run: FakeRun, deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    assert _run(APPLY, run_env)[0] == 0
    fake_run.policies[CONSOLE] = policy_pb2.Policy(
        bindings=[policy_pb2.Binding(role="roles/run.invoker", members=["allUsers"])]
    )
    updates_before = len(fake_run.requests_for("UpdateService"))

    code, _, err = _run(APPLY, run_env)

    assert code == 2
    assert "is public (allUsers can invoke it); refusing to deploy" in err
    assert len(fake_run.requests_for("UpdateService")) == updates_before


def test_an_all_users_invoker_is_refused_before_anything_is_sent(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    code, _, err = _run([*APPLY, "--invoker", "allUsers"], run_env)

    assert code == 2
    assert "must never be public" in err
    assert fake_run.requests == []


def test_dry_run_prints_the_service_with_iap_and_session_affinity_and_sends_nothing(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    gpu_url = "https://lightonocr-123456.europe-west1.run.app"

    code, out, err = _run([*APPLY, "--dry-run", "--service-url", gpu_url], run_env)

    assert code == 0, err
    printed = json.loads(out)
    assert printed["iapEnabled"] is True
    assert printed["template"]["sessionAffinity"] is True
    assert "invokerIamDisabled" not in printed  # False: every request checked by IAM
    assert "[]" not in out and '""' not in out
    assert {"name": "LIGHTONOCR_SERVICE_URL", "value": gpu_url} in printed["template"][
        "containers"
    ][0]["env"]
    assert fake_run.requests == []


def test_dry_run_shows_the_worker_and_the_ui_running_as_one_supervised_pair(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    gpu_url = "https://lightonocr-123456.europe-west1.run.app"
    code, out, err = _run([*APPLY, "--dry-run", "--service-url", gpu_url], run_env)
    assert code == 0, err
    [container] = json.loads(out)["template"]["containers"]
    assert container["command"] == ["python", "-m", "console_image.entrypoint"]
    assert command({"LIGHTONOCR_CONSOLE_HOSTS": "h.example"})[1:3] == ["-m", "console"]
    # CPU always allocated (cpuIdle false, the default the JSON leaves out): the worker
    # needs the CPU between requests.
    assert container["resources"].get("cpuIdle", False) is False


def test_dry_run_without_the_gpu_service_url_says_how_to_give_it(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    code, out, err = _run([*APPLY, "--dry-run"], run_env)

    assert (code, out) == (2, "")
    assert "pass --service-url" in err and len(err.strip().splitlines()) == 1
    assert fake_run.requests == []


def test_a_database_url_with_a_password_is_refused_without_echoing_it(
    run_env: dict[str, str],
) -> None:
    argv = [a for a in APPLY if a not in ("--database-url-secret", "console-database-url")]
    url = "postgresql+psycopg://console:hunter2@10.0.0.5/ocr"

    code, _, err = _run([*argv, "--dry-run", "--database-url", url], run_env)

    assert code == 2
    assert "holds a password" in err and "hunter2" not in err


def test_a_password_in_the_database_urls_query_is_refused_too(run_env: dict[str, str]) -> None:
    argv = [a for a in APPLY if a not in ("--database-url-secret", "console-database-url")]
    url = "postgresql://console@10.0.0.5/ocr?sslmode=require&Password=hunter2"
    code, _, err = _run([*argv, "--dry-run", "--database-url", url], run_env)
    assert code == 2
    assert "holds a password" in err and "hunter2" not in err


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (("--max", "100000"), "at most 10 console instances"),
        (("--operator", "x"), "operator 'x' is not an e-mail or @domain"),
        (("--viewer", "qa@"), "viewer 'qa@' is not an e-mail or @domain"),
        (("--bucket", "Bad_Bucket!"), "bucket 'Bad_Bucket!' is not a GCS bucket name"),
    ],
)
def test_console_bounds_and_people_are_checked_before_anything_is_sent(
    run_env: dict[str, str], flags: tuple[str, ...], said: str
) -> None:
    code, _, err = _run([*APPLY, "--dry-run", *flags], run_env)
    assert code == 2, err
    assert said in err


def test_a_console_without_a_shared_database_is_refused(run_env: dict[str, str]) -> None:
    argv = [a for a in APPLY if a not in ("--database-url-secret", "console-database-url")]

    code, _, err = _run([*argv, "--dry-run", "--service-url", "https://x.run.app"], run_env)

    assert code == 2
    assert "needs its shared PostgreSQL" in err


def test_a_console_without_a_bucket_for_documents_is_refused(run_env: dict[str, str]) -> None:
    argv = [a for a in APPLY if a not in ("--bucket", "bank-ocr-documents")]

    code, _, err = _run([*argv, "--dry-run", "--service-url", "https://x.run.app"], run_env)

    assert code == 2
    assert "no bucket" in err


def test_a_console_nobody_can_operate_is_refused(run_env: dict[str, str]) -> None:
    argv = [a for a in APPLY if a not in ("--operator", "ana@bank.example")]

    code, _, err = _run([*argv, "--dry-run", "--service-url", "https://x.run.app"], run_env)

    assert code == 2
    assert "no operators" in err


def test_status_shows_iap_session_affinity_and_invokers(
    fake_run: FakeRun, deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    assert _run([*APPLY, "--invoker", IAP_AGENT], run_env)[0] == 0

    code, out, _ = _run(["console", "status"], run_env)

    assert code == 0
    assert "IAP:              on" in out
    assert "Session affinity: on" in out
    assert f"Invokers:         {IAP_AGENT}" in out


def test_a_console_opened_at_its_hashed_run_app_url_stays_served_on_the_next_apply(
    fake_run: FakeRun, deployer: CloudRunDeployer, run_env: dict[str, str]
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))
    assert _run([*APPLY, "--invoker", IAP_AGENT], run_env)[0] == 0
    revisions = len(fake_run.revisions[CONSOLE])

    assert _run(APPLY, run_env)[0] == 0

    console = fake_run.services[CONSOLE]
    assert console.uri[8:] in _env(console)["LIGHTONOCR_CONSOLE_HOSTS"].split(",")
    assert len(fake_run.revisions[CONSOLE]) == revisions  # nothing changed, no new revision


def test_the_database_refusal_offers_the_secret_and_claims_no_iam_login(
    run_env: dict[str, str],
) -> None:
    argv = [a for a in APPLY if a not in ("--database-url-secret", "console-database-url")]

    _, _, err = _run([*argv, "--dry-run", "--service-url", "https://x.run.app"], run_env)

    assert "--database-url-secret SECRET (the URL with its password, in Secret Manager)" in err
    assert "IAM" not in err  # the /cloudsql socket mints no IAM token (issue 22, item 5)


def test_the_console_is_sized_from_its_measured_footprint_with_startup_cpu_boost(
    fake_run: FakeRun, run_env: dict[str, str]
) -> None:
    # Issue 31, item 10: `python -m console.bench_footprint` (deploy/README.md's figures).
    gpu_url = "https://lightonocr-123456.europe-west1.run.app"
    code, out, err = _run([*APPLY, "--dry-run", "--service-url", gpu_url], run_env)
    assert code == 0, err
    [container] = json.loads(out)["template"]["containers"]
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert container["resources"]["startupCpuBoost"] is True
