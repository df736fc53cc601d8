"""Every update carries the etag of the service it was decided on (issue 31, item 5): a
change that lands between a read and a write (another canary, a deploy, a rollback) makes
Cloud Run refuse the write, so nothing of the other change is overwritten."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deploy import CloudError, CloudRunDeployer, ServiceSpec
from tests.fakes.google_run import FakeRun

Change = Callable[[CloudRunDeployer, str], object]
CHANGES: dict[str, Change] = {
    "apply": lambda d, _: d.apply(ServiceSpec(tag="c0ffee3")),
    "scale": lambda d, _: d.scale(min_instances=1),
    "rollback": lambda d, first: d.rollback(first),
    "split": lambda d, first: d.set_traffic({first: 100}),
    "candidate": lambda d, _: d.deploy_candidate(ServiceSpec(tag="c0ffee3"), "canary-c0ffee3"),
}


def _two_revisions(deployer: CloudRunDeployer) -> str:
    first = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    deployer.apply(ServiceSpec(tag="c0ffee2"))
    return first


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_update_carries_the_etag_it_was_decided_on(
    change: Change, deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    first = _two_revisions(deployer)
    before = len(fake_run.requests_for("UpdateService"))

    change(deployer, first)

    updates = fake_run.requests_for("UpdateService")[before:]
    assert updates and all(u.service.etag.startswith("etag-") for u in updates)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_service_changed_since_it_was_read_is_not_overwritten(
    change: Change, deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    first = _two_revisions(deployer)
    name = deployer.target.name
    fake_run.interleave = lambda: fake_run.touch(name)  # someone else's update lands first
    generation = fake_run.services[name].generation

    with pytest.raises(CloudError, match="concurrent change"):
        change(deployer, first)

    assert fake_run.services[name].generation == generation + 1  # only theirs
