"""`python -m console.backfill.bench_backfill`: the whole promise of a backfill, at scale.

A folder of 2,000 one-page PDFs with a corrupt one and an encrypted one among them is
backfilled by local task processes against the simulated local OCR server. Once a few hundred
documents are done, task 0 is killed with SIGKILL mid-shard; the local runner starts it again,
as Cloud Run Jobs retries a task. Then it checks, and prints:

- every good document's outputs exist exactly once (`.md` and `.json`, none missing), and the
  markdown files were never rewritten after the run (no file changed by the second run);
- the corrupt and the encrypted file are the failures, each with its typed reason;
- the killed task was retried (its attempt number);
- a second run of the same backfill writes nothing new, and says so.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium

from console.backfill._local import task_pids
from console.backfill._locations import location
from console.backfill._manifest import manifests
from console.backfill._status import backfill_status
from console.backfill.bench_scale import _servers

ROOT = Path(__file__).resolve().parents[2]
ENCRYPTED = ROOT.parent / "shared" / "corpus" / "pdf" / "libreoffice-writer-password.pdf"


def _pdf() -> bytes:
    document = pdfium.PdfDocument.new()
    document.new_page(300, 400)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _backfill(source: Path, dest: Path, tasks: int, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "console.backfill", "run", str(source), "--out", str(dest)]
    return subprocess.Popen(
        [*command, "--local-tasks", str(tasks)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _outputs(dest: Path) -> dict[str, int]:
    """Every output file (outside the backfill's own folder) with its modification time."""
    return {
        p.relative_to(dest).as_posix(): p.stat().st_mtime_ns
        for p in dest.rglob("*.pdf.*")
        if "_backfill" not in p.parts
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m console.backfill.bench_backfill")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--kill-after", type=int, default=300, help="documents done first")
    parser.add_argument("--service-time", type=float, default=0.02)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as scratch:
        source, dest = Path(scratch) / "archive", Path(scratch) / "ocr"
        data = _pdf()
        for n in range(args.documents):
            folder = source / f"branch-{n % 10}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"loan-{n:05d}.pdf").write_bytes(data)
        (source / "corrupt.pdf").write_bytes(b"%PDF-1.7\n the rest of it was lost")
        bad = {"corrupt.pdf": "CorruptDocument"}
        if ENCRYPTED.is_file():
            (source / "locked.pdf").write_bytes(ENCRYPTED.read_bytes())
            bad["locked.pdf"] = "EncryptedDocument"
        else:
            print(f"(no encrypted sample at {ENCRYPTED}: the corrupt file only)")
        with _servers(1, args.service_time, 16) as [url]:
            env = {
                **os.environ,
                "LIGHTONOCR_SERVICE_URL": url,
                "LIGHTONOCR_MAX_ATTEMPTS": "1",
                "XDG_STATE_HOME": str(Path(scratch) / "state"),  # listed in no console
            }
            started = time.monotonic()
            running = _backfill(source, dest, args.tasks, env)
            while len(list(dest.rglob("*.pdf.json"))) < args.kill_after:
                if running.poll() is not None:
                    raise SystemExit("the backfill ended before the kill: raise --documents")
                time.sleep(0.2)
            [victim] = task_pids(0)
            os.kill(victim, signal.SIGKILL)
            killed_at = len(list(dest.rglob("*.pdf.json")))
            _out, err = running.communicate(timeout=3600)
            seconds = time.monotonic() - started
            if running.returncode != 0:
                raise SystemExit(f"the backfill failed:\n{err[-2000:]}")
            first = _outputs(dest)
            again = _backfill(source, dest, args.tasks, env)
            again_out, _ = again.communicate(timeout=3600)
        backfill_id = manifests(location(str(dest)))[0]
        status = backfill_status(location(str(dest)), backfill_id)
        good = [f"branch-{n % 10}/loan-{n:05d}.pdf" for n in range(args.documents)]
        missing = [n for n in good for fmt in ("md", "json") if f"{n}.{fmt}" not in first]
        extra = sorted(set(first) - {f"{n}.{fmt}" for n in good for fmt in ("md", "json")})
        reasons = {f.document: f.reason.split(":")[0] for f in status.failed}
        progress = next(dest.glob(f"_backfill/{backfill_id}/tasks/task-0.json"))
        attempt = json.loads(progress.read_text())["attempt"]
        changed = [name for name, mtime in _outputs(dest).items() if first.get(name) != mtime]
        print(f"{args.documents:,} documents + {len(bad)} bad, {args.tasks} local tasks")
        print(f"  task 0 killed (SIGKILL) with {killed_at} documents done; attempt now {attempt}")
        print(f"  run: {seconds:.1f} s, {args.documents / seconds:.1f} documents/s")
        print(f"  outputs: {len(first):,} files; missing {len(missing)}; unexpected {len(extra)}")
        print(f"  done {status.done:,}, failed {status.documents_failed}: {reasons}")
        print(f"  failures as expected: {reasons == bad}")
        nothing_new = "nothing new was written" in again_out
        print(f"  second run: files changed {len(changed)}; says nothing new: {nothing_new}")
        ok = not missing and not extra and reasons == bad and not changed and nothing_new
        print("  all held" if ok else "  NOT HELD")
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
