"""`python -m console.backfill`: OCR a bucket or a folder, outputs beside each input's name.

    run SOURCE --out DEST [--formats md,json] [--local-tasks N]   freeze and run locally
    status DEST [--id ID] [--json]                                what is done, left, failed
    task DEST [--id ID | --source SOURCE]                         one task (Cloud Run Jobs)
    tasks DEST --id ID [--local-tasks N]                          run a frozen one (a retry)
    list [--json]                        the backfills the running console's Backfills view lists

`python -m console.jobs backfill SOURCE --out DEST ...` is `run`, and `python -m console.jobs
backfills` is `list`.

SOURCE and DEST are folders or `gs://bucket/prefix/`. The OCR service is the console's
(LIGHTONOCR_SERVICE_URL, else the local server). On Cloud Run Jobs, `python -m deploy
backfill` freezes the manifest and runs the tasks there instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

from console._render import count_noun
from console.backfill._local import run_local_tasks
from console.backfill._locations import location
from console.backfill._manifest import (
    FORMATS,
    Manifest,
    freeze,
    frozen_for_execution,
    manifests,
)
from console.backfill._registry import record_backfill
from console.backfill._status import BackfillStatus, backfill_status
from console.backfill._task import Task, run_task, task_position
from ocr_core import OCRClient


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.backfill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="freeze the source's listing and run it locally")
    run.add_argument("source")
    run.add_argument("--out", required=True, help="DEST: a folder or gs://bucket/prefix/")
    run.add_argument("--formats", default="md,json", help=f"of {','.join(FORMATS)}")
    run.add_argument("--local-tasks", type=int, default=2, help="task processes here")
    run.add_argument("--shard-documents", type=int, default=50)
    status = commands.add_parser("status", help="what a backfill has done")
    status.add_argument("dest")
    status.add_argument("--id", help="a backfill id (default: the newest)")
    status.add_argument("--json", action="store_true")
    task = commands.add_parser("task", help="one task, as Cloud Run Jobs runs it")
    task.add_argument("dest")
    task.add_argument("--id", help="the backfill (default: this Cloud Run execution's)")
    task.add_argument("--source", help="freeze SOURCE's listing first (task 0 does, once)")
    task.add_argument("--formats", default="md,json")
    tasks = commands.add_parser("tasks", help="run the local tasks of a frozen backfill")
    tasks.add_argument("dest")
    tasks.add_argument("--id", required=True, help="the backfill (e.g. a retry's)")
    tasks.add_argument("--local-tasks", type=int, default=2, help="task processes here")
    listing = commands.add_parser("list", help="the backfills the console's view lists")
    listing.add_argument("--json", action="store_true")
    return parser


def _list(as_json: bool) -> int:
    """What the Backfills view shows, from the store the other CLIs find."""
    from console._running import NoConsoleStore, choose_store
    from console._store import Store
    from console.service._backfills import backfill_views

    try:
        store = Store.from_env(choose_store(creates=False).env)
    except NoConsoleStore as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    try:
        views = backfill_views(store)
    finally:
        store.close()
    if not views and not as_json:
        print("no backfill was started from this console yet")
    for view in views:
        record = view.record
        if as_json:
            found = view.status.to_dict() if view.status else {"problem": view.problem}
            print(json.dumps({"id": record.backfill_id, "by": record.started_by, **found}))
        elif view.status is None:
            print(f"backfill {record.backfill_id}: {record.dest} cannot be read: {view.problem}")
        else:
            cancelled = " (cancel requested)" if view.cancelled and not view.finished else ""
            print(_summary(view.status) + cancelled)
    return 0


def _summary(status: BackfillStatus) -> str:
    lines = [
        f"backfill {status.manifest.backfill_id}: {status.manifest.source} -> "
        f"{status.manifest.dest}",
        f"  documents {status.documents}: done {status.done}, failed "
        f"{status.documents_failed}, left {status.left}",
    ]
    for failure in status.failed:
        pages = f" ({failure.failed_pages} pages)" if failure.failed_pages else ""
        lines.append(f"  failed{pages}: {failure.document}: {failure.reason}")
    return "\n".join(lines)


def _task(args: argparse.Namespace) -> int:
    dest = location(args.dest, create=True)
    index, count, attempt = task_position()
    backfill_id = args.id or os.environ.get("CLOUD_RUN_EXECUTION")
    if not backfill_id:
        raise ValueError("a task needs --id, or CLOUD_RUN_EXECUTION as Cloud Run Jobs sets it")
    manifest = frozen_for_execution(dest, backfill_id, args.source, args.formats, index)
    source = location(manifest.source)

    async def main() -> int:
        async with OCRClient() as client:
            task = Task(manifest, source, dest, client, index=index, count=count, attempt=attempt)
            return await run_task(task)

    return asyncio.run(main())


def _record(manifest: Manifest, where: str) -> None:
    """In the running console's store (as the other CLIs find it), for its Backfills view;
    with no console to find, the backfill runs all the same and no store is created."""
    from console._identity import local_actor
    from console._running import NoConsoleStore, choose_store
    from console._store import Store, StoreError

    try:
        store = Store.from_env(choose_store(creates=False).env)
        record_backfill(store, manifest, actor=local_actor(), where=where)
        store.close()
    except (NoConsoleStore, StoreError) as error:
        print(f"note: not listed in a console's Backfills view: {error}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "task":
            return _task(args)
        if args.command == "list":
            return _list(args.json)
        if args.command == "tasks":
            failed = run_local_tasks(args.dest, args.id, args.local_tasks)
            print(_summary(backfill_status(location(args.dest), args.id)))
            return 1 if failed else 0
        if args.command == "status":
            dest = location(args.dest)
            ids = manifests(dest)
            if not ids:
                print(f"no backfill in {args.dest}", file=sys.stderr)
                return 1
            status = backfill_status(dest, args.id or ids[-1])
            print(json.dumps(status.to_dict()) if args.json else _summary(status))
            return 0
        source, dest = location(args.source), location(args.out, create=True)
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        manifest = freeze(source, dest, formats=formats, shard_documents=args.shard_documents)
        tasks = count_noun(args.local_tasks, "local task")
        _record(manifest, tasks)
        before = backfill_status(dest, manifest.backfill_id).done
        counts = f"{len(manifest.entries)} documents, {manifest.shard_count} shards"
        print(f"backfill {manifest.backfill_id}: {counts}, {tasks}")
        failed = run_local_tasks(args.out, manifest.backfill_id, args.local_tasks)
        status = backfill_status(dest, manifest.backfill_id)
        print(_summary(status))
        if status.done == before:
            print("  nothing new was written: every document was done already or failed")
        for index, attempts in failed.items():
            print(f"  task {index} failed all {attempts} attempts", file=sys.stderr)
        return 1 if failed else 0
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
