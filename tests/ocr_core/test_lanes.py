"""Fair lanes: no document holds the sandbox's workers, and one that keeps breaching the
limits is quarantined. Tasks run on a real thread pool; the clock is injected."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ocr_core import DocumentQuarantined, ResourceLimitExceeded
from ocr_core._lanes import Lanes
from tests.waits import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Pool:
    """Runs each task (a name) until the test lets it finish, recording the start order."""

    def __init__(self) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=8)
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def dispatch(self, args: tuple[Any, ...], reserve: bool) -> concurrent.futures.Future[Any]:
        (name,) = args
        with self.lock:
            self.started.append(name)
            gate = self.gates.setdefault(name, threading.Event())
        return self.executor.submit(self._run, name, gate)

    @staticmethod
    def _run(name: str, gate: threading.Event) -> str:
        gate.wait(60)
        if name.startswith("breach"):
            raise ResourceLimitExceeded(f"{name} took too long", limit="time")
        return name

    def finish(self, name: str) -> None:
        with self.lock:
            self.gates.setdefault(name, threading.Event()).set()


@pytest.fixture
def pool() -> Iterator[Pool]:
    pool = Pool()
    yield pool
    for gate in pool.gates.values():
        gate.set()
    pool.executor.shutdown(wait=True)


def _lanes(pool: Pool, clock: Clock, workers: int = 2) -> Lanes:
    return Lanes(workers, pool.dispatch, lambda error: error, clock=clock)


def test_hostile_documents_holding_every_worker_leave_the_reserve_to_a_light_one(
    pool: Pool,
) -> None:
    lanes = Lanes(2, pool.dispatch, lambda error: error, clock=Clock(), reserve=1)
    for name in ("a", "b"):
        for n in range(3):
            lanes.submit(name, (f"{name}-{n}",))
    letter = lanes.submit("letter", ("letter-0",))
    assert pool.started == ["a-0", "b-0", "letter-0"]
    pool.finish("letter-0")
    assert letter.result(timeout=60) == "letter-0"


def test_a_document_that_has_used_its_share_does_not_take_the_reserve(pool: Pool) -> None:
    clock = Clock()
    lanes = Lanes(1, pool.dispatch, lambda error: error, clock=clock, reserve=1)
    first = lanes.submit("bomb", ("bomb-0",))  # light yet: the reserve
    lanes.submit("bomb", ("bomb-1",))
    clock.now = 30.0
    lanes.submit("other", ("other-0",))  # the ordinary worker
    pool.finish("bomb-0")
    first.result(timeout=60)
    assert pool.started == ["bomb-0", "other-0"]  # 30 s used: bomb-1 waits for its turn


def test_a_document_alone_gets_a_worker_and_then_its_next_page(pool: Pool) -> None:
    lanes = _lanes(pool, Clock())
    first, second = (lanes.submit("solo", (f"solo-{n}",)) for n in range(2))
    pool.finish("solo-0")
    assert first.result(timeout=60) == "solo-0"
    eventually(lambda: "solo-1" in pool.started, what="the next page dispatched")
    pool.finish("solo-1")
    assert second.result(timeout=60) == "solo-1"


def test_the_least_served_document_goes_first(pool: Pool) -> None:
    clock = Clock()
    lanes = _lanes(pool, clock, workers=1)
    slow = lanes.submit("slow", ("slow-0",))
    lanes.submit("slow", ("slow-1",))
    clock.now = 30.0  # the slow page took 30 s of the worker
    lanes.submit("quick", ("quick-0",))
    pool.finish("slow-0")
    slow.result(timeout=60)
    eventually(lambda: len(pool.started) == 2, what="the next dispatch")
    assert pool.started[1] == "quick-0"  # level with the least served busy lane, then ahead


def test_a_document_is_quarantined_after_three_breaches(pool: Pool) -> None:
    lanes = _lanes(pool, Clock())
    breaches = [lanes.submit("bomb", (f"breach-{n}",)) for n in range(3)]
    rest = [lanes.submit("bomb", (f"bomb-{n}",)) for n in range(3, 6)]
    for n in range(3):
        eventually(lambda n=n: f"breach-{n}" in pool.started, what=f"breach {n} dispatched")
        pool.finish(f"breach-{n}")
        with pytest.raises(ResourceLimitExceeded):
            breaches[n].result(timeout=60)
    for future in rest:
        with pytest.raises(DocumentQuarantined, match="breached the sandbox's limits 3 times"):
            future.result(timeout=60)
    with pytest.raises(DocumentQuarantined):
        lanes.submit("bomb", ("bomb-later",)).result(timeout=60)
    assert not [name for name in pool.started if name.startswith("bomb-")]  # none rendered


def test_another_document_is_not_touched_by_a_quarantine(pool: Pool) -> None:
    lanes = Lanes(2, pool.dispatch, lambda error: error, clock=Clock(), quarantine_after=1)
    breach = lanes.submit("bomb", ("breach-0",))
    pool.finish("breach-0")
    with pytest.raises(ResourceLimitExceeded):
        breach.result(timeout=60)
    pool.finish("letter-0")
    assert lanes.submit("letter", ("letter-0",)).result(timeout=60) == "letter-0"


def test_a_task_cancelled_while_it_waits_never_takes_a_worker(pool: Pool) -> None:
    lanes = _lanes(pool, Clock(), workers=1)
    lanes.submit("doc", ("doc-0",))
    waiting = lanes.submit("doc", ("doc-1",))
    assert waiting.cancel()
    pool.finish("doc-0")
    lanes.submit("other", ("other-0",))
    eventually(lambda: "other-0" in pool.started, what="the other task dispatched")
    assert "doc-1" not in pool.started


def test_tasks_without_a_lane_are_each_their_own(pool: Pool) -> None:
    lanes = _lanes(pool, Clock())
    lanes.submit(None, ("a",))
    lanes.submit(None, ("b",))
    assert pool.started == ["a", "b"]  # two unrelated tasks, two workers
