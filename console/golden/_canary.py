"""A rollout gated by OCR quality: a new revision takes traffic only if it reads as well.

`python -m console.golden canary GOLDEN_SET --tag SHA [--margin 0.02]` (console/cli/canary.py),
or the Service page's button. The cloud steps are deploy's (a tagged revision with no
traffic, its startup log, the smoke check, promotion); the orchestration and the regression
rule (`_scoring.judge`) live here, with the golden sets they judge by:

1. the spec's revision is created with no traffic under the tag `canary-SHA`;
2. it is warmed through its tagged URL (the cold start is timed);
3. smoke: its startup log must show the GPU in use, the model loaded and no download or
   driver mismatch (`deploy/_smoke.py`), and one known page (the golden set's first page)
   must read with a CER under `KNOWN_PAGE_MAX_CER`;
4. the golden set runs against the tagged URL (console.golden's run, scored and stored with
   the new revision) and is compared, document by document, with the last complete run of
   the revision serving now;
5. only a complete run with no document worse by more than the margin is promoted (100 %
   traffic). Anything else leaves traffic where it was, keeps the tag for inspection and
   makes the command exit non-zero. A gate that could not measure fails: no baseline, an
   incomplete run, a failed warm-up are refusals, never passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from console.golden._gate import check_gate_input
from console.golden._models import DEFAULT_MARGIN, GoldenRun
from console.golden._runs import start_run, wait_for_run
from console.golden._scoring import DocumentChange, judge, show_cer
from console.golden._store import GoldenStore
from console.jobs import JobRunner, JobStore
from deploy import (
    CloudRunDeployer,
    ServiceSpec,
    ServiceTarget,
    StartupCheck,
    candidate_tag,
    check_startup,
)
from ocr_core import OCRClient
from ocr_core.quality import cer

# The known page must read at least this well: a wrong model or a CPU fallback reads noise.
KNOWN_PAGE_MAX_CER = 0.5
StartupLog = Callable[[str], Sequence[str]]  # revision -> its log messages
ClientFor = Callable[[str], OCRClient]  # URL -> a client for it


@dataclass(frozen=True, slots=True)
class CanaryReport:
    revision: str
    tag: str
    url: str
    serving: list[str]
    cold_start_s: float | None = None
    smoke: StartupCheck | None = None
    known_page_cer: float | None = None
    run: GoldenRun | None = None
    baseline: GoldenRun | None = None
    changes: list[DocumentChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    promoted: bool = False

    def text(self) -> str:
        verdict = "PROMOTED" if self.promoted else "REFUSED (traffic unchanged, tag kept)"
        lines = [
            f"canary {self.revision} ({self.tag}: {self.url}) vs {', '.join(self.serving)}",
            f"  verdict: {verdict}",
            f"  cold start: {_seconds(self.cold_start_s)}",
        ]
        if self.known_page_cer is not None:
            lines.append(f"  known page CER: {self.known_page_cer:.4f}")
        for change in self.changes:
            mark = "  REGRESSION" if change.regression else ""
            old, new = show_cer(change.old_cer), show_cer(change.new_cer)
            lines.append(f"  {change.filename}: CER {old} -> {new}{mark}")
        for run, name in ((self.baseline, "serving"), (self.run, "candidate")):
            if run is not None and run.finished_at is not None:
                took = (run.finished_at - run.started_at).total_seconds()
                lines.append(f"  golden run #{run.id} on the {name} revision took {took:.1f} s")
        lines += [f"  refused: {why}" for why in self.refusals]
        return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def baseline_run(golden: GoldenStore, name: str, serving: Sequence[str]) -> GoldenRun | None:
    """The newest complete run of `name` whose pages all came from a serving revision."""
    for run in golden.runs(name):
        if run.scored and not run.incomplete and run.revision in serving:
            return run
    return None


async def _warm_and_read(
    client: OCRClient, page: bytes, filename: str, expected: str
) -> tuple[float | None, float | None, str | None]:
    """(cold start s, known page CER, why not) through the candidate's own URL."""
    async with client:
        warm = await client.warm_up()
        if not warm.ready:
            return None, None, f"warm-up failed: {warm.error}"
        result = await client.ocr_document(page, filename)
    first = result.pages[0] if result.pages else None
    if first is None or first.error is not None:
        why = first.error if first is not None else "no page"
        return warm.seconds, None, f"known page not read: {why}"
    return warm.seconds, cer(first.text, expected), None


