#!/usr/bin/env bash
# Create the two service accounts the OCR service needs, with the least they need.
#
#   GOOGLE_CLOUD_PROJECT=my-project ./deploy/setup_service_accounts.sh
#
# What it grants, and nothing else:
#   lightonocr-run@PROJECT      the Cloud Run service's own identity (runtime):
#     roles/logging.logWriter          on the project  - write its logs
#     roles/monitoring.metricWriter    on the project  - write its metrics
#     (no image pull role: the Cloud Run service agent pulls the image, not the runtime
#     account, and it may read repositories of its own project already)
#   lightonocr-backend@PROJECT  the loan backend that calls the OCR service:
#     roles/run.invoker                on the Cloud Run service only (not the project),
#                                      granted once the service exists (step 3).
#   The deploying account (you, or a CI account) needs, besides roles/run.developer:
#     roles/iam.serviceAccountUser     on lightonocr-run only - deploy a service running as it
#     roles/artifactregistry.reader    on the image repository only - deploy its images
#   The script grants those two to the caller's gcloud account only if GRANT_DEPLOYER=1
#   (GRANT_ACT_AS=1, its older name, works too).
#   lightonocr-console@PROJECT (the team console, CONSOLE_SA_ID), with CONSOLE_BUCKET set:
#     roles/storage.objectUser         on that bucket only - its uploaded documents
#   With CONSOLE_BUCKET (or CONSOLE_IAP=1): the IAP API enabled and IAP's service agent
#     (service-NUMBER@gcp-sa-iap.iam.gserviceaccount.com) created, so the console can name it
#     as its invoker; no role is granted to it here (`python -m deploy console apply --invoker`).
# The service is IAM-only: nothing here (or anywhere in deploy/) grants allUsers.
#
# Environment (defaults in brackets):
#   GOOGLE_CLOUD_PROJECT (required), LIGHTONOCR_REGION [us-central1],
#   LIGHTONOCR_SERVICE [lightonocr], LIGHTONOCR_ARTIFACT_REPO [lightonocr],
#   RUNTIME_SA_ID [lightonocr-run] (the deploy spec's default), BACKEND_SA_ID [lightonocr-backend]
# Idempotent: re-running skips what exists and re-adds the same bindings.
set -euo pipefail

PROJECT="${GOOGLE_CLOUD_PROJECT:?set GOOGLE_CLOUD_PROJECT}"
REGION="${LIGHTONOCR_REGION:-us-central1}"
SERVICE="${LIGHTONOCR_SERVICE:-lightonocr}"
REPOSITORY="${LIGHTONOCR_ARTIFACT_REPO:-lightonocr}"
RUNTIME_SA_ID="${RUNTIME_SA_ID:-lightonocr-run}"
BACKEND_SA_ID="${BACKEND_SA_ID:-lightonocr-backend}"
RUNTIME_SA="${RUNTIME_SA_ID}@${PROJECT}.iam.gserviceaccount.com"
BACKEND_SA="${BACKEND_SA_ID}@${PROJECT}.iam.gserviceaccount.com"

create_sa() {  # id, display name
  if gcloud iam service-accounts describe "$1@${PROJECT}.iam.gserviceaccount.com" \
      --project "$PROJECT" >/dev/null 2>&1; then
    echo "exists: $1"
  else
    gcloud iam service-accounts create "$1" --project "$PROJECT" --display-name "$2"
  fi
}

echo "== 1. service accounts"
create_sa "$RUNTIME_SA_ID" "LightOnOCR Cloud Run runtime"
create_sa "$BACKEND_SA_ID" "Loan backend (calls the OCR service)"

echo "== 2. runtime roles (logs, metrics)"
for role in roles/logging.logWriter roles/monitoring.metricWriter; do
  gcloud projects add-iam-policy-binding "$PROJECT" --condition=None --quiet \
    --member "serviceAccount:${RUNTIME_SA}" --role "$role" >/dev/null
  echo "granted $role to $RUNTIME_SA on project $PROJECT"
done

if [[ "${GRANT_DEPLOYER:-${GRANT_ACT_AS:-0}}" == "1" ]]; then
  caller="$(gcloud config get-value account 2>/dev/null)"
  kind=user; [[ "$caller" == *.gserviceaccount.com ]] && kind=serviceAccount
  gcloud iam service-accounts add-iam-policy-binding "$RUNTIME_SA" --project "$PROJECT" \
    --member "${kind}:${caller}" --role roles/iam.serviceAccountUser >/dev/null
  echo "granted roles/iam.serviceAccountUser on $RUNTIME_SA to $caller"
  gcloud artifacts repositories add-iam-policy-binding "$REPOSITORY" \
    --project "$PROJECT" --location "$REGION" \
    --member "${kind}:${caller}" --role roles/artifactregistry.reader >/dev/null
  echo "granted roles/artifactregistry.reader on repository $REPOSITORY to $caller"
fi

echo "== 3. backend may invoke the service (service-level binding only)"
if gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" \
    >/dev/null 2>&1; then
  python -m deploy grant-invoker --project "$PROJECT" --region "$REGION" \
    --service "$SERVICE" --member "serviceAccount:${BACKEND_SA}"
else
  echo "service $SERVICE does not exist yet: deploy it, then run"
  echo "  python -m deploy grant-invoker --member serviceAccount:${BACKEND_SA}"
  echo "(or: python -m deploy apply --tag COMMIT --invoker serviceAccount:${BACKEND_SA})"
fi

if [[ -n "${CONSOLE_BUCKET:-}" ]]; then
  echo "== 4. the console may read and write objects in its documents bucket only"
  CONSOLE_SA="${CONSOLE_SA_ID:-lightonocr-console}@${PROJECT}.iam.gserviceaccount.com"
  gcloud storage buckets add-iam-policy-binding "gs://${CONSOLE_BUCKET}" \
    --member "serviceAccount:${CONSOLE_SA}" --role roles/storage.objectUser >/dev/null
  echo "granted roles/storage.objectUser on gs://${CONSOLE_BUCKET} to $CONSOLE_SA"
fi

if [[ "${CONSOLE_IAP:-${CONSOLE_BUCKET:+1}}" == "1" ]]; then
  # The console's `--invoker serviceAccount:service-NUMBER@gcp-sa-iap...` names IAP's service
  # agent, which Google creates only once the IAP API is on and its identity is asked for;
  # granting run.invoker to an agent that does not exist yet fails.
  echo "== 5. IAP's service agent (the team console's invoker)"
  gcloud services enable iap.googleapis.com --project "$PROJECT"
  gcloud beta services identity create --service=iap.googleapis.com --project "$PROJECT"
  echo "IAP on Cloud Run: Google documented it for projects inside an organisation;"
  echo "see deploy/README.md (Team console) before relying on a project without one."
fi
