"""Rollouts in the store: one per service at a time, and canaries the worker runs.

- `rollout_locks`: a canary holds its service's row while it runs (issue 31, item 5). Two
  canaries at once would each move traffic and tags the other just set; the second is
  refused with who holds the service and since when. The holder renews the row every
  `RENEW_S`; a holder that died stops renewing and its row is taken once `TTL_S` old.
- `canary_requests`: the Service page's button writes a request (the door has checked the
  role and names the person); the worker takes it with a compare-and-set and runs it with
  its own job runner (issue 31, item 4), so no canary runs on a thread of the Streamlit
  process and a closed tab or a restarted UI changes nothing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from console._store import METADATA, Store

TTL_S = 120.0
RENEW_S = 30.0

rollout_locks_table = sa.Table(
    "rollout_locks",
    METADATA,
    sa.Column("service", sa.Text, primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("acquired_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

canary_requests_table = sa.Table(
    "canary_requests",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tag", sa.Text, nullable=False),
    sa.Column("golden_set", sa.Text, nullable=False),
    sa.Column("margin", sa.Float, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    # queued -> running (owner set) -> done | failed, with what happened in `detail`.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("finished_at", sa.Float),
)


class RolloutBusy(RuntimeError):
    """Another rollout holds this service."""


@contextlib.contextmanager
def rollout_lock(
    store: Store, service: str, holder: str, what: str, *, ttl_s: float = TTL_S
) -> Iterator[None]:
    """Hold `service` while the block runs (renewed on a thread), or raise RolloutBusy."""
    _acquire(store, service, holder, what, ttl_s)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(min(RENEW_S, ttl_s / 4)):
            with contextlib.suppress(Exception), store.transaction() as connection:
                t = rollout_locks_table
                connection.execute(
                    t.update()
                    .where(t.c.service == service, t.c.holder == holder)
                    .values(expires_at=time.time() + ttl_s)
                )

    renewing = threading.Thread(target=renew, name=f"rollout-lock-{service}", daemon=True)
    renewing.start()
    try:
        yield
    finally:
        stop.set()
        renewing.join(5)
        t = rollout_locks_table
        with store.transaction() as connection:
            connection.execute(t.delete().where(t.c.service == service, t.c.holder == holder))


def _acquire(store: Store, service: str, holder: str, what: str, ttl_s: float) -> None:
    t = rollout_locks_table
    now = time.time()
    row = {"holder": holder, "what": what, "acquired_at": now, "expires_at": now + ttl_s}
    with contextlib.suppress(sa.exc.IntegrityError), store.transaction() as connection:
        connection.execute(t.insert().values(service=service, **row))
        return
    with store.transaction() as connection:  # taken only from a holder that stopped renewing
        taken = connection.execute(
            t.update().where(t.c.service == service, t.c.expires_at < now).values(**row)
        ).rowcount
    if not taken:
        [held] = store.read(sa.select(t).where(t.c.service == service)) or [None]
        since = time.strftime("%H:%M:%S UTC", time.gmtime(held.acquired_at)) if held else "?"
        by = f"{held.what} by {held.holder}" if held else "another rollout"
        raise RolloutBusy(f"{service} is being rolled out ({by}, since {since}); wait for it")


@dataclass(frozen=True, slots=True)
class CanaryRequest:
    id: int
    tag: str
    golden_set: str
    margin: float
    actor: str
    state: str
    detail: str | None = None
    finished_at: float | None = None


def request_canary(store: Store, *, tag: str, golden_set: str, margin: float, actor: str) -> int:
    t = canary_requests_table
    with store.transaction() as connection:
        inserted = connection.execute(
            t.insert().values(
                tag=tag,
                golden_set=golden_set,
                margin=margin,
                actor=actor,
                requested_at=time.time(),
                state="queued",
            )
        ).inserted_primary_key
    return int(inserted[0])


def take_canary_request(store: Store, owner: str) -> CanaryRequest | None:
    """The oldest queued request, now this worker's (a compare-and-set: one worker each)."""
    t = canary_requests_table
    for row in store.read(sa.select(t).where(t.c.state == "queued").order_by(t.c.id)):
        with store.transaction() as connection:
            taken = connection.execute(
                t.update()
                .where(t.c.id == row.id, t.c.state == "queued")
                .values(state="running", owner=owner)
            ).rowcount
        if taken:
            return CanaryRequest(row.id, row.tag, row.golden_set, row.margin, row.actor, "running")
    return None


def finish_canary_request(store: Store, request_id: int, ok: bool, detail: str) -> None:
    t = canary_requests_table
    with store.transaction() as connection:
        connection.execute(
            t.update()
            .where(t.c.id == request_id)
            .values(state="done" if ok else "failed", detail=detail, finished_at=time.time())
        )


def canary_request(store: Store, request_id: int) -> CanaryRequest | None:
    t = canary_requests_table
    rows = store.read(sa.select(t).where(t.c.id == request_id))
    return next(
        (
            CanaryRequest(
                r.id, r.tag, r.golden_set, r.margin, r.actor, r.state, r.detail, r.finished_at
            )
            for r in rows
        ),
        None,
    )
