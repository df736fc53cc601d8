"""Traffic splits and what a revision says about itself, against the fake Cloud Run API
through the real run_v2 clients."""

from __future__ import annotations

import pytest
from google.cloud import run_v2

from deploy import CloudError, CloudRunDeployer, InvalidSpec, ServiceNotFound, ServiceSpec
from deploy._info import image_digest, model_revision
from tests.fakes.google_run import FakeRun

DIGEST = "sha256:" + "ab" * 32
_BY_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION


def _two_revisions(deployer: CloudRunDeployer) -> tuple[str, str]:
    older = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    newer = deployer.apply(ServiceSpec(tag="c0ffee2")).latest_ready_revision
    return older, newer


def test_a_split_sends_each_revision_its_share_under_a_traffic_mask(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    older, newer = _two_revisions(deployer)
    info = deployer.set_traffic({newer: 90, older: 10})
    request = fake_run.requests_for("UpdateService")[-1]
    assert list(request.update_mask.paths) == ["traffic"]
    assert "template" not in request.service
    assert [(t.revision, t.percent) for t in request.service.traffic] == [(newer, 90), (older, 10)]
    assert sorted(info.traffic) == sorted([(newer, 90), (older, 10)])
    shares = {r.name: r.traffic_percent for r in deployer.revisions()}
    assert shares == {newer: 90, older: 10}
    assert len(fake_run.revisions[deployer.target.name]) == 2  # no new revision


def test_one_revision_at_one_hundred_percent_is_a_rollback(deployer: CloudRunDeployer) -> None:
    older, _ = _two_revisions(deployer)
    assert deployer.set_traffic({older: 100}).traffic == [(older, 100)]


@pytest.mark.parametrize("split", [{"a": 50, "b": 40}, {"a": 120, "b": -20}, {}])
def test_percents_that_do_not_add_up_to_100_are_refused_before_any_call(
    deployer: CloudRunDeployer, fake_run: FakeRun, split: dict[str, int]
) -> None:
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    with pytest.raises(InvalidSpec, match="add up to 100"):
        deployer.set_traffic(split)
    assert fake_run.requests_for("UpdateService") == []


def test_an_unknown_revision_is_refused_before_any_update(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    older, _ = _two_revisions(deployer)
    updates = len(fake_run.requests_for("UpdateService"))
    with pytest.raises(ServiceNotFound, match="lightonocr-09999-zzz"):
        deployer.set_traffic({older: 50, "lightonocr-09999-zzz": 50})
    assert len(fake_run.requests_for("UpdateService")) == updates


def test_a_revision_that_is_not_ready_cannot_take_traffic(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    older, newer = _two_revisions(deployer)
    fake_run.set_revision_ready(deployer.target.name, older, False)
    with pytest.raises(CloudError, match="not ready"):
        deployer.set_traffic({newer: 50, older: 50})


def test_revisions_report_the_model_revision_from_their_environment(
    deployer: CloudRunDeployer,
) -> None:
    env = {"HF_HUB_OFFLINE": "1", "MODEL_REVISION": "c70b084"}
    deployer.apply(ServiceSpec(tag="c0ffee1", env=env))
    [revision] = deployer.revisions()
    assert revision.model_revision == "c70b084"
    assert revision.digest == ""  # a commit tag pins no digest


def test_the_model_revision_is_read_from_vllm_args_then_env_then_labels() -> None:
    def revision(args=(), env=(), labels=None) -> run_v2.Revision:
        container = run_v2.Container(
            args=list(args), env=[run_v2.EnvVar(name=k, value=v) for k, v in env]
        )
        return run_v2.Revision(containers=[container], labels=labels or {})

    assert model_revision(revision(args=["--revision", "aaa"])) == "aaa"
    assert model_revision(revision(args=["--revision=bbb"])) == "bbb"
    assert model_revision(revision(env=[("MODEL_REVISION", "ccc")])) == "ccc"
    assert model_revision(revision(labels={"model-revision": "ddd"})) == "ddd"
    assert model_revision(revision()) == ""


def test_the_digest_is_taken_from_a_pinned_image_reference() -> None:
    assert image_digest(f"europe-docker.pkg.dev/p/r/lightonocr-gpu@{DIGEST}") == DIGEST
    assert image_digest("europe-docker.pkg.dev/p/r/lightonocr-gpu:c0ffee1") == ""


def _tag(deployer: CloudRunDeployer, revision: str, tag: str) -> None:
    """Tag `revision` at no traffic as `gcloud run services update-traffic --set-tags` does."""
    service = deployer.services_client.get_service(name=deployer.target.name)
    service.traffic.append(
        run_v2.TrafficTarget(type_=_BY_REVISION, revision=revision, percent=0, tag=tag)
    )
    deployer.services_client.update_service(service=service).result()


def test_a_full_apply_keeps_the_revision_tags_the_service_has(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    older, _ = _two_revisions(deployer)
    _tag(deployer, older, "before")
    deployer.apply(ServiceSpec(tag="c0ffee3"))
    request = fake_run.requests_for("UpdateService")[-1]
    assert not request.update_mask.paths  # the full update, the one that used to drop tags
    tagged = [(t.revision, t.percent, t.tag) for t in request.service.traffic if t.tag]
    assert tagged == [(older, 0, "before")]
    assert [t.percent for t in request.service.traffic if not t.tag] == [100]


def test_a_rollback_keeps_the_revision_tags(deployer: CloudRunDeployer, fake_run: FakeRun) -> None:
    older, newer = _two_revisions(deployer)
    _tag(deployer, newer, "inspect")
    deployer.rollback(older)
    traffic = fake_run.services[deployer.target.name].traffic
    assert [(t.revision, t.percent, t.tag) for t in traffic] == [
        (older, 100, ""),
        (newer, 0, "inspect"),
    ]
