"""The one door: every action of the console, run as a viewer and as an operator.

A viewer is refused server-side, whatever a page showed them, and the refusal is audited
under their name; an operator's action is audited under theirs with its outcome. The table
names every action `console.service.ACTIONS` knows, so an action added without a row here
fails `test_the_table_covers_every_action`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console._identity import Identity, PermissionDenied, Role
from console._references import ReferenceText
from console.golden import GoldenStore, load_zip
from console.jobs import NewDocument
from console.review import ReviewSettings, ReviewStore
from console.service import ACTIONS, Operations
from console.service._canary_action import CanaryUnavailable, canary_rollout
from console.service._revisions import rollback, split
from ocr_core import Sampling
from tests.console.golden.conftest import EXAMPLES, make_zip
from tests.console.jobs.conftest import make_pdf
from tests.console.local_platform import local_platforms
from tests.console.review.conftest import Seed, seed_job
from tests.fakes.local_server import LocalServer

OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")
VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")
GOLDEN_ZIP = make_zip(
    {
        "photo/phototest.tif": (EXAMPLES / "phototest.tif").read_bytes(),
        "photo/phototest.txt": (EXAMPLES / "phototest.txt").read_bytes(),
    }
)


class Setup:
    """An Operations with a job of one document and a golden set, made behind the door."""

    def __init__(self, operations: Operations, other_url: str) -> None:
        self.operations = operations
        self.other_url = other_url  # a second live endpoint, for a comparison
        self.job_id = operations.jobs.create_job(
            [NewDocument("a.pdf", make_pdf(1))], actor="seed", service_url="http://x"
        )
        self.document_id = operations.jobs.documents(self.job_id)[0].id
        GoldenStore(operations.store).register(
            "seed-set", load_zip(GOLDEN_ZIP).documents, actor="seed", source="test"
        )
        # A job whose one page was read and approved once: what review acts on.
        self.review_job_id = seed_job(operations.store, Seed("read text"))
        review = ReviewStore(operations.store)
        review.approve(review.page(self.review_job_id, 1), "seed")


def _canary(setup: Setup, who: Identity) -> None:
    """On the local platform the canary is refused as unavailable (audited); the door's
    checks come first either way."""
    with contextlib.suppress(CanaryUnavailable):
        canary_rollout(setup.operations, who, tag="c0ffee2", golden_set="seed-set")


REFERENCE = ReferenceText(origin="a.txt", pages=("the page says this",), encoding="utf-8")

# action -> what it takes to do it, given the setup and who asks.
TABLE: dict[str, Callable[[Setup, Identity], Any]] = {
    "warm up": lambda s, who: s.operations.warm_up(timeout_s=60, identity=who),
    "scale": lambda s, who: s.operations.scale(min_instances=1, identity=who),
    "scale to zero": lambda s, who: s.operations.scale_to_zero(identity=who),
    "restore": lambda s, who: s.operations.restore(identity=who),
    "keep warm": lambda s, who: s.operations.start_keep_warm(1, identity=who),
    "keep warm cancelled": lambda s, who: s.operations.cancel_keep_warm(identity=who),
    "rollback": lambda s, who: s.operations.set_traffic(rollback("rev-1"), identity=who),
    "split traffic": lambda s, who: s.operations.set_traffic(
        split("rev-1", "rev-2", 90), identity=who
    ),
    "start job": lambda s, who: s.operations.start_job(
        [NewDocument("b.pdf", make_pdf(1))], identity=who
    ),
    "cancel job": lambda s, who: s.operations.cancel_job(s.job_id, identity=who),
    "resume job": lambda s, who: s.operations.resume_job(s.job_id, identity=who),
    "retry page": lambda s, who: s.operations.retry_page(
        s.job_id, s.document_id, 0, sampling=Sampling(0.7, 1.1, 1024), identity=who
    ),
    "unlock document": lambda s, who: s.operations.unlock_document(
        s.document_id, "openpassword", identity=who
    ),
    "attach reference": lambda s, who: s.operations.attach_document_reference(
        s.job_id, s.document_id, REFERENCE, identity=who
    ),
    "set retention": lambda s, who: s.operations.set_retention(7, identity=who),
    "register golden set": lambda s, who: s.operations.register_golden_set(
        "new-set", "set.zip", GOLDEN_ZIP, identity=who
    ),
    "run golden set": lambda s, who: s.operations.run_golden_set("seed-set", identity=who),
    "update golden set": lambda s, who: s.operations.update_golden_set(
        "seed-set", upload=("set.zip", GOLDEN_ZIP), identity=who
    ),
    "remove golden set": lambda s, who: s.operations.remove_golden_set("seed-set", identity=who),
    "canary rollout": _canary,
    "approve page": lambda s, who: s.operations.approve_page(s.review_job_id, 1, identity=who),
    "correct page": lambda s, who: s.operations.correct_page(
        s.review_job_id, 1, "fixed text", identity=who
    ),
    "restore page": lambda s, who: s.operations.restore_page(s.review_job_id, 1, 1, identity=who),
    "send to review": lambda s, who: s.operations.send_to_review(s.review_job_id, identity=who),
    "set review settings": lambda s, who: s.operations.set_review_settings(
        ReviewSettings(0.8, 0.1), identity=who
    ),
    "golden set from reviewed": lambda s, who: s.operations.golden_from_reviewed(
        "reviewed-set", [s.review_job_id], identity=who
    ),
    "start comparison": lambda s, who: s.operations.start_comparison(
        s.other_url, documents=[NewDocument("c.pdf", make_pdf(1))], identity=who
    ),
}

# These act on a real backfill's destination: tests/console/service/test_backfill_actions.py
# runs one and checks the same refusals and audit rows.
NEEDS_A_BACKFILL = ("cancel backfill", "retry backfill")


@pytest.fixture
def setup(tmp_path: Path, simulated_server: LocalServer) -> Iterator[Setup]:
    with local_platforms(tmp_path) as make:
        platform = make()
        operations = Operations(platform, platform.store, actor="local-user")
        yield Setup(operations, simulated_server.base_url)


def test_the_table_covers_every_action() -> None:
    assert sorted([*TABLE, *NEEDS_A_BACKFILL]) == sorted(ACTIONS)


@pytest.mark.parametrize("action", sorted(TABLE))
def test_a_viewer_is_refused_and_the_refusal_is_audited(setup: Setup, action: str) -> None:
    before = len(setup.operations.audit_log(1000))
    with pytest.raises(PermissionDenied, match="needs the operator role"):
        TABLE[action](setup, VIEWER)
    audit = setup.operations.audit_log(1000)
    assert len(audit) == before + 1  # the refusal, and nothing was done
    refused = audit[0]
    assert (refused.actor, refused.action, refused.ok) == (VIEWER.name, action, False)
    assert refused.detail.startswith("refused: qa@bank.example is a viewer")


@pytest.mark.parametrize("action", sorted(TABLE))
def test_an_operator_acts_and_the_action_is_audited(setup: Setup, action: str) -> None:
    TABLE[action](setup, OPERATOR)
    mine = [r for r in setup.operations.audit_log(1000) if r.actor == OPERATOR.name]
    # Keep-warm's own steps name themselves ("keep warm" may scale first); the action's row
    # is there, under the operator's verified name, with a target.
    assert action in [r.action for r in mine]
    row = next(r for r in mine if r.action == action)
    assert row.target and row.detail


def test_a_viewer_leaves_the_store_as_it_was(setup: Setup) -> None:
    jobs_before = setup.operations.jobs.jobs()
    for action in TABLE:
        with pytest.raises(PermissionDenied):
            TABLE[action](setup, VIEWER)
    assert setup.operations.jobs.jobs() == jobs_before
    assert [s.name for s in GoldenStore(setup.operations.store).sets()] == ["seed-set"]
    assert setup.operations.platform.floor == 0


def test_without_a_signed_in_person_a_team_console_refuses_every_action(setup: Setup) -> None:
    setup.operations.identity_required = True
    for action in TABLE:
        with pytest.raises(PermissionDenied, match="needs a signed-in operator"):
            TABLE[action](setup, None)  # type: ignore[arg-type]
        refused = setup.operations.audit_log(1)[0]
        assert (refused.actor, refused.action, refused.ok) == ("(not signed in)", action, False)


def test_an_action_that_fails_is_audited_as_failed_and_raised(setup: Setup) -> None:
    with pytest.raises(Exception, match="cannot reach"):
        setup.operations.start_comparison(
            "http://127.0.0.1:9", documents=[NewDocument("c.pdf", make_pdf(1))], identity=OPERATOR
        )
    failed = setup.operations.audit_log(1)[0]
    assert (failed.actor, failed.action, failed.ok) == (OPERATOR.name, "start comparison", False)
    assert "cannot reach" in failed.detail


def test_an_operator_whose_sign_in_expired_is_refused_every_action_and_audited(
    setup: Setup,
) -> None:
    """A browser session outlives the IAP assertion it was verified with: 45 s past its
    expiry (beyond the 30 s clock skew) nothing is done in that person's name."""
    expired = dataclasses.replace(OPERATOR, expires_at=time.time() - 45)
    for action in TABLE:
        with pytest.raises(PermissionDenied, match="has expired"):
            TABLE[action](setup, expired)
        refused = setup.operations.audit_log(1)[0]
        assert (refused.actor, refused.action, refused.ok) == (OPERATOR.name, action, False)
    assert setup.operations.platform.floor == 0


def test_an_assertion_within_the_clock_skew_still_acts(setup: Setup) -> None:
    recent = dataclasses.replace(OPERATOR, expires_at=time.time() - 5)
    setup.operations.set_retention(7, identity=recent)
    assert setup.operations.audit_log(1)[0].ok
