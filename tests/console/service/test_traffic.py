"""Operations.set_traffic: operators only (refused server-side), and audited either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from console._identity import Identity, PermissionDenied, Role
from console._store import Store
from console.service import Operations
from console.service._revisions import rollback, split
from deploy import ServiceSpec
from tests.console.local_platform import local_platforms
from tests.fakes.cloud import cloudrun_platform_with_fakes

VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")
OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")


def test_a_viewer_cannot_change_traffic_whatever_the_page_showed(tmp_path: Path) -> None:
    with cloudrun_platform_with_fakes() as cloud:
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), identity_required=True)
        updates = len(cloud.run.requests_for("UpdateService"))
        with pytest.raises(PermissionDenied):
            operations.set_traffic(rollback(cloud.revision), identity=VIEWER)
        with pytest.raises(PermissionDenied):
            operations.set_traffic(rollback(cloud.revision))  # nobody verified
        assert len(cloud.run.requests_for("UpdateService")) == updates
        # Each refusal is audited as failed, with who asked (or that nobody was verified).
        refusals = operations.audit_log()
        assert [(r.actor, r.ok) for r in refusals] == [
            ("(not signed in)", False),
            (VIEWER.name, False),
        ]


def test_an_operators_split_is_audited_with_their_name(tmp_path: Path) -> None:
    with cloudrun_platform_with_fakes() as cloud:
        first = cloud.revision
        second = cloud.deployer.apply(ServiceSpec(tag="c0ffee1")).latest_ready_revision
        operations = Operations(cloud.platform, Store.in_dir(tmp_path), identity_required=True)
        result = operations.set_traffic(split(second, first, 95), identity=OPERATOR)
        assert result.ok, result.message
        [record] = operations.audit_log()
        assert (record.actor, record.action, record.target) == (
            "ops@bank.example",
            "split traffic",
            f"{second} 95%, {first} 5%",
        )


def test_a_refused_traffic_change_is_audited_as_failed(tmp_path: Path) -> None:
    with local_platforms(tmp_path) as make:
        platform = make()
        operations = Operations(platform, platform.store, actor="qa-tester")
        result = operations.set_traffic(rollback("pid 1"))
        assert not result.ok
        [record] = operations.audit_log()
        assert (record.action, record.ok) == ("rollback", False)
        assert "one OCR server" in record.detail


def test_a_split_needs_two_revisions_and_a_share_for_each() -> None:
    with pytest.raises(ValueError, match="two different"):
        split("a", "a", 50)
    with pytest.raises(ValueError, match="1 to 99"):
        split("a", "b", 100)
    assert split("a", "b", 30).shares == {"a": 30, "b": 70}
