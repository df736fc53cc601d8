"""deploy/setup_service_accounts.sh grants exactly the documented roles, never public ones.

Run with a stand-in `gcloud` on PATH that records its arguments (there is no Google Cloud
here); the script itself is the real one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "setup_service_accounts.sh"


def _run_script(
    tmp_path: Path, **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "gcloud.log"
    gcloud = tmp_path / "gcloud"
    # describe fails (nothing exists yet); the caller is dev@example.com; the rest succeeds.
    gcloud.write_text(
        '#!/bin/sh\necho "$*" >> "$GCLOUD_LOG"\ncase "$*" in *describe*) exit 1;;\n'
        '*"get-value account"*) echo dev@example.com;; esac\n'
    )
    gcloud.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GCLOUD_LOG": str(log),
        "GOOGLE_CLOUD_PROJECT": "ocr-prod",
        **extra_env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )
    return done, log.read_text().splitlines()


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
    [grant] = [call for call in calls if "storage" in call]
    assert grant.startswith("storage buckets add-iam-policy-binding gs://bank-ocr-documents")
    assert "serviceAccount:lightonocr-console@ocr-prod.iam.gserviceaccount.com" in grant
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
