"""Service: what is running, warm it up before a batch, raise or drop the instance floor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from console._identity import PermissionDenied
from console._render import count_noun, escape_markdown
from console.golden import DEFAULT_MARGIN
from console.platforms import ActionResult, ServiceState
from console.service import WarmUpRecord
from console.service._canary_action import request_canary_rollout
from console.service._revisions import revision_rows, rollback, split
from console.ui._confirm import confirmed
from console.ui._state import (
    STATE_COLOURS,
    current_identity,
    get_operations,
    keep_warm_notices,
    platform_call,
    read_status,
    warm_up_table,
)
from deploy import CloudError, InvalidSpec


@dataclass(frozen=True, slots=True)
class PendingAction:
    """An action waiting for the operator's confirmation, and what it will cost them."""

    label: str
    consequence: str
    perform: Callable[[], ActionResult]


def _forget_scale_inputs() -> None:
    """After an action the inputs show the service's new floor and ceiling, not the old ones
    (a stale 0 in the floor after a warm-up would make Apply scale to zero)."""
    for key in ("svc_floor", "svc_ceiling"):
        st.session_state.pop(key, None)


operations = get_operations()
identity = current_identity()
st.title("Service")

# --- Status ------------------------------------------------------------------------------------
status = read_status(operations)
st.badge(status.state.value, color=STATE_COLOURS[status.state])
if status.state is ServiceState.UNKNOWN:
    st.error(escape_markdown(status.detail))
else:
    floor_metric, ceiling_metric, _ = st.columns(3)
    floor_metric.metric(
        "Instance floor", "—" if status.min_instances is None else status.min_instances
    )
    ceiling_metric.metric(
        "Instance ceiling", "—" if status.max_instances is None else status.max_instances
    )
    ready_since = (
        status.ready_since.strftime("%Y-%m-%d %H:%M:%S UTC") if status.ready_since else "—"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "field": ["URL", "Model", "Revision / process", "GPU", "Ready since", "Detail"],
                "value": [
                    status.url,
                    status.model or "—",
                    status.revision or "—",
                    status.gpu or "none",
                    ready_since,
                    status.detail or "—",
                ],
            }
        ),
        hide_index=True,
    )

keep_warm_pending, floor_warning = keep_warm_notices(operations, status)
if keep_warm_pending:
    st.info(keep_warm_pending, icon=":material/timer:")
if floor_warning:
    st.warning(floor_warning, icon=":material/payments:")

# --- Warm up -----------------------------------------------------------------------------------
st.subheader("Warm up", anchor=False)
st.caption(
    "Starts the service if needed and waits for a real OCR answer: from cold, the time shown "
    "is the cold-start time. Do this before a batch."
)
if identity.can_operate:
    if st.button(
        "Warm up", key="svc_warm_up", type="primary", icon=":material/local_fire_department:"
    ):
        with st.status("Warming up…", expanded=True) as box:
            clock = st.empty()
            record = operations.warm_up(
                on_progress=lambda elapsed: clock.markdown(f"Elapsed: **{elapsed:.0f} s**"),
                identity=identity,
            )
            box.update(
                label="Ready" if record.ready else "Not ready",
                state="complete" if record.ready else "error",
            )
        st.session_state.svc_last_warm_up = record
        _forget_scale_inputs()  # a local warm-up may have raised the floor
        # Only the latest action's result is shown: an older "stopped" would contradict this one.
        st.session_state.pop("svc_last_action", None)
        st.rerun()
else:
    st.info("Warming up needs the operator role; you can read everything here.")

last: WarmUpRecord | None = st.session_state.get("svc_last_warm_up")
if last is not None:
    # Warm-up polls /health until the model answers: these are checks, not failed tries.
    checks = f"after {count_noun(last.attempts, 'health check')}"
    if last.cold:
        st.success(f"Ready: cold-start time **{last.seconds:.1f} s** ({checks}).")
    elif last.ready:
        st.success(f"Already warm: answered in **{last.seconds:.1f} s** ({checks}).")
    else:
        why = escape_markdown(str(last.error or "no answer"))
        st.error(f"Not ready after {last.seconds:.1f} s: {why}")

history = operations.warm_up_history(limit=20)
if history:
    st.dataframe(warm_up_table(history), hide_index=True)
