"""Roles gate actions server-side (issue 14): the page hides controls, Operations refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console._identity import Identity, PermissionDenied, Role
from console.platforms.local import LocalPlatform
from console.service import Operations
from tests.console.local_platform import local_platforms

VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")
OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")


@pytest.fixture
def make_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    with local_platforms(tmp_path) as make:
        yield make


@pytest.fixture
def team_operations(make_platform: Callable[..., LocalPlatform]) -> Operations:
    platform = make_platform(default_floor=0)
    return Operations(platform, platform.store, actor="console-sa", identity_required=True)


@pytest.mark.parametrize(
    "action",
    [
        lambda ops, who: ops.scale(min_instances=1, identity=who),
        lambda ops, who: ops.scale_to_zero(identity=who),
        lambda ops, who: ops.restore(identity=who),
        lambda ops, who: ops.warm_up(timeout_s=1, identity=who),
    ],
    ids=["scale", "scale_to_zero", "restore", "warm_up"],
)
def test_a_viewer_is_refused_every_action_and_nothing_happens(team_operations, action) -> None:
    with pytest.raises(PermissionDenied, match="needs the operator role"):
        action(team_operations, VIEWER)
    [refused] = team_operations.audit_log()  # the refusal is on the record, nothing else
    assert (refused.actor, refused.ok) == ("qa@bank.example", False)
    assert refused.detail.startswith("refused: qa@bank.example is a viewer")
    assert team_operations.platform.floor == 0


def test_without_a_verified_person_a_team_console_refuses_to_act(team_operations) -> None:
    with pytest.raises(PermissionDenied, match="needs a signed-in operator"):
        team_operations.scale_to_zero()
    [refused] = team_operations.audit_log()
    assert (refused.actor, refused.action, refused.ok) == (
        "(not signed in)",
        "scale to zero",
        False,
    )


def test_the_audit_log_names_the_verified_operator(team_operations) -> None:
    result = team_operations.scale_to_zero(identity=OPERATOR)
    assert result.ok
    [entry] = team_operations.audit_log()
    assert (entry.actor, entry.action) == ("ops@bank.example", "scale to zero")
