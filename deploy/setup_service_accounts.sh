#!/usr/bin/env bash
# Create the service accounts the OCR service and its console need, with the least they need.
#
#   GOOGLE_CLOUD_PROJECT=my-project ./deploy/setup_service_accounts.sh
#   GOOGLE_CLOUD_PROJECT=my-project CONSOLE_BUCKET=bank-ocr-documents \
#     CONSOLE_DB_SECRET=console-database-url CONSOLE_CLOUDSQL=1 ./deploy/setup_service_accounts.sh
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
#                                      (and on lightonocr-console, with the team console)
#     roles/artifactregistry.reader    on the image repository only - deploy its images
#   The script grants those to the caller's gcloud account only if GRANT_DEPLOYER=1
#   (GRANT_ACT_AS=1, its older name, works too).
#   lightonocr-console@PROJECT (the team console, CONSOLE_SA_ID), created when CONSOLE=1,
#   CONSOLE_BUCKET or CONSOLE_IAP=1 is set (deploy/README.md, "First deploy"):
#     roles/run.developer              on the GPU service only - scale, keep warm, roll back
#     roles/run.invoker                on the GPU service only - warm-up and OCR requests
#     roles/iam.serviceAccountUser     on lightonocr-run only - act as it in a service update
#     roles/logging.viewer             on the project  - the Logs page
#     roles/monitoring.viewer          on the project  - the Metrics page
#     roles/secretmanager.secretAccessor on CONSOLE_DB_SECRET only (when set)
#     roles/cloudsql.client            on the project, only with CONSOLE_CLOUDSQL=1
#     roles/storage.objectUser         on CONSOLE_BUCKET only (when set); the bucket is made
#                                      (or brought) to uniform bucket-level access, public
#                                      access prevention and a lifecycle rule deleting job
#                                      documents (documents/) CONSOLE_RETENTION_DAYS+1 days old
#   The two GPU-service bindings need the service: before the first deploy they are printed
#   for later, as the backend's is.
#   With the console: the IAP API enabled and IAP's service agent
#     (service-NUMBER@gcp-sa-iap.iam.gserviceaccount.com) created, so the console can name it
#     as its invoker; no role is granted to it here (`python -m deploy console apply --invoker`).
# The service is IAM-only: nothing here (or anywhere in deploy/) grants allUsers.
#
# Environment (defaults in brackets):
#   GOOGLE_CLOUD_PROJECT (required), LIGHTONOCR_REGION [us-central1],
#   LIGHTONOCR_SERVICE [lightonocr], LIGHTONOCR_ARTIFACT_REPO [lightonocr],
#   RUNTIME_SA_ID [lightonocr-run] (the deploy spec's default), BACKEND_SA_ID [lightonocr-backend],
#   CONSOLE_SA_ID [lightonocr-console], CONSOLE_RETENTION_DAYS [30] (the console's default
#   job retention; keep it equal to the Service page's setting)
# Idempotent: re-running skips what exists and re-adds the same bindings (IAM bindings are a
# set: adding one that exists changes nothing).
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

caller="" kind=user
if [[ "${GRANT_DEPLOYER:-${GRANT_ACT_AS:-0}}" == "1" ]]; then
  caller="$(gcloud config get-value account 2>/dev/null)"
  [[ "$caller" == *.gserviceaccount.com ]] && kind=serviceAccount
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
  gcloud run services add-iam-policy-binding "$SERVICE" --project "$PROJECT" \
    --region "$REGION" --member "serviceAccount:${BACKEND_SA}" --role roles/run.invoker \
    >/dev/null
  echo "granted roles/run.invoker on service $SERVICE to $BACKEND_SA"
else
  echo "service $SERVICE does not exist yet: deploy it, then run"
  echo "  python -m deploy grant-invoker --member serviceAccount:${BACKEND_SA}"
  echo "(or: python -m deploy apply --tag COMMIT --invoker serviceAccount:${BACKEND_SA})"
fi