else:
    st.caption("No warm-ups recorded yet.")

# --- Scale -------------------------------------------------------------------------------------
st.subheader("Scale", anchor=False)
if not identity.can_operate:
    st.info("Scaling needs the operator role.")
else:
    current_floor = status.min_instances or 0
    current_ceiling = status.max_instances or 1
    floor_col, ceiling_col = st.columns(2)
    floor = int(
        floor_col.number_input(
            "Instance floor (0 = scale to zero)", min_value=0, value=current_floor, key="svc_floor"
        )
    )
    ceiling = int(
        ceiling_col.number_input(
            "Instance ceiling", min_value=1, value=max(current_ceiling, 1), key="svc_ceiling"
        )
    )
    actions = st.container(horizontal=True)
    if actions.button("Apply", key="svc_apply", disabled=floor > ceiling):
        st.session_state.svc_pending = PendingAction(
            label=f"Set the instance floor to {floor} and the ceiling to {ceiling}",
            consequence=(
                "Instances kept warm are billed while idle."
                if floor > 0
                else "With a floor of 0 the service scales to zero when idle: the next request "
                "waits for a cold start."
            ),
            perform=lambda: operations.scale(
                min_instances=floor, max_instances=ceiling, identity=identity
            ),
        )
    if actions.button("Scale to zero now", key="svc_scale_to_zero"):
        in_flight = operations.requests_in_flight()
        source = operations.platform.in_flight_source
        source = source[:1].upper() + source[1:]
        busy = (
            f"**{source}: unknown** (the service could not be asked). "
            if in_flight is None
            else f"**{source}: {in_flight}.** "
        )
        st.session_state.svc_pending = PendingAction(
            label="Scale to zero now",
            consequence=busy + "Running instances stop: requests in flight are dropped and the "
            "next one waits for a cold start.",
            perform=lambda: operations.scale_to_zero(identity=identity),
        )
    if actions.button("Restore", key="svc_restore"):
        st.session_state.svc_pending = PendingAction(
            label="Restore the instance floor from before the scale to zero",
            consequence="Instances start and are billed while they run.",
            perform=lambda: operations.restore(identity=identity),
        )
    if floor > ceiling:
        st.caption("The floor cannot be above the ceiling.")

    pending: PendingAction | None = st.session_state.get("svc_pending")
    if pending is not None:
        answer = confirmed(f"**{pending.label}?** {pending.consequence}", key="svc")
        if answer:
            with st.spinner(f"{pending.label}…"):
                st.session_state.svc_last_action = (pending.label, pending.perform())
            st.session_state.pop("svc_last_warm_up", None)
            st.session_state.pop("svc_keep_warm_result", None)
            _forget_scale_inputs()
        if answer is not None:
            del st.session_state.svc_pending
            st.rerun()

    if "svc_last_action" in st.session_state:
        label, result = st.session_state.svc_last_action
        (st.success if result.ok else st.error)(f"{label}: {escape_markdown(result.message)}")

# --- Keep warm ---------------------------------------------------------------------------------
st.subheader("Keep warm", anchor=False)
st.caption(
    "Raises the floor to 1 for a few hours (a batch this afternoon), then puts back the floor it "
    "found, even if the console was restarted meanwhile. Every step is in the audit log."
)
if not identity.can_operate:
    st.info("Keeping the service warm needs the operator role.")
else:
    hours_col, start_col = st.columns([1, 2], vertical_alignment="bottom")
    hours = float(
        hours_col.number_input(
            "Hours", min_value=0.25, max_value=168.0, value=4.0, step=0.5, key="svc_keep_hours"
        )
    )
    warm_actions = start_col.container(horizontal=True)
    if warm_actions.button("Keep warm", key="svc_keep_warm", icon=":material/timer:"):
        with st.spinner("Raising the floor…"):
            st.session_state.svc_keep_warm_result = operations.start_keep_warm(
                hours, identity=identity
            )
        _forget_scale_inputs()
        st.session_state.pop("svc_last_action", None)  # only the latest action's result shows
        st.rerun()
    if keep_warm_pending and warm_actions.button("Cancel the revert", key="svc_keep_cancel"):
        st.session_state.svc_keep_warm_result = operations.cancel_keep_warm(identity=identity)
        st.rerun()
    kept: ActionResult | None = st.session_state.get("svc_keep_warm_result")
    if kept is not None:
        (st.success if kept.ok else st.error)(escape_markdown(kept.message))


