"""A canary's revision: created with no traffic under a tag, then promoted, against the fake
Cloud Run server through the real run_v2 clients."""

from __future__ import annotations

from deploy import CloudRunDeployer, ServiceSpec
from tests.fakes.google_run import FakeRun


def test_a_candidate_gets_a_tagged_url_and_no_traffic(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    serving = deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
    fake_run.tag_urls["canary-c0ffee2"] = "http://127.0.0.1:9/"

    revision, url = deployer.deploy_candidate(ServiceSpec(tag="c0ffee2"), "canary-c0ffee2")

    assert revision != serving
    assert url == "http://127.0.0.1:9/"  # the URL Cloud Run reports for the tag
    assert [(r, p) for r, p in deployer.status().traffic if p] == [(serving, 100)]
    tagged = [
        (t.revision, t.percent, t.tag)
        for t in fake_run.services[deployer.target.name].traffic
        if t.tag
    ]
    assert tagged == [(revision, 0, "canary-c0ffee2")]  # pinned to the revision, not "latest"


def test_promoting_sends_all_traffic_to_the_candidate_and_keeps_its_tag(
    deployer: CloudRunDeployer, fake_run: FakeRun
) -> None:
    deployer.apply(ServiceSpec(tag="c0ffee1"))
    revision, _url = deployer.deploy_candidate(ServiceSpec(tag="c0ffee2"), "canary-c0ffee2")

    info = deployer.promote(revision)

    assert [(r, p) for r, p in info.traffic if p] == [(revision, 100)]
    tags = [t.tag for t in fake_run.services[deployer.target.name].traffic if t.tag]
    assert tags == ["canary-c0ffee2"]
