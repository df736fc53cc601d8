"""Keep warm on the Service page and in the sidebar: start, countdown, cancel, the day warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console._store import to_ts
from tests.console.ui.views.console_ops import app, installed_operations, page
from tests.console.ui.views.test_roles import VIEWER, _as, _iap


def test_keep_warm_raises_the_floor_and_shows_the_countdown(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        at = page("service").run()
        at.number_input(key="svc_keep_hours").set_value(2.0).run()
        at.button(key="svc_keep_warm").click().run()
        assert not at.exception
        assert "then the floor goes back to 0" in at.success[0].value
        [countdown] = [i.value for i in at.info if "Kept warm until" in i.value]
        assert "1 h 59 min left" in countdown or "2 h 00 min left" in countdown
        assert {m.label: m.value for m in at.metric}["Instance floor"] == "1"
        assert operations.audit_log()[0].action == "keep warm"


def test_the_sidebar_shows_the_keep_warm_countdown(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        assert operations.start_keep_warm(1).ok
        at = app().run()
        assert not at.exception
        captions = [c.value for c in at.sidebar.caption]
        assert any("Kept warm until" in c and "left" in c for c in captions), captions


def test_cancel_drops_the_revert_and_keeps_the_floor(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        at = page("service").run()
        at.button(key="svc_keep_warm").click().run()
        at.button(key="svc_keep_cancel").click().run()
        assert not at.exception
        assert "cancelled" in at.success[0].value
        assert not [i for i in at.info if "Kept warm until" in i.value]
        assert operations.keep_warm.schedule() is None
        assert operations.platform.floor == 1
        assert [r.action for r in operations.audit_log()] == ["keep warm cancelled", "keep warm"]


def test_a_floor_up_for_more_than_a_day_is_warned_on_the_page_and_in_the_sidebar(
    tmp_path: Path,
) -> None:
    with installed_operations(tmp_path) as operations:  # floor 1
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        operations.store.set_setting("floor_raised_at:local", to_ts(two_days_ago))
        at = app().run()
        assert not at.exception
        assert any("for 2.0 days" in w.value for w in at.sidebar.warning)
        at = page("service").run()
        assert any("idle instance is billed" in w.value for w in at.warning)


def test_a_viewer_sees_no_keep_warm_controls(operations, monkeypatch) -> None:
    _iap(monkeypatch)
    at = _as(VIEWER, page("service")).run()
    assert not at.exception
    assert not {"svc_keep_warm", "svc_keep_cancel"} & {b.key for b in at.button}
    assert any("Keeping the service warm needs the operator role" in i.value for i in at.info)


def test_only_the_latest_actions_result_shows_after_keep_warm(operations) -> None:
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    at.button(key="svc_keep_warm").click().run()
    assert not at.exception
    [success] = [s.value for s in at.success]
    assert success.startswith("Kept warm for 4 h 00 min")
