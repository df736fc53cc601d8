"""`python -m console.jobs.bench_uploads`: do uploads stay out of memory and the database?

Issue 20 measured 20 uploads of 50 MB taking the console to 2.67 GB RSS and SQLite to 1.09 GB
(+1.57 GB WAL) while documents lived in rows. This starts the console's service layer on a
fresh data dir (`build_runtime(background=False)`, as the UI and `python -m console.jobs
submit` do), notes its idle RSS, then starts `--uploads` jobs of one `--mb` MB file each
through `start_job` from open files, as the upload paths do. Prints the idle baseline, the
peak (the kernel's high-water mark, reset after the baseline, so no sample can miss it), the
RSS after, and the size of the database files beside the object folder's.
Target: peak <= idle + 500 MB; the database holds no document bytes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from console.jobs import NewDocument


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def _reset_peak() -> None:
    """Start the high-water mark (VmHWM) again from the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def _write_upload(path: Path, mb: int) -> None:
    with path.open("wb") as out:
        for _ in range(mb):
            out.write(os.urandom(1 << 20))  # incompressible, as scans are


def _size_mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m console.jobs.bench_uploads")
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--mb", type=int, default=50, help="size of each upload")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="uploads-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        os.environ["LIGHTONOCR_DATA_DIR"] = str(data_dir)
        os.environ.pop("LIGHTONOCR_BUCKET", None)
        files = [Path(scratch) / f"scan-{n:02d}.pdf" for n in range(args.uploads)]
        for path in files:
            _write_upload(path, args.mb)

        from console.runtime import build_runtime

        operations = build_runtime(background=False).operations
        idle_mb = _status_kb("VmRSS") / 1024
        _reset_peak()
        for path in files:
            with path.open("rb") as upload:
                operations.start_job([NewDocument(path.name, upload)], name=path.name)
        peak_mb = _status_kb("VmHWM") / 1024
        after_mb = _status_kb("VmRSS") / 1024
        database = sorted(data_dir.glob("console.sqlite3*"))
        objects = [p for p in data_dir.rglob("*") if p.is_file() and p not in database]
        print(f"{args.uploads} uploads x {args.mb} MB through start_job")
        print(
            f"idle RSS {idle_mb:.0f} MB, peak {peak_mb:.0f} MB (+{peak_mb - idle_mb:.0f} MB), "
            f"after {after_mb:.0f} MB"
        )
        print(
            f"database files {_size_mb(database):.2f} MB "
            f"({', '.join(f'{p.name} {p.stat().st_size} B' for p in database)})"
        )
        print(f"object files {len(objects)}, {_size_mb(objects):.0f} MB")
        ok = peak_mb - idle_mb <= 500 and _size_mb(database) < args.mb
        print("target met" if ok else "TARGET MISSED")


if __name__ == "__main__":
    main()
