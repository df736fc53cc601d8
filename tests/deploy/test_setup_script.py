"""deploy/setup_service_accounts.sh grants exactly the documented roles, never public ones.

Run with a stand-in `gcloud` on PATH that records its arguments (there is no Google Cloud
here); the script itself is the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "setup_service_accounts.sh"
# A stand-in `gcloud` that keeps Google's rules the script depends on: a service account
# exists once created (or listed in FAKE_EXISTING); a binding naming one of the project's
# accounts that does not exist fails, as IAM's does; a Cloud Run service and a bucket exist
# only when the test says so. Every call is logged.
FAKE_GCLOUD = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
line = " ".join(args)
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(line + "\n")
state_path = os.environ["GCLOUD_STATE"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {
    "accounts": [a for a in os.environ.get("FAKE_EXISTING", "").split(",") if a]}
domain = "@" + os.environ["GOOGLE_CLOUD_PROJECT"] + ".iam.gserviceaccount.com"
def save():
    json.dump(state, open(state_path, "w"))
def known(email):
    return not email.endswith(domain) or email[: -len(domain)] in state["accounts"]
if args[:3] == ["iam", "service-accounts", "create"]:
    if args[3] in state["accounts"]:
        sys.exit("ERROR: (gcloud.iam.service-accounts.create) already exists")
    state["accounts"].append(args[3]); save(); sys.exit(0)
if args[:3] == ["iam", "service-accounts", "describe"]:
    sys.exit(0 if known(args[3]) else 1)
if args[:3] == ["iam", "service-accounts", "add-iam-policy-binding"] and not known(args[3]):
    sys.exit(f"ERROR: NOT_FOUND: Service account {args[3]} does not exist.")
if "--member" in args:
    member = args[args.index("--member") + 1]
    if member.startswith("serviceAccount:") and not known(member.split(":", 1)[1]):
        sys.exit(f"ERROR: INVALID_ARGUMENT: Service account {member} does not exist.")
if args[:3] == ["run", "services", "describe"]:
    sys.exit(0 if os.environ.get("FAKE_SERVICE_EXISTS") else 1)
if args[:3] == ["storage", "buckets", "describe"]:
    sys.exit(0 if os.environ.get("FAKE_BUCKET_EXISTS") else 1)
for arg in args:
    if arg.startswith("--lifecycle-file="):
        with open(os.environ["GCLOUD_LOG"] + ".lifecycle", "w") as kept:
            kept.write(open(arg.split("=", 1)[1]).read())
if "get-value account" in line:
    print("dev@example.com")
"""