def run_canary(
    deployer: CloudRunDeployer,
    spec: ServiceSpec,
    *,
    golden: GoldenStore,
    jobs: JobStore,
    runner: JobRunner | None,
    name: str,
    client_for: ClientFor,
    startup_log: StartupLog,
    actor: str,
    margin: float = DEFAULT_MARGIN,
    timeout_s: float = 3600.0,
    keep_scaling: bool = True,
) -> CanaryReport:
    """Steps 1-5 above with the whole `spec` (what `apply` would deploy; the service's floor
    and ceiling kept unless `keep_scaling` is False). `runner`, when given, is handed the
    golden run's job and claims only that (else a console worker polling the store takes it).
    Nothing is deployed when the gate could not judge: bad input raises `CanaryRefused`, and
    no complete run of the serving revision is a refusal before the candidate exists."""
    documents = check_gate_input(golden, name, margin)
    tag = candidate_tag(spec)
    serving = [r for r, percent in deployer.status().traffic if percent > 0]
    baseline = baseline_run(golden, name, serving)
    if baseline is None:
        why = "no complete golden run of the serving revision to compare with"
        return CanaryReport("(not deployed)", tag, "", serving, refusals=[why])
    revision, url = deployer.deploy_candidate(spec, tag, keep_scaling=keep_scaling)
    report = CanaryReport(revision=revision, tag=tag, url=url, serving=serving)
    first = documents[0]
    cold, page_cer, why = asyncio.run(
        _warm_and_read(client_for(url), first.data, first.filename, first.expected_pages[0])
    )
    smoke = check_startup(startup_log(revision))
    refusals = [f"smoke: {p}" for p in smoke.problems]
    if why:
        refusals.append(why)
    elif page_cer is not None and page_cer > KNOWN_PAGE_MAX_CER:
        refusals.append(f"known page {first.filename} read with CER {page_cer:.4f}")
    report = _with(report, cold_start_s=cold, smoke=smoke, known_page_cer=page_cer)
    if refusals:  # no golden run on a revision that failed its smoke check
        return _with(report, baseline=baseline, refusals=refusals)
    run_id = start_run(
        golden, jobs, name, service_url=url, revision=revision, actor=actor, margin=margin
    )
    if runner is not None:
        found = golden.run(run_id)
        assert found is not None
        runner.take(found.job_id)
    run = wait_for_run(golden, jobs, run_id, timeout_s=timeout_s)
    changes, refusals = judge(run, baseline, margin)
    report = _with(report, run=run, baseline=baseline, changes=changes, refusals=refusals)
    if refusals:
        return report
    deployer.promote(revision)
    return _with(report, promoted=True)


def _with(report: CanaryReport, **changes: object) -> CanaryReport:
    return replace(report, **changes)  # type: ignore[arg-type]


def plan(spec: ServiceSpec, target: ServiceTarget, name: str, margin: float) -> str:
    """What `--dry-run --canary` prints: the steps, nothing contacted."""
    tag = candidate_tag(spec)
    return "\n".join(
        [
            f"canary plan for service {target.service} ({target.project}, {target.region}):",
            f"  1. create the revision of {spec.image_for(target)} with 0 % traffic, tag {tag}",
            f"  2. warm it through the {tag} URL and time the cold start",
            "  3. smoke: its startup log shows CUDA and the model loaded, no download, no "
            f"driver mismatch; the first page of {name!r} reads with CER <= "
            f"{KNOWN_PAGE_MAX_CER}",
            f"  4. run golden set {name!r} against the {tag} URL and compare it with the last "
            "complete run of the serving revision",
            f"  5. promote (100 % traffic) only if complete and no document's CER rose by more "
            f"than {margin}; otherwise keep traffic and the tag, exit non-zero",
        ]
    )


__all__ = ["KNOWN_PAGE_MAX_CER", "CanaryReport", "baseline_run", "plan", "run_canary"]
