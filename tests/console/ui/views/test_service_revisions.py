"""Revisions on the Service page: the table, rollback and split with a confirmation and an
audit entry (cloudrun on the fake Run server), operators only; locally, why there are none.
And the requests in flight in the scale-to-zero confirmation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.platforms._local_warm_up import probe_image
from console.service import Operations
from console.ui._state import install_operations
from deploy import ServiceSpec
from ocr_core import OCRError, SyncOCRClient
from tests.console.ui.views.console_ops import installed_operations, page
from tests.console.ui.views.test_roles import VIEWER, _as, _iap
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes
from tests.waits import wait_until


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[CloudFakes, Operations, str, str]]:
    with cloudrun_platform_with_fakes() as cloud:
        first = cloud.revision
        second = cloud.deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        install_operations(operations)
        try:
            yield cloud, operations, first, second
        finally:
            install_operations(None)


def _revision_table(at) -> dict[str, dict[str, object]]:
    frame = next(d.value for d in at.dataframe if "traffic %" in d.value.columns)
    return {row["revision"]: row for row in frame.to_dict("records")}


def test_the_revisions_are_listed_with_image_and_traffic(cloud) -> None:
    _, _, first, second = cloud
    at = page("service").run()
    assert not at.exception
    table = _revision_table(at)
    assert [table[first]["traffic %"], table[second]["traffic %"]] == [0, 100]
    assert str(table[second]["image"]).endswith(":c0ffee1")
    assert table[second]["model revision"] == "—"


def test_rollback_waits_for_confirmation_then_moves_the_traffic_and_is_audited(cloud) -> None:
    fakes, operations, first, second = cloud
    at = page("service").run()
    at.selectbox(key="svc_rollback_to").set_value(first).run()
    at.button(key="svc_rollback").click().run()
    assert any(f"Send all traffic to {first}?" in w.value for w in at.warning)
    assert {r.name: r.traffic_percent for r in fakes.platform.revisions()}[second] == 100
    at.button(key="svc_traffic_confirm").click().run()
    assert not at.exception and not at.error
    assert _revision_table(at)[first]["traffic %"] == 100
    [record] = operations.audit_log()
    assert (record.actor, record.action, record.target, record.ok) == (
        "ops",
        "rollback",
        f"{first} 100%",
        True,
    )


def test_a_split_sends_the_chosen_percent_to_each_revision(cloud) -> None:
    fakes, operations, first, second = cloud
    at = page("service").run()
    at.selectbox(key="svc_split_a").set_value(second).run()
    at.selectbox(key="svc_split_b").set_value(first).run()
    at.slider(key="svc_split_percent").set_value(80).run()
    at.button(key="svc_split").click().run()
    at.button(key="svc_traffic_confirm").click().run()
    assert not at.exception and not at.error
    shares = {r.name: r.traffic_percent for r in fakes.platform.revisions()}
    assert shares == {second: 80, first: 20}
    assert operations.audit_log()[0].action == "split traffic"


def test_a_cancelled_traffic_change_changes_nothing(cloud) -> None:
    fakes, operations, first, second = cloud
    at = page("service").run()
    at.selectbox(key="svc_rollback_to").set_value(first).run()
    at.button(key="svc_rollback").click().run()
    at.button(key="svc_traffic_cancel").click().run()
    assert {r.name: r.traffic_percent for r in fakes.platform.revisions()}[second] == 100
    assert operations.audit_log() == []


def test_a_viewer_sees_the_revisions_but_no_traffic_controls(cloud, monkeypatch) -> None:
    _iap(monkeypatch)
    at = _as(VIEWER, page("service")).run()
    assert not at.exception
    assert _revision_table(at)
    assert not {"svc_rollback", "svc_split"} & {b.key for b in at.button}
    assert any("Rolling back or splitting traffic" in i.value for i in at.info)


def test_locally_the_page_explains_why_there_is_no_rollback(operations: Operations) -> None:
    at = page("service").run()
    assert not at.exception
    [row] = _revision_table(at).values()
    assert row["traffic %"] == 100
    assert not {"svc_rollback", "svc_split"} & {b.key for b in at.button}
    assert any("no revision to roll back to" in c.value for c in at.caption)


def test_scale_to_zero_confirmation_shows_the_requests_in_flight(tmp_path: Path) -> None:
    # The two requests stay in flight until the server stops (60 s a page): the page's two
    # runs may take as long as a loaded machine needs; the end stops the server under them.
    slow = ("--engine", "simulated", "--service-time", "60")
    with installed_operations(tmp_path, server_args=slow) as operations:
        settings = operations.platform.client_settings().with_overrides(max_attempts=1)
        failed: list[OCRError] = []

        def ocr() -> None:
            with SyncOCRClient(settings=settings) as client:
                try:
                    client.extract_text(probe_image(), filename="p.png")
                except OCRError as error:  # the server stopped under it, as intended
                    failed.append(error)

        senders = [threading.Thread(target=ocr) for _ in range(2)]
        for sender in senders:
            sender.start()
        try:
            assert wait_until(lambda: operations.requests_in_flight() == 2)
            at = page("service").run()
            at.button(key="svc_scale_to_zero").click().run()
            [warning] = [w.value for w in at.warning if "Scale to zero now?" in w.value]
            assert "(its /metrics): 2.**" in warning
        finally:
            operations.platform.scale(min_instances=0)  # ends the two requests
            for sender in senders:
                sender.join()


def test_scale_to_zero_confirmation_on_an_idle_server_says_none(operations: Operations) -> None:
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    [warning] = [w.value for w in at.warning if "Scale to zero now?" in w.value]
    assert "(its /metrics): 0.**" in warning
