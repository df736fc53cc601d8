"""The Service page's canary button (Cloud Run on the fakes): an operator starts it, the
rollout runs off the page and its verdict lands in the audit log; a viewer has no button."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console._store import Store
from console.service import Operations
from console.ui._state import install_operations
from tests.console.ui.views.console_ops import page
from tests.fakes.cloud import CloudFakes, cloudrun_platform_with_fakes
from tests.waits import eventually


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[tuple[CloudFakes, Operations]]:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), actor="ops")
        install_operations(operations)
        try:
            yield cloud, operations
        finally:
            install_operations(None)


def test_the_canary_button_runs_the_audited_rollout_off_the_page(operations) -> None:
    cloud, ops = operations
    at = page("service").run()
    at.text_input(key="svc_canary_tag").set_value("c0ffee2").run()
    at.text_input(key="svc_canary_set").set_value("no-such-set").run()
    at.button(key="svc_canary").click().run()

    assert not at.exception
    assert any("Canary of c0ffee2 started" in s.value for s in at.success)
    row = eventually(
        lambda: next((r for r in ops.audit_log(20) if r.action == "canary rollout"), None),
        what="the canary's audit row",
    )
    assert (row.actor, row.target, row.ok) == ("ops", "c0ffee2 gated by no-such-set", False)
    assert "no-such-set" in row.detail  # refused before anything was deployed
    assert len(cloud.run.requests_for("UpdateService")) == 0
