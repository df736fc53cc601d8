"""The Service page on its own: status, a timed warm-up, scaling with confirmation, audit."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from console.platforms._base import ServiceState
from console.service import Operations
from tests.console.ui.views.console_ops import installed_operations, page


def _cells(at: AppTest, index: int = 0) -> list[str]:
    frame = at.dataframe[index].value
    return [str(v) for row in frame.itertuples(index=False) for v in row]


def test_status_shows_state_url_floor_and_ceiling(operations: Operations) -> None:
    at = page("service").run()
    assert not at.exception
    assert ":green-badge[ready]" in [m.value for m in at.markdown]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Instance floor"], metrics["Instance ceiling"]) == ("1", "1")
    assert operations.platform.service_url in _cells(at)


def test_warm_up_from_cold_shows_the_measured_cold_start_and_records_it(tmp_path: Path) -> None:
    with installed_operations(tmp_path, default_floor=0) as operations:
        at = page("service").run()
        assert ":gray-badge[down]" in [m.value for m in at.markdown]
        at.button(key="svc_warm_up").click().run()
        assert not at.exception
        [success] = [s.value for s in at.success]
        assert "cold-start time" in success
        seconds = float(success.split("**")[1].removesuffix(" s"))
        [record] = operations.warm_up_history()
        assert seconds == round(record.seconds, 1)
        assert record.ready
        assert operations.status().state is ServiceState.READY
        assert ":green-badge[ready]" in [m.value for m in at.markdown]


def test_scale_to_zero_waits_for_confirmation(operations: Operations) -> None:
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    assert "Scale to zero now?" in at.warning[0].value
    assert "dropped" in at.warning[0].value
    assert operations.status().state is ServiceState.READY


def test_cancelled_scale_to_zero_leaves_the_service_running(operations: Operations) -> None:
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_cancel").click().run()
    assert not at.warning
    assert operations.status().state is ServiceState.READY
    assert operations.audit_log() == []


def test_confirmed_scale_to_zero_stops_the_service_and_is_audited(
    operations: Operations,
) -> None:
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    assert not at.exception
    assert "Scale to zero now" in at.success[0].value
    assert operations.status().state is ServiceState.DOWN
    assert ":gray-badge[down]" in [m.value for m in at.markdown]
    [record] = operations.audit_log()
    assert (record.actor, record.action, record.ok) == ("qa-tester", "scale to zero", True)
    assert "scale to zero" in _cells(at, -1)


def test_restore_brings_back_the_floor_from_before_the_scale_to_zero(
    operations: Operations,
) -> None:
    at = page("service").run()
    for button in ("svc_scale_to_zero", "svc_confirm", "svc_restore", "svc_confirm"):
        at.button(key=button).click().run()
    assert not at.exception
    assert "Restore" in at.success[0].value
    status = operations.status()
    assert status.min_instances == 1
    assert status.state in (ServiceState.STARTING, ServiceState.READY)


def test_a_floor_above_the_ceiling_cannot_be_applied(operations: Operations) -> None:
    at = page("service").run()
    at.number_input(key="svc_floor").set_value(3)
    at.number_input(key="svc_ceiling").set_value(2).run()
    assert at.button(key="svc_apply").disabled


def test_a_scale_the_platform_refuses_shows_why(operations: Operations) -> None:
    at = page("service").run()
    at.number_input(key="svc_floor").set_value(2)
    at.number_input(key="svc_ceiling").set_value(2).run()
    at.button(key="svc_apply").click().run()
    assert "billed while idle" in at.warning[0].value
    at.button(key="svc_confirm").click().run()
    assert not at.exception
    assert "floor can be 0 (stopped) or 1" in at.error[0].value.replace("\\", "")
    [record] = operations.audit_log()
    assert not record.ok


def test_warming_an_already_ready_service_does_not_claim_a_cold_start(
    operations: Operations,
) -> None:
    at = page("service").run()
    at.button(key="svc_warm_up").click().run()
    [success] = [s.value for s in at.success]
    assert success.startswith("Already warm: answered in **")
    assert "cold-start" not in success


def test_only_the_latest_actions_result_is_shown(operations: Operations) -> None:
    """A warm-up after a scale to zero: the old "stopped" message must not contradict it."""
    at = page("service").run()
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    [success] = [s.value for s in at.success]
    assert success.startswith("Scale to zero now")
    at.button(key="svc_warm_up").click().run()
    [success] = [s.value for s in at.success]
    assert "cold-start time" in success
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    [success] = [s.value for s in at.success]
    assert success.startswith("Scale to zero now")


def test_warm_up_counts_its_polls_as_health_checks_not_attempts(operations: Operations) -> None:
    at = page("service").run()
    at.button(key="svc_warm_up").click().run()
    [success] = [s.value for s in at.success]
    assert success.endswith(" s** (after 1 health check).")
    assert "attempt" not in success
    assert any("health checks" in frame.value.columns for frame in at.dataframe)


def test_the_scale_inputs_follow_the_service_after_each_action(operations: Operations) -> None:
    # Issue 11, item 12: the input kept 0 after a warm-up raised the floor to 1, so Apply
    # would have scaled the service back to zero.
    at = page("service").run()
    assert at.number_input(key="svc_floor").value == 1
    at.button(key="svc_scale_to_zero").click().run()
    at.button(key="svc_confirm").click().run()
    assert at.number_input(key="svc_floor").value == 0
    at.button(key="svc_warm_up").click().run()
    assert operations.status().min_instances == 1
    assert at.number_input(key="svc_floor").value == 1
