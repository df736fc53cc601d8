"""Roles on the pages (issue 14): a viewer sees no action controls; no assertion, no page."""

from __future__ import annotations

import hashlib

from streamlit.testing.v1 import AppTest

from console._identity import Identity, Role
from tests.console.ui.views.console_ops import page

VIEWER = Identity("qa@bank.example", Role.VIEWER, "iap")
OPERATOR = Identity("ops@bank.example", Role.OPERATOR, "iap")


def _iap(monkeypatch) -> None:
    monkeypatch.setenv("LIGHTONOCR_IDENTITY", "iap")
    monkeypatch.setenv("LIGHTONOCR_IAP_AUDIENCE", "/projects/1/locations/r/services/console")


def _as(identity: Identity, at: AppTest) -> AppTest:
    """An IAP session already verified as `identity` (verification is test_identity's)."""
    at.session_state["_identity"] = (hashlib.sha256(b"").hexdigest(), identity)
    return at


def test_a_viewer_sees_no_scale_or_warm_up_controls(operations, monkeypatch) -> None:
    _iap(monkeypatch)
    at = _as(VIEWER, page("service")).run()
    assert not at.exception
    keys = {button.key for button in at.button}
    assert not keys & {"svc_warm_up", "svc_apply", "svc_scale_to_zero", "svc_restore"}
    assert any("needs the operator role" in info.value for info in at.info)
    assert not at.number_input


def test_an_operator_sees_the_controls(operations, monkeypatch) -> None:
    _iap(monkeypatch)
    at = _as(OPERATOR, page("service")).run()
    keys = {button.key for button in at.button}
    assert {"svc_warm_up", "svc_apply", "svc_scale_to_zero", "svc_restore"} <= keys


def test_a_viewer_cannot_start_a_job_from_the_workbench(operations, monkeypatch) -> None:
    _iap(monkeypatch)
    at = _as(VIEWER, page("workbench")).run()
    assert not at.exception
    assert "wb_start" not in {button.key for button in at.button}
    assert any("needs the operator role" in info.value for info in at.info)


def test_without_an_iap_assertion_the_page_says_not_signed_in(operations, monkeypatch) -> None:
    _iap(monkeypatch)
    at = page("service").run()
    assert [t.value for t in at.title] == ["Not signed in"]
    assert "no IAP assertion" in at.error[0].value
    assert not at.button
