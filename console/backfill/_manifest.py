"""A backfill's manifest: the source's listing frozen at submit, and how it is cut.

The listing is taken once (name, generation, size), so every task of every attempt reads the
same documents whatever lands in the source meanwhile, and a re-run can say exactly what was
left. It lives beside the outputs, `DEST/_backfill/<id>/manifest.jsonl`: a header line, then
one line per document. Work is cut into shards of `shard_documents` consecutive documents;
task `i` of `n` takes shards i, i+n, i+2n... so tasks stay balanced whatever the count, and
since outputs are written per document a killed task loses only the documents in flight.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from console.backfill._locations import Listed, Location

META = "_backfill"
DOCUMENT_SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".webp")
# Text formats a backfill writes; `.json` is always written, last: its presence means done.
FORMATS = ("md", "txt", "json")
DEFAULT_SHARD_DOCUMENTS = 50


@dataclass(frozen=True)
class Manifest:
    backfill_id: str
    source: str
    dest: str
    formats: tuple[str, ...]
    created_at: str
    shard_documents: int
    entries: tuple[Listed, ...] = field(default=(), repr=False)
    # The backfill whose failed documents this one reads again (`_control.freeze_retry`):
    # its tasks replace those documents' outputs instead of skipping them.
    retry_of: str | None = None

    @property
    def folder(self) -> str:
        return f"{META}/{self.backfill_id}"

    @property
    def shard_count(self) -> int:
        return -(-len(self.entries) // self.shard_documents)

    def shard(self, k: int) -> Sequence[Listed]:
        return self.entries[k * self.shard_documents : (k + 1) * self.shard_documents]

    def for_task(self, index: int, count: int) -> Iterator[Listed]:
        """The documents of task `index` of `count`: its shards, in order."""
        for k in range(index, self.shard_count, count):
            yield from self.shard(k)

    def to_jsonl(self) -> bytes:
        header = {k: v for k, v in asdict(self).items() if k != "entries"}
        lines = [json.dumps(header)] + [json.dumps(asdict(e)) for e in self.entries]
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def from_jsonl(cls, data: bytes) -> Manifest:
        header, *rows = data.decode().splitlines()
        fields = json.loads(header)
        fields["formats"] = tuple(fields["formats"])
        entries = tuple(Listed(**json.loads(row)) for row in rows if row.strip())
        return cls(**fields, entries=entries)


def output_name(document: str, fmt: str) -> str:
    """Beside the input's own name: `a/loan.pdf` -> `a/loan.pdf.md` (a loan.tif beside it
    keeps its own outputs)."""
    return f"{document}.{fmt}"


def failure_name(manifest: Manifest, document: str) -> str:
    return f"{manifest.folder}/failures/{document}.json"


def freeze(
    source: Location,
    dest: Location,
    *,
    formats: Sequence[str] = ("md", "json"),
    shard_documents: int = DEFAULT_SHARD_DOCUMENTS,
    backfill_id: str | None = None,
) -> Manifest:
    """List the source's documents (not this backfill's own files), write the manifest
    (once: AlreadyWritten if `backfill_id` has one already)."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown formats {unknown}: a backfill writes {', '.join(FORMATS)}")
    chosen = (*(f for f in FORMATS if f in formats and f != "json"), "json")
    entries = tuple(
        listed
        for listed in source.list()
        if listed.name.lower().endswith(DOCUMENT_SUFFIXES)
        and not listed.name.startswith(f"{META}/")
    )
    manifest = Manifest(
        backfill_id=backfill_id
        or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3),
        source=source.url,
        dest=dest.url,
        formats=chosen,
        created_at=datetime.now(UTC).isoformat(),
        shard_documents=max(1, shard_documents),
        entries=entries,
    )
    dest.write_once(f"{manifest.folder}/manifest.jsonl", manifest.to_jsonl())
    return manifest


def cancel_name(backfill_id: str) -> str:
    """The marker that cancels a backfill (`_control.request_cancel`)."""
    return f"{META}/{backfill_id}/cancel.json"


def cancel_requested(dest: Location, backfill_id: str) -> bool:
    return dest.exists(cancel_name(backfill_id))


def manifests(dest: Location) -> list[str]:
    """The backfill ids with a manifest under `dest`, oldest first."""
    ids = {
        name.split("/")[1]
        for name in dest.names_under(f"{META}/")
        if name.endswith("/manifest.jsonl") and name.count("/") == 2
    }
    return sorted(ids)


def load(dest: Location, backfill_id: str) -> Manifest:
    return Manifest.from_jsonl(dest.read(f"{META}/{backfill_id}/manifest.jsonl"))


def frozen_for_execution(
    dest: Location,
    backfill_id: str,
    source_url: str | None,
    formats: str,
    index: int,
    *,
    wait_s: float = 600.0,
    poll_s: float = 2.0,
) -> Manifest:
    """The manifest of `backfill_id`; on Cloud Run Jobs, where an execution names the
    backfill, task 0 freezes the source's listing once (write-once: a retried task 0 finds
    its own) while the other tasks wait for it."""
    name = f"{META}/{backfill_id}/manifest.jsonl"
    if source_url is not None and index == 0 and not dest.exists(name):
        from console.backfill._locations import AlreadyWritten, location

        chosen = [f.strip() for f in formats.split(",") if f.strip()]
        with contextlib.suppress(AlreadyWritten):
            return freeze(location(source_url), dest, formats=chosen, backfill_id=backfill_id)
    deadline = time.monotonic() + wait_s
    while not dest.exists(name):
        if time.monotonic() > deadline:
            raise FileNotFoundError(f"no manifest {name} in {dest.url} after {wait_s:.0f} s")
        time.sleep(poll_s)
    return load(dest, backfill_id)
