"""Quality: golden sets (documents with their expected text), scored per service revision."""

from __future__ import annotations

import streamlit as st

from console._identity import PermissionDenied
from console._render import escape_markdown
from console._store import StoreError
from console.golden import (
    DEFAULT_MARGIN,
    GoldenSet,
    GoldenSetError,
    GoldenStore,
    chart_frame,
    runs_frame,
    score_finished,
    scores_frame,
)
from console.ui._confirm import confirmed
from console.ui._corrections import render_corrections
from console.ui._state import current_identity, get_operations, read_status

REFRESH_S = 2.0

operations = get_operations()
golden = GoldenStore(operations.store)
identity = current_identity()
st.title("Quality")
st.caption(
    "A golden set is a folder of documents with the text each one says. Running it OCRs the "
    "documents on the current service and scores them (CER/WER, and order-free: word precision "
    "and recall, an order-free CER) by revision; a document whose CER rose by more than the "
    f"margin (default {DEFAULT_MARGIN}) since the last run is flagged. Each run records what "
    "shaped its text; the runs table says what changed since the run before."
)


# --- Register ------------------------------------------------------------------------------------
def register() -> None:
    st.caption(
        "A .zip of documents (PDF, PNG, TIFF, JPEG, WebP, BMP, GIF) each beside its expected text "
        "(`name.txt` or `name.md`, UTF-8; pages split by form feeds). Registered once by name."
    )
    name = st.text_input("Name", key="q_name", max_chars=80)
    upload = st.file_uploader("Zip", type=["zip"], key="q_zip")
    if st.button("Register", key="q_register", disabled=upload is None):
        try:
            assert upload is not None
            registered, problems = operations.register_golden_set(
                name, upload.name, upload.getvalue(), identity=identity
            )
        except (PermissionDenied, GoldenSetError, StoreError) as error:
            st.error(escape_markdown(str(error)))
        else:
            st.success(
                f"Registered {escape_markdown(registered.name)}: {registered.documents} documents."
            )
            for problem in problems:
                st.warning(escape_markdown(problem))


if identity.can_operate:
    with st.expander("Register a golden set from a zip", expanded=not golden.sets()):
        register()
else:
    st.info("Registering and running golden sets needs the operator role; scores are below.")


def change_set(name: str) -> None:
    """Update a set's documents and texts from a zip (its runs stay, and later runs say the
    contents changed), or remove it with its runs: both through the door, asked twice."""
    upload = st.file_uploader("New contents (zip)", type=["zip"], key="q_update_zip")
    update_col, remove_col = st.columns(2)
    if update_col.button("Update set", key="q_update", disabled=upload is None):
        assert upload is not None
        try:
            updated, problems = operations.update_golden_set(
                name, upload=(upload.name, upload.getvalue()), identity=identity
            )
        except (PermissionDenied, GoldenSetError, StoreError) as error:
            st.error(escape_markdown(str(error)))
        else:
            st.success(f"Updated {escape_markdown(updated.name)}: {updated.documents} documents.")
            for problem in problems:
                st.warning(escape_markdown(problem))
    if remove_col.button("Remove set", key="q_remove"):
        st.session_state.q_removing = name
    if st.session_state.get("q_removing") == name:
        answer = confirmed(
            f"**Remove {escape_markdown(name)}?** Its runs and scores go with it.", key="q_rm"
        )
        if answer:
            try:
                runs = operations.remove_golden_set(name, identity=identity)
            except (PermissionDenied, GoldenSetError, StoreError) as error:
                st.error(escape_markdown(str(error)))
            else:
                st.session_state.q_removed = f"Removed {name} with its {runs} runs."
        if answer is not None:
            del st.session_state.q_removing
            st.rerun()


if removed := st.session_state.pop("q_removed", None):
    st.success(escape_markdown(removed))


def _sets_and_runs(sets: list[GoldenSet]) -> None:
    """The registered sets, a run, and the scores (only when a set exists: no st.stop(), which
    would also stop the sidebar drawn after the page)."""
    st.dataframe(
        [
            {
                "name": s.name,
                "documents": s.documents,
                "registered by": s.actor,
                "when": s.created_at,
                "source": s.source,
            }
            for s in sets
        ],
        hide_index=True,
    )

    # --- Run --------------------------------------------------------------------------------------
    chosen = st.selectbox("Golden set", [s.name for s in sets], key="q_set")
    if identity.can_operate:
        with st.expander("Update or remove this set"):
            change_set(chosen)
    margin_col, run_col = st.columns([1, 3], vertical_alignment="bottom")
    margin = margin_col.number_input(
        "Regression margin (CER)",
        0.0,
        0.99,
        DEFAULT_MARGIN,
        0.01,
        key="q_margin",
        disabled=not identity.can_operate,
    )
    if identity.can_operate and run_col.button("Run golden set", key="q_run", type="primary"):
        try:
            operations.run_golden_set(
                chosen, margin=margin, revision=read_status(operations).revision, identity=identity
            )
        except (PermissionDenied, GoldenSetError, StoreError) as error:
            st.error(escape_markdown(str(error)))

    # --- Scores -----------------------------------------------------------------------------------
    def scores() -> None:
        runs = score_finished(golden, operations.jobs, chosen)
        if not runs:
            st.info("This set has not been run yet.")
            return
        latest = runs[0]
        if not latest.scored:
            st.info(f"Run #{latest.id} is reading the documents (job {latest.job_id})…")
        elif latest.incomplete:
            read, total = latest.pages_read
            st.error(
                f"Run #{latest.id} is incomplete: {read} of {total} pages were read, so it "
                "proves nothing, passes no gate and is no baseline for later runs. Scores "
                "below are over the pages read.\n\n"
                + "\n".join(f"- {escape_markdown(p)}" for p in latest.problems[:20])
            )
        elif latest.regressions:
            names = ", ".join(s.filename for s in latest.regressions)
            st.error(f"Regression in run #{latest.id}: {escape_markdown(names)}")
        else:
            st.success(f"Run #{latest.id}: no regression.")
        st.subheader("CER by revision", anchor=False)
        chart = chart_frame(runs)
        if not chart.empty:
            # Bars, not lines: a set's first run is one point per document, which a line hides.
            st.bar_chart(chart, stack=False, x_label="run · revision", y_label="CER")
        rates = {
            name: st.column_config.NumberColumn(format="%.4f")
            for name in (
                "mean CER",
                "CER",
                "WER",
                "previous CER",
                "order-free CER",
                "word precision",
                "word recall",
            )
        }
        st.dataframe(runs_frame(runs), hide_index=True, column_config=rates)
        st.dataframe(scores_frame(runs), hide_index=True, column_config=rates)

    pending = any(not run.scored for run in golden.runs(chosen))
    st.fragment(scores, run_every=REFRESH_S if pending else None)()


sets = golden.sets()
if sets:
    _sets_and_runs(sets)
else:
    st.info("No golden set yet: register a zip above, or `python -m console.golden seed`.")

render_corrections(operations, identity)
