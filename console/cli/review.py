"""`python -m console.review`: the review queue and page truths from a shell.

    list [--json] [--job ID] [--type EXT] [--revision R]
                             the pages waiting for a person, riskiest first
    show JOB PAGE [--json]   a page's model text and its truth versions (who, when)
    approve JOB PAGE         keep the page's text as it is as its truth
    correct JOB PAGE --text FILE [--base VERSION]
                             keep FILE's text as the page's truth; with --base, refused
                             (and the difference printed) when a newer version was saved
    send JOB [PAGE...]       send pages (all of the job's without PAGE) to review
    export --out DIR [--job ID...]
                             every reviewed page as a data set: its scan and its truth

PAGE is numbered from 1 across the job's documents in order, as the workbench shows them.
Writes go through the console's door and are audited; the actor is as for
`python -m console.jobs submit` (`cli_identity`). Which store: as `python -m console.jobs`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from console._identity import PermissionDenied
from console._render import count_noun, terminal_safe
from console._running import StoreChoice
from console._store import Store, StoreError
from console.cli._common import MAX_ID, cli_identity, store_choice
from console.jobs import JobStore
from console.review import QueueFilter, ReviewError, ReviewStore, StaleVersion, summary
from console.review._golden import reviewed_pages, write_dataset

WRITING = frozenset({"approve", "correct", "send"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.review",
        description="The review queue and page truths in the console's store.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="pages waiting for review, riskiest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--job", type=int, help="only this job's pages")
    listing.add_argument("--type", help="only documents of this extension (pdf, png, ...)")
    listing.add_argument("--revision", help="only pages read by this revision")
    for name, what in (
        ("show", "a page's text and truth versions"),
        ("approve", "keep a page's text as its truth"),
        ("correct", "keep a file's text as a page's truth"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("job", type=int)
        command.add_argument("page", type=int)
        if name == "show":
            command.add_argument("--json", action="store_true")
        if name == "correct":
            command.add_argument("--text", type=Path, required=True, metavar="FILE")
            command.add_argument("--base", type=int, help="the version your text started from")
    send = commands.add_parser("send", help="send a job's pages to review")
    send.add_argument("job", type=int)
    send.add_argument("pages", type=int, nargs="*", metavar="PAGE")
    export = commands.add_parser("export", help="reviewed pages as scans and texts")
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.add_argument("--job", type=int, action="append", help="only these jobs' pages")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    jobs = args.job if isinstance(args.job, list) else [args.job]
    if any(job is not None and job > MAX_ID for job in jobs):
        print("error: no such job", file=sys.stderr)
        return 1
    choice = store_choice(creates=False)
    if choice is None:
        return 1
    try:
        return _command(args, choice)
    except StaleVersion as refused:
        print(f"error: {refused}\n{terminal_safe(refused.difference)}", file=sys.stderr)
        return 1
    except (StoreError, PermissionDenied, ReviewError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, choice: StoreChoice) -> int:
    env = choice.env
    store = Store.from_env(env)
    review = ReviewStore(store)
    if args.command == "list":
        where = QueueFilter(args.job, args.type, args.revision)
        _list(review, where, args.json)
    elif args.command == "show":
        _show(review, args.job, args.page, args.json)
    elif args.command == "export":
        pages = reviewed_pages(review, JobStore(store), args.job)
        print(f"wrote {write_dataset(pages, args.out)} pages to {args.out}")
    elif args.command in WRITING:
        _write(args, env)
    return 0


def _write(args: argparse.Namespace, env: dict[str, str]) -> None:
    # Imported here: reading the queue must not need the platforms. No background duties.
    from console.runtime import build_runtime

    operations = build_runtime(env, background=False).operations
    identity = cli_identity(env)
    if args.command == "approve":
        truth = operations.approve_page(args.job, args.page, identity=identity)
        print(f"job {args.job} page {args.page}: approved as version {truth.version}")
    elif args.command == "correct":
        try:
            text = args.text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ReviewError(f"{args.text}: cannot read it as UTF-8 text ({error})") from None
        truth = operations.correct_page(
            args.job, args.page, text, base_version=args.base, identity=identity
        )
        print(f"job {args.job} page {args.page}: saved as version {truth.version}")
    else:
        count = operations.send_to_review(args.job, args.pages or None, identity=identity)
        print(f"job {args.job}: {count_noun(count, 'page')} sent to review")


def _list(review: ReviewStore, where: QueueFilter, as_json: bool) -> None:
    entries = review.queue(where)
    if as_json:
        for entry in entries:
            print(json.dumps(entry.to_dict(), ensure_ascii=False))
        return
    found = summary(entries)
    waiting = f"{count_noun(found.waiting, 'page')} waiting"
    if found.waiting:
        waiting += f", the longest for {found.longest_wait(datetime.now(UTC))}"
    print(waiting)
    for e in entries:
        confidence = "-" if e.confidence is None else f"{e.confidence:.2f}"
        print(
            f"  job {e.page.job_id} page {e.page.number}  {terminal_safe(e.page.filename)}  "
            f"confidence {confidence}  {', '.join(e.reasons)}"
        )


def _show(review: ReviewStore, job_id: int, number: int, as_json: bool) -> None:
    ref = review.page(job_id, number)
    text, revision, confidence, reasons = review.model_page(ref)
    versions = review.versions(ref)
    if as_json:
        record = {
            "job": job_id,
            "page": number,
            "document": ref.filename,
            "revision": revision,
            "confidence": confidence,
            "reasons": list(reasons),
            "model_text": text,
            "versions": [v.to_dict() for v in versions],
        }
        print(json.dumps(record, ensure_ascii=False))
        return
    print(f"job {job_id} page {number} ({terminal_safe(ref.filename)}), read by {revision}")
    print(f"  in review for: {', '.join(reasons) or 'nothing (confident)'}")
    for v in versions:
        who = terminal_safe(v.actor)
        print(f"  version {v.version}: {v.kind} by {who} at {v.at:%Y-%m-%d %H:%M} UTC")
    current = versions[-1].text if versions else text
    print("---")
    print(terminal_safe(current))
