"""A crafted rerun cannot act for a viewer (issue 14): the Service page's controls are not
drawn for a viewer, and a click sent for them anyway (the widget ids of an operator's page,
replayed after the session became a viewer's) reaches nothing; a call that does reach
`Operations` with a viewer is refused there, and the refusal is audited."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console._identity import Identity, PermissionDenied, Role
from console.service import Operations
from tests.console.ui.views.console_ops import installed_operations, page

VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")
OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")


@pytest.fixture
def operations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Operations]:
    monkeypatch.setenv("LIGHTONOCR_IDENTITY", "iap")
    monkeypatch.setenv("LIGHTONOCR_IAP_AUDIENCE", "/projects/1/locations/r/services/console")
    with installed_operations(tmp_path) as operations:
        operations.identity_required = True
        yield operations


def _as(identity: Identity, at: AppTest) -> AppTest:
    """The session as verified for `identity` (what current_identity keeps per assertion)."""
    at.session_state["_identity"] = (hashlib.sha256(b"").hexdigest(), identity)
    return at


@pytest.mark.parametrize("control", ["svc_warm_up", "svc_scale_to_zero", "svc_apply"])
def test_an_operators_controls_replayed_by_a_viewer_do_nothing(
    operations: Operations, control: str
) -> None:
    at = _as(OPERATOR, page("service")).run()
    stale = at.button(key=control)  # the widget id an operator's page had
    _as(VIEWER, at)  # IAP now names a viewer on this session
    stale.click().run()
    assert not at.exception
    assert operations.platform.floor == 1
    assert operations.audit_log() == []
    assert operations.warm_up_history() == []


def test_a_confirmation_pending_from_an_operator_cannot_be_sent_by_a_viewer(
    operations: Operations,
) -> None:
    at = _as(OPERATOR, page("service")).run()
    at.button(key="svc_scale_to_zero").click().run()
    confirm = at.button(key="svc_confirm")
    _as(VIEWER, at)
    confirm.click().run()
    assert not at.exception
    assert operations.platform.floor == 1
    assert [entry for entry in operations.audit_log() if entry.ok] == []


def test_a_viewer_reaching_operations_is_refused_and_the_refusal_audited(
    operations: Operations,
) -> None:
    with pytest.raises(PermissionDenied):
        operations.scale_to_zero(identity=VIEWER)
    [entry] = operations.audit_log()
    assert (entry.actor, entry.action, entry.ok) == ("qa@bank.example", "scale to zero", False)
    assert operations.platform.floor == 1