# --- Revisions ---------------------------------------------------------------------------------
st.subheader("Revisions", anchor=False)
revisions = platform_call(operations.revisions, "Revisions") or []
if revisions:
    st.dataframe(pd.DataFrame(revision_rows(revisions)), hide_index=True)
if not operations.platform.supports_traffic:
    st.caption(
        "Locally one OCR server runs, so there is no revision to roll back to or split traffic "
        "with; on Cloud Run both are here."
    )
elif not identity.can_operate:
    st.info("Rolling back or splitting traffic needs the operator role.")
else:
    names = [r.name for r in revisions if r.ready]
    back_col, split_col = st.columns(2, border=True)
    target = back_col.selectbox("Roll back: all traffic to", names, key="svc_rollback_to")
    if back_col.button("Roll back", key="svc_rollback", disabled=not names):
        st.session_state.svc_traffic = rollback(str(target))
    first = split_col.selectbox("Split: revision A", names, key="svc_split_a")
    second = split_col.selectbox(
        "Revision B", names, index=min(1, max(len(names) - 1, 0)), key="svc_split_b"
    )
    share = int(split_col.slider("Percent to A", 1, 99, 90, key="svc_split_percent"))
    if split_col.button("Split traffic", key="svc_split", disabled=len(names) < 2):
        try:
            st.session_state.svc_traffic = split(str(first), str(second), share)
        except ValueError as refusal:
            st.error(str(refusal))
    change = st.session_state.get("svc_traffic")
    if change is not None:
        answer = confirmed(
            f"**{escape_markdown(change.label)}?** New requests follow the new split at once; "
            "a revision without instances starts cold.",
            key="svc_traffic",
        )
        if answer:
            with st.spinner(f"{change.label}…"):
                outcome = operations.set_traffic(change, identity=identity)
            st.session_state.svc_traffic_result = (change.label, outcome)
        if answer is not None:
            del st.session_state.svc_traffic
            st.rerun()
    if "svc_traffic_result" in st.session_state:
        label, outcome = st.session_state.svc_traffic_result
        (st.success if outcome.ok else st.error)(f"{label}: {escape_markdown(outcome.message)}")

if operations.platform.supports_traffic and identity.can_operate:
    with st.expander("Canary rollout gated by a golden set"):
        st.caption(
            "A new revision of the image tag takes no traffic; it is warmed and smoke-checked "
            "through its own tagged URL, reads the golden set, and takes all traffic only if "
            "no document reads worse than the serving revision's last complete run. The "
            "verdict lands in the audit log below."
        )
        canary_tag = st.text_input("Image tag (commit)", key="svc_canary_tag")
        canary_set = st.text_input("Golden set", key="svc_canary_set")
        canary_margin = st.number_input(
            "Margin (CER)", 0.0, 0.5, DEFAULT_MARGIN, 0.01, key="svc_margin"
        )
        if st.button("Start canary", key="svc_canary", disabled=not canary_tag or not canary_set):
            try:
                number = request_canary_rollout(
                    operations,
                    identity,
                    tag=canary_tag.strip(),
                    golden_set=canary_set.strip(),
                    margin=float(canary_margin),
                )
            except (PermissionDenied, CloudError, InvalidSpec) as refusal:
                st.error(f"Canary refused: {escape_markdown(str(refusal))}")
            else:
                st.success(
                    f"Canary of {escape_markdown(canary_tag)} requested (#{number}): the "
                    "worker runs it; its verdict lands in the audit log."
                )

# --- Audit log ---------------------------------------------------------------------------------
st.subheader("Audit log", anchor=False)
audit = operations.audit_log(limit=50)
if audit:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "when": record.at,
                    "who": record.actor,
                    "platform": record.platform,
                    "action": record.action,
                    "target": record.target,
                    "ok": record.ok,
                    "detail": record.detail,
                }
                for record in audit
            ]
        ),
        hide_index=True,
    )
else:
    st.caption("No actions recorded yet.")
