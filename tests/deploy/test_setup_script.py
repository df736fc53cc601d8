"""deploy/setup_service_accounts.sh grants exactly the documented roles, never public ones.

Run with a stand-in `gcloud` on PATH that records its arguments (there is no Google Cloud
here); the script itself is the real one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "setup_service_accounts.sh"


def _run_script(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "gcloud.log"
    gcloud = tmp_path / "gcloud"
    # describe fails (nothing exists yet); everything else succeeds.
    gcloud.write_text(
        '#!/bin/sh\necho "$*" >> "$GCLOUD_LOG"\ncase "$*" in *describe*) exit 1;; esac\n'
    )
    gcloud.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GCLOUD_LOG": str(log),
        "GOOGLE_CLOUD_PROJECT": "ocr-prod",
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


def test_grants_the_runtime_only_logs_metrics_and_image_pull(tmp_path: Path) -> None:
    _, calls = _run_script(tmp_path)

    grants = [c for c in calls if "add-iam-policy-binding" in c]
    roles = sorted(c.split("--role ")[1].split()[0] for c in grants)
    assert roles == [
        "roles/artifactregistry.reader",
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
    ]
    assert all(
        "serviceAccount:lightonocr-run@ocr-prod.iam.gserviceaccount.com" in c for c in grants
    )
    assert next(c for c in grants if "artifactregistry" in c).startswith("artifacts repositories")


def test_never_grants_public_access(tmp_path: Path) -> None:
    done, calls = _run_script(tmp_path)

    assert not any("allUsers" in c or "allAuthenticatedUsers" in c for c in calls)
    assert (
        "python -m deploy grant-invoker --member serviceAccount:lightonocr-backend@" in done.stdout
    )