CONSOLE_WANTED="${CONSOLE:-}"
[[ -n "${CONSOLE_BUCKET:-}" || "${CONSOLE_IAP:-0}" == "1" ]] && CONSOLE_WANTED=1
if [[ "$CONSOLE_WANTED" == "1" ]]; then
  CONSOLE_SA_ID="${CONSOLE_SA_ID:-lightonocr-console}"
  CONSOLE_SA="${CONSOLE_SA_ID}@${PROJECT}.iam.gserviceaccount.com"
  echo "== 4. the team console's own account and what it needs"
  create_sa "$CONSOLE_SA_ID" "LightOnOCR team console"
  console_roles=(roles/logging.viewer roles/monitoring.viewer)
  [[ "${CONSOLE_CLOUDSQL:-0}" == "1" ]] && console_roles+=(roles/cloudsql.client)
  for role in "${console_roles[@]}"; do
    gcloud projects add-iam-policy-binding "$PROJECT" --condition=None --quiet \
      --member "serviceAccount:${CONSOLE_SA}" --role "$role" >/dev/null
    echo "granted $role to $CONSOLE_SA on project $PROJECT"
  done
  gcloud iam service-accounts add-iam-policy-binding "$RUNTIME_SA" --project "$PROJECT" \
    --member "serviceAccount:${CONSOLE_SA}" --role roles/iam.serviceAccountUser >/dev/null
  echo "granted roles/iam.serviceAccountUser on $RUNTIME_SA to $CONSOLE_SA"
  if [[ -n "${CONSOLE_DB_SECRET:-}" ]]; then
    gcloud secrets add-iam-policy-binding "$CONSOLE_DB_SECRET" --project "$PROJECT" \
      --member "serviceAccount:${CONSOLE_SA}" --role roles/secretmanager.secretAccessor >/dev/null
    echo "granted roles/secretmanager.secretAccessor on secret $CONSOLE_DB_SECRET to $CONSOLE_SA"
  fi
  if [[ "${GRANT_DEPLOYER:-${GRANT_ACT_AS:-0}}" == "1" ]]; then
    gcloud iam service-accounts add-iam-policy-binding "$CONSOLE_SA" --project "$PROJECT" \
      --member "${kind}:${caller}" --role roles/iam.serviceAccountUser >/dev/null
    echo "granted roles/iam.serviceAccountUser on $CONSOLE_SA to $caller"
  fi
  for role in roles/run.developer roles/run.invoker; do
    if gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" \
        >/dev/null 2>&1; then
      gcloud run services add-iam-policy-binding "$SERVICE" --project "$PROJECT" \
        --region "$REGION" --member "serviceAccount:${CONSOLE_SA}" --role "$role" >/dev/null
      echo "granted $role on service $SERVICE to $CONSOLE_SA"
    else
      echo "service $SERVICE does not exist yet: once deployed, run"
      echo "  gcloud run services add-iam-policy-binding $SERVICE --region $REGION \\"
      echo "    --member serviceAccount:${CONSOLE_SA} --role $role"
    fi
  done
fi

if [[ -n "${CONSOLE_BUCKET:-}" ]]; then
  echo "== 5. the console's documents bucket: private, uniform access, job documents expire"
  RETENTION_DAYS="${CONSOLE_RETENTION_DAYS:-30}"
  [[ "$RETENTION_DAYS" =~ ^[1-9][0-9]*$ ]] || { echo "CONSOLE_RETENTION_DAYS: days" >&2; exit 2; }
  lifecycle="$(mktemp)"
  trap 'rm -f "$lifecycle"' EXIT
  # A backstop behind the worker's retention (which deletes a job's documents with the job):
  # one day later, so a job inside its retention never loses its documents. Golden sets'
  # documents (golden/) are kept.
  printf '{"rule": [{"action": {"type": "Delete"}, "condition": {"age": %d, "matchesPrefix": ["documents/"]}}]}\n' \
    "$((RETENTION_DAYS + 1))" > "$lifecycle"
  if gcloud storage buckets describe "gs://${CONSOLE_BUCKET}" --project "$PROJECT" \
      >/dev/null 2>&1; then
    gcloud storage buckets update "gs://${CONSOLE_BUCKET}" --project "$PROJECT" \
      --uniform-bucket-level-access --public-access-prevention --lifecycle-file="$lifecycle"
  else
    gcloud storage buckets create "gs://${CONSOLE_BUCKET}" --project "$PROJECT" \
      --location "$REGION" --uniform-bucket-level-access --public-access-prevention \
      --lifecycle-file="$lifecycle"
  fi
  gcloud storage buckets add-iam-policy-binding "gs://${CONSOLE_BUCKET}" \
    --member "serviceAccount:${CONSOLE_SA}" --role roles/storage.objectUser >/dev/null
  echo "granted roles/storage.objectUser on gs://${CONSOLE_BUCKET} to $CONSOLE_SA"
fi

if [[ "$CONSOLE_WANTED" == "1" ]]; then
  # The console's `--invoker serviceAccount:service-NUMBER@gcp-sa-iap...` names IAP's service
  # agent, which Google creates only once the IAP API is on and its identity is asked for;
  # granting run.invoker to an agent that does not exist yet fails.
  echo "== 6. IAP's service agent (the team console's invoker)"
  gcloud services enable iap.googleapis.com --project "$PROJECT"
  gcloud beta services identity create --service=iap.googleapis.com --project "$PROJECT"
  echo "IAP on Cloud Run: Google documented it for projects inside an organisation;"
  echo "see deploy/README.md (Team console) before relying on a project without one."
fi
