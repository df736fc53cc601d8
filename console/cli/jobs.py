"""`python -m console.jobs`: jobs for scripts, from the same store as the console.

    submit FILE... [--name N] [--json] [--text-layer] [--no-words]
                             queue files as a new job (through the console's one door,
                             audited as LIGHTONOCR_ACTOR or the OS user); prints its id;
                             the worker locates each page's words unless --no-words
    list [--json]            newest first; --json is one object per line
    show ID [--json]         a job and its per-page results
    cancel ID                ask the runner to stop it (at once if no runner holds it)
    resume ID                send its missing and failed pages again
    export ID --out DIR [--format md,txt,json,pdf,hocr,alto]
                             the files the workbench downloads, and batch.json (default
                             md,txt,json; pdf is searchable: the page images and their words)
    run                      a runner without the console (until Ctrl-C)
    backfill SOURCE --out DEST ... / backfills [--json]
                             `python -m console.backfill run` / `list` (see its --help)

Which store and service: see `console/_running.py` (and `--verbose`, `--help`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from console import _exports
from console._disk import is_disk_full
from console._identity import PermissionDenied
from console._render import terminal_safe
from console._running import StoreChoice
from console._store import Store, StoreError
from console.cli._common import MAX_ID, cli_identity, epilog, store_choice
from console.jobs._models import Job, JobStatus
from console.jobs._results import job_results
from console.jobs._store import JobStore
from console.jobs._uploads import JobTooLarge, NewDocument
from console.jobs._word_files import WORD_FORMATS, job_word_files

if TYPE_CHECKING:
    from console.runtime import Runtime
    from console.service import Operations

# Commands that may create the store a variable names; the others need one that exists.
CREATING = frozenset({"submit", "run"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.jobs",
        description="OCR jobs in the console's store.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say which store and service, and why"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="queue files as a new job; prints its id")
    submit.add_argument("files", nargs="+", type=Path, metavar="FILE")
    submit.add_argument("--name", help="the job's name (default: after its first file)")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")
    submit.add_argument(
        "--text-layer", action="store_true", help="use a PDF page's own text where it has one"
    )
    submit.add_argument(
        "--no-words",
        dest="words",
        action="store_false",
        help="do not locate the words on the pages (no overlay, no searchable PDF/hOCR/ALTO)",
    )
    listing = commands.add_parser("list", help="jobs, newest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--limit", type=int, default=100)
    show = commands.add_parser("show", help="a job and its pages")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    for name, what in (("cancel", "stop a job"), ("resume", "finish a job's missing pages")):
        command = commands.add_parser(name, help=what)
        command.add_argument("id", type=int)
    export = commands.add_parser("export", help="write a job's results as files")
    export.add_argument("id", type=int)
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.add_argument(
        "--format",
        default="md,txt,json",
        type=_formats,
        help="comma-separated, of md, txt, json (the default), pdf (searchable), hocr, alto",
    )
    commands.add_parser("run", help="run queued jobs without the console, until Ctrl-C")
    return parser


def _line(job: Job) -> str:
    """One job on a terminal line; every name escaped (a file name may hold ESC or RLO)."""
    pages = f"{job.pages_done}/{job.pages_total} pages"
    if job.pages_failed:
        pages += f", {job.pages_failed} failed"
    if job.documents_failed:
        pages += f", {job.documents_failed} doc not read"
    when = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
    actor, name = terminal_safe(job.actor), terminal_safe(job.name)
    if job.purpose:  # a golden run's job: not somebody's upload
        name = f"[{terminal_safe(job.purpose)}] {name}"
    return f"{job.id:>5}  {job.outcome:<18}  {when}  {pages:<24}  {actor:<12}  {name}"


def _find(jobs: JobStore, job_id: int) -> Job:
    job = jobs.job(job_id)
    if job is None:
        raise SystemExit(f"no job {job_id} in {jobs.store.where}")
    return job


def _show(jobs: JobStore, job: Job, as_json: bool) -> None:
    documents = jobs.documents(job.id)
    pages = jobs.pages(job.id)
    if as_json:
        record = job.to_dict()
        record["documents"] = [
            {
                "id": d.id,
                "filename": d.filename,
                "state": d.state.value,
                "page_count": d.page_count,
                "error": d.error,
                "pages": [p.to_dict() for p in pages if p.document_id == d.id],
            }
            for d in documents
        ]
        print(json.dumps(record, ensure_ascii=False))
        return
    print(_line(job))
    if job.has_failures:
        failed = [p for p in pages if p.result.error is not None]
        print(f"  failures: {len(failed)} pages, {job.documents_failed} documents not read")
        names = {d.id: d.filename for d in documents}
        for document in documents:
            if document.error:
                print(f"    {terminal_safe(document.filename)}: {terminal_safe(document.error)}")
        for page in failed:
            name = terminal_safe(names.get(page.document_id, "?"))
            print(f"    {name} page {page.index + 1}: {terminal_safe(str(page.result.error))}")
    for document in documents:
        name = terminal_safe(document.filename)
        print(f"  {name}: {document.state.value}, {document.page_count} pages")
        if document.error:
            print(f"    {terminal_safe(document.error)}")
        for page in (p for p in pages if p.document_id == document.id):
            result = page.result
            outcome = "ok" if result.ok else f"failed: {terminal_safe(str(result.error))}"
            print(f"    page {result.index + 1}: {outcome} ({result.latency_s:.2f} s)")


def _formats(value: str) -> list[str]:
    chosen = [f.strip().lower().lstrip(".") for f in value.split(",") if f.strip()]
    known = [e.lstrip(".") for e in _exports.TEXT_FORMATS] + list(WORD_FORMATS)
    unknown = [f for f in chosen if f not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}"
        )
    return chosen


def _export(jobs: JobStore, job: Job, out: Path, formats: Sequence[str]) -> None:
    words = [f for f in formats if f in WORD_FORMATS]
    if words and job.locate_words and not job.words_ready:  # the text is ready before them
        raise SystemExit(
            f"error: job {job.id}'s {', '.join(words)} need its words: {job.words_progress}; "
            "export them once it is done (md, txt and json are ready now)"
        )
    results, failures = job_results(jobs, job.id)
    extra = job_word_files(jobs, job.id, words) if words else None
    text = [f".{f}" for f in formats if f not in WORD_FORMATS]
    out.mkdir(parents=True, exist_ok=True)
    files = _exports.batch_files(results, failures, extra, text_formats=text)
    for name, content in files.items():
        if isinstance(content, bytes):
            (out / name).write_bytes(content)
        else:
            (out / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files to {out}")
    for result, more in zip(results, extra or [], strict=False):
        if more.error:
            print(f"  {result.filename}: {more.error}", file=sys.stderr)


def _runtime(env: dict[str, str]) -> Runtime:
    # Imported here: listing jobs must not need the platforms. No background duties: the
    # worker has them.
    from console.runtime import build_runtime

    return build_runtime(env, background=False)


def _operations(env: dict[str, str]) -> Operations:
    return _runtime(env).operations


def _submit(
    jobs: JobStore,
    env: dict[str, str],
    files: Sequence[Path],
    name: str | None,
    as_json: bool,
    text_layer: bool,
    words: bool = True,
) -> None:
    with contextlib.ExitStack() as opened:
        documents = []
        for path in files:  # streamed to the object store, never read whole into memory
            try:
                documents.append(NewDocument(path.name, opened.enter_context(path.open("rb"))))
            except OSError as error:
                raise SystemExit(f"error: {path}: {error.strerror or error}") from None
        runtime = _runtime(env)
        try:
            job_id = runtime.operations.start_job(
                documents,
                identity=cli_identity(env),
                name=name,
                revision=runtime.revision(),
                use_text_layer=text_layer,
                locate_words=words,
            )
        except JobTooLarge as error:
            raise SystemExit(f"error: {error}") from None
    if as_json:
        job = jobs.job(job_id)
        assert job is not None
        print(json.dumps(job.to_dict(), ensure_ascii=False))
    else:
        print(job_id)


def _run(env: dict[str, str]) -> None:
    # Imported here: listing jobs must not need the platforms.
    from console.runtime import build_runtime

    runtime = build_runtime(env)
    runner = runtime.runner().start()
    print(f"runner {runner.owner} on {runtime.store.where}; Ctrl-C to stop", flush=True)
    try:
        # In slices: a Ctrl-C the kernel hands to another thread is raised here only when
        # this thread next runs Python code (see console/worker/__main__.py).
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()


# The backfill's commands under the jobs' name, as the backfill was first asked for.
BACKFILL_ALIASES = {"backfill": "run", "backfills": "list"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in BACKFILL_ALIASES:
        from console.cli.backfill import main as backfill_main

        return backfill_main([BACKFILL_ALIASES[argv[0]], *argv[1:]])
    args = _parser().parse_args(argv)
    if getattr(args, "id", 0) > MAX_ID:
        print(f"error: no job {args.id}", file=sys.stderr)
        return 1
    choice = store_choice(creates=args.command in CREATING, verbose=args.verbose)
    if choice is None:
        return 1
    try:
        return _command(args, choice)
    except (StoreError, PermissionDenied) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a submit's objects are removed on the way out (create_job)
        print("interrupted: nothing more was done", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `list | head -1`: the reader has what it wanted
        # Python would print a traceback flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        if not is_disk_full(error):
            raise
        where = error.filename or "the store"
        print(f"error: disk full: {error.strerror} ({where})", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, choice: StoreChoice) -> int:
    env = choice.env
    store = Store.from_env(env)
    jobs = JobStore(store)
    if args.command == "list":
        for job in jobs.jobs(limit=args.limit):
            print(json.dumps(job.to_dict(), ensure_ascii=False) if args.json else _line(job))
    elif args.command == "show":
        _show(jobs, _find(jobs, args.id), args.json)
    elif args.command == "submit":
        _submit(jobs, env, args.files, args.name, args.json, args.text_layer, args.words)
    elif args.command == "cancel":
        _find(jobs, args.id)
        status = _operations(env).cancel_job(args.id, identity=cli_identity(env))
        if status is JobStatus.RUNNING:
            print(f"job {args.id}: cancel requested; its runner stops it within a second")
        else:
            print(f"job {args.id}: {status}")
    elif args.command == "resume":
        _find(jobs, args.id)
        _operations(env).resume_job(args.id, identity=cli_identity(env))
        print(f"job {args.id}: queued; a running console (or `run`) picks it up")
    elif args.command == "export":
        _export(jobs, _find(jobs, args.id), args.out, args.format)
    elif args.command == "run":
        _run(env)
    return 0
