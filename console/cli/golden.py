"""`python -m console.golden`: golden sets from a shell, and a deploy gate.

    register NAME PATH          a folder (or .zip) of documents with their expected text
    update NAME PATH            replace a set's documents and texts (its runs are kept)
    remove NAME                 delete a set with its runs and scores
    seed [--name N]             register the sample set shipped in examples/golden
    list [--json]               registered sets
    run NAME [--json] [--margin 0.02] [--timeout S]
                                OCR the set on the current service and score it; exit code 3
                                when a document or page could not be read (incomplete: no
                                gate passes it), 2 when a document's CER rose by more than
                                the margin, 0 when every page was read and none got worse
    history NAME [--json]       runs of a set, newest first, with what shaped their text
                                and what changed since the run before
    canary NAME --tag SHA [--margin 0.02] [--dry-run] [apply's flags]
                                deploy a Cloud Run revision with no traffic, promote it only
                                if NAME reads as well on it (console/cli/canary.py)

The store and the service are the running console's, found as `python -m console.jobs`
finds them (`--verbose` says which and why; `console/_running.py`). `run` works like `python -m
console.jobs run` until its job is done: its runner also takes other queued jobs meanwhile
(and hands them back when it stops), and a running console's runner may take this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from console._identity import PermissionDenied
from console._render import terminal_safe
from console._running import StoreChoice
from console._store import Store, StoreError
from console.cli._common import cli_identity, epilog, store_choice
from console.golden._models import (
    DEFAULT_MARGIN,
    SETTING_NAMES,
    GoldenRun,
    GoldenSetError,
    LoadedSet,
)
from console.golden._report import settings_changes
from console.golden._runs import wait_for_run
from console.golden._sources import load_folder, load_zip
from console.golden._store import GoldenStore
from console.jobs import JobStore

if TYPE_CHECKING:
    from console.service import Operations

EXIT_REGRESSION = 2
# Something could not be read (or the run failed): nothing was proven either way.
EXIT_INCOMPLETE = 3
SEED_FOLDER = Path(__file__).resolve().parents[2] / "examples" / "golden"
SEED_NAME = "corpus-sample"
# Commands that may create the store a variable names; the others need one that exists.
CREATING = frozenset({"register", "seed", "run"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.golden",
        description=__doc__.split("\n")[0],
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say which store and service, and why"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", help="register a folder or zip as a golden set")
    register.add_argument("name")
    register.add_argument("path", type=Path)
    update = commands.add_parser("update", help="replace a set's documents and texts")
    update.add_argument("name")
    update.add_argument("path", type=Path)
    remove = commands.add_parser("remove", help="delete a set with its runs and scores")
    remove.add_argument("name")
    seed = commands.add_parser("seed", help="register the sample set in examples/golden")
    seed.add_argument("--name", default=SEED_NAME)
    listing = commands.add_parser("list", help="registered golden sets")
    listing.add_argument("--json", action="store_true")
    run = commands.add_parser("run", help="score a set on the current service")
    run.add_argument("name")
    run.add_argument("--json", action="store_true")
    run.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="absolute CER rise")
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the job")
    history = commands.add_parser("history", help="runs of a set, newest first")
    history.add_argument("name")
    history.add_argument("--json", action="store_true")
    canary = commands.add_parser(
        "canary",
        add_help=False,
        help="a Cloud Run rollout gated by a set (python -m console.golden canary --help)",
    )
    canary.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _load(path: Path) -> LoadedSet:
    loaded: LoadedSet
    if path.is_file() and path.suffix.lower() == ".zip":
        loaded = load_zip(path.read_bytes())
    else:
        loaded = load_folder(path)
    for problem in loaded.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return loaded


def _register(env: dict[str, str], name: str, path: Path) -> None:
    loaded = _load(path)
    registered = _operations(env).register_loaded_set(
        name, loaded, source=str(path), identity=cli_identity(env)
    )
    print(f"registered {registered.name!r}: {registered.documents} documents")


def _operations(env: dict[str, str]) -> Operations:
    # Imported here: listing sets must not need the platforms.
    from console.runtime import build_runtime

    return build_runtime(env, background=False).operations


def _summary(run: GoldenRun, changes: list[str] | None = None) -> str:
    name, where = terminal_safe(run.set_name), terminal_safe(run.service_url)
    lines = [f"run {run.id} of {name!r} on {where} (revision {run.revision or '?'})"]
    if run.settings:
        shown = ", ".join(
            f"{label} {run.settings[key]}"
            for key, label in SETTING_NAMES.items()
            if key in run.settings and key != "revision"
        )
        lines.append(f"  settings: {terminal_safe(shown)}")
    if changes:
        lines.append(f"  changed since the run before: {terminal_safe('; '.join(changes))}")
    for score in run.scores:
        filename = terminal_safe(score.filename)
        if score.cer is None:
            line = f"  {filename}: not scored"
        else:
            line = f"  {filename}: CER {score.cer:.4f}  WER {score.wer:.4f}"
            if score.order_free_cer is not None:
                line += (
                    f"  order-free CER {score.order_free_cer:.4f}"
                    f"  words P {score.word_precision:.3f} R {score.word_recall:.3f}"
                )
            if score.previous_cer is not None:
                line += f"  (was {score.previous_cer:.4f})"
            if score.mostly_reading_order:
                line += "  mostly reading order"
        if score.regression:
            line += f"  REGRESSION (margin {run.margin})"
        lines.append(line)
    read, total = run.pages_read
    if run.incomplete:
        lines.append(f"  INCOMPLETE: {read} of {total} pages read; scores are over those only")
        lines += [f"    {problem}" for problem in run.problems]
    else:
        lines.append(f"  complete: {read} of {total} pages read")
    return "\n".join(lines)


def _run(
    env: dict[str, str],
    store: Store,
    golden: GoldenStore,
    name: str,
    margin: float,
    timeout_s: float,
) -> GoldenRun:
    # Imported here: listing and registering must not need the platforms.
    from console.runtime import build_runtime

    golden.get(name)  # a clear error before any platform starts
    runtime = build_runtime(env)
    jobs = JobStore(store)
    runner = runtime.runner().start()
    try:
        run_id = runtime.operations.run_golden_set(
            name, margin=margin, revision=runtime.revision(), identity=cli_identity(env)
        )
        runner.wake()
        return wait_for_run(golden, jobs, run_id, timeout_s=timeout_s)
    finally:
        # The platform stays open: a local server it started outlives this command, as one
        # started by the console does (closing would stop it under a running console).
        runner.stop()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["canary"]:  # its own flags and its own store rule (the canary's module)
        from console.cli.canary import main as canary_main

        return canary_main(argv[1:])
    args = _parser().parse_args(argv)
    choice = store_choice(creates=args.command in CREATING, verbose=args.verbose)
    if choice is None:
        return 1
    try:
        return _command(args, choice)
    except (GoldenSetError, StoreError, PermissionDenied) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, choice: StoreChoice) -> int:
    env = choice.env
    store = Store.from_env(env)
    golden = GoldenStore(store)
    if args.command == "register":
        _register(env, args.name, args.path)
    elif args.command == "seed":
        if golden.find(args.name) is not None:
            print(f"golden set {args.name!r} is already registered")
        else:
            _register(env, args.name, SEED_FOLDER)
    elif args.command == "list":
        for found in golden.sets():
            if args.json:
                record = {
                    "name": found.name,
                    "documents": found.documents,
                    "actor": found.actor,
                    "source": found.source,
                    "created_at": found.created_at.isoformat(),
                }
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(f"{found.name:<24} {found.documents:>4} documents  {found.source}")
    elif args.command == "run":
        run = _run(env, store, golden, args.name, args.margin, args.timeout)
        print(json.dumps(run.to_dict(), ensure_ascii=False) if args.json else _summary(run))
        if run.incomplete:
            return EXIT_INCOMPLETE
        if run.regressions:
            return EXIT_REGRESSION
    elif args.command == "history":
        golden.get(args.name)
        runs = golden.runs(args.name)
        changes = settings_changes(runs)
        for run in runs:
            if args.json:
                record = {**run.to_dict(), "changes": changes.get(run.id, [])}
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(_summary(run, changes.get(run.id)))
    elif args.command == "update":
        loaded = _load(args.path)
        updated, _ = _operations(env).update_golden_set(
            args.name, loaded=loaded, source=str(args.path), identity=cli_identity(env)
        )
        print(f"updated {updated.name!r}: {updated.documents} documents")
    elif args.command == "remove":
        runs = _operations(env).remove_golden_set(args.name, identity=cli_identity(env))
        print(f"removed {args.name!r} with its {runs} runs")
    return 0