def _run_script(
    tmp_path: Path, **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "gcloud.log"
    log.unlink(missing_ok=True)
    gcloud = tmp_path / "gcloud"
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GCLOUD_LOG": str(log),
        "GCLOUD_STATE": str(tmp_path / "gcloud-state.json"),
        "GOOGLE_CLOUD_PROJECT": "ocr-prod",
        **extra_env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    return done, log.read_text().splitlines()


def _roles(calls: list[str], member: str) -> list[str]:
    return sorted(
        c.split("--role ")[1].split()[0]
        for c in calls
        if "add-iam-policy-binding" in c and f"--member {member}" in c
    )


CONSOLE = "serviceAccount:lightonocr-console@ocr-prod.iam.gserviceaccount.com"


def test_creates_the_runtime_and_backend_accounts(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path)

    assert done.returncode == 0, done.stderr
    created = [c.split()[3] for c in calls if c.startswith("iam service-accounts create")]
    assert created == ["lightonocr-run", "lightonocr-backend"]


def test_grants_the_runtime_only_logs_and_metrics(tmp_path: Path) -> None:
    # The Cloud Run service agent pulls the image; the runtime account never needs to.
    _, calls = _run_script(tmp_path)

    grants = [c for c in calls if "add-iam-policy-binding" in c]
    roles = sorted(c.split("--role ")[1].split()[0] for c in grants)
    assert roles == ["roles/logging.logWriter", "roles/monitoring.metricWriter"]
    assert all(
        "serviceAccount:lightonocr-run@ocr-prod.iam.gserviceaccount.com" in c for c in grants
    )


def test_the_deployer_gets_act_as_on_the_runtime_and_reader_on_the_repository(
    tmp_path: Path,
) -> None:
    done, calls = _run_script(tmp_path, GRANT_DEPLOYER="1")

    assert done.returncode == 0, done.stderr
    mine = [c for c in calls if "add-iam-policy-binding" in c and "user:dev@example.com" in c]
    assert sorted(c.split("--role ")[1].split()[0] for c in mine) == [
        "roles/artifactregistry.reader",
        "roles/iam.serviceAccountUser",
    ]
    reader = next(c for c in mine if "artifactregistry" in c)
    assert reader.startswith("artifacts repositories add-iam-policy-binding lightonocr ")
    act_as = next(c for c in mine if "serviceAccountUser" in c)
    assert act_as.startswith(
        "iam service-accounts add-iam-policy-binding lightonocr-run@ocr-prod.iam"
    )


def test_never_grants_public_access(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path)

    assert not any("allUsers" in c or "allAuthenticatedUsers" in c for c in calls)
    assert (
        "python -m deploy grant-invoker --member serviceAccount:lightonocr-backend@" in done.stdout
    )


def test_the_console_gets_object_access_on_its_bucket_only(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path, CONSOLE_BUCKET="bank-ocr-documents")
    assert done.returncode == 0, done.stderr
    [grant] = [call for call in calls if "storage" in call and "add-iam-policy-binding" in call]
    assert grant.startswith("storage buckets add-iam-policy-binding gs://bank-ocr-documents")
    assert CONSOLE in grant
    assert "roles/storage.objectUser" in grant


def test_no_bucket_grant_without_a_bucket(tmp_path: Path) -> None:
    _done, calls = _run_script(tmp_path)
    assert not [call for call in calls if "storage" in call]


def test_the_team_console_gets_iap_enabled_and_its_service_agent_created(
    tmp_path: Path,
) -> None:
    done, calls = _run_script(tmp_path, CONSOLE_BUCKET="bank-ocr-documents")

    assert done.returncode == 0, done.stderr
    enable = calls.index("services enable iap.googleapis.com --project ocr-prod")
    create = calls.index(
        "beta services identity create --service=iap.googleapis.com --project ocr-prod"
    )
    assert enable < create  # the agent can only be created once the API is on


def test_without_a_team_console_iap_is_left_alone(tmp_path: Path) -> None:
    _, calls = _run_script(tmp_path)

    assert not any("iap.googleapis.com" in c for c in calls)


def test_the_team_console_account_is_created_before_anything_is_granted_to_it(
    tmp_path: Path,
) -> None:
    # Issue 31, item 1: the script bound roles to lightonocr-console@ without creating it, so
    # under `set -e` it stopped at the bucket and never reached IAP's service agent.
    done, calls = _run_script(
        tmp_path,
        CONSOLE_BUCKET="bank-ocr-documents",
        CONSOLE_DB_SECRET="console-database-url",
        CONSOLE_CLOUDSQL="1",
        FAKE_SERVICE_EXISTS="1",
    )

    assert done.returncode == 0, done.stderr
    assert "iam service-accounts create lightonocr-console --project ocr-prod" in " ".join(calls)
    assert _roles(calls, CONSOLE) == [
        "roles/cloudsql.client",
        "roles/iam.serviceAccountUser",
        "roles/logging.viewer",
        "roles/monitoring.viewer",
        "roles/run.developer",
        "roles/run.invoker",
        "roles/secretmanager.secretAccessor",
        "roles/storage.objectUser",
    ]
    act_as = next(c for c in calls if "serviceAccountUser" in c and CONSOLE in c)
    assert act_as.startswith("iam service-accounts add-iam-policy-binding lightonocr-run@")
    on_service = [
        c for c in calls if c.startswith("run services add-iam-policy-binding") and CONSOLE in c
    ]
    assert len(on_service) == 2 and all(c.split()[3] == "lightonocr" for c in on_service)
    secret = next(c for c in calls if "secretAccessor" in c)
    assert secret.startswith("secrets add-iam-policy-binding console-database-url ")
    assert "beta services identity create --service=iap.googleapis.com --project ocr-prod" in calls


def test_before_the_first_deploy_the_console_service_grants_are_printed_for_later(
    tmp_path: Path,
) -> None:
    done, calls = _run_script(tmp_path, CONSOLE="1")

    assert done.returncode == 0, done.stderr
    assert not [c for c in calls if c.startswith("run services add-iam-policy-binding")]
    assert "--member serviceAccount:lightonocr-console@ocr-prod" in done.stdout
    assert "--role roles/run.developer" in done.stdout and "--role roles/run.invoker" in done.stdout
    assert _roles(calls, CONSOLE) == [
        "roles/iam.serviceAccountUser",
        "roles/logging.viewer",
        "roles/monitoring.viewer",
    ]


def test_a_second_run_creates_nothing_and_grants_the_same(tmp_path: Path) -> None:
    env = {"CONSOLE_BUCKET": "bank-ocr-documents", "FAKE_SERVICE_EXISTS": "1"}
    _, first = _run_script(tmp_path, **env)

    done, again = _run_script(tmp_path, FAKE_BUCKET_EXISTS="1", **env)

    assert done.returncode == 0, done.stderr
    assert not [c for c in again if "service-accounts create" in c or "buckets create" in c]
    bindings = sorted(c for c in first if "add-iam-policy-binding" in c)
    assert sorted(c for c in again if "add-iam-policy-binding" in c) == bindings
    assert any(c.startswith("storage buckets update gs://bank-ocr-documents") for c in again)


def test_the_bucket_is_private_uniform_and_expires_job_documents_after_the_retention(
    tmp_path: Path,
) -> None:
    done, calls = _run_script(
        tmp_path, CONSOLE_BUCKET="bank-ocr-documents", CONSOLE_RETENTION_DAYS="14"
    )

    assert done.returncode == 0, done.stderr
    [create] = [c for c in calls if c.startswith("storage buckets create")]
    assert create.startswith("storage buckets create gs://bank-ocr-documents --project ocr-prod")
    assert "--location us-central1" in create
    assert "--uniform-bucket-level-access" in create
    assert "--public-access-prevention" in create
    rules = json.loads((tmp_path / "gcloud.log.lifecycle").read_text())
    assert rules == {
        "rule": [
            {
                "action": {"type": "Delete"},
                "condition": {"age": 15, "matchesPrefix": ["documents/"]},
            }
        ]
    }


def test_a_retention_that_is_not_a_number_of_days_stops_the_script(tmp_path: Path) -> None:
    done, calls = _run_script(
        tmp_path, CONSOLE_BUCKET="bank-ocr-documents", CONSOLE_RETENTION_DAYS="30d"
    )

    assert done.returncode == 2
    assert not [c for c in calls if "buckets create" in c]
