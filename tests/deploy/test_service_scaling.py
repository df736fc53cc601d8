"""Scaling, revisions and rollback through CloudRunDeployer, against the fake Cloud Run API
through the real run_v2 clients."""

from __future__ import annotations

import pytest
from google.cloud import run_v2

from deploy import (
    CloudError,
    CloudRunDeployer,
    InvalidSpec,
    ServiceNotFound,
    ServiceSpec,
    ServiceTarget,
)
from tests.fakes.google_run import FakeRun

# A commit tag, as cloudbuild.yaml pushes every build: an immutable image reference.
COMMIT = "c0ffee0"


def _sent_service(fake: FakeRun, method: str) -> run_v2.Service:
    return fake.requests_for(method)[-1].service


def test_scale_sets_the_service_level_floor_without_a_new_revision(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    before = deployer.apply(ServiceSpec(tag=COMMIT))

    info = deployer.scale(min_instances=1)

    sent = _sent_service(fake_run, "UpdateService")
    assert (sent.scaling.min_instance_count, sent.scaling.max_instance_count) == (1, 3)
    assert (info.min_instances, info.max_instances) == (1, 3)
    assert info.latest_created_revision == before.latest_created_revision


def test_scale_sends_only_the_scaling_under_an_update_mask(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    # Without a mask the whole service is replaced by what this client read and knows.
    deployer.apply(ServiceSpec(tag=COMMIT))

    deployer.scale(min_instances=1)

    request = fake_run.requests_for("UpdateService")[-1]
    assert list(request.update_mask.paths) == ["scaling"]
    assert "template" not in request.service
    assert "traffic" not in request.service


def test_scale_sets_floor_and_ceiling_together(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    deployer.scale(min_instances=2, max_instances=5)

    sent = _sent_service(fake_run, "UpdateService").scaling
    assert (sent.min_instance_count, sent.max_instance_count) == (2, 5)


def test_scale_to_zero_drops_the_floor_and_keeps_the_ceiling(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT, min_instances=1, max_instances=2))

    info = deployer.scale(min_instances=0)

    sent = _sent_service(fake_run, "UpdateService").scaling
    assert (sent.min_instance_count, sent.max_instance_count) == (0, 2)
    assert info.min_instances == 0


def test_scale_refuses_a_floor_above_the_ceiling(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    with pytest.raises(InvalidSpec, match="min 5 / max 3"):
        deployer.scale(min_instances=5)
    assert fake_run.requests_for("UpdateService") == []


def test_revisions_are_listed_newest_first_with_their_traffic(
    deployer: CloudRunDeployer,
) -> None:
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    latest = deployer.apply(ServiceSpec(tag="c0ffee2"))

    revisions = deployer.revisions()

    assert revisions[0].name == latest.latest_ready_revision
    assert [r.traffic_percent for r in revisions] == [100, 0]
    assert [r.image.rsplit(":", 1)[-1] for r in revisions] == ["c0ffee2", "c0ffee1"]
    assert all(r.ready for r in revisions)


def test_rollback_without_a_name_sends_all_traffic_to_the_previous_ready_revision(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    deployer.apply(ServiceSpec(tag="c0ffee2"))

    info = deployer.rollback()

    traffic = _sent_service(fake_run, "UpdateService").traffic
    assert [(t.type_.name, t.revision, t.percent) for t in traffic] == [
        ("TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", first.latest_ready_revision, 100)
    ]
    assert info.traffic == [(first.latest_ready_revision, 100)]


def test_rollback_sends_only_the_traffic_under_an_update_mask(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    latest = deployer.apply(ServiceSpec(tag="c0ffee2"))

    deployer.rollback()

    request = fake_run.requests_for("UpdateService")[-1]
    assert list(request.update_mask.paths) == ["traffic"]
    assert "template" not in request.service
    assert deployer.status().image == latest.image  # the template is untouched


def test_rollback_skips_revisions_that_never_became_ready(
    deployer: CloudRunDeployer, fake_run: FakeRun, target: ServiceTarget
) -> None:
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    second = deployer.apply(ServiceSpec(tag="c0ffee2"))
    deployer.apply(ServiceSpec(tag="c0ffee3"))
    fake_run.set_revision_ready(target.name, second.latest_ready_revision, False)

    info = deployer.rollback()

    assert info.traffic == [(first.latest_ready_revision, 100)]


def test_rollback_to_a_named_revision(deployer: CloudRunDeployer, fake_run: FakeRun) -> None:
    first = deployer.apply(ServiceSpec(tag="c0ffee1"))
    deployer.apply(ServiceSpec(tag="c0ffee2"))
    deployer.apply(ServiceSpec(tag="c0ffee3"))

    info = deployer.rollback(first.latest_ready_revision)

    assert info.traffic == [(first.latest_ready_revision, 100)]
    assert len(fake_run.revisions[deployer.target.name]) == 3  # no new revision


def test_rollback_to_an_unknown_revision_is_refused_before_any_update(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    with pytest.raises(ServiceNotFound, match="lightonocr-09999-zzz"):
        deployer.rollback("lightonocr-09999-zzz")
    assert fake_run.requests_for("UpdateService") == []


def test_rollback_with_a_single_revision_has_nowhere_to_go(deployer: CloudRunDeployer) -> None:
    deployer.apply(ServiceSpec(tag=COMMIT))

    with pytest.raises(CloudError, match="nothing to roll back to"):
        deployer.rollback()
